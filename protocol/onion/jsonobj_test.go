package onion

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkObjectAgainstStdlib compares parseObject with encoding/json's decoding into a map of raw
// values: same verdict, same keys, same raw value for each key.
func checkObjectAgainstStdlib(t *testing.T, in []byte) {
	var want map[string]json.RawMessage
	stdErr := json.Unmarshal(in, &want)
	got, err := parseObject(in)
	if stdErr != nil || want == nil || !utf8.Valid(in) {
		require.Error(t, err, "%q", in)
		return
	}
	require.NoError(t, err, "%q", in)
	gotMap := map[string]string{}
	for _, m := range got {
		gotMap[string(m.key)] = string(m.raw)
	}
	wantMap := map[string]string{}
	for k, v := range want {
		wantMap[k] = string(v)
	}
	assert.Equal(t, wantMap, gotMap, "%q", in)
	for k := range wantMap {
		raw, ok := got.get(k)
		require.True(t, ok)
		assert.Equal(t, wantMap[k], string(raw), "the last of a repeated key %q", k)
	}
}

func TestParseObject(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a" : "x" , "b":[1,{"c":"]}"}],"d":{"e":[]}}`,
		`{"k\"ey":"v\\"}`, "{\"\xdd\":0}", `{"\u0061":true,"a":false}`, `{"a":1,"a":2}`, `{"a":-1.5e3,"b":null}`,
		"{\n\t\"headers\": \"something\"\r\n}", `{"a":"é😀"}`,
		``, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1]`, `null`, `"x"`, `1`, `{} {}`, `{"a":1}x`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":1E+2}`, `{"a":-0.0e-0}`,
		"{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":"\u12G4"}`, `{"a":"\ud800"}`, `{"a":[1,]}`, `{"a":[,1]}`,
		`{"a":{"b"}}`, `{"a":{"b":1,}}`, `{"a":tru}`, `{"a":nul}`, `{"a":[true,false,null]}`, `{a:1}`, `{'a':1}`,
		`{"a":1}` + "\x00", "\ufeff{}", `{"a":"` + strings.Repeat("[", 20) + `"}`,
		strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300),
	} {
		checkObjectAgainstStdlib(t, []byte(in))
	}
}

func FuzzParseObject(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Add([]byte(`{"destination":"ab","ephemeral_key":"cd","enc_type":"xchacha20"}`))
	f.Add([]byte(`{"k\"ey":{"x":["]",{"}":1}]},"a":"\\"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkObjectAgainstStdlib(t, in)
	})
}
