package transport

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sealed is plaintext cut into TLS 1.3 records of at most 16 KiB, each with its header, inner
// content type and tag.
func sealed(plain []byte) []byte {
	var out []byte
	for len(plain) > 0 {
		k := min(len(plain), 16384)
		rec := append([]byte{23, 3, 3, 0, 0}, plain[:k]...)
		rec = append(rec, 23)                  // inner content type
		rec = append(rec, make([]byte, 16)...) // AEAD tag
		binary.BigEndian.PutUint16(rec[3:], uint16(k+17))
		out = append(out, rec...)
		plain = plain[k:]
	}
	return out
}

func TestHTTPSRequestSize(t *testing.T) {
	host := netip.MustParseAddrPort("203.0.113.7:22021")
	for _, tc := range []struct {
		name, path, ctype string
		body              int
	}{
		{"storage rpc", "/storage_rpc/v1", JSON, 437},
		{"onion", "/onion_req/v2", Binary, 2891},
		{"ping without body", "/ping_test/v1", "", 0},
		{"several records", "/onion_req/v2", Binary, 40000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte{'x'}, tc.body)
			req, err := http.NewRequest(http.MethodPost, "https://"+host.String()+tc.path, bytes.NewReader(body))
			require.NoError(t, err)
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			var wire bytes.Buffer
			require.NoError(t, req.Write(&wire))
			require.Contains(t, wire.String(), "Content-Length: ", "net/http wrote no length")
			assert.Equal(t, len(sealed(wire.Bytes())), HTTPSRequestSize(host, tc.path, tc.ctype, tc.body))
		})
	}
}

func TestHTTPSResponseSize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		ctype  string
		body   int
	}{
		{"json", http.StatusOK, JSON, 912},
		{"wrong swarm", http.StatusMisdirectedRequest, JSON, 640},
		{"text refusal", http.StatusTooManyRequests, Text, 18},
		{"empty", http.StatusOK, Text, 0},
		{"no status text", 599, "", 4},
		{"several records", http.StatusOK, Binary, 100000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{
				StatusCode: tc.status, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
				ContentLength: int64(tc.body), Body: io.NopCloser(strings.NewReader(strings.Repeat("x", tc.body))),
			}
			resp.Header.Set("Date", time.Date(2025, 12, 6, 9, 5, 3, 0, time.UTC).Format(http.TimeFormat))
			if tc.ctype != "" {
				resp.Header.Set("Content-Type", tc.ctype)
			}
			var wire bytes.Buffer
			require.NoError(t, resp.Write(&wire))
			assert.Equal(t, len(sealed(wire.Bytes())), HTTPSResponseSize(tc.status, tc.ctype, tc.body))
		})
	}
}

// zmtpMessage writes parts as CurveZMQ MESSAGE command frames.
func zmtpMessage(parts ...[]byte) []byte {
	var out []byte
	for i, p := range parts {
		flags := byte(0)
		if i < len(parts)-1 {
			flags = 1 // more
		}
		cmd := append([]byte{7}, "MESSAGE"...)
		cmd = append(cmd, make([]byte, 8)...)  // short nonce
		cmd = append(cmd, make([]byte, 16)...) // box tag
		cmd = append(cmd, flags)
		cmd = append(cmd, p...)
		if len(cmd) <= 255 {
			out = append(out, 0x04, byte(len(cmd)))
		} else {
			out = append(out, 0x06)
			out = binary.BigEndian.AppendUint64(out, uint64(len(cmd)))
		}
		out = append(out, cmd...)
	}
	return out
}

func TestMQSizes(t *testing.T) {
	tag := make([]byte, 15)
	for _, tc := range []struct {
		name    string
		command string
		parts   []int
	}{
		{"no data", "sn.data_ready", nil},
		{"short part", "sn.storage_cc", []int{100}},
		{"long part", "sn.onion_request", []int{5000}},
		{"frame length boundary", "sn.data", []int{255 - curveMessage, 256 - curveMessage}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := [][]byte{[]byte(tc.command), tag}
			reply := [][]byte{[]byte("REPLY"), tag}
			cmd := [][]byte{[]byte(tc.command)}
			for _, n := range tc.parts {
				req = append(req, make([]byte, n))
				reply = append(reply, make([]byte, n))
				cmd = append(cmd, make([]byte, n))
			}
			assert.Equal(t, len(zmtpMessage(cmd...)), MQCommandSize(tc.command, tc.parts...))
			assert.Equal(t, len(zmtpMessage(req...)), MQRequestSize(tc.command, tc.parts...))
			assert.Equal(t, len(zmtpMessage(reply...)), MQReplySize(tc.parts...))
		})
	}
}
