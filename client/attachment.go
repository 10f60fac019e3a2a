package client

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/servers/fileserver"
)

// Attachments: the sender encrypts the file (message.EncryptAttachment), uploads it to the file
// server through an onion request (a file path on iOS), and only then sends the 1:1 message that
// carries its AttachmentPointer (URL, key, digest, size) through the usual store path. The
// recipient opens the message, then downloads and decrypts the file, at once or when the user
// opens the conversation.

// AttachmentConfig is how a client uploads and fetches attachments.
type AttachmentConfig struct {
	// Attempts, Delay and MaxDelay are the retries of an upload and of a download: up to
	// Attempts tries, the n-th retry Delay x 2^(n-1) after the failure, at most MaxDelay.
	// Default 20 tries from 0.5 s doubling up to 150 s (some 29 minutes in all): session-android's
	// JobQueue, which retries a failed AttachmentUploadJob / AttachmentDownloadJob after
	// 0.25 s x 2^failures (at most 600 x 0.25 s) up to maxFailureCount 20
	// (libsession/messaging/jobs/JobQueue.kt, AttachmentUploadJob.kt). The other apps are
	// assumed to retry alike.
	Attempts int
	Delay    time.Duration
	MaxDelay time.Duration
	// Timeout bounds each upload or download request, from the guard call to the decrypted
	// answer: 60 s, an assumption (the apps give file transfers more time than the 10 s of a
	// storage request, since a file of megabytes crosses a phone's uplink first).
	Timeout time.Duration
	// OpenDelay, when its Median is set, delays each download by a clipped log-normal draw,
	// as long as the user takes to open the conversation (the apps download attachments when
	// the message is shown); zero downloads at once.
	OpenDelay DelayDist
}

// DelayDist is a log-normal duration with this median and sigma, clipped to [Min, Max].
type DelayDist struct {
	Median time.Duration
	Sigma  float64
	Min    time.Duration
	Max    time.Duration
}

// draw is one delay from d, from the client's stream.
func (d DelayDist) draw(r interface{ NormFloat64() float64 }) time.Duration {
	if d.Median <= 0 {
		return 0
	}
	v := float64(d.Median) * math.Exp(d.Sigma*r.NormFloat64())
	return time.Duration(math.Min(math.Max(v, float64(d.Min)), float64(max(d.Max, d.Min))))
}

func defaultAttachmentConfig() AttachmentConfig {
	return AttachmentConfig{Attempts: 20, Delay: 500 * time.Millisecond, MaxDelay: 150 * time.Second, Timeout: time.Minute}
}

// wait is the pause before retry number fails (1 for the first retry).
func (a AttachmentConfig) wait(fails uint8) time.Duration {
	w := a.Delay
	for i := uint8(1); i < fails && w < a.MaxDelay; i++ {
		w *= 2
	}
	return min(w, a.MaxDelay)
}

// contentTypes is what each kind's pointer names: Android's voice notes are AAC, photos JPEG;
// any other file is sent as a generic binary.
var contentTypes = map[Kind]string{KindVoice: "audio/aac", KindPhoto: "image/jpeg", KindFile: "application/octet-stream"}

// kindOf is the kind a recipient files an attachment under, from its content type.
func kindOf(contentType string) Kind {
	for _, k := range []Kind{KindVoice, KindPhoto} {
		if contentTypes[k] == contentType {
			return k
		}
	}
	return KindFile
}

// AttachmentUploaded: an attachment was uploaded (Failure OK, FileID its id on the server) and
// the message Hash that carries it sent, or every attempt failed and no message was sent.
// Ref is the name MessageSent gave the send (its Hash), before the message existed.
type AttachmentUploaded struct {
	Ref      string
	Hash     string
	To       identity.ID
	Kind     Kind
	Size     int // bytes uploaded (the encrypted, padded file)
	FileID   string
	Failure  Failure
	Attempts int
}

// AttachmentFetched: a recipient downloaded and decrypted the attachment of the message Hash
// (Failure OK), or gave up. Size is the bytes downloaded.
type AttachmentFetched struct {
	Hash     string
	Kind     Kind
	Size     int
	Failure  Failure
	Attempts int
}

func (AttachmentUploaded) EventName() string { return "client.attachment_uploaded" }
func (AttachmentFetched) EventName() string  { return "client.attachment_fetched" }

// upload is an attachment on its way to the file server.
type upload struct {
	ref   string // MessageSent.Hash
	to    identity.ID
	kind  Kind
	at    time.Time // the send call
	enc   *message.EncryptedAttachment
	size  int // the upload's size
	fails uint8
	tries uint8
}

// fetch is an attachment a received message points to, not yet downloaded.
type fetch struct {
	hash  string
	ptr   message.AttachmentPointer
	due   time.Time
	fails uint8
	tries uint8
}

// ErrNoFileServer is returned by SendAttachment when the client knows no file server.
var ErrNoFileServer = errors.New("client: SendAttachment without a file server: set Config.FileServer")

// SendAttachment sends a message carrying an attachment of kind and size bytes to the Session
// ID to and returns at once. The file is encrypted now (charging the CPU) and uploaded in the
// background; once uploaded, the message with its pointer is stored like SendText's.
// MessageSent is observed now, its Hash a name of the send (the message does not exist yet);
// AttachmentUploaded ties that name to the message's hash, or reports the upload given up after
// every retry, in which case no message is sent. Offline, the upload waits for the client to
// come back, as the message outbox does.
func (c *Client) SendAttachment(to identity.ID, kind Kind, size int) error {
	switch {
	case c.env == nil:
		return ErrNotStarted
	case to.Prefix() != identity.PrefixSession:
		return fmt.Errorf("client: send to %v: only Session IDs (05) take 1:1 messages", to)
	case !kind.Attachment():
		return fmt.Errorf("client: %v is not an attachment kind: use voice, photo or file", kind)
	case size < 1 || size > message.MaxAttachmentSize:
		return fmt.Errorf("client: an attachment of %d bytes: the file server takes 1 to %d", size, message.MaxAttachmentSize)
	case c.cfg.FileServer.Host == "":
		return ErrNoFileServer
	}
	r := actor.RandReader(c.env.Rand())
	var enc *message.EncryptedAttachment
	var cost time.Duration
	var err error
	if c.cfg.Suite.Mode() == cryptomode.Real {
		enc, cost, err = message.EncryptAttachment(c.cfg.Suite.Costs(), r, make([]byte, size))
	} else {
		enc, cost, err = message.ModeledAttachment(c.cfg.Suite.Costs(), r, size)
	}
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	c.env.Work(cost)
	c.stats.Sent++
	att := c.attachments()
	att.seq++
	ref := "attachment/" + c.ID().String() + "/" + strconv.FormatUint(uint64(att.seq), 10)
	u := &upload{ref: ref, to: to, kind: kind, at: c.env.Now(), enc: enc, size: message.EncryptedAttachmentSize(size)}
	c.observe(MessageSent{Hash: ref, To: to, At: u.at, Body: size, Kind: kind})
	att.uploads = append(att.uploads, u)
	if c.online {
		c.attemptUpload(u)
	}
	return nil
}

// uploadRequest is libsession's upload (session_file_server.cpp to_request): POST /file with
// the file as the body.
func uploadRequest(body []byte) onion.V4Request {
	return onion.V4Request{Method: "POST", Endpoint: "/file", Body: body,
		Headers: map[string]string{"Content-Type": "application/octet-stream", "Content-Disposition": "attachment"}}
}

func (c *Client) attemptUpload(u *upload) {
	body := u.enc.Ciphertext
	if body == nil {
		body = make([]byte, u.size) // modeled: only the size matters
	}
	u.tries++
	c.serverRequestWithin(c.cfg.FileServer, "file.upload", uploadRequest(body), true, c.cfg.Attachments.Timeout, func(res serverResult) {
		if res.failure == OK {
			id, err := fileserver.ParseUploadResponse(res.resp.Body)
			if err == nil {
				c.uploadDone(u, id)
				return
			}
			c.garbage(GarbageMalformedResponse)
			res.failure = FailBadResponse
		}
		c.retryAttachment(&u.fails, func() { c.attemptUpload(u) }, func() { c.uploadFailed(u, res.failure) })
	})
}

// retryAttachment counts a failure and tries again after the backoff, or gives up.
func (c *Client) retryAttachment(fails *uint8, again, giveUp func()) {
	*fails++
	a := c.cfg.Attachments
	if int(*fails) >= a.Attempts {
		giveUp()
		return
	}
	ep := c.epoch
	c.env.After(a.wait(*fails), func() {
		if c.alive(ep) {
			again()
		}
	})
}

func (c *Client) uploadFailed(u *upload, f Failure) {
	c.x.att.uploads = slices.DeleteFunc(c.x.att.uploads, func(x *upload) bool { return x == u })
	c.stats.StoreFailed++
	c.observe(AttachmentUploaded{Ref: u.ref, To: u.to, Kind: u.kind, Size: u.size, Failure: f, Attempts: int(u.tries)})
}

func (c *Client) uploadDone(u *upload, id string) {
	c.x.att.uploads = slices.DeleteFunc(c.x.att.uploads, func(x *upload) bool { return x == u })
	n, _ := fileserver.ParseID(id) // checked by ParseUploadResponse
	fs := c.cfg.FileServer
	scheme := fs.Protocol
	if scheme == "" {
		scheme = "https"
	}
	ptr := u.enc.Pointer(n, fileserver.FileURL(scheme, fs.Host, id), contentTypes[u.kind])
	ms := uint64(c.netNowMS())
	content := &message.Content{DataMessage: &message.DataMessage{Attachments: []message.AttachmentPointer{ptr}}, SigTimestamp: ms}
	hash := c.sendContent(u.to, content, u.at, u.enc.Size, u.kind, false)
	if hash == "" {
		// An invalid recipient key: the message could not be built (sendContent reported it).
		c.observe(AttachmentUploaded{Ref: u.ref, To: u.to, Kind: u.kind, Size: u.size, FileID: id, Failure: FailRejected, Attempts: int(u.tries)})
		return
	}
	c.observe(AttachmentUploaded{Ref: u.ref, Hash: hash, To: u.to, Kind: u.kind, Size: u.size, FileID: id, Attempts: int(u.tries)})
}

// resumeAttachments restarts the uploads and downloads an app going offline interrupted.
func (c *Client) resumeAttachments() {
	if c.x == nil {
		return
	}
	for _, u := range c.x.att.uploads {
		c.attemptUpload(u)
	}
	for _, f := range c.x.att.fetches {
		c.scheduleFetch(f)
	}
}

// fetchAttachments queues the download of a received message's attachments.
func (c *Client) fetchAttachments(hash string, ptrs []message.AttachmentPointer) {
	for _, p := range ptrs {
		f := &fetch{hash: hash, ptr: p, due: c.env.Now().Add(c.cfg.Attachments.OpenDelay.draw(c.env.Rand()))}
		att := c.attachments()
		att.fetches = append(att.fetches, f)
		c.scheduleFetch(f)
	}
}

func (c *Client) scheduleFetch(f *fetch) {
	ep := c.epoch
	c.env.After(f.due.Sub(c.env.Now()), func() {
		if c.alive(ep) {
			c.attemptFetch(f)
		}
	})
}

func (c *Client) attemptFetch(f *fetch) {
	host, id, err := fileserver.ParseFileURL(f.ptr.URL)
	if err != nil || host != c.cfg.FileServer.Host {
		// A pointer to no file server the client knows: nothing to download.
		c.garbage(GarbageMalformedMessage)
		c.fetchDone(f, FailRejected, 0)
		return
	}
	f.tries++
	req := onion.V4Request{Method: "GET", Endpoint: "/file/" + id}
	c.serverRequestWithin(c.cfg.FileServer, "file.download", req, true, c.cfg.Attachments.Timeout, func(res serverResult) {
		if res.failure == OK {
			if c.openAttachment(f, res.resp.Body) {
				c.fetchDone(f, OK, len(res.resp.Body))
				return
			}
			res.failure = FailBadResponse
		}
		c.retryAttachment(&f.fails, func() { c.attemptFetch(f) }, func() { c.fetchDone(f, res.failure, 0) })
	})
}

// openAttachment decrypts a downloaded file (real crypto) or checks its size (modeled),
// charging the decryption either way.
func (c *Client) openAttachment(f *fetch, data []byte) bool {
	costs := c.cfg.Suite.Costs()
	if c.cfg.Suite.Mode() != cryptomode.Real {
		c.env.Work(message.AttachmentCost(costs, len(data)))
		return len(data) == message.EncryptedAttachmentSize(int(f.ptr.Size))
	}
	_, cost, err := message.DecryptAttachment(costs, data, f.ptr.Key, f.ptr.Digest, int(f.ptr.Size))
	c.env.Work(cost)
	return err == nil
}

func (c *Client) fetchDone(f *fetch, fail Failure, size int) {
	c.x.att.fetches = slices.DeleteFunc(c.x.att.fetches, func(x *fetch) bool { return x == f })
	c.observe(AttachmentFetched{Hash: f.hash, Kind: kindOf(f.ptr.ContentType), Size: size, Failure: fail, Attempts: int(f.tries)})
}
