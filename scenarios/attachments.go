package scenarios

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/scenarios/simnet"
	"github.com/sessionsim/sessionsim/servers/fileserver"
)

// Attachments is the share of sent messages that carry a voice clip, a photo or a file, their
// sizes, and when recipients download them (workload.attachments).
type Attachments struct {
	// Share of the messages clients send (conversations and replies) that carry an attachment;
	// 0: none, and no file server is placed.
	Share float64 `yaml:"share"`
	// Kinds weights the kinds and gives each its size distribution.
	Kinds AttachmentKinds `yaml:"kinds"`
	// Download is when a recipient downloads: "immediately" (as soon as the message is
	// opened) or "on-open" (when the user opens the conversation, OpenDelay later).
	Download string `yaml:"download"`
	// OpenDelay is the time from receiving the message to opening its conversation, for
	// on-open downloads.
	OpenDelay DelayDist `yaml:"open_delay"`
}

// AttachmentKinds are the attachment kinds a workload sends.
type AttachmentKinds struct {
	Voice AttachmentKind `yaml:"voice"`
	Photo AttachmentKind `yaml:"photo"`
	File  AttachmentKind `yaml:"file"`
}

// AttachmentKind is one kind's weight among the attachments and its size (the file before
// padding and encryption), log-normal.
type AttachmentKind struct {
	Weight float64  `yaml:"weight"`
	Size   SizeDist `yaml:"size"`
}

// FileServerSpec places the file server (placed only when attachments are sent, or a fault
// targets it).
type FileServerSpec struct {
	// Region is where its host is.
	Region string `yaml:"region"`
	// Cores is the CPU cores of its host.
	Cores int `yaml:"cores"`
	// TTL is how long it keeps a file (3 weeks on the real server).
	TTL time.Duration `yaml:"ttl"`
}

// Attachment download modes.
const (
	DownloadImmediately = "immediately"
	DownloadOnOpen      = "on-open"
)

// fileServerHost is the real file server's host name, which the nodes resolve to its host.
const fileServerHost = "filev2.getsession.org"

// faultTargetFileServer is the fault target that crashes or degrades the file server.
const faultTargetFileServer = "file-server"

// defaultAttachments are assumptions, no measurement of Session's traffic being public: photos
// most often (the apps send them JPEG-compressed, a few hundred KB), voice clips of some 10-30 s
// of AAC (tens of KB), other files spread widely. Sizes stop at 9,828,080 bytes, the largest
// file whose padded and encrypted upload fits the file server's 10,000,000 bytes.
func defaultAttachments() Attachments {
	return Attachments{
		Kinds: AttachmentKinds{
			Voice: AttachmentKind{Weight: 0.25, Size: SizeDist{Median: 60_000, Sigma: 0.8, Min: 2_000, Max: 5_000_000}},
			Photo: AttachmentKind{Weight: 0.6, Size: SizeDist{Median: 300_000, Sigma: 0.8, Min: 10_000, Max: maxAttachment}},
			File:  AttachmentKind{Weight: 0.15, Size: SizeDist{Median: 200_000, Sigma: 1.5, Min: 1_000, Max: maxAttachment}},
		},
		Download: DownloadImmediately,
		// An assumption: a user who is online looks at a new message within minutes.
		OpenDelay: DelayDist{Median: time.Minute, Sigma: 1.0, Min: time.Second, Max: time.Hour},
	}
}

// maxAttachment is the largest file whose upload (padded, encrypted) the file server accepts.
const maxAttachment = 9_828_080

// defaultServers places the file server in Frankfurt with 4 cores (assumptions: the real
// one's host is not public) and keeps files the real server's 3 weeks.
func defaultServers() Servers {
	return Servers{
		FileServer:  FileServerSpec{Region: "eu-central-1", Cores: 4, TTL: 21 * 24 * time.Hour},
		Push:        DefaultPushServer(),
		Communities: defaultCommunities(),
	}
}

// kinds lists the attachment kinds with their settings and scenario keys, in order.
func (a *Attachments) kinds() []struct {
	kind client.Kind
	key  string
	spec AttachmentKind
} {
	return []struct {
		kind client.Kind
		key  string
		spec AttachmentKind
	}{
		{client.KindVoice, "voice", a.Kinds.Voice},
		{client.KindPhoto, "photo", a.Kinds.Photo},
		{client.KindFile, "file", a.Kinds.File},
	}
}

// draw picks an attachment's kind by weight and its size.
func (a *Attachments) draw(r *rand.Rand) (client.Kind, int) {
	ks := a.kinds()
	total := 0.0
	for _, k := range ks {
		total += k.spec.Weight
	}
	x := r.Float64() * total
	pick := ks[len(ks)-1]
	for _, k := range ks {
		if x < k.spec.Weight {
			pick = k
			break
		}
		x -= k.spec.Weight
	}
	return pick.kind, MessageSize(pick.spec.Size, r)
}

// validateAttachments checks workload.attachments and servers.file_server.
func (s *Scenario) validateAttachments(region func(string) error) error {
	a := s.Workload.Attachments
	if err := fraction("workload.attachments.share", a.Share, 0, 1); err != nil {
		return err
	}
	total := 0.0
	limit := fileserver.DefaultConfig().MaxFileSize
	for _, k := range a.kinds() {
		key := "workload.attachments.kinds." + k.key
		z := k.spec.Size
		switch {
		case !(k.spec.Weight >= 0):
			return bad(key+".weight", k.spec.Weight, "must not be negative")
		case z.Min < 1:
			return bad(key+".size.min", z.Min, "must be at least 1 byte")
		case z.Max > limit || message.EncryptedAttachmentSize(z.Max) > limit:
			return bad(key+".size.max", z.Max, fmt.Sprintf("the file server takes uploads of at most %d bytes, and a file is padded and encrypted before upload: at most %d bytes fit", limit, maxAttachment))
		}
		if err := z.check(key + ".size"); err != nil {
			return err
		}
		total += k.spec.Weight
	}
	if a.Share > 0 && total <= 0 {
		return bad("workload.attachments.kinds", "all weights 0", "give at least one of voice, photo and file a positive weight")
	}
	if a.Download != DownloadImmediately && a.Download != DownloadOnOpen {
		return bad("workload.attachments.download", a.Download, `must be "immediately" or "on-open"`)
	}
	if err := a.OpenDelay.check("workload.attachments.open_delay"); err != nil {
		return err
	}
	fs := s.Servers.FileServer
	if err := region(fs.Region); err != nil {
		return bad("servers.file_server.region", fs.Region, err.Error())
	}
	if fs.Cores < 1 || fs.Cores > 256 {
		return bad("servers.file_server.cores", fs.Cores, "must be between 1 and 256")
	}
	if fs.TTL < time.Minute {
		return bad("servers.file_server.ttl", fs.TTL, "must be at least 1m (the real server keeps files 3 weeks)")
	}
	return nil
}

// needsFileServer reports whether the world places a file server: when attachments are sent
// or a fault targets it (a run without either pays nothing for it).
func (s *Scenario) needsFileServer() bool {
	if s.Workload.Attachments.Share > 0 {
		return true
	}
	for _, f := range s.Faults {
		if f.Target == faultTargetFileServer {
			return true
		}
	}
	return false
}

// addFileServer places the file server and keeps it in w.fileServer.
func (w *world) addFileServer() error {
	spec := w.sc.Servers.FileServer
	ws, err := w.addServer(fileserver.Role, "file-server", fileServerHost, spec.Region, spec.Cores, func(k identity.Keys) (actor.Actor, error) {
		kp, _, err := w.suite.X25519FromSecret(k.X25519Secret)
		if err != nil {
			return nil, err
		}
		return fileserver.New(fileserver.Config{Suite: w.suite, Keys: kp, TTL: spec.TTL, KeepBytes: w.suite.Mode() == cryptomode.Real}), nil
	})
	if err != nil {
		return err
	}
	w.fileServer = ws
	w.col.files.placed = true
	return nil
}

// attachmentConfig sets a client's file server and download timing.
func (w *world) attachmentConfig(cfg *client.Config) {
	if w.fileServer == nil {
		return
	}
	cfg.FileServer = w.fileServer.dest
	cfg.FileServer.Protocol, cfg.FileServer.Port = "http", 80 // libsession's DEFAULT_CONFIG
	if a := w.sc.Workload.Attachments; a.Download == DownloadOnOpen {
		z := a.OpenDelay
		cfg.Attachments.OpenDelay = client.DelayDist{Median: z.Median, Sigma: z.Sigma, Min: z.Min, Max: z.Max}
	}
}

// crashFileServer stops the file server now; for > 0 restarts it that much later with its
// files, as the real server keeps them in PostgreSQL.
func (w *world) crashFileServer(forDur time.Duration) {
	fs := w.fileServer
	if fs == nil || !fs.up {
		return
	}
	_ = w.drv.Crash(fs.addr)
	fs.up = false
	if forDur <= 0 {
		return
	}
	w.drv.AfterFunc(forDur, func() {
		if _, err := w.drv.Spawn(fs.host, simnet.ServerPort, fs.name, fs.a); err != nil {
			panic(fmt.Sprintf("restarting %s: %v", fs.name, err)) // its address is free: it crashed
		}
		fs.up = true
	})
}
