package message

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/chacha20poly1305"
)

var (
	groupKey   = bytes.Repeat([]byte{0x42}, GroupKeySize)
	otherKey   = bytes.Repeat([]byte{0x43}, GroupKeySize)
	testGroup  = identity.NewID(identity.PrefixGroup, [32]byte{0x11, 0x22, 0x33})
	groupMsgTS = uint64(1_712_345_678_901)
)

func TestGroupEncryptDecrypt(t *testing.T) {
	for _, m := range modes {
		s := suiteFor(m)
		alice := user(t, aliceSeed)
		for _, n := range []int{1, 10, 55, 56, 57, 200, 1000, 5000} {
			data := bytes.Repeat([]byte{'d'}, n)
			ct, cost, err := GroupEncrypt(s, rng(uint64(n)), groupKey, alice.Ed25519, data)
			require.NoError(t, err)
			assert.Positive(t, cost)
			assert.Zero(t, len(ct)%GroupPadding, "%d-byte data: ciphertext %d is a multiple of 256", n, len(ct))
			assert.Equal(t, GroupCiphertextLen(n), len(ct))

			g, cost, err := GroupDecrypt(s, groupKey, ct)
			require.NoError(t, err)
			assert.Positive(t, cost)
			assert.Equal(t, data, g.Data)
			assert.Equal(t, aliceID, g.SenderID().String())

			_, _, err = GroupDecrypt(s, otherKey, ct)
			assert.ErrorIs(t, err, ErrDecrypt, "wrong group key")
		}
	}
}

// helloGroupMessage is "hello" from Alice under groupKey in real mode: the ciphertext and what
// it decrypts to.
func helloGroupMessage(t testing.TB) (ct, plain []byte) {
	t.Helper()
	ct, _, err := GroupEncrypt(suiteFor(cryptomode.Real), rng(1), groupKey, user(t, aliceSeed).Ed25519, []byte("hello"))
	require.NoError(t, err)
	aead, err := chacha20poly1305.NewX(groupKey)
	require.NoError(t, err)
	plain, err = aead.Open(nil, ct[:24], ct[24:], nil)
	require.NoError(t, err)
	return ct, plain
}

func TestGroupPlaintextLayout(t *testing.T) {
	// The plaintext is the bencoded dict of libsession's encrypt_message, then zeros.
	ct, plain := helloGroupMessage(t)
	alice := user(t, aliceSeed)
	a := alice.Ed25519.Public().(ed25519.PublicKey)
	sig := ed25519.Sign(alice.Ed25519, []byte("hello")) // Ed25519 is deterministic
	want := "d0:i1e1:a32:" + string(a) + "1:d5:hello1:s64:" + string(sig) + "e"
	require.True(t, strings.HasPrefix(string(plain), want), "plaintext starts with the dict")
	assert.Equal(t, make([]byte, len(plain)-len(want)), plain[len(want):], "then zeros")
	assert.Equal(t, 256, len(ct), "40 + 125-byte dict, padded to 256")
}

// encryptGroupPlain encrypts an arbitrary plaintext under the group key, to forge messages.
func encryptGroupPlain(t *testing.T, key, plain []byte) []byte {
	t.Helper()
	aead, err := chacha20poly1305.NewX(key)
	require.NoError(t, err)
	nonce := make([]byte, 24)
	return aead.Seal(nonce, nonce, plain, nil)
}

func TestGroupDecryptRejects(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		a := []byte(alice.Ed25519.Public().(ed25519.PublicKey))
		data := []byte("group data")
		sig, _ := s.Sign(alice.Ed25519, data)
		dict := func(entries ...[2][]byte) []byte {
			b := []byte{'d'}
			for _, e := range entries {
				b = bencode.AppendString(b, e[0])
				b = append(b, e[1]...)
			}
			return append(b, 'e')
		}
		str := func(v []byte) []byte { return bencode.AppendString(nil, v) }
		ver := [2][]byte{{}, []byte("i1e")}
		tests := []struct {
			name  string
			plain []byte
			want  error
		}{
			{"bad signature", dict(ver, [2][]byte{[]byte("a"), str(a)}, [2][]byte{[]byte("d"), str(data)}, [2][]byte{[]byte("s"), str(make([]byte, 64))}), ErrBadSignature},
			{"other author", dict(ver, [2][]byte{[]byte("a"), str(bob.Ed25519.Public().(ed25519.PublicKey))}, [2][]byte{[]byte("d"), str(data)}, [2][]byte{[]byte("s"), str(sig)}), ErrBadSignature},
			{"version 2", dict([2][]byte{{}, []byte("i2e")}, [2][]byte{[]byte("a"), str(a)}, [2][]byte{[]byte("d"), str(data)}, [2][]byte{[]byte("s"), str(sig)}), ErrVersion},
			{"no version", dict([2][]byte{[]byte("a"), str(a)}, [2][]byte{[]byte("d"), str(data)}, [2][]byte{[]byte("s"), str(sig)}), ErrMissingField},
			{"short author", dict(ver, [2][]byte{[]byte("a"), str(a[:31])}, [2][]byte{[]byte("d"), str(data)}, [2][]byte{[]byte("s"), str(sig)}), ErrMissingField},
			{"no signature", dict(ver, [2][]byte{[]byte("a"), str(a)}, [2][]byte{[]byte("d"), str(data)}), ErrMissingField},
			{"empty data", dict(ver, [2][]byte{[]byte("a"), str(a)}, [2][]byte{[]byte("d"), str(nil)}, [2][]byte{[]byte("s"), str(sig)}), ErrMissingField},
			{"compressed", dict(ver, [2][]byte{[]byte("a"), str(a)}, [2][]byte{[]byte("s"), str(sig)}, [2][]byte{[]byte("z"), str(data)}), ErrCompressed},
			{"garbage after dict", append(dict(ver, [2][]byte{[]byte("a"), str(a)}, [2][]byte{[]byte("d"), str(data)}, [2][]byte{[]byte("s"), str(sig)}), 0, 0, 1), ErrBadPadding},
			{"not a dict", []byte("li1ee"), ErrMissingField},
			{"not bencode", []byte("hello"), bencode.ErrSyntax},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, _, err := GroupDecrypt(s, groupKey, encryptGroupPlain(t, groupKey, tt.plain))
				require.Error(t, err)
				assert.ErrorIs(t, err, tt.want)
			})
		}
		// The control: the well-formed dict with a zero tail opens.
		ok := append(dict(ver, [2][]byte{[]byte("a"), str(a)}, [2][]byte{[]byte("d"), str(data)}, [2][]byte{[]byte("s"), str(sig)}), 0, 0, 0)
		g, _, err := GroupDecrypt(s, groupKey, encryptGroupPlain(t, groupKey, ok))
		require.NoError(t, err)
		assert.Equal(t, data, g.Data)

		_, _, err = GroupDecrypt(s, groupKey, make([]byte, GroupOverhead-1))
		assert.ErrorIs(t, err, ErrTooShort)
		_, _, err = GroupDecrypt(s, groupKey[:16], make([]byte, 100))
		assert.ErrorIs(t, err, ErrBadKey)
		_, _, err = GroupEncrypt(s, rng(1), groupKey[:16], alice.Ed25519, data)
		assert.ErrorIs(t, err, ErrBadKey)
	})
}

func TestGroupTamperingFails(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		alice := user(t, aliceSeed)
		ct, _, err := GroupEncrypt(s, rng(1), groupKey, alice.Ed25519, []byte("hi group"))
		require.NoError(t, err)
		for i := 0; i < len(ct)*8; i++ {
			_, _, err := GroupDecrypt(s, groupKey, flipBit(ct, i))
			require.ErrorIs(t, err, ErrDecrypt, "bit %d flipped", i)
		}
	})
}

func TestBuildReceiveGroup(t *testing.T) {
	inEachMode(t, func(t *testing.T, s cryptomode.Suite) {
		alice := user(t, aliceSeed)
		for _, c := range []*Content{NewText("hello group", groupMsgTS), fullContent(), NewText(strings.Repeat("g", 3000), groupMsgTS)} {
			data, _, err := BuildGroup(s, rng(1), groupKey, testGroup, alice.Ed25519, Outgoing{Content: c, SentAt: groupMsgTS})
			require.NoError(t, err)
			assert.Len(t, data, GroupStoredSize(c, testGroup, groupMsgTS))

			got, _, err := ReceiveGroup(s, groupKey, data)
			require.NoError(t, err)
			assert.Equal(t, c, got.Content)
			assert.Equal(t, aliceID, got.SenderID.String())
			assert.Equal(t, groupMsgTS, got.SentAt)

			_, _, err = ReceiveGroup(s, otherKey, data)
			assert.ErrorIs(t, err, ErrDecrypt)
		}
		_, _, err := BuildGroup(s, rng(1), groupKey, alice.ID, alice.Ed25519, Outgoing{Content: NewText("x", 1), SentAt: 1})
		assert.ErrorIs(t, err, ErrBadKey, "a 05 ID is not a group ID")

		// A 1:1-style envelope inside a group message is refused.
		env := (&Envelope{Type: SessionMessage, Timestamp: 1, Content: NewText("x", 1).Marshal()}).Marshal()
		ct, _, err := GroupEncrypt(s, rng(1), groupKey, alice.Ed25519, env)
		require.NoError(t, err)
		_, _, err = ReceiveGroup(s, groupKey, base64.StdEncoding.EncodeToString(ct))
		assert.ErrorIs(t, err, ErrEnvelopeType)
	})
}

func FuzzParseGroupPlaintext(f *testing.F) {
	_, plain := helloGroupMessage(f)
	f.Add(plain)
	f.Add([]byte("d0:i1ee"))
	f.Add([]byte("d0:i1e1:z1:xe"))
	f.Fuzz(func(t *testing.T, b []byte) {
		data, _, sig, err := ParseGroupPlaintext(b)
		if err != nil {
			decodeError(t, err)
			return
		}
		if len(data) == 0 || len(sig) != 64 {
			t.Fatalf("accepted data of %d bytes and a %d-byte signature", len(data), len(sig))
		}
	})
}

func FuzzGroupDecrypt(f *testing.F) {
	s := suiteFor(cryptomode.Modeled)
	alice := user(f, aliceSeed)
	ct, _, err := GroupEncrypt(s, rng(1), groupKey, alice.Ed25519, []byte("hello"))
	require.NoError(f, err)
	f.Add(ct)
	f.Add(make([]byte, 40))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, _, err := GroupDecrypt(s, groupKey, b)
		if err == nil && len(g.Data) == 0 {
			t.Fatal("no error and no data")
		}
	})
}
