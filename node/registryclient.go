package node

import (
	"net/http"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/registry"
)

// The node's oxend is the registry: it pushes each new list (MethodList), the node also polls
// for it (ListPoll) so that a node that missed a push catches up, and the node sends it uptime
// proofs and the results of its reachability tests.

// registryTimeout bounds the node's calls to the registry.
const registryTimeout = 10 * time.Second

func (n *Node) hasRegistry() bool { return n.cfg.Registry.IsValid() }

// pollList asks the registry for its list unless it is the one the node has.
func (n *Node) pollList() {
	var known [32]byte
	if n.view != nil {
		known = n.view.hash
	}
	n.env.Call(n.cfg.Registry, registry.NewListRequest(known), registryTimeout, func(resp actor.Response, err error) {
		if err != nil || resp.Status != http.StatusOK {
			return
		}
		if l, ok := resp.Body.(*registry.List); ok {
			n.applyList(l)
		}
	})
}

// sendUptimeProof tells the registry the node is up.
func (n *Node) sendUptimeProof() {
	n.env.Call(n.cfg.Registry, registry.NewProofRequest(n.Ed25519()), registryTimeout, func(actor.Response, error) {})
}

// reportReach reports one reachability test (admin.report_peer_status).
func (n *Node) reportReach(tested [32]byte, passed bool) {
	if !n.hasRegistry() {
		return
	}
	n.env.Call(n.cfg.Registry, registry.NewReportRequest(n.Ed25519(), tested, passed), registryTimeout, func(actor.Response, error) {})
}

// handleListPush takes a list the registry pushed.
func (n *Node) handleListPush(from actor.Addr, req actor.Request, r actor.Responder) {
	if n.hasRegistry() && from.Addr() != n.cfg.Registry.Addr() {
		respondText(r, overMQ, http.StatusForbidden, "lists come from the node's oxend")
		return
	}
	l, ok := req.Body.(*registry.List)
	if !ok || l == nil {
		respondText(r, overMQ, http.StatusBadRequest, "invalid list")
		return
	}
	n.applyList(l)
	respondText(r, overMQ, http.StatusOK, "")
}
