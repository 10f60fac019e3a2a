package registry

import (
	"crypto/sha256"
	"encoding/binary"
)

// BlockHash is the simulated chain's hash of the block at height: a function of the scenario seed
// and the height only, so every run with one seed sees the same blocks, and so the same swarms
// (oxen-core seeds the swarm assignment with the block hash).
func BlockHash(seed, height uint64) [32]byte {
	var b [len(blockHashDomain) + 16]byte
	copy(b[:], blockHashDomain)
	binary.LittleEndian.PutUint64(b[len(blockHashDomain):], seed)
	binary.LittleEndian.PutUint64(b[len(blockHashDomain)+8:], height)
	return sha256.Sum256(b[:])
}

const blockHashDomain = "sessionsim/block/v1\x00"
