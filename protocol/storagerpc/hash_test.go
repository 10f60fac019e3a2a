package storagerpc

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/blake2b"
)

// The storage server's own regression vector (unit_test/service_node.cpp, "message hashing").
const (
	vectorPubkey = "05ffba630924aa1224bb930dde21c0d11bf004608f2812217f8ac812d6c7e3ad48"
	vectorData   = "CAES1gIKA1BVVBIPL2FwaS92MS9tZXNzYWdlGrsCCAYovfqZv4YvQq8CVwutUBbhRzZw80TvR6uTYMKg9DSag" +
		"rtpeEpY31L7VxawfS8aSya0SiDa4J025SkjP13YX8g5pxgQ8Z6hgfNArMqr/tSijJ9miVKVDJ63YWE85O8kyW" +
		"F8tdtZR5j0Vxb+JH5U8Rg1bp7ftKk3OSf7JJMcrUUrDnctQHe540zJ2OTDJ03DfubkX5NmKqEu5nhXGxeeDv3" +
		"mTiL63fjtCvZYcikfjf6Nh1AX++HTgJ9SGoEIMastGUorFrmmXb2sbjHxNiJn0Radj/VzcA9VxYwBW5+AbGQ2" +
		"d9+vvm7X+8vh+jIenJfjxf+8CWER+9adNfb4YUH07I+godNCV0O0J05gzqfKdT7J8MBZzFBtKrbk8oCagPpTs" +
		"q/wZyYFKFKKD+q+zh704dYBILvs5yXUA96pIAA="
	vectorHash = "4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs"
)

// independentHash computes the hash by hand: one contiguous buffer, one-shot BLAKE2b, padded
// base64 with the padding cut off.
func independentHash(t *testing.T, pkHex string, ns int, data []byte) string {
	t.Helper()
	raw, err := hex.DecodeString(pkHex)
	require.NoError(t, err)
	buf := append([]byte{}, raw...)
	if ns != 0 {
		buf = append(buf, strconv.Itoa(ns)...)
	}
	buf = append(buf, data...)
	sum := blake2b.Sum256(buf)
	s := base64.StdEncoding.EncodeToString(sum[:])
	require.Equal(t, "=", s[len(s)-1:])
	return s[:len(s)-1]
}

func TestMessageHashPublicVector(t *testing.T) {
	data, err := base64.StdEncoding.DecodeString(vectorData)
	require.NoError(t, err)
	pk := MustParsePubkey(vectorPubkey)
	got := MessageHash(pk, NamespaceDefault, data)
	assert.Equal(t, vectorHash, got)
	assert.Len(t, got, HashLen)
	assert.Equal(t, independentHash(t, vectorPubkey, 0, data), got)
	// The vector has '+' and '/': the standard alphabet, not the URL one.
	assert.Contains(t, got, "/")
	assert.Contains(t, got, "+")
}

func TestMessageHashNamespaces(t *testing.T) {
	pk := "03" + "11223344556677889900aabbccddeeff11223344556677889900aabbccddeeff"
	for _, tc := range []struct {
		ns   Namespace
		data string
	}{
		{0, ""},
		{0, "abc 123"},
		{42, "abc 123"},
		{-10, "blah blah"},
		{-32768, "x"},
		{32767, "x"},
		{5, string(make([]byte, MaxDataSize))},
	} {
		t.Run(strconv.Itoa(int(tc.ns)), func(t *testing.T) {
			got := MessageHash(MustParsePubkey(pk), tc.ns, []byte(tc.data))
			assert.Equal(t, independentHash(t, pk, int(tc.ns), []byte(tc.data)), got)
			assert.True(t, ValidHash(got))
		})
	}
	// Namespace 0 is written as nothing, so it differs from a literal "0" prefix of the data.
	a := MessageHash(MustParsePubkey(pk), 0, []byte("0abc"))
	b := MessageHash(MustParsePubkey(pk), 0, []byte("abc"))
	assert.NotEqual(t, a, b)
}

func TestValidHash(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{vectorHash, true},
		{vectorHash[:42], false},
		{vectorHash + "A", false},
		{"4sMyAuaZlMwww3oFvfhazfw7ASx-7TDtO+TVc8aAjHs", false}, // URL alphabet
		{"4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjH=", false},
	} {
		assert.Equal(t, tc.want, ValidHash(tc.in), tc.in)
	}
}

func TestIsBase64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"", true},
		{"YQ", true},
		{"YQ==", true},
		{"YWI", true},
		{"YWI=", true},
		{"Y", false},
		{"YWJjZ", false},
		{"YQ=", false},
		{"Y===", false},
		{"YW=I", false},
		{"YW\nI", false},
		{"-_", false},
	} {
		assert.Equal(t, tc.want, isBase64(tc.in), "%q", tc.in)
	}
}

func BenchmarkMessageHash(b *testing.B) {
	pk := MustParsePubkey(vectorPubkey)
	for _, size := range []int{100, 1024, 76800} {
		data := make([]byte, size)
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.SetBytes(int64(size))
			var buf [HashLen]byte
			for b.Loop() {
				AppendMessageHash(buf[:0], pk, 5, data)
			}
		})
	}
}
