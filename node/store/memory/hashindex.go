package memory

import (
	"encoding/base64"
	"encoding/binary"

	"github.com/sessionsim/sessionsim/node/store"
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

// The canonical hashes, and the owners, are indexed by open-addressing tables of ids with
// linear probing, keyed through the records (or owners) themselves: 4 bytes a slot instead of a
// Go map's key and value plus overhead, which matters at millions of messages and owners.
const (
	minSlots  = 64
	emptySlot = 0 // slots hold id+1
)

// hashSlot maps a 32-byte key to its home slot. Real hashes are BLAKE2b outputs and owner keys
// are public keys, so folding the words and a multiplicative spread is enough; crafted keys can
// only make probing slower.
func hashSlot(k *[32]byte, shift uint) uint64 {
	x := binary.LittleEndian.Uint64(k[0:]) ^ binary.LittleEndian.Uint64(k[8:]) ^
		binary.LittleEndian.Uint64(k[16:]) ^ binary.LittleEndian.Uint64(k[24:])
	return (x * 0x9E3779B97F4A7C15) >> shift
}

// idTable is such a table. It holds no keys: home gives the home slot of an id's key for a
// shift, and match whether an id's key is the one looked for.
type idTable struct {
	slots []uint32
	n     int
	shift uint // 64 - log2(len(slots))
}

func (x *idTable) mask() uint64 { return uint64(len(x.slots) - 1) }

func (x *idTable) find(home uint64, match func(id uint32) bool) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	m := x.mask()
	for i := home; ; i = (i + 1) & m {
		v := x.slots[i]
		if v == emptySlot {
			return 0, false
		}
		if match(v - 1) {
			return v - 1, true
		}
	}
}

// add adds id, whose key must not be in the table yet.
func (x *idTable) add(id uint32, home func(id uint32, shift uint) uint64) {
	if (x.n+1)*4 > len(x.slots)*3 {
		x.resize(max(minSlots, 2*len(x.slots)), home)
	}
	x.place(id, home)
	x.n++
}

func (x *idTable) place(id uint32, home func(id uint32, shift uint) uint64) {
	m := x.mask()
	i := home(id, x.shift)
	for x.slots[i] != emptySlot {
		i = (i + 1) & m
	}
	x.slots[i] = id + 1
}

// remove removes id, which must be in the table, by backward-shift deletion so that no
// tombstones accumulate.
func (x *idTable) remove(id uint32, home func(id uint32, shift uint) uint64) {
	m := x.mask()
	i := home(id, x.shift)
	for x.slots[i] != id+1 {
		i = (i + 1) & m
	}
	// Move later members of the probe run back into the hole when their home slot does not lie
	// cyclically in (hole, their slot].
	hole := i
	for j := (i + 1) & m; x.slots[j] != emptySlot; j = (j + 1) & m {
		h := home(x.slots[j]-1, x.shift)
		if (j-h)&m >= (j-hole)&m {
			x.slots[hole] = x.slots[j]
			hole = j
		}
	}
	x.slots[hole] = emptySlot
	x.n--
	// Give memory back after a large sweep, with hysteresis against resizing back and forth.
	if len(x.slots) > minSlots && x.n*8 < len(x.slots) {
		x.resize(max(minSlots, len(x.slots)/2), home)
	}
}

func (x *idTable) resize(size int, home func(id uint32, shift uint) uint64) {
	old := x.slots
	x.slots = make([]uint32, size)
	x.shift = 64
	for n := size; n > 1; n >>= 1 {
		x.shift--
	}
	for _, v := range old {
		if v != emptySlot {
			x.place(v-1, home)
		}
	}
}

// recHome is the home slot of record id's hash.
func (s *Store) recHome(id uint32, shift uint) uint64 { return hashSlot(&s.recs[id].hash, shift) }

func (s *Store) indexFind(k *[32]byte) (uint32, bool) {
	return s.index.find(hashSlot(k, s.index.shift), func(id uint32) bool { return s.recs[id].hash == *k })
}

// ownerKey is what an owner's home slot is computed from: its 32-byte key, without the prefix
// (owners that differ only there share a home slot and are told apart by the whole key).
func ownerKey(o *store.Owner) *[32]byte { return (*[32]byte)(o[1:]) }

// ownerHome is the home slot of owner oi.
func (s *Store) ownerHome(oi uint32, shift uint) uint64 {
	return hashSlot(ownerKey(&s.owners[oi].key), shift)
}

func (s *Store) ownerFind(o *store.Owner) (uint32, bool) {
	return s.ownerIndex.find(hashSlot(ownerKey(o), s.ownerIndex.shift), func(oi uint32) bool { return s.owners[oi].key == *o })
}
