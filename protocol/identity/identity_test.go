package identity

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"filippo.io/edwards25519"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
)

func TestFromSeedVectors(t *testing.T) {
	tests := []struct {
		name, seed, edPub, sessionID string
	}{
		{"recovery seed 0123..", "0123456789abcdef0123456789abcdef",
			"4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7",
			"05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"},
		{"recovery seed 0011..", "00112233445566778899aabbccddeeff",
			"5ea34e72bb044654a6a23675690ef5ffaaf1656b02f93fb76655f9cbdbe89876",
			"05aa654f00fc39fc69fd0db829410ca38177d7732a8d2f0934ab3872ac56d5aa74"},
		{"padded 32-byte seed", "0123456789abcdef0123456789abcdef" + strings.Repeat("00", 16),
			"4cb76fdc6d32278e3f83dbf608360ecc6b65727934b85d2fb86862ff98c46ab7",
			"05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := FromSeed(testkit.Hex(t, tt.seed))
			require.NoError(t, err)
			assert.Equal(t, tt.edPub, hex.EncodeToString(k.Ed25519Public[:]))
			assert.Equal(t, tt.sessionID, k.SessionID().String())
			assert.Equal(t, PrefixSession, k.SessionID().Prefix())
			assert.Equal(t, k.X25519Public, k.SessionID().Key())
		})
	}
}

func TestFromSeedSecretKeyForm(t *testing.T) {
	k, err := FromSeed(testkit.Hex(t, "00112233445566778899aabbccddeeff"))
	require.NoError(t, err)
	k64, err := FromSeed(k.Ed25519Private)
	require.NoError(t, err)
	assert.Equal(t, k.SessionID(), k64.SessionID())

	bad := append([]byte(nil), k.Ed25519Private...)
	bad[40] ^= 1
	_, err = FromSeed(bad)
	assert.ErrorContains(t, err, "public half")
}

func TestFromSeedBadLength(t *testing.T) {
	for _, n := range []int{0, 15, 17, 31, 33, 63, 65} {
		_, err := FromSeed(make([]byte, n))
		assert.Error(t, err, "length %d", n)
	}
}

// The X25519 key pair must be a real pair: the secret times the base point is the public key
// that was obtained by converting the Ed25519 public key.
func TestX25519PairConsistent(t *testing.T) {
	for _, name := range []string{"a", "b", "node-17", "client-99999"} {
		k := Derive(42, name)
		priv, err := ecdh.X25519().NewPrivateKey(k.X25519Secret[:])
		require.NoError(t, err)
		assert.Equal(t, k.X25519Public[:], priv.PublicKey().Bytes(), name)

		conv, err := Ed25519ToX25519(k.Ed25519Public[:])
		require.NoError(t, err)
		assert.Equal(t, k.X25519Public, conv, name)

		sig := ed25519.Sign(k.Ed25519Private, []byte("m"))
		assert.True(t, ed25519.Verify(k.Ed25519Public[:], []byte("m"), sig))
	}
}

func TestDeriveDeterministic(t *testing.T) {
	a1, a2 := Derive(7, "node-1"), Derive(7, "node-1")
	assert.Equal(t, a1.SessionID(), a2.SessionID())
	assert.Equal(t, a1.Seed, a2.Seed)
	assert.NotEqual(t, a1.SessionID(), Derive(7, "node-2").SessionID())
	assert.NotEqual(t, a1.SessionID(), Derive(8, "node-1").SessionID())
	// The seed is the key: FromSeed on it gives the same identity.
	b, err := FromSeed(a1.Seed[:])
	require.NoError(t, err)
	assert.Equal(t, a1.SessionID(), b.SessionID())
}

func TestGroupID(t *testing.T) {
	k := Derive(1, "group")
	g := k.GroupID()
	assert.Equal(t, PrefixGroup, g.Prefix())
	assert.Equal(t, k.Ed25519Public, g.Key())
	assert.True(t, strings.HasPrefix(g.String(), "03"))
}

func TestEd25519ToX25519Rejects(t *testing.T) {
	identityPoint := append([]byte{1}, make([]byte, 31)...)
	// A point of order 8 (from the Ed25519 torsion subgroup).
	order8 := testkit.Hex(t, "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
	valid := Derive(3, "x").Ed25519Public
	// valid + a torsion point: on the curve, not small order, but outside the prime-order subgroup.
	mixed := addPoints(t, valid[:], order8)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"short", valid[:31], "31 bytes"},
		{"long", append(valid[:], 0), "33 bytes"},
		{"identity", identityPoint, "small-order"},
		{"order 8", order8, "small-order"},
		{"not a point", testkit.Hex(t, "0200000000000000000000000000000000000000000000000000000000000000"), "not a curve point"},
		{"torsion component", mixed, "torsion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Ed25519ToX25519(tt.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func addPoints(t *testing.T, a, b []byte) []byte {
	t.Helper()
	pa, err := new(edwards25519.Point).SetBytes(a)
	require.NoError(t, err)
	pb, err := new(edwards25519.Point).SetBytes(b)
	require.NoError(t, err)
	return new(edwards25519.Point).Add(pa, pb).Bytes()
}

func TestParseID(t *testing.T) {
	good := "05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72"
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"session", good, nil},
		{"upper case", strings.ToUpper(good), nil},
		{"group", "03" + good[2:], nil},
		{"blinded 15", "15" + good[2:], nil},
		{"blinded 25", "25" + good[2:], nil},
		{"empty", "", ErrIDLength},
		{"no prefix", good[2:], ErrIDLength},
		{"too long", good + "00", ErrIDLength},
		{"not hex", "05" + strings.Repeat("zz", 32), ErrIDHex},
		{"space", " " + good[1:], ErrIDHex},
		{"unknown prefix", "07" + good[2:], ErrIDPrefix},
		{"zero prefix", "00" + good[2:], ErrIDPrefix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseID(tt.in)
			if tt.wantErr == nil {
				require.NoError(t, err)
				assert.Equal(t, strings.ToLower(tt.in), id.String())
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, tt.wantErr), "got %v", err)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			assert.NotEmpty(t, pe.What)
			assert.True(t, id.IsZero())
		})
	}
}

func TestIDText(t *testing.T) {
	k := Derive(5, "json")
	id := k.SessionID()
	b, err := id.MarshalText()
	require.NoError(t, err)
	var back ID
	require.NoError(t, back.UnmarshalText(b))
	assert.Equal(t, id, back)
	assert.Error(t, back.UnmarshalText([]byte("05")))
}

func TestParseKey(t *testing.T) {
	k := Derive(9, "k").Ed25519Public
	got, err := ParseKey(hex.EncodeToString(k[:]))
	require.NoError(t, err)
	assert.Equal(t, k, got)
	_, err = ParseKey("00")
	assert.ErrorIs(t, err, ErrIDLength)
	_, err = ParseKey(strings.Repeat("g", 64))
	assert.ErrorIs(t, err, ErrIDHex)
}

func FuzzParseID(f *testing.F) {
	f.Add("05d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72")
	f.Add("03D2AD010EEB72D72E561D9DE7BD7B6989AF77DCABFFA03A5111A6C859AE5C3A72")
	f.Add("07d2ad010eeb72d72e561d9de7bd7b6989af77dcabffa03a5111a6c859ae5c3a72")
	f.Add("")
	f.Add("05")
	f.Add("05\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			if !errors.Is(err, ErrIDLength) && !errors.Is(err, ErrIDHex) && !errors.Is(err, ErrIDPrefix) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !id.Prefix().Known() {
			t.Fatalf("accepted unknown prefix %x", id[0])
		}
		if id.String() != strings.ToLower(s) {
			t.Fatalf("round trip %q -> %q", s, id.String())
		}
	})
}

func FuzzEd25519ToX25519(f *testing.F) {
	k := Derive(1, "fuzz")
	f.Add(k.Ed25519Public[:])
	f.Add(make([]byte, 32))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := Ed25519ToX25519(b)
		if err == nil && x == ([32]byte{}) {
			t.Fatalf("accepted %x with an all-zero X25519 key", b)
		}
	})
}

func BenchmarkDerive(b *testing.B) {
	i := 0
	for b.Loop() {
		Derive(1, "node-"+string(rune('a'+i%26)))
		i++
	}
}

func BenchmarkEd25519ToX25519(b *testing.B) {
	k := Derive(1, "bench").Ed25519Public
	for b.Loop() {
		if _, err := Ed25519ToX25519(k[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func TestX25519Memo(t *testing.T) {
	m := NewX25519Memo()
	k := Derive(4, "memo")
	for range 3 {
		x, err := m.Convert(k.Ed25519Public)
		require.NoError(t, err)
		assert.Equal(t, k.X25519Public, x)
	}
	assert.Len(t, m.m, 1, "one key, converted once")
	_, err := m.Convert([32]byte{})
	assert.Error(t, err)
	_, err = m.Convert([32]byte{})
	assert.Error(t, err, "a failure is not remembered as a success")
	assert.Len(t, m.m, 1, "failures are not remembered")
}

func BenchmarkX25519Memo(b *testing.B) {
	m := NewX25519Memo()
	k := Derive(1, "bench").Ed25519Public
	for b.Loop() {
		if _, err := m.Convert(k); err != nil {
			b.Fatal(err)
		}
	}
}
