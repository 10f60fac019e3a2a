package message

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"testing"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPaddedSize(t *testing.T) {
	// Expected values evaluated independently (IEEE doubles, as the desktop's JavaScript does).
	tests := []struct{ n, want int }{
		{0, 541}, {1, 541}, {2, 541}, {100, 541}, {540, 541}, {541, 541},
		{542, 568}, {568, 568}, {569, 596}, {1000, 1020}, {1020, 1020}, {1021, 1071},
		{65536, 67789}, {1_000_000, 1_041_743}, {9_000_000, 9_360_076}, {9_500_000, 9_828_080},
		// The cap: padding never pushes an attachment that fits over the file server's limit.
		{9_999_999, 10_000_000}, {10_000_000, 10_000_000},
		{10_000_001, 10_319_484}, {12_000_000, 12_543_397},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, PaddedSize(tt.n), "n=%d", tt.n)
	}
	prev := 0
	for n := 0; n < 200_000; n += 37 {
		p := PaddedSize(n)
		require.GreaterOrEqual(t, p, n)
		require.GreaterOrEqual(t, p, prev, "monotone at %d", n)
		prev = p
	}
}

func TestAttachmentRoundTrip(t *testing.T) {
	c := cryptomode.DefaultCosts
	for _, n := range []int{0, 1, 15, 16, 540, 541, 542, 4096, 100_000} {
		plain := bytes.Repeat([]byte{0x5a}, n)
		enc, cost, err := EncryptAttachment(c, rng(uint64(n)), plain)
		require.NoError(t, err)
		assert.Positive(t, cost)
		assert.Len(t, enc.Ciphertext, EncryptedAttachmentSize(n))
		assert.Equal(t, sha256.Sum256(enc.Ciphertext), enc.Digest)

		// The layout, checked with the standard library directly: IV || CBC || HMAC(IV || CBC).
		ct := enc.Ciphertext
		body := ct[16 : len(ct)-32]
		mac := hmac.New(sha256.New, enc.Key[32:])
		mac.Write(ct[:len(ct)-32])
		assert.Equal(t, mac.Sum(nil), ct[len(ct)-32:])
		block, err := aes.NewCipher(enc.Key[:32])
		require.NoError(t, err)
		dec := make([]byte, len(body))
		cipher.NewCBCDecrypter(block, ct[:16]).CryptBlocks(dec, body)
		pad := int(dec[len(dec)-1])
		assert.Equal(t, PaddedSize(n), len(dec)-pad, "zero-padded to PaddedSize, then PKCS#7")
		assert.Equal(t, plain, dec[:n])
		assert.Equal(t, make([]byte, PaddedSize(n)-n), dec[n:PaddedSize(n)])

		got, _, err := DecryptAttachment(c, ct, enc.Key[:], enc.Digest[:], n)
		require.NoError(t, err)
		if n == 0 {
			// Size 0 cannot tell "empty" from "unknown": the padding stays, as in the clients.
			assert.Len(t, got, PaddedSize(0))
		} else {
			assert.Equal(t, plain, got)
		}

		p := enc.Pointer(77, "http://filev2.getsession.org/file/77", "image/png")
		assert.EqualValues(t, n, p.Size)
		assert.Equal(t, enc.Key[:], p.Key)
		assert.Equal(t, enc.Digest[:], p.Digest)
	}
}

func TestAttachmentRejects(t *testing.T) {
	c := cryptomode.DefaultCosts
	enc, _, err := EncryptAttachment(c, rng(1), []byte("a picture"))
	require.NoError(t, err)
	ct, key, digest := enc.Ciphertext, enc.Key[:], enc.Digest[:]

	for i := 0; i < len(ct)*8; i++ {
		_, _, err := DecryptAttachment(c, flipBit(ct, i), key, digest, 9)
		require.ErrorIs(t, err, ErrBadMAC, "bit %d flipped", i)
	}
	wrongKey := append([]byte(nil), key...)
	wrongKey[40] ^= 1
	_, _, err = DecryptAttachment(c, ct, wrongKey, digest, 9)
	assert.ErrorIs(t, err, ErrBadMAC)

	_, _, err = DecryptAttachment(c, ct, key, flipBit(digest, 3), 9)
	assert.ErrorIs(t, err, ErrBadDigest)
	_, _, err = DecryptAttachment(c, ct, key, nil, 9)
	assert.ErrorIs(t, err, ErrBadDigest, "a missing digest is refused")

	_, _, err = DecryptAttachment(c, ct, key[:32], digest, 9)
	assert.ErrorIs(t, err, ErrBadKey)
	_, _, err = DecryptAttachment(c, ct[:47], key, digest, 9)
	assert.ErrorIs(t, err, ErrTooShort)
	_, _, err = DecryptAttachment(c, ct[:len(ct)-1], key, digest, 9)
	assert.ErrorIs(t, err, ErrTooShort)

	// A well-authenticated upload with broken PKCS#7 padding (a buggy or hostile sender).
	iv := make([]byte, 16)
	block, _ := aes.NewCipher(key[:32])
	body := make([]byte, 32) // last byte decrypts to 0: invalid padding
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(body, body)
	forged := append(append([]byte(nil), iv...), body...)
	mac := hmac.New(sha256.New, key[32:])
	mac.Write(forged)
	forged = mac.Sum(forged)
	sum := sha256.Sum256(forged)
	_, _, err = DecryptAttachment(c, forged, key, sum[:], 0)
	assert.ErrorIs(t, err, ErrDecrypt)

	_, _, err = EncryptAttachment(c, rng(1), make([]byte, MaxAttachmentSize+1))
	assert.Error(t, err)
}

func FuzzDecryptAttachment(f *testing.F) {
	c := cryptomode.DefaultCosts
	enc, _, err := EncryptAttachment(c, rng(1), []byte("hello"))
	require.NoError(f, err)
	key := enc.Key
	f.Add(enc.Ciphertext, 5)
	f.Add(make([]byte, 64), 0)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		sum := sha256.Sum256(data)
		got, _, err := DecryptAttachment(c, data, key[:], sum[:], size)
		if err == nil && len(got) > len(data) {
			t.Fatalf("decrypted %d bytes from %d", len(got), len(data))
		}
	})
}
