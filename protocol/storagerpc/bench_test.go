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

// pollAnswer is what a poll's batch answer holds: the retrieves of three namespaces (one with
// messages) and the expire of the config messages, answered by a swarm of five.
func pollAnswer(b *testing.B) []SubResult {
	msgs := make([]RetrievedMessage, 5)
	for i := range msgs {
		msgs[i] = RetrievedMessage{Hash: phHash, Timestamp: nowMs, Expiry: nowMs, Data: make([]byte, 400)}
	}
	self := newNode(1)
	alice := newUser(b, 1)
	req := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Expiries: []int64{nowMs}, Mode: ExpireExtend}
	res, _ := NewExpireResult(modeledSuite(), self.key, req, []int64{nowMs}, []HashExpiry{{phHash, nowMs}}, []HashExpiry{{vectorHash, nowMs}})
	expire := &SwarmResponse[ExpireResult]{Self: self.hex, T: nowMs, HF: HF{19, 3}}
	for i := range 5 {
		expire.Swarm = append(expire.Swarm, SwarmEntry[ExpireResult]{Node: newNode(byte(i + 1)).hex, Result: res})
	}
	return []SubResult{
		{Code: 200, Value: &RetrieveResponse{Messages: msgs, T: nowMs, HF: HF{19, 3}}},
		{Code: 200, Value: &RetrieveResponse{T: nowMs, HF: HF{19, 3}}},
		{Code: 200, Value: &RetrieveResponse{T: nowMs, HF: HF{19, 3}}},
		{Code: 200, Value: expire},
	}
}

// BenchmarkPollAnswer writes a poll's answer as a node does on bytes (each answer, then the
// batch) against measuring it as it does in a structural onion.
func BenchmarkPollAnswer(b *testing.B) {
	results := pollAnswer(b)
	b.Run("written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			written := make([]SubResult, len(results))
			for i, r := range results {
				written[i] = SubResult{Code: r.Code, Value: r.Value}
				switch v := r.Value.(type) {
				case *RetrieveResponse:
					written[i].Body = v.Append(nil)
				case *SwarmResponse[ExpireResult]:
					written[i].Body = AppendExpireResponse(nil, v)
				}
			}
			_ = AppendBatchResponse(nil, written)
		}
	})
	b.Run("measured", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = BatchResponseSize(results)
		}
	})
}

// BenchmarkPollRequest encodes a poll's request (three signed retrieves and an expire) against
// counting its length, as a structural onion's client does.
func BenchmarkPollRequest(b *testing.B) {
	alice := newUser(b, 1)
	s := alice.signer(modeledSuite())
	var reqs []Request
	for _, ns := range []Namespace{0, NamespaceContacts, NamespaceConvoInfoVolatile} {
		r := &Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: ns, LastHash: phHash}
		r.Sign(s, nowMs)
		reqs = append(reqs, r)
	}
	exp := &Expire{SignedAccount: SignedAccount{Pubkey: alice.id}, Messages: []string{phHash, vectorHash}, Expiries: []int64{nowMs}, Mode: ExpireExtend}
	exp.Sign(s)
	batch := &Batch{Requests: append(reqs, exp)}
	b.Run("encoded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = EncodeRequest(batch)
		}
	})
	b.Run("measured", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = RequestLen(batch)
		}
	})
}
