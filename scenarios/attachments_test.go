package scenarios

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/netem/simlink"
	"github.com/sessionsim/sessionsim/sim"
)

// attachmentScenario is a small world in which every message carries an attachment.
func attachmentScenario() Scenario {
	sc := memoryWorld(20, 8)
	sc.Name = "attachments"
	sc.Workload.Attachments.Share = 1
	sc.Warmup = 30 * time.Second
	return sc
}

// An attachment sent to an offline recipient is fetched on return: the message waits in the
// recipient's swarm and the file on the file server, and the recipient downloads it when it
// comes back online.
func TestAttachmentToOfflineRecipientFetchedOnReturn(t *testing.T) {
	sc := attachmentScenario()
	sc.Duration, sc.Drain = 8*time.Minute, 3*time.Minute
	sc.Faults = []Fault{{At: time.Minute, For: 4 * time.Minute, Kind: "offline", Fraction: 0.5}}
	w, s, err := run(sc, RunOptions{})
	require.NoError(t, err)

	back := w.epoch.Add(sc.Warmup + 5*time.Minute)
	waited := 0
	for _, h := range w.col.order {
		rec := w.col.messages[h]
		require.True(t, rec.kind.Attachment())
		if rec.online || rec.recipient < 0 || rec.sentAt.After(back) || rec.sender < 0 || w.pinned[rec.sender] {
			continue
		}
		if !rec.attach.uploadDone || rec.attach.uploadFail != client.OK {
			continue // the sender was the one offline
		}
		waited++
		require.True(t, rec.delivered, "an attachment to a client offline when it was sent is delivered")
		assert.False(t, rec.deliveredAt.Before(back), "and fetched once the recipient is back")
	}
	require.Positive(t, waited, "some attachments went to offline recipients")
	require.NotNil(t, s.FileServer)
	assert.Equal(t, s.FileServer.Uploads, s.FileServer.Downloads, "every file uploaded was downloaded")
	assert.Equal(t, 1.0, *s.DeliveryRatio)
	for _, k := range []string{"voice", "photo", "file"} {
		assert.Contains(t, s.MessagesByKind, k)
	}
}

// The file server crashing mid-run: sends during the outage lose their upload after the
// retries (upload-...), downloads due during it fail (download-...), and the rest, sent before
// it with their downloads done, or after the restart, are delivered. The server restarts with
// its files, so attachments uploaded before the crash can still be fetched afterwards.
func TestFileServerCrashLossCauses(t *testing.T) {
	t.Parallel()
	sc := attachmentScenario()
	// The structural form: the summary of wire=bytes byte for byte (this run gave the same both
	// ways), in half the time; the file server's requests travel as bytes in either form.
	sc.Wire = "structural"
	sc.Duration, sc.Drain = 45*time.Minute, 35*time.Minute
	sc.Workload.Attachments.Download = DownloadOnOpen
	sc.Workload.Attachments.OpenDelay = DelayDist{Median: 2 * time.Minute, Sigma: 0.5, Min: 30 * time.Second, Max: 5 * time.Minute}
	sc.Faults = []Fault{{At: 3 * time.Minute, For: 35 * time.Minute, Kind: "crash", Target: faultTargetFileServer}}
	w, s, err := run(sc, RunOptions{})
	require.NoError(t, err)

	crash := w.epoch.Add(sc.Warmup + 3*time.Minute)
	restart := crash.Add(35 * time.Minute)
	causes := map[string]int{}
	for _, h := range w.col.order {
		rec := w.col.messages[h]
		o, cause := w.col.outcome(rec, true)
		switch o {
		case lost:
			causes[strings.SplitN(cause, "-", 2)[0]]++
			assert.True(t, strings.HasPrefix(cause, "upload-") || strings.HasPrefix(cause, "download-"), "lost to %s", cause)
			if strings.HasPrefix(cause, "upload-") {
				assert.False(t, rec.sentAt.Before(crash), "an upload fails only when sent during the outage")
			}
		case delivered:
			during := rec.deliveredAt.After(crash) && rec.deliveredAt.Before(restart)
			assert.False(t, during, "nothing is fetched while the server is down")
		}
	}
	t.Logf("lost by cause %v, delivered %d of %d", s.Messages.LostByCause, s.Messages.Delivered, s.Messages.Sent)
	assert.Positive(t, causes["upload"], "sends during the outage: %v", s.Messages.LostByCause)
	assert.Positive(t, causes["download"], "fetches during the outage: %v", s.Messages.LostByCause)
	assert.Positive(t, s.Messages.Delivered)
	require.NotNil(t, s.FileServer)
	assert.Positive(t, s.FileServer.Uploads)
	var byKind uint64
	for _, k := range s.MessagesByKind {
		byKind += k.Lost
	}
	assert.Equal(t, s.Messages.Lost, byKind, "the losses are the attachment kinds'")
}

// A fault on the file server places it even without attachments; a crash stops it for its
// length and restarts it, and a degrade impairs its link for its length.
func TestFileServerFaults(t *testing.T) {
	t.Run("crash and restart", func(t *testing.T) {
		w := faultWorld(t, func(s *Scenario) {
			s.Faults = []Fault{{At: time.Minute, For: 2 * time.Minute, Kind: "crash", Target: faultTargetFileServer}}
		})
		require.NotNil(t, w.fileServer, "a fault on it places the file server")
		runTo(w, time.Minute-time.Second)
		assert.True(t, w.eng.Alive(w.fileServer.addr))
		runTo(w, time.Minute+time.Second)
		assert.False(t, w.eng.Alive(w.fileServer.addr), "down during the crash")
		runTo(w, 3*time.Minute+time.Second)
		assert.True(t, w.eng.Alive(w.fileServer.addr), "restarted after for")
	})
	t.Run("degrade", func(t *testing.T) {
		w := faultWorld(t, func(s *Scenario) {
			s.Faults = []Fault{{At: time.Minute, For: 2 * time.Minute, Kind: "degrade", Target: faultTargetFileServer, Loss: 1}}
		})
		sink, err := w.eng.AddHost(sim.HostConfig{Name: "probe-sink", Link: simlink.Host{Region: "us-east-1", Profile: netem.DataCentre}, Cores: 1})
		require.NoError(t, err)
		reaches := func(offset time.Duration) bool {
			at := runTo(w, offset)
			_, ok := w.net.Transit(simlink.ID(w.fileServer.host), simlink.ID(sink), 100, at, rand.New(rand.NewPCG(1, 2)))
			return ok
		}
		assert.True(t, reaches(time.Minute-time.Second))
		assert.False(t, reaches(time.Minute+time.Second), "all its traffic is lost during the degrade")
		assert.True(t, reaches(3*time.Minute+time.Second), "and flows again after it")
	})
	t.Run("none without attachments or faults", func(t *testing.T) {
		w := faultWorld(t, func(*Scenario) {})
		assert.Nil(t, w.fileServer)
	})
}
