package message

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	"github.com/sessionsim/sessionsim/protocol/bencode"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message/pb"
	"golang.org/x/crypto/chacha20poly1305"
)

// Group message framing (libsession-util groups::Keys::encrypt_message).
const (
	// GroupOverhead is the XChaCha20-Poly1305 nonce and tag around the bencoded plaintext.
	GroupOverhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead
	// GroupPadding: the ciphertext length is padded with zeros (inside the encryption) to a
	// multiple of this.
	GroupPadding = 256
	// GroupKeySize is the size of a group encryption key.
	GroupKeySize = chacha20poly1305.KeySize
	// groupVersion is the "" entry of the bencoded dict.
	groupVersion = 1
)

// GroupEncrypt encrypts data (for Session clients, an encoded Envelope) to a group, as
// libsession's encrypt_message does without compression: the bencoded dict {"": 1, "a": sender
// Ed25519 public, "d": data, "s": Ed25519 signature of data}, zero-padded so that 40 + its length
// is a multiple of 256, encrypted with XChaCha20-Poly1305 under the group key with a random
// 24-byte nonce from r in front. Stored in the group's namespace 11 as is (base64).
func GroupEncrypt(s cryptomode.Suite, r io.Reader, groupKey []byte, sender ed25519.PrivateKey, data []byte) ([]byte, time.Duration, error) {
	if len(groupKey) != GroupKeySize {
		return nil, 0, fmt.Errorf("encrypting group message: %w: group key has %d bytes, want %d", ErrBadKey, len(groupKey), GroupKeySize)
	}
	if len(sender) != ed25519.PrivateKeySize {
		return nil, 0, fmt.Errorf("encrypting group message: %w: sender ed25519 key has %d bytes, want 64", ErrBadKey, len(sender))
	}
	if len(data) == 0 {
		return nil, 0, fmt.Errorf("encrypting group message: no data (the format requires non-empty data)")
	}
	aead, err := chacha20poly1305.NewX(groupKey)
	if err != nil {
		return nil, 0, fmt.Errorf("encrypting group message: %w", err)
	}
	sig, cost := s.Sign(sender, data)
	plainLen := groupPlainLen(len(data))
	out := make([]byte, chacha20poly1305.NonceSizeX, GroupOverhead+plainLen)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, cost, fmt.Errorf("encrypting group message: reading nonce: %w", err)
	}
	plain := make([]byte, 0, plainLen)
	plain = append(plain, 'd')
	plain = bencode.AppendString(plain, nil)
	plain = bencode.AppendInt(plain, groupVersion)
	plain = bencode.AppendString(plain, []byte("a"))
	plain = bencode.AppendString(plain, sender.Public().(ed25519.PublicKey))
	plain = bencode.AppendString(plain, []byte("d"))
	plain = bencode.AppendString(plain, data)
	plain = bencode.AppendString(plain, []byte("s"))
	plain = bencode.AppendString(plain, sig)
	plain = append(plain, 'e')
	plain = plain[:plainLen] // the zero padding: fresh capacity is zeroed
	out = aead.Seal(out, out[:chacha20poly1305.NonceSizeX], plain, nil)
	return out, cost + cryptomode.PerKiB(s.Costs().XChaChaPerKiB, plainLen), nil
}

// groupDictLen is the length of the bencoded dict for n bytes of data.
func groupDictLen(n int) int {
	return 1 + bencode.StringLen(0) + bencode.IntLen(groupVersion) +
		bencode.StringLen(1) + bencode.StringLen(ed25519.PublicKeySize) +
		bencode.StringLen(1) + bencode.StringLen(n) +
		bencode.StringLen(1) + bencode.StringLen(ed25519.SignatureSize) + 1
}

// groupPlainLen is the padded plaintext length for n bytes of data.
func groupPlainLen(n int) int {
	l := groupDictLen(n)
	if rem := (GroupOverhead + l) % GroupPadding; rem != 0 {
		l += GroupPadding - rem
	}
	return l
}

// GroupCiphertextLen is the length of GroupEncrypt's output for n bytes of data.
func GroupCiphertextLen(n int) int { return GroupOverhead + groupPlainLen(n) }

// GroupOpened is a decrypted and verified group message.
type GroupOpened struct {
	Data []byte
	Sender
}

// GroupDecrypt reverses GroupEncrypt: it decrypts under the group key (ErrDecrypt on failure),
// decodes the bencoded dict followed by zero padding, checks the version, verifies the author's
// signature of the data (ErrBadSignature) and derives the author's Session ID. A message with
// compressed data ("z") fails with ErrCompressed.
func GroupDecrypt(s cryptomode.Suite, groupKey []byte, ct []byte) (*GroupOpened, time.Duration, error) {
	return groupDecrypt(s, groupKey, ct, nil)
}

// groupDecrypt is GroupDecrypt with the author's key converted through keys (nil: afresh).
func groupDecrypt(s cryptomode.Suite, groupKey []byte, ct []byte, keys SenderKeys) (*GroupOpened, time.Duration, error) {
	if len(groupKey) != GroupKeySize {
		return nil, 0, fmt.Errorf("decrypting group message: %w: group key has %d bytes, want %d", ErrBadKey, len(groupKey), GroupKeySize)
	}
	if len(ct) < GroupOverhead {
		return nil, 0, fmt.Errorf("decrypting group message: %w: %d bytes, need at least %d", ErrTooShort, len(ct), GroupOverhead)
	}
	aead, err := chacha20poly1305.NewX(groupKey)
	if err != nil {
		return nil, 0, fmt.Errorf("decrypting group message: %w", err)
	}
	nonce, body := ct[:chacha20poly1305.NonceSizeX], ct[chacha20poly1305.NonceSizeX:]
	cost := cryptomode.PerKiB(s.Costs().XChaChaPerKiB, len(body)-chacha20poly1305.Overhead)
	plain, err := aead.Open(nil, nonce, body, nil)
	if err != nil {
		return nil, cost, fmt.Errorf("decrypting group message: %w: wrong group key, or altered", ErrDecrypt)
	}
	g, sig, err := parseGroupPlain(plain)
	if err != nil {
		return nil, cost, err
	}
	ok, c := s.Verify(g.SenderEd25519[:], g.Data, sig)
	cost += c
	if !ok {
		return nil, cost, fmt.Errorf("decrypting group message: %w: signature by %x does not verify", ErrBadSignature, g.SenderEd25519)
	}
	cost += ConversionCost
	if g.SenderX25519, err = senderX25519(g.SenderEd25519, keys); err != nil {
		return nil, cost, fmt.Errorf("decrypting group message: %w", err)
	}
	return g, cost, nil
}

// ParseGroupPlaintext decodes a decrypted group message (the bencoded dict and its zero padding)
// without verifying anything; it returns the data, author key and signature.
func ParseGroupPlaintext(plain []byte) (data []byte, senderEd25519 [32]byte, sig []byte, err error) {
	g, sig, err := parseGroupPlain(plain)
	if err != nil {
		return nil, senderEd25519, nil, err
	}
	return g.Data, g.SenderEd25519, sig, nil
}

func parseGroupPlain(plain []byte) (*GroupOpened, []byte, error) {
	const layer = "bencode"
	v, n, err := bencode.Decode(plain)
	if err != nil {
		return nil, nil, decodeErr(layer, err)
	}
	if v.Kind != bencode.Dict {
		return nil, nil, decodeErr(layer, fmt.Errorf("%w: group message is a %v, want a dict", ErrMissingField, v.Kind))
	}
	for i, c := range plain[n:] {
		if c != 0 {
			return nil, nil, &DecodeError{Layer: "padding", Err: fmt.Errorf("%w: byte 0x%02x at %d after the dict, want zeros", ErrBadPadding, c, n+i)}
		}
	}
	ver, ok := v.Get("")
	if !ok {
		return nil, nil, decodeErr(layer, fmt.Errorf("%w: version (\"\")", ErrMissingField))
	}
	if ver.Kind != bencode.Int || ver.Int != groupVersion {
		return nil, nil, decodeErr(layer, fmt.Errorf("%w: version is %v %d, want integer 1", ErrVersion, ver.Kind, ver.Int))
	}
	g := &GroupOpened{}
	a, err := dictString(&v, "a", "author key", ed25519.PublicKeySize)
	if err != nil {
		return nil, nil, err
	}
	copy(g.SenderEd25519[:], a)
	sig, err := dictString(&v, "s", "signature", ed25519.SignatureSize)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := v.Get("z"); ok {
		return nil, nil, decodeErr(layer, fmt.Errorf("%w: the author's client compressed it with zstd", ErrCompressed))
	}
	if g.Data, err = dictString(&v, "d", "data", -1); err != nil {
		return nil, nil, err
	}
	if len(g.Data) == 0 {
		return nil, nil, decodeErr(layer, fmt.Errorf("%w: data (\"d\") is empty", ErrMissingField))
	}
	return g, sig, nil
}

// dictString fetches a string entry, of exactly size bytes unless size < 0.
func dictString(v *bencode.Value, key, what string, size int) ([]byte, error) {
	e, ok := v.Get(key)
	if !ok {
		return nil, decodeErr("bencode", fmt.Errorf("%w: %s (%q)", ErrMissingField, what, key))
	}
	if e.Kind != bencode.String || (size >= 0 && len(e.Str) != size) {
		return nil, decodeErr("bencode", fmt.Errorf("%w: %s (%q) must be a %d-byte string", ErrMissingField, what, key, size))
	}
	return e.Str, nil
}

// BuildGroup makes the stored form of a new-group message, as the desktop client does: an
// Envelope{CLOSED_GROUP_MESSAGE, source = group ID, timestamp, content = unpadded Content},
// encrypted with GroupEncrypt, base64. It goes to the group's swarm, namespace 11.
func BuildGroup(s cryptomode.Suite, r io.Reader, groupKey []byte, group identity.ID, sender ed25519.PrivateKey, m Outgoing) (string, time.Duration, error) {
	ct, cost, err := BuildGroupRaw(s, r, groupKey, group, sender, m)
	if err != nil {
		return "", cost, err
	}
	return base64.StdEncoding.EncodeToString(ct), cost, nil
}

// BuildGroupRaw is BuildGroup without the base64: the bytes a store request carries.
func BuildGroupRaw(s cryptomode.Suite, r io.Reader, groupKey []byte, group identity.ID, sender ed25519.PrivateKey, m Outgoing) ([]byte, time.Duration, error) {
	if m.Content == nil {
		return nil, 0, fmt.Errorf("building group message for %s: no content", group)
	}
	if group.Prefix() != identity.PrefixGroup {
		return nil, 0, fmt.Errorf("building group message: %w: %s is a %v ID, want a group ID (03)", ErrBadKey, group, group.Prefix())
	}
	env := Envelope{Type: ClosedGroupMessage, Source: group.String(), Timestamp: m.SentAt, Content: m.Content.Marshal()}
	ct, cost, err := GroupEncrypt(s, r, groupKey, sender, env.Marshal())
	if err != nil {
		return nil, cost, fmt.Errorf("building group message for %s: %w", group, err)
	}
	return ct, cost, nil
}

// GroupStoredSize is len(data) of BuildGroup's result, by arithmetic alone.
func GroupStoredSize(c *Content, group identity.ID, sentAtMs uint64) int {
	env := Envelope{Type: ClosedGroupMessage, Source: group.String(), Timestamp: sentAtMs}
	n := env.EncodedLen()
	if cl := c.EncodedLen(); cl > 0 {
		n += pb.SizeBytes(envContent, cl)
	}
	return base64.StdEncoding.EncodedLen(GroupCiphertextLen(n))
}

// ReceiveGroup opens the stored form of a new-group message with the group key: base64,
// GroupDecrypt, Envelope (type CLOSED_GROUP_MESSAGE), Content.
func ReceiveGroup(s cryptomode.Suite, groupKey []byte, data string) (*Received, time.Duration, error) {
	ct, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, 0, decodeErr("base64", err)
	}
	return ReceiveGroupRaw(s, groupKey, ct, nil)
}

// ReceiveGroupRaw is ReceiveGroup of the decoded bytes, with the author's key converted through
// keys (nil: afresh).
func ReceiveGroupRaw(s cryptomode.Suite, groupKey []byte, ct []byte, keys SenderKeys) (*Received, time.Duration, error) {
	g, cost, err := groupDecrypt(s, groupKey, ct, keys)
	if err != nil {
		return nil, cost, err
	}
	env, err := UnmarshalEnvelope(g.Data)
	if err != nil {
		return nil, cost, fmt.Errorf("group message from %s: %w", g.SenderID(), err)
	}
	if env.Type != ClosedGroupMessage {
		return nil, cost, decodeErr("Envelope", fmt.Errorf("%w: %d, want %d (CLOSED_GROUP_MESSAGE)", ErrEnvelopeType, env.Type, ClosedGroupMessage))
	}
	c, err := UnmarshalContent(env.Content)
	if err != nil {
		return nil, cost, fmt.Errorf("group message from %s: %w", g.SenderID(), err)
	}
	return &Received{Content: c, SenderID: g.SenderID(), SenderEd25519: g.SenderEd25519, SentAt: env.Timestamp}, cost, nil
}
