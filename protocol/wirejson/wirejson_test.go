package wirejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/protocol/wireerr"
)

// stdlibDepth is the deepest nesting encoding/json's tokenizer sees in a document it accepts.
func stdlibDepth(t *testing.T, in []byte) int {
	dec := json.NewDecoder(bytes.NewReader(in))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return deepest
		}
		require.NoError(t, err)
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

var surrogateEscape = regexp.MustCompile(`\\u[dD][89a-fA-F]`)

// checkAgainstStdlib compares Parse with encoding/json. Both accept the same documents but for
// the reader's documented strictness (UTF-8, paired surrogates, MaxDepth), each failure of which
// is checked on its own; what both accept must give the same tree.
func checkAgainstStdlib(t *testing.T, in []byte) {
	got, err := Parse(in)
	stdErr := json.Unmarshal(in, new(any))
	if err != nil {
		var se *wireerr.Error
		require.ErrorAs(t, err, &se, "%q", in)
		assert.True(t, se.Offset >= 0 && se.Offset <= len(in), "offset %d of %d bytes", se.Offset, len(in))
		if stdErr != nil {
			return
		}
		switch {
		case errors.Is(err, ErrUTF8):
			assert.False(t, utf8.Valid(in), "%q", in)
		case errors.Is(err, ErrSurrogate):
			assert.True(t, surrogateEscape.Match(in), "%q", in)
		case errors.Is(err, ErrDepth):
			assert.Greater(t, stdlibDepth(t, in), MaxDepth)
		default:
			t.Fatalf("%q: %v, where encoding/json accepts it", in, err)
		}
		return
	}
	require.NoError(t, stdErr, "%q is accepted", in)
	assert.True(t, utf8.Valid(in), "%q is accepted", in)
	checkTree(t, got)
}

// checkTree checks one parsed value against encoding/json's reading of its raw text.
func checkTree(t *testing.T, v Value) {
	switch v.Kind {
	case Object:
		var want map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v.Raw, &want))
		uniq := v.UniqueMembers()
		require.Len(t, uniq, len(want), "%s", v.Raw)
		for _, m := range uniq {
			w, ok := want[string(m.Key)]
			require.True(t, ok, "key %q of %s", m.Key, v.Raw)
			last, _ := v.Member(string(m.Key))
			assert.Equal(t, string(w), string(last.Raw), "the last of key %q", m.Key)
		}
		for _, m := range v.Members {
			checkTree(t, m.Value)
		}
	case Array:
		var want []json.RawMessage
		require.NoError(t, json.Unmarshal(v.Raw, &want))
		require.Len(t, v.Elems, len(want), "%s", v.Raw)
		for i, e := range v.Elems {
			assert.Equal(t, string(want[i]), string(e.Raw))
			checkTree(t, e)
		}
	case String:
		var want string
		require.NoError(t, json.Unmarshal(v.Raw, &want))
		assert.Equal(t, want, v.Text())
	default:
		var want any
		require.NoError(t, json.Unmarshal(v.Raw, &want))
		switch want.(type) {
		case nil:
			assert.Equal(t, Null, v.Kind)
		case bool:
			assert.Equal(t, want == true, v.Kind == True, "%s", v.Raw)
			assert.Contains(t, []Kind{True, False}, v.Kind)
		case float64:
			assert.Equal(t, Number, v.Kind)
		}
	}
}

func TestParseAgainstStdlib(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a" : "x" , "b":[1,{"c":"]}"}],"d":{"e":[]}}`,
		`{"k\"ey":"v\\"}`, "{\"\xdd\":0}", `{"\u0061":true,"a":false}`, `{"a":1,"a":2}`, `{"a":-1.5e3,"b":null}`,
		"{\n\t\"headers\": \"something\"\r\n}", `{"a":"é😀"}`, `"\ud83d\ude00"`, `[1, "x", null, true]`,
		``, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1]`, `null`, `"x"`, `1`, `{} {}`, `{"a":1}x`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":+1}`, `{"a":1E+2}`, `{"a":-0.0e-0}`,
		"{\"a\":\"\x01\"}", `{"a":"\x"}`, `{"a":"\u12G4"}`, `{"a":"\ud800"}`, `{"a":"\udc00"}`, `"\ud800\u0041"`,
		`"\ud800\`, `{"a":[1,]}`, `{"a":[,1]}`,
		`{"a":{"b"}}`, `{"a":{"b":1,}}`, `{"a":tru}`, `{"a":nul}`, `{"a":[true,false,null]}`, `{a:1}`, `{'a':1}`,
		`{"a":1}` + "\x00", "\ufeff{}", `{"a":"` + strings.Repeat("[", 20) + `"}`, "\"\xff\"",
		strings.Repeat(`{"a":`, 300) + `1` + strings.Repeat(`}`, 300),
		strings.Repeat(`[`, MaxDepth) + strings.Repeat(`]`, MaxDepth),
		strings.Repeat(`[`, MaxDepth+1) + strings.Repeat(`]`, MaxDepth+1),
	} {
		checkAgainstStdlib(t, []byte(in))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in     string
		want   error
		offset int
	}{
		{``, ErrSyntax, 0},
		{`{"a":1} x`, ErrSyntax, 8},
		{`[1,]`, ErrSyntax, 3},
		{"\"a\xffb\"", ErrUTF8, 2},
		{`["\ud800"]`, ErrSurrogate, 2},
		{`"\udc00"`, ErrSurrogate, 1},
		{`"ab\ud800\u0041"`, ErrSurrogate, 3},
		{strings.Repeat(`[`, MaxDepth+1), ErrDepth, MaxDepth},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			require.ErrorIs(t, err, tt.want)
			var se *wireerr.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.offset, se.Offset)
		})
	}
}

func TestInteger(t *testing.T) {
	tests := []struct {
		in   string
		n    int64
		kind IntKind
	}{
		{`0`, 0, Unsigned},
		{`42`, 42, Unsigned},
		{`-0`, 0, Signed},
		{`-42`, -42, Signed},
		{`18446744073709551615`, -1, Unsigned}, // wraps, as the C++ cast does
		{`18446744073709551616`, 0, NotInteger},
		{`-9223372036854775808`, -9223372036854775808, Signed},
		{`-9223372036854775809`, 0, NotInteger},
		{`1.0`, 0, NotInteger},
		{`1e3`, 0, NotInteger},
		{`"1"`, 0, NotInteger},
		{`true`, 0, NotInteger},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, k := mustParse(t, tt.in).Integer()
			assert.Equal(t, tt.kind, k)
			assert.Equal(t, tt.n, n)
		})
	}
}

// mustParse parses in, which must be valid JSON.
func mustParse(t *testing.T, in string) Value {
	t.Helper()
	v, err := Parse([]byte(in))
	require.NoError(t, err)
	return v
}

func TestBool(t *testing.T) {
	tests := []struct {
		in        string
		b, isBool bool
	}{
		{`true`, true, true},
		{`false`, false, true},
		{`1`, false, false},
		{`"true"`, false, false},
		{`null`, false, false},
		{`[true]`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, isBool := mustParse(t, tt.in).Bool()
			assert.Equal(t, tt.isBool, isBool)
			assert.Equal(t, tt.b, b)
		})
	}
}

func TestMembers(t *testing.T) {
	v := mustParse(t, `{"a":1,"b\u0021":"x\ny","a":2,"c":null}`)
	a, ok := v.Member("a")
	require.True(t, ok)
	assert.Equal(t, "2", string(a.Raw), "a repeated key keeps its last value")
	b, ok := v.Member("b!")
	require.True(t, ok, "keys are matched decoded")
	assert.Equal(t, "x\ny", b.Text())
	_, ok = v.Member("A")
	assert.False(t, ok, "keys match case-sensitively")
	var keys []string
	for _, m := range v.UniqueMembers() {
		keys = append(keys, string(m.Key))
	}
	assert.Equal(t, []string{"b!", "a", "c"}, keys)
	plain := mustParse(t, `"abc"`)
	assert.Equal(t, &plain.Raw[1], &plain.Bytes()[0], "a string without escapes aliases the input")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"a":1}`))
	f.Add([]byte(`{"destination":"ab","ephemeral_key":"cd","enc_type":"xchacha20"}`))
	f.Add([]byte(`{"k\"ey":{"x":["]",{"}":1}]},"a":"\\"}`))
	f.Add([]byte(`{"method":"store","params":{"pubkey":"05ab","ttl":"86400000","data":"AAAA","namespace":-10}}`))
	f.Add([]byte(`["\ud83d\ude00","\u00e9",1.5e-3,-0,18446744073709551616]`))
	f.Fuzz(func(t *testing.T, in []byte) {
		checkAgainstStdlib(t, in)
	})
}

// FuzzStringLen holds StringLen to what encoding/json writes without HTML escaping.
func FuzzStringLen(f *testing.F) {
	for _, s := range []string{"", `"\`, "\x00\x1f\x7f\b\f\n\r\t", "\u2028\u2029", "\xe2\x80", "a\xffb", "é😀<>&", "\xed\xa0\x80"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		require.NoError(t, enc.Encode(string(b)))
		want := out.Len() - 1 // the newline Encode adds
		assert.Equal(t, want, StringLen(b), "bytes")
		assert.Equal(t, want, StringLen(string(b)), "string")
	})
}
