package leakage

import (
	"net/netip"
	"slices"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
)

// NodeInfo is the static table row of one service node.
type NodeInfo struct {
	Name    string
	Addr    actor.Addr
	Ed25519 [32]byte
	// Operator is the placement's operator number (0 is the largest operator).
	Operator int
	// Provider is the hosting provider: the /16 block the node's address is in. The placement
	// gives each region a few providers' /16s and operators take their /24s from them, so a
	// /16 is one provider's block.
	Provider netip.Prefix
	Region   string
	// Sybil names the sybil adversary that registered the node, "" for the network's own
	// nodes. Sybil nodes are that adversary's coalition and stay out of the operator and
	// provider rankings, which describe the network the scenario planned.
	Sybil string
}

// ClientInfo is the static table row of one client.
type ClientInfo struct {
	Name     string
	Addr     actor.Addr
	ID       identity.ID
	Region   string
	Platform string
}

// Tables are the static tables of a world, built once by the world builder: node -> operator,
// provider, region, address; client -> address, Session ID, region, platform. Indices are the
// order rows were added.
type Tables struct {
	Nodes   []NodeInfo
	Clients []ClientInfo
	// Contacts is the workload's contact graph (Contacts[i] lists the clients i writes to),
	// the truth contact-graph recovery is scored against; nil means the pairs of clients that
	// stored to each other in the run.
	Contacts [][]int

	// ServerRoles are the roles of the world's servers ("file", "push", "community"), each
	// once, in the order added: the view table has a row for each, zero when it saw nothing.
	ServerRoles []string

	nodeByIP   map[netip.Addr]int32
	nodeByKey  map[[32]byte]int32
	clientByIP map[netip.Addr]int32
	clientByID map[identity.ID]int32
	aliasByID  map[identity.ID]int32 // other IDs of a client: its blinded IDs towards community servers
}

// NewTables makes empty tables.
func NewTables() *Tables {
	return &Tables{
		nodeByIP: map[netip.Addr]int32{}, nodeByKey: map[[32]byte]int32{},
		clientByIP: map[netip.Addr]int32{}, clientByID: map[identity.ID]int32{}, aliasByID: map[identity.ID]int32{},
	}
}

// ProviderOf is the provider block of an address: its /16.
func ProviderOf(a netip.Addr) netip.Prefix {
	p, _ := a.Prefix(16)
	return p
}

// AddNode adds a node row; Provider is filled from the address when zero.
func (t *Tables) AddNode(n NodeInfo) int {
	if !n.Provider.IsValid() {
		n.Provider = ProviderOf(n.Addr.Addr())
	}
	i := int32(len(t.Nodes))
	t.Nodes = append(t.Nodes, n)
	t.nodeByIP[n.Addr.Addr()] = i
	t.nodeByKey[n.Ed25519] = i
	return int(i)
}

// AddClient adds a client row.
func (t *Tables) AddClient(c ClientInfo) int {
	i := int32(len(t.Clients))
	t.Clients = append(t.Clients, c)
	t.clientByIP[c.Addr.Addr()] = i
	t.clientByID[c.ID] = i
	return int(i)
}

// AddServerRole notes that the world has a server of role.
func (t *Tables) AddServerRole(role string) {
	if !slices.Contains(t.ServerRoles, role) {
		t.ServerRoles = append(t.ServerRoles, role)
	}
}

// AddAlias records that id (a blinded ID) belongs to client: whoever knows the client's
// Session ID can derive it (15-blinding needs only the public key and the server's key), so a
// server that learns it learns the account.
func (t *Tables) AddAlias(id identity.ID, client int) { t.aliasByID[id] = int32(client) }

// ClientByAnyID is the client owning id, a Session ID or an alias, or -1.
func (t *Tables) ClientByAnyID(id identity.ID) int32 {
	if c := t.ClientByID(id); c >= 0 {
		return c
	}
	return indexOr(t.aliasByID, id)
}

// NodeByIP is the node at an address, or -1.
func (t *Tables) NodeByIP(a netip.Addr) int32 { return indexOr(t.nodeByIP, a) }

// NodeByKey is the node with an Ed25519 key, or -1.
func (t *Tables) NodeByKey(k [32]byte) int32 { return indexOr(t.nodeByKey, k) }

// ClientByIP is the client at an address, or -1.
func (t *Tables) ClientByIP(a netip.Addr) int32 { return indexOr(t.clientByIP, a) }

// ClientByID is the client owning a Session ID, or -1.
func (t *Tables) ClientByID(id identity.ID) int32 { return indexOr(t.clientByID, id) }

// indexOr is the index m holds for k, or -1.
func indexOr[K comparable](m map[K]int32, k K) int32 {
	if i, ok := m[k]; ok {
		return i
	}
	return -1
}

// clientByAccount is ClientByID for an account as a node sees it (prefix byte + key).
func (t *Tables) clientByAccount(a [33]byte) int32 { return t.ClientByID(identity.ID(a)) }
