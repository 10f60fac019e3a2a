package storagerpc

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkParseStore parses the desktop's 1:1 store body at typical and maximal sizes.
func BenchmarkParseStore(b *testing.B) {
	alice := newUser(b, 1)
	for _, size := range []int{160, 1600, MaxDataSize} {
		req := EncodeRequest(NewStore(alice.id, NamespaceDefault, nowMs, 14*24*time.Hour, make([]byte, size)))
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(req)))
			for b.Loop() {
				if _, err := ParseRequest(req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(req)), "body-bytes")
		})
	}
}

// BenchmarkParseBatchStore is a store wrapped in a batch, as clients send it.
func BenchmarkParseBatchStore(b *testing.B) {
	alice := newUser(b, 1)
	req := EncodeRequest(&Batch{Requests: []Request{NewStore(alice.id, 0, nowMs, 14*24*time.Hour, make([]byte, 1600))}})
	b.ReportAllocs()
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		if _, err := ParseRequest(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckSignedStore measures a config store's checks: the Ed25519 to X25519 conversion
// runs for real in both modes, the signature only in real mode. The reported charged-us is the
// CPU time the check tells the simulator to charge.
func BenchmarkCheckSignedStore(b *testing.B) {
	alice := newUser(b, 1)
	for _, s := range []struct {
		name  string
		suite func() any
	}{{"real", func() any { return realSuite() }}, {"modeled", func() any { return modeledSuite() }}} {
		b.Run(s.name, func(b *testing.B) {
			suite := realSuite()
			if s.name == "modeled" {
				suite = modeledSuite()
			}
			r := NewStore(alice.id, NamespaceContacts, nowMs, time.Hour, make([]byte, 1600))
			r.Sign(alice.signer(suite))
			env := CheckEnv{Now: testNow, Suite: suite}
			var cost time.Duration
			for b.Loop() {
				c, err := r.Check(env)
				if err != nil {
					b.Fatal(err)
				}
				cost = c
			}
			b.ReportMetric(float64(cost.Microseconds()), "charged-us")
		})
	}
}

func BenchmarkKeyConversion(b *testing.B) {
	alice := newUser(b, 1)
	var ed [32]byte
	copy(ed[:], alice.key[32:])
	for b.Loop() {
		if _, err := ed25519ToX25519(ed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeStore(b *testing.B) {
	alice := newUser(b, 1)
	r := NewStore(alice.id, NamespaceDefault, nowMs, 14*24*time.Hour, make([]byte, 1600))
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRequest(buf[:0], r)
	}
	b.ReportMetric(float64(len(buf)), "body-bytes")
}

func BenchmarkRetrieveResponse(b *testing.B) {
	msgs := make([]RetrievedMessage, 20)
	for i := range msgs {
		msgs[i] = RetrievedMessage{Hash: phHash, Timestamp: nowMs, Expiry: nowMs, Data: make([]byte, 1600)}
	}
	resp := &RetrieveResponse{Messages: msgs, T: nowMs, HF: HF{19, 3}}
	body := resp.Append(nil)
	b.Run("encode", func(b *testing.B) {
		buf := make([]byte, 0, len(body))
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			buf = resp.Append(buf[:0])
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeRetrieveResponse(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
