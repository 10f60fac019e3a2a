package fileserver

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// harness is a file server on a test driver, reached as the last hop of a path reaches it.
type harness struct {
	t      *testing.T
	d      *actortest.Driver
	s      *Server
	suite  cryptomode.Suite
	hop    cryptomode.X25519KeyPair
	server cryptomode.X25519KeyPair
	addr   actor.Addr
	rnd    *rand.Rand
}

var (
	serverAddr = netip.MustParseAddrPort("10.9.0.1:443")
	hopAddr    = netip.MustParseAddrPort("10.0.0.1:22021")
)

func newHarness(t *testing.T, mode cryptomode.Mode, cfg Config) *harness {
	suite := cryptomode.New(mode, cryptomode.DefaultCosts)
	kp := func(name string) cryptomode.X25519KeyPair {
		k, _, err := suite.X25519FromSecret(identity.Derive(1, name).X25519Secret)
		require.NoError(t, err)
		return k
	}
	h := &harness{t: t, d: actortest.New(time.Millisecond), suite: suite, hop: kp("hop"), server: kp("file"), addr: serverAddr, rnd: rand.New(rand.NewPCG(1, 2))}
	cfg.Suite, cfg.Keys = suite, h.server
	h.s = New(cfg)
	h.d.Add(serverAddr, h.s)
	return h
}

// payload is what the last hop posts for req: the layer it decrypted.
func (h *harness) payload(req onion.V4Request) ([]byte, onion.Key) {
	b, err := onion.BuildToServer(h.suite, actor.RandReader(h.rnd), onion.Path{Hops: []onion.Node{{X25519: h.hop.Public}}},
		onion.Server{Host: "filev2.getsession.org", X25519: h.server.Public}, req)
	require.NoError(h.t, err)
	in, err := onion.ParseGuardRequest(b.Body)
	require.NoError(h.t, err)
	p, err := onion.Peel(h.suite, h.hop, in)
	require.NoError(h.t, err)
	return p.Payload, b.Reply
}

// post sends body as the last hop would and returns the raw answer.
func (h *harness) post(body []byte) actor.Response {
	resp, err := h.d.Call(hopAddr, h.addr, actor.Request{Method: onion.V4Target, Body: body, Size: len(body)}, 30*time.Second)
	require.NoError(h.t, err)
	return resp
}

// do sends req and opens the server's answer.
func (h *harness) do(req onion.V4Request) onion.V4Response {
	body, key := h.payload(req)
	resp := h.post(body)
	require.Equal(h.t, http.StatusOK, resp.Status)
	v4, _, err := onion.OpenV4Response(h.suite.Costs(), key, resp.Body.([]byte))
	require.NoError(h.t, err)
	return v4
}

func (h *harness) upload(data []byte) string {
	r := h.do(onion.V4Request{Method: "POST", Endpoint: "file", Body: data})
	require.Equal(h.t, http.StatusOK, r.Code, string(r.Body))
	id, err := ParseUploadResponse(r.Body)
	require.NoError(h.t, err)
	return id
}

func TestUploadDownload(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode cryptomode.Mode
		keep bool
	}{{"real keeps bytes", cryptomode.Real, true}, {"modeled keeps sizes", cryptomode.Modeled, false}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.mode, Config{KeepBytes: tc.keep})
			data := bytes.Repeat([]byte("attachment"), 1000)
			id := h.upload(data)
			_, err := ParseID(id)
			require.NoError(t, err)

			r := h.do(onion.V4Request{Method: "GET", Endpoint: "file/" + id})
			require.Equal(t, http.StatusOK, r.Code)
			require.Len(t, r.Body, len(data), "the size on the wire is exact in both modes")
			if tc.keep {
				assert.Equal(t, data, r.Body)
			}
			files, size := h.s.Stored()
			assert.Equal(t, 1, files)
			assert.EqualValues(t, len(data), size)

			up := actortest.EventsOf[Uploaded](h.d.Events)
			down := actortest.EventsOf[Downloaded](h.d.Events)
			require.Len(t, up, 1)
			assert.Equal(t, Uploaded{ID: id, Size: len(data)}, up[0])
			assert.Equal(t, []Downloaded{{ID: id, Size: len(data), Found: true}}, down)
		})
	}
}

func TestErrors(t *testing.T) {
	h := newHarness(t, cryptomode.Modeled, Config{MaxFileSize: 100})
	id := h.upload([]byte("x"))
	for _, tc := range []struct {
		name string
		req  onion.V4Request
		code int
	}{
		{"empty upload", onion.V4Request{Method: "POST", Endpoint: "file"}, http.StatusRequestEntityTooLarge},
		{"over the limit", onion.V4Request{Method: "POST", Endpoint: "file", Body: make([]byte, 101)}, http.StatusRequestEntityTooLarge},
		{"at the limit", onion.V4Request{Method: "POST", Endpoint: "/file", Body: make([]byte, 100)}, http.StatusOK},
		{"unknown file", onion.V4Request{Method: "GET", Endpoint: "file/12345"}, http.StatusNotFound},
		{"unknown endpoint", onion.V4Request{Method: "GET", Endpoint: "capabilities"}, http.StatusNotFound},
		{"GET /file", onion.V4Request{Method: "GET", Endpoint: "file"}, http.StatusMethodNotAllowed},
		{"info", onion.V4Request{Method: "GET", Endpoint: "file/" + id + "/info"}, http.StatusOK},
		{"extend", onion.V4Request{Method: "POST", Endpoint: "file/" + id + "/extend"}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.req)
			assert.Equal(t, tc.code, r.Code, string(r.Body))
			if tc.code != http.StatusOK {
				var e struct {
					StatusCode int `json:"status_code"`
				}
				require.NoError(t, json.Unmarshal(r.Body, &e))
				assert.Equal(t, tc.code, e.StatusCode)
			}
		})
	}
}

// A request that does not open is refused with 400 in plain text and the server goes on serving.
func TestBadInputKeepsServing(t *testing.T) {
	h := newHarness(t, cryptomode.Real, Config{})
	body, _ := h.payload(onion.V4Request{Method: "POST", Endpoint: "file", Body: []byte("data")})
	for _, bad := range [][]byte{nil, {0, 0, 0, 0}, []byte("garbage"), append(bytes.Clone(body[:len(body)/2]), 1)} {
		resp := h.post(bad)
		assert.Equal(t, http.StatusBadRequest, resp.Status)
	}
	resp, err := h.d.Call(hopAddr, h.addr, actor.Request{Method: "/elsewhere", Size: 10}, time.Second)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, resp.Status)
	served := actortest.EventsOf[lsrpc.Served](h.d.Events)
	require.Len(t, served, 4)
	assert.Equal(t, http.StatusBadRequest, served[0].Code)
	h.upload([]byte("still serving"))
}

func TestExpiry(t *testing.T) {
	h := newHarness(t, cryptomode.Modeled, Config{TTL: time.Minute, MaxTTL: 10 * time.Minute})
	a := h.upload([]byte("a"))
	long := h.do(onion.V4Request{Method: "POST", Endpoint: "file", Headers: map[string]string{"X-FS-TTL": "300"}, Body: []byte("b")})
	require.Equal(t, http.StatusOK, long.Code)
	b, err := ParseUploadResponse(long.Body)
	require.NoError(t, err)
	bad := h.do(onion.V4Request{Method: "POST", Endpoint: "file", Headers: map[string]string{"X-FS-TTL": "soon"}, Body: []byte("c")})
	assert.Equal(t, http.StatusBadRequest, bad.Code)

	h.d.RunFor(30 * time.Second)
	assert.Equal(t, http.StatusOK, h.do(onion.V4Request{Method: "POST", Endpoint: "file/" + a + "/extend"}).Code, "extend restarts the TTL")
	h.d.RunFor(45 * time.Second)
	assert.Equal(t, http.StatusOK, h.do(onion.V4Request{Method: "GET", Endpoint: "file/" + a}).Code, "extended past its first expiry")
	h.d.RunFor(time.Minute)
	assert.Equal(t, http.StatusNotFound, h.do(onion.V4Request{Method: "GET", Endpoint: "file/" + a}).Code, "expired and swept")
	assert.Equal(t, http.StatusOK, h.do(onion.V4Request{Method: "GET", Endpoint: "file/" + b}).Code, "X-FS-TTL kept it")
	h.d.RunFor(5 * time.Minute)
	assert.Equal(t, http.StatusNotFound, h.do(onion.V4Request{Method: "GET", Endpoint: "file/" + b}).Code)
	total := 0
	for _, e := range actortest.EventsOf[Expired](h.d.Events) {
		require.Positive(t, e.Count)
		total += e.Count
	}
	assert.Equal(t, 2, total)
}

// The real server keeps its files in a database: a crashed and restarted server still has them.
func TestRestartKeepsFiles(t *testing.T) {
	h := newHarness(t, cryptomode.Modeled, Config{})
	id := h.upload([]byte("kept"))
	h.d.Crash(serverAddr)
	h.d.Add(serverAddr, h.s)
	assert.Equal(t, http.StatusOK, h.do(onion.V4Request{Method: "GET", Endpoint: "file/" + id}).Code)
}

func TestParseFileURL(t *testing.T) {
	for _, tc := range []struct {
		url, host, id string
		ok            bool
	}{
		{"http://filev2.getsession.org/file/123", "filev2.getsession.org", "123", true},
		{"http://filev2.getsession.org/files/123#p=ab&d", "filev2.getsession.org", "123", true},
		{"http://filev2.getsession.org/file/0123", "", "", false},
		{"http://filev2.getsession.org/file/-1", "", "", false},
		{"http://filev2.getsession.org/file/9007199254740992", "", "", false}, // 2^53
		{"filev2.getsession.org/file/1", "", "", false},
		{"http:///file/1", "", "", false},
		{"http://h/other/1", "", "", false},
	} {
		host, id, err := ParseFileURL(tc.url)
		if !tc.ok {
			assert.Error(t, err, tc.url)
			continue
		}
		require.NoError(t, err, tc.url)
		assert.Equal(t, tc.host, host)
		assert.Equal(t, tc.id, id)
	}
}

func FuzzParseUploadResponse(f *testing.F) {
	for _, s := range []string{`{"id": "123"}`, `{"id": 123}`, `{}`, `{"id": "1", "expires": 5}`, `[`, `{"id": "01"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := ParseUploadResponse(b)
		if err != nil {
			return
		}
		n, err := ParseID(id)
		require.NoError(t, err)
		assert.Less(t, n, uint64(1)<<idBits)
	})
}

func FuzzParseFileURL(f *testing.F) {
	for _, s := range []string{"http://filev2.getsession.org/file/123", "https://h/files/1#d", "x", "://", "http://h/file/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, url string) {
		host, id, err := ParseFileURL(url)
		if err != nil {
			return
		}
		assert.NotEmpty(t, host)
		_, err = ParseID(id)
		require.NoError(t, err)
		h2, id2, err := ParseFileURL(FileURL("http", host, id))
		require.NoError(t, err)
		assert.Equal(t, host, h2)
		assert.Equal(t, id, id2)
	})
}
