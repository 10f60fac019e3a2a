package sogs

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// The X-SOGS-* headers of a signed request (session-pysogs sogs/routes/auth.py; session-desktop
// ts/session/apis/open_group_api/opengroupV2/OpenGroupPollingUtils.ts getOurOpenGroupHeaders).
// On the wire: the pubkey as 66 hex characters (prefix 15 + kA), the timestamp in decimal
// seconds, the 16-byte nonce and the 64-byte signature in padded base64 (24 and 88 characters).
const (
	HeaderPubkey    = "X-SOGS-Pubkey"
	HeaderTimestamp = "X-SOGS-Timestamp"
	HeaderNonce     = "X-SOGS-Nonce"
	HeaderSignature = "X-SOGS-Signature"

	NonceSize = 16
	// MaxSkew is how far a request's timestamp may be from the server's clock
	// (session-pysogs sogs/routes/auth.py: 24 hours; beyond it 425 Too Early).
	MaxSkew = 24 * time.Hour
)

// ErrAuth is a request whose X-SOGS-* headers are missing, malformed or do not verify.
var ErrAuth = errors.New("sogs: invalid authentication")

// toSign is what a request's signature covers: the server's public key, the nonce, the
// timestamp in decimal, the method, the path (query included) and, when there is a body, its
// 64-byte BLAKE2b hash.
func toSign(server [32]byte, nonce []byte, ts int64, method, path string, body []byte) []byte {
	msg := append(append([]byte(nil), server[:]...), nonce...)
	msg = strconv.AppendInt(msg, ts, 10)
	msg = append(append(msg, method...), path...)
	if len(body) > 0 {
		h := blake2b.Sum512(body)
		msg = append(msg, h[:]...)
	}
	return msg
}

// Sign returns the X-SOGS-* headers of a request to the server at time ts (Unix seconds) with
// nonce, signed by b, and the CPU cost of hashing and signing.
func Sign(suite cryptomode.Suite, b Blinded, server [32]byte, nonce [NonceSize]byte, ts int64, method, path string, body []byte) (map[string]string, time.Duration) {
	msg := toSign(server, nonce[:], ts, method, path, body)
	sig, cost := b.sign(suite, msg)
	return map[string]string{
		HeaderPubkey:    hex.EncodeToString(b.ID[:]),
		HeaderTimestamp: strconv.FormatInt(ts, 10),
		HeaderNonce:     base64.StdEncoding.EncodeToString(nonce[:]),
		HeaderSignature: base64.StdEncoding.EncodeToString(sig),
	}, cost + cryptomode.PerKiB(suite.Costs().HashPerKiB, len(body)+len(msg))
}

// Auth is what a server read from a signed request's headers.
type Auth struct {
	ID        identity.ID
	Timestamp int64
}

// Verify checks the X-SOGS-* headers of a request to the server: their formats, then the
// signature under the blinded key. It returns the signer and the CPU cost spent. Only
// 15-blinded IDs are taken: the apps have signed with them since 2022 and the servers ask
// for blinding ("blind" capability).
func Verify(suite cryptomode.Suite, server [32]byte, method, path string, headers map[string]string, body []byte) (Auth, time.Duration, error) {
	pk, err := hex.DecodeString(headers[HeaderPubkey])
	if err != nil || len(pk) != 33 || pk[0] != byte(identity.PrefixBlinded15) {
		return Auth{}, 0, fmt.Errorf("%w: %s must be 66 hex characters starting 15", ErrAuth, HeaderPubkey)
	}
	ts, err := strconv.ParseInt(headers[HeaderTimestamp], 10, 64)
	if err != nil || ts <= 0 {
		return Auth{}, 0, fmt.Errorf("%w: %s must be a positive integer", ErrAuth, HeaderTimestamp)
	}
	nonce, err := base64.StdEncoding.DecodeString(headers[HeaderNonce])
	if err != nil || len(nonce) != NonceSize {
		return Auth{}, 0, fmt.Errorf("%w: %s must be %d bytes in base64", ErrAuth, HeaderNonce, NonceSize)
	}
	sig, err := base64.StdEncoding.DecodeString(headers[HeaderSignature])
	if err != nil || len(sig) != 64 {
		return Auth{}, 0, fmt.Errorf("%w: %s must be 64 bytes in base64", ErrAuth, HeaderSignature)
	}
	msg := toSign(server, nonce, ts, method, path, body)
	ok, cost := suite.Verify(pk[1:], msg, sig)
	cost += cryptomode.PerKiB(suite.Costs().HashPerKiB, len(body)+len(msg))
	if !ok {
		return Auth{}, cost, fmt.Errorf("%w: signature does not verify", ErrAuth)
	}
	var a Auth
	copy(a.ID[:], pk)
	a.Timestamp = ts
	return a, cost, nil
}
