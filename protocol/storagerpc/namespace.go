package storagerpc

import "strconv"

// Namespace is a message box within an account (int16 on the wire). What a namespace allows
// follows from its number.
type Namespace int16

// Namespaces in use by Session clients.
const (
	NamespaceDefault           Namespace = 0 // 1:1 messages (public inbox)
	NamespaceUserProfile       Namespace = 2
	NamespaceContacts          Namespace = 3
	NamespaceConvoInfoVolatile Namespace = 4
	NamespaceUserGroups        Namespace = 5
	NamespaceGroupMessages     Namespace = 11
	NamespaceGroupKeys         Namespace = 12
	NamespaceGroupInfo         Namespace = 13
	NamespaceGroupMembers      Namespace = 14
	// NamespaceLegacyClosedGroup is read without authentication.
	NamespaceLegacyClosedGroup Namespace = -10
)

// IsPublicInbox: anyone may store (namespaces divisible by 10); everything else still needs the
// owner's signature.
func (n Namespace) IsPublicInbox() bool { return n%10 == 0 }

// IsPublicOutbox: negative namespaces of the form -(20k+1) hold a single message that only the
// owner stores (replacing the previous one) and anyone reads.
func (n Namespace) IsPublicOutbox() bool { return n < 0 && (-int(n))%20 == 1 }

// NoAuthRetrieve: retrieving needs no signature (legacy closed groups and public outboxes).
func (n Namespace) NoAuthRetrieve() bool {
	return n == NamespaceLegacyClosedGroup || n.IsPublicOutbox()
}

// IsUnrevocable: negative namespaces ending in 11 can be read with a revoked subaccount, so a
// group can leave a removed member a last message.
func (n Namespace) IsUnrevocable() bool { return n < 0 && (-int(n))%100 == 11 }

// appendSig appends the namespace as signatures and hashes write it: nothing for 0, else decimal.
func (n Namespace) appendSig(dst []byte) []byte {
	if n == 0 {
		return dst
	}
	return strconv.AppendInt(dst, int64(n), 10)
}

// NamespaceSel selects one namespace or all of them (delete_all, delete_before, expire_all
// accept "all").
type NamespaceSel struct {
	Namespace Namespace
	All       bool
}

// AllNamespaces selects every namespace of an account.
var AllNamespaces = NamespaceSel{All: true}

// OneNamespace selects a single namespace.
func OneNamespace(n Namespace) NamespaceSel { return NamespaceSel{Namespace: n} }

// appendSig appends the selection as signatures write it: "" for 0, "all", or decimal.
func (s NamespaceSel) appendSig(dst []byte) []byte {
	if s.All {
		return append(dst, "all"...)
	}
	return s.Namespace.appendSig(dst)
}

func (s NamespaceSel) String() string {
	if s.All {
		return "all"
	}
	return strconv.Itoa(int(s.Namespace))
}
