package memory

import (
	"encoding/base64"
	"encoding/binary"
)

// hashLen is the length of a canonical message hash: unpadded base64 of 32 bytes.
const hashLen = 43

var b64 = base64.RawStdEncoding.Strict()

// decodeHash reads a canonical message hash (43 characters of unpadded standard base64 that
// encode 32 bytes) into its 32 bytes, which is how records keep it. Anything else reports false
// and is kept as a string on the side: the store accepts any hash, but real ones are compact.
func decodeHash(s string) (k [32]byte, ok bool) {
	if len(s) != hashLen {
		return k, false
	}
	// The strict decoder rejects padding, foreign characters and non-zero trailing bits, so 43
	// accepted characters are the one canonical form. It skips newlines, but a string with one
	// has at most 42 others, which decode to at most 31 bytes and fail the length check.
	n, err := b64.Decode(k[:], []byte(s))
	if err != nil || n != len(k) {
		return [32]byte{}, false
	}
	return k, true
}

// encodeHash writes a hash kept as 32 bytes back as its string (one allocation: the string).
func encodeHash(k *[32]byte) string {
	var b [hashLen]byte
	b64.Encode(b[:], k[:])
	return string(b[:])
}

// The canonical hashes are indexed by an open-addressing table of record ids with linear
// probing, keyed through the records themselves: 4 bytes a slot instead of a Go map's 36-byte
// key and value plus overhead, which matters at millions of messages.
const (
	minSlots  = 64
	emptySlot = 0 // slots hold id+1
)

// hashSlot maps a hash to its home slot. Real hashes are BLAKE2b outputs, so folding the words
// and a multiplicative spread is enough; crafted keys can only make probing slower.
func hashSlot(k *[32]byte, shift uint) uint64 {
	x := binary.LittleEndian.Uint64(k[0:]) ^ binary.LittleEndian.Uint64(k[8:]) ^
		binary.LittleEndian.Uint64(k[16:]) ^ binary.LittleEndian.Uint64(k[24:])
	return (x * 0x9E3779B97F4A7C15) >> shift
}

// hashIndex is the table; it reads keys from the store's records.
type hashIndex struct {
	slots []uint32
	n     int
	shift uint // 64 - log2(len(slots))
}

func (x *hashIndex) mask() uint64 { return uint64(len(x.slots) - 1) }

func (s *Store) indexFind(k *[32]byte) (uint32, bool) {
	x := &s.index
	if x.n == 0 {
		return 0, false
	}
	m := x.mask()
	for i := hashSlot(k, x.shift); ; i = (i + 1) & m {
		v := x.slots[i]
		if v == emptySlot {
			return 0, false
		}
		if s.recs[v-1].hash == *k {
			return v - 1, true
		}
	}
}

// indexAdd adds record id, whose hash must not be indexed yet.
func (s *Store) indexAdd(id uint32) {
	x := &s.index
	if (x.n+1)*4 > len(x.slots)*3 {
		s.indexResize(max(minSlots, 2*len(x.slots)))
	}
	s.indexPlace(id)
	x.n++
}

func (s *Store) indexPlace(id uint32) {
	x := &s.index
	m := x.mask()
	i := hashSlot(&s.recs[id].hash, x.shift)
	for x.slots[i] != emptySlot {
		i = (i + 1) & m
	}
	x.slots[i] = id + 1
}

// indexRemove removes record id, whose hash must be indexed, by backward-shift deletion so that
// no tombstones accumulate.
func (s *Store) indexRemove(id uint32) {
	x := &s.index
	m := x.mask()
	i := hashSlot(&s.recs[id].hash, x.shift)
	for x.slots[i] != id+1 {
		i = (i + 1) & m
	}
	// Move later members of the probe run back into the hole when their home slot does not lie
	// cyclically in (hole, their slot].
	hole := i
	for j := (i + 1) & m; x.slots[j] != emptySlot; j = (j + 1) & m {
		home := hashSlot(&s.recs[x.slots[j]-1].hash, x.shift)
		if (j-home)&m >= (j-hole)&m {
			x.slots[hole] = x.slots[j]
			hole = j
		}
	}
	x.slots[hole] = emptySlot
	x.n--
	// Give memory back after a large sweep, with hysteresis against resizing back and forth.
	if len(x.slots) > minSlots && x.n*8 < len(x.slots) {
		s.indexResize(max(minSlots, len(x.slots)/2))
	}
}

func (s *Store) indexResize(size int) {
	x := &s.index
	old := x.slots
	x.slots = make([]uint32, size)
	x.shift = 64
	for n := size; n > 1; n >>= 1 {
		x.shift--
	}
	for _, v := range old {
		if v != emptySlot {
			s.indexPlace(v - 1)
		}
	}
}
