package storagerpc

import (
	"math"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/protocol/identity"

	"github.com/stretchr/testify/assert"
)

// A client signs a retrieve for every namespace it polls, and nodes check it: in modeled mode
// neither allocates, the message being built on the stack (retrieveSigRoom) and the signature
// written in place.
func TestRetrieveSignInPlace(t *testing.T) {
	alice := newUser(t, 1)
	s := alice.signer(modeledSuite())
	env := CheckEnv{Now: testNow, Suite: s.Suite, ConvertKey: identity.NewX25519Memo().Convert}
	for _, tt := range []struct {
		name string
		ns   Namespace
		ts   int64
		want string
	}{
		{"default namespace", NamespaceDefault, nowMs, "retrieve1700000000000"},
		{"config namespace", NamespaceUserProfile, nowMs, "retrieve21700000000000"},
		{"longest", math.MinInt16, math.MinInt64, "retrieve-32768-9223372036854775808"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &Retrieve{SignedAccount: SignedAccount{Pubkey: alice.id}, Namespace: tt.ns}
			allocs := testing.AllocsPerRun(50, func() { r.Sign(s, tt.ts) })
			assert.Zero(t, allocs)
			assert.Equal(t, tt.want, string(r.SigMessage()))
			assert.LessOrEqual(t, len(r.SigMessage()), retrieveSigRoom, "the stack buffer holds it")
			ok, _ := s.Suite.Verify(alice.key[32:], r.SigMessage(), r.Auth.Signature[:])
			assert.True(t, ok, "signed over SigMessage")

			env.Now = time.UnixMilli(tt.ts)
			var err error
			allocs = testing.AllocsPerRun(50, func() { _, err = r.Check(env) })
			assert.NoError(t, err)
			assert.Zero(t, allocs)
		})
	}
}
