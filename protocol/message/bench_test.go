package message

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"golang.org/x/crypto/nacl/secretbox"
)

// benchFixture is a 1 KiB text message from Alice to Bob in real mode, with every intermediate
// value of sealing and opening it, so each primitive can be timed on its real input.
type benchFixture struct {
	s          cryptomode.Suite
	alice, bob testUser
	content    *Content
	padded     []byte
	signed     []byte // M || A || recipient X25519
	inner      []byte // M || A || SIG
	eph        cryptomode.X25519KeyPair
	shared     [32]byte
	key        [32]byte
	nonce      [24]byte
	box        []byte
	envelope   *Envelope
	data       string
}

func newBenchFixture(b *testing.B) *benchFixture {
	f := &benchFixture{s: suiteFor(cryptomode.Real)}
	f.alice, f.bob = user(b, aliceSeed), user(b, bobSeed)
	f.content = NewText(strings.Repeat("k", 1024), 1_712_345_678_901)
	f.padded = Libsession.Pad(f.content.Marshal())
	a := f.alice.Ed25519.Public().(ed25519.PublicKey)
	f.signed = append(append(append([]byte(nil), f.padded...), a...), f.bob.X25519.Public[:]...)
	sig, _ := f.s.Sign(f.alice.Ed25519, f.signed)
	f.inner = append(append(append([]byte(nil), f.padded...), a...), sig...)
	var err error
	if f.eph, _, err = f.s.NewX25519(rng(1)); err != nil {
		b.Fatal(err)
	}
	if f.shared, _, err = f.s.SharedSecret(f.eph, f.bob.X25519.Public); err != nil {
		b.Fatal(err)
	}
	f.key = boxKey(&f.shared)
	f.nonce = sealNonce(&f.eph.Public, &f.bob.X25519.Public)
	f.box = append(f.eph.Public[:], secretbox.Seal(nil, f.inner, &f.nonce, &f.key)...)
	f.envelope = &Envelope{Type: SessionMessage, Timestamp: 1_712_345_678_901, Content: f.box}
	f.data = WrapEnvelope(Legacy, f.envelope)
	return f
}

type primitive struct {
	name string
	run  func()
}

// sealPrimitives are the steps Build takes, each on its real input.
func (f *benchFixture) sealPrimitives() []primitive {
	r := rng(2)
	return []primitive{
		{"encode+pad", func() { _ = Libsession.Pad(f.content.Marshal()) }},
		{"ed25519-sign", func() { f.s.Sign(f.alice.Ed25519, f.signed) }},
		{"x25519-keygen", func() { _, _, _ = f.s.NewX25519(r) }},
		{"x25519", func() { _, _, _ = f.s.SharedSecret(f.eph, f.bob.X25519.Public) }},
		{"hsalsa20+blake2b", func() { _ = boxKey(&f.shared); _ = sealNonce(&f.eph.Public, &f.bob.X25519.Public) }},
		{"xsalsa20poly1305-seal", func() { _ = secretbox.Seal(nil, f.inner, &f.nonce, &f.key) }},
		{"frame+base64", func() { _ = WrapEnvelope(Legacy, f.envelope) }},
	}
}

// openPrimitives are the steps Receive takes.
func (f *benchFixture) openPrimitives() []primitive {
	a := f.alice.Ed25519.Public().(ed25519.PublicKey)
	var a32 [32]byte
	copy(a32[:], a)
	sig := f.inner[len(f.inner)-64:]
	return []primitive{
		{"base64+unframe", func() { _, _ = UnwrapEnvelope(f.data) }},
		{"x25519", func() { _, _, _ = f.s.SharedSecret(f.bob.X25519, f.eph.Public) }},
		{"hsalsa20+blake2b", func() { _ = boxKey(&f.shared); _ = sealNonce(&f.eph.Public, &f.bob.X25519.Public) }},
		{"xsalsa20poly1305-open", func() { _, _ = secretbox.Open(nil, f.box[32:], &f.nonce, &f.key) }},
		{"ed25519-verify", func() { f.s.Verify(a, f.signed, sig) }},
		{"ed25519-to-x25519", func() { _, _ = senderX25519(a32, nil) }},
		{"unpad+decode", func() {
			raw, _ := Unpad(f.padded)
			_, _ = UnmarshalContent(raw)
		}},
	}
}

// compareWithPrimitives times the compound and each of its primitives in the same run, after
// b's own loop, in many short rounds that alternate between them. Each is scored by its fastest
// round: other processes on a shared machine only ever add time, so the minimum is the figure
// least disturbed by them, for the compound and the primitives alike. It reports each
// primitive, their sum, and the compound's ratio to the sum.
func compareWithPrimitives(b *testing.B, compound func(), prims []primitive) {
	const rounds = 40
	n := max(b.N/rounds, 1)
	perOp := func(f func()) float64 {
		start := time.Now()
		for range n {
			f()
		}
		return float64(time.Since(start).Nanoseconds()) / float64(n)
	}
	best := func(old, v float64) float64 {
		if old == 0 || v < old {
			return v
		}
		return old
	}
	var tc float64
	tp := make([]float64, len(prims))
	for range rounds {
		tc = best(tc, perOp(compound))
		for i, p := range prims {
			tp[i] = best(tp[i], perOp(p.run))
		}
	}
	var sum float64
	for i, p := range prims {
		b.ReportMetric(tp[i], p.name+"-ns")
		sum += tp[i]
	}
	b.ReportMetric(tc, "compound-best-ns")
	b.ReportMetric(sum, "primitives-ns")
	b.ReportMetric(tc/sum, "compound/primitives")
}

func BenchmarkSeal1KiB(b *testing.B) {
	f := newBenchFixture(b)
	r := rng(3)
	seal := func() {
		if _, _, err := Build(f.s, r, f.alice.Ed25519, f.bob.ID, Outgoing{Content: f.content, SentAt: 1_712_345_678_901}); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		seal()
	}
	compareWithPrimitives(b, seal, f.sealPrimitives())
}

func BenchmarkOpen1KiB(b *testing.B) {
	f := newBenchFixture(b)
	open := func() {
		if _, _, err := Receive(f.s, f.bob.X25519, f.data); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		open()
	}
	compareWithPrimitives(b, open, f.openPrimitives())
}

// BenchmarkPrimitives reports each primitive alone, for checking cryptomode.DefaultCosts and
// ConversionCost on another machine.
func BenchmarkPrimitives(b *testing.B) {
	f := newBenchFixture(b)
	seen := map[string]bool{}
	for _, p := range append(f.sealPrimitives(), f.openPrimitives()...) {
		if seen[p.name] {
			continue
		}
		seen[p.name] = true
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				p.run()
			}
		})
	}
}

func BenchmarkGroup1KiB(b *testing.B) {
	s := suiteFor(cryptomode.Real)
	alice := user(b, aliceSeed)
	data := make([]byte, 1024)
	ct, _, err := GroupEncrypt(s, rng(1), groupKey, alice.Ed25519, data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encrypt", func(b *testing.B) {
		r := rng(2)
		for b.Loop() {
			_, _, _ = GroupEncrypt(s, r, groupKey, alice.Ed25519, data)
		}
	})
	b.Run("decrypt", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := GroupDecrypt(s, groupKey, ct); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAttachment(b *testing.B) {
	c := cryptomode.DefaultCosts
	plain := make([]byte, 1<<20)
	enc, _, err := EncryptAttachment(c, rng(1), plain)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encrypt-1MiB", func(b *testing.B) {
		r := rng(2)
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			_, _, _ = EncryptAttachment(c, r, plain)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1024, "ns/KiB")
	})
	b.Run("decrypt-1MiB", func(b *testing.B) {
		b.SetBytes(int64(len(plain)))
		for b.Loop() {
			if _, _, err := DecryptAttachment(c, enc.Ciphertext, enc.Key[:], enc.Digest[:], len(plain)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1024, "ns/KiB")
	})
}

func BenchmarkTextStoredSize(b *testing.B) {
	for b.Loop() {
		_ = TextStoredSize(Libsession, 1024, 1_712_345_678_901)
	}
}
