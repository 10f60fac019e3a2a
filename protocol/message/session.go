package message

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	"filippo.io/edwards25519"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// Sizes of the parts the sender appends to the padded content inside the sealed box.
const (
	senderKeyLen = ed25519.PublicKeySize
	signatureLen = ed25519.SignatureSize
	// SealOverhead is what sealing adds to the padded content: the sender key, the signature and
	// the sealed box.
	SealOverhead = senderKeyLen + signatureLen + SealedBoxOverhead
)

// Seal encrypts a padded Content (from Pad) from sender to the recipient's X25519 key:
// signature = Ed25519(padded || sender Ed25519 public || recipient X25519 public), then a sealed
// box of padded || sender Ed25519 public || signature. Binding the recipient key into the
// signature stops a recipient from re-sealing a message to someone else under the sender's name.
func Seal(s cryptomode.Suite, r io.Reader, sender ed25519.PrivateKey, to [32]byte, padded []byte) ([]byte, time.Duration, error) {
	if len(sender) != ed25519.PrivateKeySize {
		return nil, 0, fmt.Errorf("sealing message: %w: sender ed25519 key has %d bytes, want 64", ErrBadKey, len(sender))
	}
	a := sender.Public().(ed25519.PublicKey)
	// One buffer serves as the signed message (M || A || to) and then, with the signature in
	// place of "to", as the plaintext of the box.
	buf := make([]byte, 0, len(padded)+senderKeyLen+signatureLen)
	buf = append(buf, padded...)
	buf = append(buf, a...)
	buf = append(buf, to[:]...)
	sig, cost := s.Sign(sender, buf)
	buf = append(buf[:len(padded)+senderKeyLen], sig...)
	box, c, err := SealBox(s, r, to, buf)
	cost += c
	if err != nil {
		return nil, cost, fmt.Errorf("sealing message: %w", err)
	}
	return box, cost, nil
}

// Opened is a 1:1 message after decryption and signature verification.
type Opened struct {
	// Padded is the padded Content as the sender signed it.
	Padded []byte
	Sender
}

// Sender is the verified author of an opened 1:1 or group message.
type Sender struct {
	// SenderEd25519 is the sender's Ed25519 public key.
	SenderEd25519 [32]byte
	// SenderX25519 is its X25519 form: the sender's Session ID without the 05 prefix.
	SenderX25519 [32]byte
}

// SenderID is the sender's Session ID.
func (s *Sender) SenderID() identity.ID {
	return identity.NewID(identity.PrefixSession, s.SenderX25519)
}

// Open decrypts a sealed message with the recipient's X25519 key pair, splits M | A | SIG,
// verifies SIG over M || A || own X25519 public (ErrBadSignature when it does not hold), and
// converts A to the sender's X25519 key. The padding is left in place (see Unpad).
func Open(s cryptomode.Suite, self cryptomode.X25519KeyPair, box []byte) (*Opened, time.Duration, error) {
	return open(s, self, box, nil)
}

// open is Open with the sender's key converted through keys (nil: afresh).
func open(s cryptomode.Suite, self cryptomode.X25519KeyPair, box []byte, keys SenderKeys) (*Opened, time.Duration, error) {
	plain, cost, err := OpenBox(s, self, box)
	if err != nil {
		return nil, cost, fmt.Errorf("opening message: %w", err)
	}
	if len(plain) < senderKeyLen+signatureLen {
		return nil, cost, fmt.Errorf("opening message: %w: %d bytes inside the box, need at least %d for sender key and signature",
			ErrTooShort, len(plain), senderKeyLen+signatureLen)
	}
	mLen := len(plain) - senderKeyLen - signatureLen
	o := &Opened{Padded: plain[:mLen]}
	copy(o.SenderEd25519[:], plain[mLen:mLen+senderKeyLen])
	var sig [signatureLen]byte
	copy(sig[:], plain[mLen+senderKeyLen:])
	// Reuse the plaintext buffer for the verified message: M || A || own X25519 public.
	signed := append(plain[:mLen+senderKeyLen], self.Public[:]...)
	ok, c := s.Verify(o.SenderEd25519[:], signed, sig[:])
	cost += c
	if !ok {
		return nil, cost, fmt.Errorf("opening message: %w: signature by %x does not verify for recipient %x",
			ErrBadSignature, o.SenderEd25519, self.Public)
	}
	cost += ConversionCost
	if o.SenderX25519, err = senderX25519(o.SenderEd25519, keys); err != nil {
		return nil, cost, fmt.Errorf("opening message: %w", err)
	}
	return o, cost, nil
}

// Outgoing is a 1:1 message to build.
type Outgoing struct {
	Content *Content
	// SentAt is the envelope timestamp (ms): the network-adjusted sending time.
	SentAt uint64
	// Encoding is the sending app's framing; the zero value is libsession's, as the 2026 apps
	// send.
	Encoding Encoding
}

// Build makes the stored form of a 1:1 message: Content, padded, sealed from sender to the
// recipient's Session ID, in an Envelope and a WebSocketMessage, base64. This is what a client
// stores in the recipient's namespace 0.
func Build(s cryptomode.Suite, r io.Reader, sender ed25519.PrivateKey, to identity.ID, m Outgoing) (string, time.Duration, error) {
	raw, cost, err := BuildRaw(s, r, sender, to, m)
	if err != nil {
		return "", cost, err
	}
	return base64.StdEncoding.EncodeToString(raw), cost, nil
}

// BuildRaw is Build without the final base64: the WebSocketMessage bytes. Callers that hand the
// message to storage as bytes (the store request and the message hash take the decoded "data")
// use it to skip an encode and decode per message; the stored "data" is
// base64.StdEncoding.EncodedLen(len(raw)) long.
func BuildRaw(s cryptomode.Suite, r io.Reader, sender ed25519.PrivateKey, to identity.ID, m Outgoing) ([]byte, time.Duration, error) {
	if m.Content == nil {
		return nil, 0, fmt.Errorf("building message to %s: no content", to)
	}
	toKey, err := sessionKey(to)
	if err != nil {
		return nil, 0, fmt.Errorf("building message: %w", err)
	}
	enc := m.Encoding
	n := m.Content.EncodedLen()
	padded := m.Content.AppendTo(make([]byte, 0, enc.PaddedLen(n)))
	padded = append(padded, paddingMarker)
	padded = padded[:enc.PaddedLen(n)] // the rest of a fresh buffer is already zero
	box, cost, err := Seal(s, r, sender, toKey, padded)
	if err != nil {
		return nil, cost, fmt.Errorf("building message to %s: %w", to, err)
	}
	env := &Envelope{Type: SessionMessage, Timestamp: m.SentAt, Content: box}
	if enc == Libsession {
		env.SourceDevice = LibsessionSourceDevice
		sig, c, err := decoyProSig(s, r)
		cost += c
		if err != nil {
			return nil, cost, fmt.Errorf("building message to %s: %w", to, err)
		}
		env.ProSig = sig
	}
	return wrapRaw(enc, env), cost, nil
}

// decoyProSig is the proSig libsession's encode_for_1o1 attaches when the sender has no Session
// Pro key: R || S with R = r·B for a random scalar r and S another random scalar, a validly
// encoded Ed25519 signature that verifies against nothing, so that Pro and non-Pro envelopes
// look alike. It reads 128 bytes from r in both crypto modes; modeled mode takes R from the
// random bytes instead of multiplying, and both charge one signature, whose cost is the same
// fixed-base multiplication.
func decoyProSig(s cryptomode.Suite, r io.Reader) ([]byte, time.Duration, error) {
	var wide [128]byte
	if _, err := io.ReadFull(r, wide[:]); err != nil {
		return nil, 0, fmt.Errorf("decoy pro signature: %w", err)
	}
	sig := make([]byte, 0, ProSigLen)
	if s.Mode() == cryptomode.Real {
		rs, err := edwards25519.NewScalar().SetUniformBytes(wide[:64])
		if err != nil {
			return nil, 0, fmt.Errorf("decoy pro signature: %w", err)
		}
		sig = append(sig, new(edwards25519.Point).ScalarBaseMult(rs).Bytes()...)
	} else {
		sig = append(sig, wide[:32]...)
	}
	ss, err := edwards25519.NewScalar().SetUniformBytes(wide[64:])
	if err != nil {
		return nil, 0, fmt.Errorf("decoy pro signature: %w", err)
	}
	return append(sig, ss.Bytes()...), s.Costs().Ed25519Sign, nil
}

// Received is a 1:1 message a recipient has opened.
type Received struct {
	Content *Content
	// SenderID is the sender's Session ID, proven by the signature.
	SenderID      identity.ID
	SenderEd25519 [32]byte
	// SentAt is the envelope timestamp (ms), as the sender claimed it.
	SentAt uint64
}

// Receive opens the stored form of a 1:1 message in either encoding: base64, WebSocketMessage,
// Envelope (type SESSION_MESSAGE), sealed box with the recipient's keys, signature, padding,
// Content. The cost covers every cryptographic step, also when one fails.
//
// It accepts what libsession-util's decode_envelope (src/session_protocol.cpp) accepts: an
// Envelope without sourcedevice or proSig (the 2024 apps'), a proSig only of ProSigLen bytes, a
// source only empty or a 66-character ID, and a plaintext whose padding is missing or malformed
// (see Unpad), as long as what precedes it decodes as a Content.
func Receive(s cryptomode.Suite, self cryptomode.X25519KeyPair, data string) (*Received, time.Duration, error) {
	raw, err := decodeStored(data)
	if err != nil {
		return nil, 0, err
	}
	return ReceiveRaw(s, self, raw, nil)
}

// ReceiveRaw is Receive on the stored bytes after the base64 (what storage hands out once the
// retrieve answer's "data" is decoded), with the same errors and costs. keys converts the
// sender's key (nil: afresh).
func ReceiveRaw(s cryptomode.Suite, self cryptomode.X25519KeyPair, raw []byte, keys SenderKeys) (*Received, time.Duration, error) {
	env, err := unwrapRaw(raw)
	if err != nil {
		return nil, 0, err
	}
	if env.Type != SessionMessage {
		return nil, 0, decodeErr("Envelope", fmt.Errorf("%w: %d, want %d (SESSION_MESSAGE)", ErrEnvelopeType, env.Type, SessionMessage))
	}
	if err := checkEnvelope1o1(env); err != nil {
		return nil, 0, err
	}
	o, cost, err := open(s, self, env.Content, keys)
	if err != nil {
		return nil, cost, err
	}
	// A padding error is only reported by tools: the clients decode what precedes it.
	plain, _ := Unpad(o.Padded)
	c, err := UnmarshalContent(plain)
	if err != nil {
		return nil, cost, fmt.Errorf("message from %s: %w", o.SenderID(), err)
	}
	return &Received{Content: c, SenderID: o.SenderID(), SenderEd25519: o.SenderEd25519, SentAt: env.Timestamp}, cost, nil
}

// checkEnvelope1o1 refuses the 1:1 envelope fields libsession's decode_envelope refuses: a
// proSig that is not ProSigLen bytes, and a source that is neither empty (the 2024 phones
// wrote it empty) nor a 66-character Session ID.
func checkEnvelope1o1(env *Envelope) error {
	if n := len(env.ProSig); n != 0 && n != ProSigLen {
		return decodeErr("Envelope", fmt.Errorf("%w: proSig (11) has %d bytes, want %d", ErrEnvelopeField, n, ProSigLen))
	}
	if n := len(env.Source); n != 0 && n != identity.IDHexSize {
		return decodeErr("Envelope", fmt.Errorf("%w: source (2) has %d characters, want 0 or %d", ErrEnvelopeField, n, identity.IDHexSize))
	}
	return nil
}
