package scenarios

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/servers/fileserver"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// attachmentState is what became of a message's attachment (messageRecord.attach): an attachment
// message is delivered when its recipient has downloaded and decrypted the file, not when the
// message itself arrives.
type attachmentState struct {
	uploadDone bool
	uploadFail client.Failure // valid when uploadDone
	received   bool           // the message carrying the pointer was decrypted
	fetchFail  client.Failure // valid when fetchFailed
	fetchFaild bool
}

// fileTally is the file server's load (results.FileServer), with the files it holds now.
type fileTally struct {
	placed bool
	s      results.FileServer
	stored uint64
}

// observeFiles takes the events of attachments and the file server; it reports whether ev was one.
func (c *collector) observeFiles(at time.Time, ev any) bool {
	switch e := ev.(type) {
	case client.AttachmentUploaded:
		rec, ok := c.messages[e.Ref]
		if !ok {
			return true
		}
		rec.attach.uploadDone, rec.attach.uploadFail = true, e.Failure
		if e.Failure == client.OK {
			// From now on the record goes by the hash of the message that carries the pointer.
			delete(c.messages, e.Ref)
			c.messages[e.Hash] = rec
			c.order[rec.orderIdx] = e.Hash
		}
	case client.AttachmentFetched:
		rec, ok := c.messages[e.Hash]
		if !ok || rec.delivered {
			return true
		}
		if e.Failure == client.OK {
			c.deliver(rec, at)
		} else {
			rec.attach.fetchFaild, rec.attach.fetchFail = true, e.Failure
		}
	case fileserver.Uploaded:
		c.files.s.Uploads++
		c.files.s.UploadBytes += uint64(e.Size)
		c.files.stored++
		c.files.s.StoredFilesPeak = max(c.files.s.StoredFilesPeak, c.files.stored)
	case fileserver.Downloaded:
		if e.Found {
			c.files.s.Downloads++
			c.files.s.DownloadBytes += uint64(e.Size)
		}
	case fileserver.Expired:
		c.files.s.Expired += uint64(e.Count)
		c.files.stored -= min(c.files.stored, uint64(e.Count))
	case lsrpc.Served:
		if e.Role != fileserver.Role {
			return false // another server's: the community tally counts those
		}
		if e.Code == http.StatusOK {
			return true
		}
		if c.files.s.Failures == nil {
			c.files.s.Failures = map[string]uint64{}
		}
		c.files.s.Failures[fileFailure(e.Code)]++
	default:
		return false
	}
	return true
}

// fileFailure names a refusal of the file server (results.FileServer.Failures).
func fileFailure(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "bad-request"
	case http.StatusNotFound:
		return "not-found"
	case http.StatusRequestEntityTooLarge:
		return "too-large"
	case http.StatusMethodNotAllowed:
		return "method"
	case http.StatusInsufficientStorage:
		return "no-id"
	}
	return strconv.Itoa(code)
}

// failed reports whether an attachment message's upload or download failed: a loss
// even if its recipient is offline now, as nothing will bring the message.
func (a *attachmentState) failed() bool {
	return a.uploadDone && a.uploadFail != client.OK || a.fetchFaild
}

// attachmentOutcome is the outcome of an attachment message that was not delivered and whose
// attachment decides it (attachmentDecides).
func attachmentOutcome(a *attachmentState, settled bool) (outcome, string) {
	switch {
	case a.uploadDone && a.uploadFail != client.OK:
		return lost, "upload-" + a.uploadFail.String()
	case a.fetchFaild:
		return lost, "download-" + a.fetchFail.String()
	case !settled:
		return inFlight, ""
	case !a.uploadDone:
		return lost, "upload-unfinished"
	}
	// Downloading, or waiting for the user to open the conversation (on-open).
	return pending, ""
}

// attachmentDecides reports whether a message's attachment, rather than its store, decides
// what became of it: the upload failed or never finished, or the message arrived and only
// the download is missing.
func (a *attachmentState) decides() bool {
	return a.failed() || !a.uploadDone || a.received
}

// fillFiles writes the file server's section of the summary, when the run placed one.
func (c *collector) fillFiles(s *results.Summary) {
	if !c.files.placed {
		return
	}
	fs := c.files.s
	s.FileServer = &fs
}
