package storagerpc

import (
	"testing"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupRetrieve is a member's poll of a group namespace: a retrieve of the group's account
// signed by the member under a read/write subaccount token the group's key signed.
func groupRetrieve(s cryptomode.Suite, ns Namespace) *Retrieve {
	group := newGroup(7)
	member := newGroup(9) // any Ed25519 key: the member signs with its own
	var memberEd [32]byte
	copy(memberEd[:], member.key[32:])
	sa, _ := SignSubaccount(s, group.key, AccessRead|AccessWrite, memberEd)
	r := &Retrieve{SignedAccount: SignedAccount{Pubkey: group.id}, Namespace: ns, LastHash: phHash}
	r.Sign(&Signer{Suite: s, Account: group.id, Key: member.key, Subaccount: sa}, nowMs)
	return r
}

// TestGroupRetrieveRoundTrip: a subaccount-signed retrieve of every group namespace encodes
// with the token and its signature (36 and 64 bytes), parses back to the same request, encodes
// to the same bytes, and passes the node's signature check; a token the group did not sign
// fails it.
func TestGroupRetrieveRoundTrip(t *testing.T) {
	s := realSuite()
	for _, ns := range []Namespace{NamespaceGroupMessages, NamespaceGroupKeys, NamespaceGroupInfo, NamespaceGroupMembers} {
		r := groupRetrieve(s, ns)
		b := EncodeRequest(r)
		got, err := ParseRequest(b)
		require.NoError(t, err, "namespace %d", ns)
		gr, ok := got.(*Retrieve)
		require.True(t, ok)
		require.NotNil(t, gr.Auth.Subaccount)
		assert.Equal(t, r.Auth.Subaccount.Token, gr.Auth.Subaccount.Token)
		assert.Equal(t, r.Auth.Subaccount.Signature, gr.Auth.Subaccount.Signature)
		assert.Equal(t, r.Auth.Signature, gr.Auth.Signature)
		assert.False(t, gr.Auth.HasEd25519, "a group request carries no pubkey_ed25519")
		assert.Equal(t, b, EncodeRequest(gr), "byte-exact re-encoding")
		_, err = gr.Check(CheckEnv{Now: testNow, Suite: s})
		require.NoError(t, err)

		gr.Auth.Subaccount.Signature[0] ^= 1
		_, err = gr.Check(CheckEnv{Now: testNow, Suite: s})
		require.Error(t, err, "a token the group did not sign")
	}
	assert.Len(t, groupRetrieve(s, NamespaceGroupMessages).Auth.Subaccount.Token, SubaccountTokenLen)
}
