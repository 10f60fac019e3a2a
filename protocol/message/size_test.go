package message

import (
	"math"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTextStoredSizeMatchesBuilds(t *testing.T) {
	// Every length across the first padding blocks and the varint length boundaries (127/128 for
	// the body, the data message and the envelope content), then a stride up to the store's
	// 76,800-byte data limit. Modeled mode runs the whole sweep; real mode, whose sizes are the
	// same (TestModesProduceIdenticalSizes), a sample of it.
	var all []int
	for n := 0; n <= 700; n++ {
		all = append(all, n)
	}
	for n := 701; n <= 57_000; n += 997 {
		all = append(all, n)
	}
	sample := []int{0, 1, 125, 126, 145, 146, 305, 306, 700, 16_000, 57_000}
	timestamps := []uint64{0, 1, 127, 128, 1_712_345_678_901, 1 << 42, math.MaxUint64}
	for _, m := range modes {
		s := suiteFor(m)
		alice, bob := user(t, aliceSeed), user(t, bobSeed)
		lengths := all
		if m == cryptomode.Real {
			lengths = sample
		}
		for _, ts := range timestamps {
			for _, n := range lengths {
				c := NewText(strings.Repeat("a", n), ts)
				for _, enc := range encodings {
					data, _, err := Build(s, rng(uint64(n)), alice.Ed25519, bob.ID, Outgoing{Content: c, SentAt: ts, Encoding: enc})
					require.NoError(t, err)
					require.Equal(t, len(data), TextStoredSize(enc, n, ts), "%v %v: body %d, timestamp %d", m, enc, n, ts)
					require.Equal(t, len(data), StoredSize(enc, c, ts))
				}
			}
		}
	}
}

func TestStoredSizeOtherContent(t *testing.T) {
	s := suiteFor(modes[0])
	alice, bob := user(t, aliceSeed), user(t, bobSeed)
	for _, c := range []*Content{{}, fullContent(), {DataMessage: &DataMessage{Timestamp: 99, Body: "legacy"}}} {
		for _, enc := range encodings {
			data, _, err := Build(s, rng(1), alice.Ed25519, bob.ID, Outgoing{Content: c, SentAt: 1_712_345_678_901, Encoding: enc})
			require.NoError(t, err)
			assert.Equal(t, len(data), StoredSize(enc, c, 1_712_345_678_901), "%v", enc)
		}
	}
}

func TestTextStoredSizeValues(t *testing.T) {
	// Worked by hand for a 10-byte body sent at a 2024 time (6-byte varint). Content:
	// dataMessage 2+(2+10) + sigTimestamp 1+6 = 21 bytes.
	//
	// Legacy: padded to 159; sealed: 159 + 32 key + 64 signature + 48 box = 303;
	//   Envelope: type 2 + timestamp 7 + content 1+2+303 = 314;
	//   request: verb 5 + path 17 + body 1+2+314 + id 2 = 341;
	//   WebSocketMessage: type 2 + request 1+2+341 = 346; base64: 4*ceil(346/3) = 464.
	// Libsession: padded to 160; sealed 304;
	//   Envelope: type 2 + timestamp 7 + sourcedevice 2 + content 1+2+304 + proSig 1+1+64 = 384;
	//   request: empty verb 2 + empty path 2 + body 1+2+384 + id 2 = 393;
	//   WebSocketMessage: 2 + 1+2+393 = 398; base64: 4*ceil(398/3) = 532.
	// The first padding block holds Content up to 158 bytes: a body of 145 gives
	// (1+2+145) + 3 + 7 = 158. One byte more moves to the next block: the WebSocketMessage grows
	// by 160 to 506 bytes (legacy, 676 in base64) or 558 (libsession, 744).
	const ts = 1_712_345_678_901
	tests := []struct {
		enc                             Encoding
		body10, body0, body145, body146 int
	}{
		{Legacy, 464, 464, 464, 676},
		{Libsession, 532, 532, 532, 744},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.body10, TextStoredSize(tt.enc, 10, ts), "%v", tt.enc)
		assert.Equal(t, tt.body0, TextStoredSize(tt.enc, 0, ts), "%v: same padding block", tt.enc)
		assert.Equal(t, tt.body145, TextStoredSize(tt.enc, 145, ts), "%v: same padding block", tt.enc)
		assert.Equal(t, tt.body146, TextStoredSize(tt.enc, 146, ts), "%v: next padding block", tt.enc)
	}
}
