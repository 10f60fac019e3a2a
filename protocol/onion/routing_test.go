package onion

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRouting(t *testing.T) {
	dest := "ffffeeeeddddccccbbbbaaaa9999888877776666555544443333222211110000"
	eph := "0000111122223333444455556666777788889999000011112222333344445555"
	tests := []struct {
		name string
		json string
		want Routing
		ok   bool
	}{
		// The classification cases of the storage server's own unit tests.
		{"final destination", `{
			"headers": "something"
		}`, Routing{Action: Deliver}, true},
		{"relay to server, defaults", `{"host": "host", "target": "target"}`,
			Routing{Action: Proxy, Host: "host", Target: "target", Port: 443, Protocol: "https"}, true},
		{"relay to server", `{"host": "host", "target": "target", "port": 80, "protocol": "http"}`,
			Routing{Action: Proxy, Host: "host", Target: "target", Port: 80, Protocol: "http"}, true},
		{"relay to snode, aes-gcm default", `{"destination": "` + dest + `", "ephemeral_key": "` + eph + `"}`,
			Routing{Action: Forward, Destination: key32(t, dest), EphemeralKey: key32(t, eph)}, true},

		{"headers win over host", `{"headers":"","host":"h","target":"/oxen/v4/lsrpc"}`, Routing{Action: Deliver}, true},
		{"headers of any type", `{"headers":{}}`, Routing{Action: Deliver}, true},
		{"response format", `{"headers":"","json":true,"base64":false}`,
			Routing{Action: Deliver, Format: ResponseFormat{EmbedJSON: true, Raw: true}}, true},
		{"forward xchacha20", `{"destination":"` + dest + `","enc_type":"xchacha20","ephemeral_key":"` + eph + `"}`,
			Routing{Action: Forward, Destination: key32(t, dest), EphemeralKey: key32(t, eph), EncType: XChaCha20}, true},
		{"proxy carries the server's key", `{"enc_type":"xchacha20","ephemeral_key":"` + eph + `","host":"fs","method":"POST","port":443,"protocol":"https","target":"/oxen/v4/lsrpc"}`,
			Routing{Action: Proxy, Host: "fs", Port: 443, Protocol: "https", Target: "/oxen/v4/lsrpc", Method: "POST", EphemeralKey: key32(t, eph), EncType: XChaCha20}, true},

		{"json not a bool", `{"headers":"","json":1}`, Routing{}, false},
		{"base64 not a bool", `{"headers":"","base64":"no"}`, Routing{}, false},
		{"host not a string", `{"host":1,"target":"t"}`, Routing{}, false},
		{"proxy without target", `{"host":"h"}`, Routing{}, false},
		{"port too big", `{"host":"h","target":"t","port":70000}`, Routing{}, false},
		{"port negative", `{"host":"h","target":"t","port":-1}`, Routing{}, false},
		{"port a string", `{"host":"h","target":"t","port":"443"}`, Routing{}, false},
		{"protocol not a string", `{"host":"h","target":"t","protocol":7}`, Routing{}, false},
		{"nothing to do", `{}`, Routing{}, false},
		{"forward without key", `{"destination":"` + dest + `"}`, Routing{}, false},
		{"forward short destination", `{"destination":"abcd","ephemeral_key":"` + eph + `"}`, Routing{}, false},
		{"forward bad enc_type", `{"destination":"` + dest + `","ephemeral_key":"` + eph + `","enc_type":"rot13"}`, Routing{}, false},
		{"not an object", `["headers"]`, Routing{}, false},
		{"not json", `headers`, Routing{}, false},
		{"empty", ``, Routing{}, false},
		// The storage server's parser refuses a lone surrogate escape, so every hop does.
		{"lone surrogate", `{"headers":"\ud800"}`, Routing{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRouting([]byte(tt.json))
			if !tt.ok {
				assert.ErrorIs(t, err, ErrInvalidJSON)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTargetAllowed(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"/loki/v3/lsrpc", true},
		{"/loki/oxen/v4/lsrpc", true},
		{"/oxen/v3/lsrpc", true},
		{"/oxen/v4/lsrpc", true},
		{"/not_loki/v3/lsrpc", false},
		{"/loki/v3", false},
		{"/loki/v3/lsrpc?foo=bar", false},
		{"oxen/v4/lsrpc", false},
		{"", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.ok, TargetAllowed(tt.target), tt.target)
	}
}

func TestBuilderRoutingJSON(t *testing.T) {
	var next, eph [32]byte
	next[0], eph[31] = 0xab, 0xcd
	got := string(forwardRouting(next, eph, XChaCha20))
	want := `{"destination":"ab` + strings.Repeat("00", 31) + `","enc_type":"xchacha20","ephemeral_key":"` + strings.Repeat("00", 31) + `cd"}`
	assert.Equal(t, want, got)
	r, err := ParseRouting([]byte(got))
	require.NoError(t, err)
	assert.Equal(t, Routing{Action: Forward, Destination: next, EphemeralKey: eph, EncType: XChaCha20}, r)
}
