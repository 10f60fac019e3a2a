package registry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
)

// kept is a Responder that keeps the response it is given.
type kept struct{ resp actor.Response }

func (k *kept) Respond(r actor.Response) { k.resp = r }

// askSeed is s's answer to a /json_rpc request with body.
func askSeed(t *testing.T, s *seedAPI, body string) []byte {
	t.Helper()
	var k kept
	s.answer(actor.Request{Method: MethodJSONRPC, Body: []byte(body)}, &k, newRand(1))
	out, ok := k.resp.Body.([]byte)
	require.True(t, ok, "answer body %T", k.resp.Body)
	return out
}

// TestSharedSeedAnswers checks that seed nodes sharing their kept answers give the answers each
// would give alone, build each once, and that one still serving an older list neither uses nor
// replaces the newer list's answers.
func TestSharedSeedAnswers(t *testing.T) {
	l, older := testList(t)
	require.NoError(t, l.Register(reg(40)))
	run(l, t0.Add(40*time.Minute), nil)
	newer := l.List()
	require.Greater(t, newer.Height, older.Height)
	const whole = `{"jsonrpc":"2.0","id":"0","method":"get_n_service_nodes","params":{"active_only":true,"fields":{"public_ip":true,"pubkey_ed25519":true}}}`
	alone := func(list *List) []byte {
		var s seedAPI
		s.setList(list)
		return askSeed(t, &s, whole)
	}

	shared := &SeedAnswers{}
	a, b := seedAPI{kept: shared}, seedAPI{kept: shared}
	a.setList(older)
	b.setList(older)
	first := askSeed(t, &a, whole)
	assert.Equal(t, alone(older), first)
	assert.Same(t, &first[0], &askSeed(t, &b, whole)[0], "b answers with the answer a built")

	a.setList(newer)
	fromNewer := askSeed(t, &a, whole)
	assert.Equal(t, alone(newer), fromNewer)
	assert.Equal(t, alone(older), askSeed(t, &b, whole), "b, not pushed the newer list yet, answers from its own")
	assert.Same(t, newer, shared.list, "b's answer from the older list is not kept over a's")

	b.setList(newer)
	assert.Same(t, &fromNewer[0], &askSeed(t, &b, whole)[0])
}
