package storagerpc

import (
	"encoding/base64"
	"hash"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// HashLen is the length of a message hash: 32 bytes in unpadded base64.
const HashLen = 43

var blake2bPool = sync.Pool{New: func() any {
	h, _ := blake2b.New256(nil)
	return h
}}

// MessageHash is the id the server gives a stored message: unpadded standard-alphabet base64 of
// BLAKE2b-256(prefix byte || 32 key bytes || namespace in decimal, nothing for 0 || data).
// Storing the same bytes again gives the same hash, which is how a repeated store is recognised.
func MessageHash(pk Pubkey, ns Namespace, data []byte) string {
	var buf [HashLen]byte
	return string(AppendMessageHash(buf[:0], pk, ns, data))
}

// AppendMessageHash appends MessageHash to dst without allocating.
func AppendMessageHash(dst []byte, pk Pubkey, ns Namespace, data []byte) []byte {
	h := blake2bPool.Get().(hash.Hash)
	h.Reset()
	var head [1 + 32 + 6]byte
	head[0] = pk.Prefix
	copy(head[1:], pk.Key[:])
	b := ns.appendSig(head[:33])
	h.Write(b)
	h.Write(data)
	var sum [32]byte
	h.Sum(sum[:0])
	blake2bPool.Put(h)
	return base64.RawStdEncoding.AppendEncode(dst, sum[:])
}

// ValidHash reports whether s has the shape of a message hash: 43 base64 characters. The server
// checks only the shape before looking a hash up.
func ValidHash(s string) bool {
	return len(s) == HashLen && isBase64(s)
}

// b64Value marks the standard base64 alphabet.
var b64Value = func() (t [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = true
	}
	return t
}()

// isBase64 accepts what the server's base64 check accepts: standard alphabet, length not 4k+1,
// and optional '=' padding (one or two) only when the length is a multiple of 4.
func isBase64[S ~string | ~[]byte](s S) bool {
	n := len(s)
	if n%4 == 1 {
		return false
	}
	if n > 0 && n%4 == 0 {
		if s[n-1] == '=' {
			n--
			if s[n-1] == '=' {
				n--
			}
		}
	}
	for i := 0; i < n; i++ {
		if !b64Value[s[i]] {
			return false
		}
	}
	return true
}

// decodeBase64 decodes a string isBase64 accepted, with or without padding, ignoring non-zero
// trailing bits as the server does.
func decodeBase64(dst []byte, s []byte) ([]byte, error) {
	n := len(s)
	for n > 0 && s[n-1] == '=' {
		n--
	}
	return base64.RawStdEncoding.AppendDecode(dst, s[:n])
}
