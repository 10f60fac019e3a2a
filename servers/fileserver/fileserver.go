// Package fileserver is Session's file server as an actor: the attachments clients upload
// through v4 onion requests (POST /file), download (GET /file/<id>), look up (GET
// /file/<id>/info) and keep alive (POST /file/<id>/extend), with the real server's size limit,
// file ids and expiry.
//
// Facts from session-foundation/session-file-server (fileserver/routes.py, config_base.py,
// cleanup.py) and libsession-util (src/network/backends/session_file_server.cpp):
//   - uploads of 1 to 10,000,000 bytes are accepted (libsession's max_file_size; the server's
//     MAX_FILE_SIZE is configured to match the apps), others answer 413 {"status_code": 413};
//   - a file id is a random 53-bit integer written as a decimal string (BACKWARDS_COMPAT_IDS,
//     so that old apps can hold it in a double), drawn again on a collision up to 25 times,
//     then 507; the answer is {"id": "<id>"};
//   - files expire FILE_EXPIRY (3 weeks) after upload; an X-FS-TTL header is honoured only when
//     MAX_FILE_TTL is set (it is not by default); expired files are deleted every 5 s;
//   - a missing file answers 404 {"status_code": 404};
//   - files live in PostgreSQL, so a restarted server still has them.
//
// The server keeps the bytes only when Config.KeepBytes is set (real crypto, where a test checks
// the round trip); otherwise it keeps sizes and answers downloads with zeros of the stored size,
// so that every size on the wire is exact in both modes.
package fileserver

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/transport"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// Role is the file server's role name in lsrpc events and fault targets.
const Role = "file"

// Config is the file server's settings. Zero fields take the defaults of DefaultConfig.
type Config struct {
	// Suite and Keys are the server's crypto suite and X25519 key pair (what clients encrypt
	// their requests to).
	Suite cryptomode.Suite
	Keys  cryptomode.X25519KeyPair
	// MaxFileSize is the largest upload accepted, in bytes: 10,000,000 (libsession-util's
	// max_file_size, which the deployed server matches).
	MaxFileSize int
	// TTL is how long a file is kept after its upload or last extend: 3 weeks (FILE_EXPIRY).
	TTL time.Duration
	// MaxTTL caps the TTL a client asks for with X-FS-TTL; 0 ignores the header, as the real
	// server does by default (MAX_FILE_TTL = None).
	MaxTTL time.Duration
	// CleanupEvery is the period of the expiry sweep: 5 s (cleanup.py's timer).
	CleanupEvery time.Duration
	// PerRequest is the CPU the server spends on a request besides the bytes (routing in Flask,
	// one PostgreSQL statement): 200 us, an assumption for a Python web app on one core.
	PerRequest time.Duration
	// PerKiB is the CPU per KiB of a file uploaded or downloaded: 5 us, an assumption (copying
	// the body out of the request, PostgreSQL writing or reading it as bytea: some 200 MB/s
	// per core, a 10 MB file costing 50 ms).
	PerKiB time.Duration
	// KeepBytes keeps the files' bytes (real crypto); otherwise only their sizes are kept.
	KeepBytes bool
}

// DefaultConfig is the real server's configuration.
func DefaultConfig() Config {
	return Config{
		MaxFileSize:  10_000_000,
		TTL:          21 * 24 * time.Hour,
		CleanupEvery: 5 * time.Second,
		PerRequest:   200 * time.Microsecond,
		PerKiB:       5 * time.Microsecond,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxFileSize <= 0 {
		c.MaxFileSize = d.MaxFileSize
	}
	if c.TTL <= 0 {
		c.TTL = d.TTL
	}
	if c.CleanupEvery <= 0 {
		c.CleanupEvery = d.CleanupEvery
	}
	if c.PerRequest <= 0 {
		c.PerRequest = d.PerRequest
	}
	if c.PerKiB <= 0 {
		c.PerKiB = d.PerKiB
	}
	return c
}

// Uploaded is observed for every file stored.
type Uploaded struct {
	ID   string
	Size int
}

// Downloaded is observed for every download request: Found is false when the file does not
// exist (never uploaded, or expired).
type Downloaded struct {
	ID    string
	Size  int
	Found bool
}

// Expired is observed when a cleanup sweep deleted Count files (never with 0).
type Expired struct {
	Count int
}

func (Uploaded) EventName() string   { return "fileserver.uploaded" }
func (Downloaded) EventName() string { return "fileserver.downloaded" }
func (Expired) EventName() string    { return "fileserver.expired" }

// file is one stored file.
type file struct {
	size     int
	data     []byte // nil unless Config.KeepBytes
	uploaded time.Time
	expiry   time.Time
}

// Server is the file server actor. Its store survives a crash: the world spawns the same
// Server again, and Start only restarts the cleanup timer (the real files are in a database).
type Server struct {
	cfg   Config
	rpc   lsrpc.Server
	env   actor.Env
	files map[string]*file
	sweep actor.Timer
}

// New makes a file server on cfg.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	return &Server{cfg: cfg, rpc: lsrpc.Server{Role: Role, Suite: cfg.Suite, Keys: cfg.Keys}, files: map[string]*file{}}
}

// Stored is the number of files and their bytes held now.
func (s *Server) Stored() (files int, bytes int64) {
	for _, f := range s.files {
		bytes += int64(f.size)
	}
	return len(s.files), bytes
}

// Start implements actor.Actor: the server (re)starts with the files it has.
func (s *Server) Start(env actor.Env) {
	s.env = env
	s.scheduleSweep()
}

func (s *Server) scheduleSweep() {
	s.sweep = s.env.After(s.cfg.CleanupEvery, func() {
		s.expire()
		s.scheduleSweep()
	})
}

// expire deletes the files whose expiry has passed, as cleanup.py's DELETE ... WHERE expiry <= NOW().
func (s *Server) expire() {
	now := s.env.Now()
	n := 0
	for id, f := range s.files {
		if !f.expiry.After(now) {
			delete(s.files, id)
			n++
		}
	}
	if n > 0 {
		s.env.Observe(Expired{Count: n})
	}
}

// Handle implements actor.Actor: the proxied v4 onion requests at onion.V4Target; anything
// else is 404.
func (s *Server) Handle(from actor.Addr, req actor.Request, r actor.Responder) {
	if req.Method != onion.V4Target {
		const text = "Not Found"
		r.Respond(actor.Response{Status: http.StatusNotFound, Body: []byte(text), Size: transport.HTTPSResponseSize(http.StatusNotFound, transport.Text, len(text))})
		return
	}
	s.rpc.Serve(s.env, from, req, r, s.serve)
}

// serve answers one decoded request.
func (s *Server) serve(_ actor.Addr, req onion.V4Request, answer func(onion.V4Response)) {
	s.env.Work(s.cfg.PerRequest)
	path, _, _ := strings.Cut(req.Endpoint, "?")
	path = strings.TrimPrefix(path, "/")
	switch {
	case path == "file":
		if req.Method != http.MethodPost {
			answer(statusError(http.StatusMethodNotAllowed))
			return
		}
		answer(s.upload(req))
	case strings.HasPrefix(path, "file/"):
		id, rest, _ := strings.Cut(strings.TrimPrefix(path, "file/"), "/")
		switch {
		case rest == "" && req.Method == http.MethodGet:
			answer(s.download(id))
		case rest == "info" && req.Method == http.MethodGet:
			answer(s.info(id))
		case rest == "extend" && req.Method == http.MethodPost:
			answer(s.extend(id, req))
		case rest == "" || rest == "info" || rest == "extend":
			answer(statusError(http.StatusMethodNotAllowed))
		default:
			answer(statusError(http.StatusNotFound))
		}
	default:
		answer(statusError(http.StatusNotFound))
	}
}

// maxIDTries is how many random ids an upload draws before giving up (routes.py: 25).
const maxIDTries = 25

func (s *Server) upload(req onion.V4Request) onion.V4Response {
	n := len(req.Body)
	if n == 0 || n > s.cfg.MaxFileSize {
		return statusError(http.StatusRequestEntityTooLarge)
	}
	ttl, ok := s.ttl(req)
	if !ok {
		return statusError(http.StatusBadRequest)
	}
	s.env.Work(cryptomode.PerKiB(s.cfg.PerKiB, n))
	id := ""
	for range maxIDTries {
		c := strconv.FormatUint(s.env.Rand().Uint64()>>(64-idBits), 10)
		if _, dup := s.files[c]; !dup {
			id = c
			break
		}
	}
	if id == "" {
		return statusError(http.StatusInsufficientStorage)
	}
	now := s.env.Now()
	f := &file{size: n, uploaded: now, expiry: now.Add(ttl)}
	if s.cfg.KeepBytes {
		f.data = append([]byte(nil), req.Body...)
	}
	s.files[id] = f
	s.env.Observe(Uploaded{ID: id, Size: n})
	body, _ := json.Marshal(UploadResponse{ID: id})
	return lsrpc.JSON(http.StatusOK, body)
}

// ttl is the upload's or extend's TTL: X-FS-TTL (whole seconds, capped at MaxTTL) when the
// server honours it, Config.TTL otherwise; false for a header that is not a positive number.
func (s *Server) ttl(req onion.V4Request) (time.Duration, bool) {
	v, set := header(req.Headers, "X-FS-TTL")
	if !set || s.cfg.MaxTTL <= 0 {
		return s.cfg.TTL, true
	}
	secs, err := strconv.ParseInt(v, 10, 64)
	if err != nil || secs <= 0 {
		return 0, false
	}
	return min(time.Duration(secs)*time.Second, s.cfg.MaxTTL), true
}

// header looks a header up by name, in any case.
func header(h map[string]string, name string) (string, bool) {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// lookup is the file id names, nil when there is none. An expired file is found until the
// next sweep deletes it, as routes.py's SELECT does not look at the expiry.
func (s *Server) lookup(id string) *file { return s.files[id] }

func (s *Server) download(id string) onion.V4Response {
	f := s.lookup(id)
	if f == nil {
		s.env.Observe(Downloaded{ID: id})
		return statusError(http.StatusNotFound)
	}
	s.env.Work(cryptomode.PerKiB(s.cfg.PerKiB, f.size))
	data := f.data
	if data == nil {
		data = make([]byte, f.size)
	}
	s.env.Observe(Downloaded{ID: id, Size: f.size, Found: true})
	return onion.V4Response{Code: http.StatusOK, Headers: map[string]string{"content-type": transport.Binary}, Body: data}
}

func (s *Server) info(id string) onion.V4Response {
	f := s.lookup(id)
	if f == nil {
		return statusError(http.StatusNotFound)
	}
	return fileInfo(f)
}

// extend moves a file's expiry to now + its TTL, as libsession's extend_ttl asks.
func (s *Server) extend(id string, req onion.V4Request) onion.V4Response {
	f := s.lookup(id)
	if f == nil {
		return statusError(http.StatusNotFound)
	}
	ttl, ok := s.ttl(req)
	if !ok {
		return statusError(http.StatusBadRequest)
	}
	f.expiry = s.env.Now().Add(ttl)
	return fileInfo(f)
}

// fileInfo is routes.py's /file/<id>/info answer (unix seconds), which extend answers too.
func fileInfo(f *file) onion.V4Response {
	body, _ := json.Marshal(struct {
		Size     int     `json:"size"`
		Uploaded float64 `json:"uploaded"`
		Expires  float64 `json:"expires"`
	}{f.size, unixSeconds(f.uploaded), unixSeconds(f.expiry)})
	return lsrpc.JSON(http.StatusOK, body)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// statusError is routes.py's error_resp: {"status_code": code} with code as the status.
func statusError(code int) onion.V4Response {
	return lsrpc.JSON(code, []byte(`{"status_code": `+strconv.Itoa(code)+`}`))
}
