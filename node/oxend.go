package node

import (
	"net/http"

	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/registry"
)

// rpcOxend answers oxend_request get_service_nodes (the parser lets nothing else through) from
// the node's own copy of the list, as its oxend would: the result object wrapped with "t"
// and "hf". Bad parameters are oxend's error, which the storage server passes on as a 400.
func (n *Node) rpcOxend(r *storagerpc.OxendRequest) outcome {
	if r.Endpoint != "get_service_nodes" {
		return textOutcome(http.StatusBadRequest, "Invalid oxend endpoint '"+r.Endpoint+"'")
	}
	p, err := registry.ParseServiceNodesParams(r.Params)
	if err != nil {
		return textOutcome(http.StatusBadRequest, err.Error())
	}
	res := storagerpc.OxendResponse{
		Result: registry.ServiceNodes(n.view.entries, p, n.env.Rand()),
		T:      n.nowMS(),
		HF:     storagerpc.HF(n.cfg.Hardfork),
	}
	return outcome{status: http.StatusOK, body: res.Append(nil)}
}
