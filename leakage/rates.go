package leakage

import (
	"time"
)

// Request classes: the onion requests that name an account, by what they name and where they
// go. They are what the path-selection mode draws (see the scenarios package), and the only
// requests the exposure levels read; requests that name no account (pool refreshes) and dummy
// polls (a decoy account nobody owns) cannot expose anyone and are not counted.
const (
	// ClassPoll is a retrieve of the client's own account at a member of its swarm.
	ClassPoll = "poll"
	// ClassOwnLookup is a get_swarm for the client's own account at a random pool node.
	ClassOwnLookup = "own_lookup"
	// ClassStore is a store for a contact at a member of the contact's swarm.
	ClassStore = "store"
	// ClassContactLookup is a get_swarm for a contact's account at a random pool node.
	ClassContactLookup = "contact_lookup"
	// ClassSyncCopy is a store for the client's own account (the sync copy of a message it
	// sent) at a random member of its swarm, wherever its polls go.
	ClassSyncCopy = "sync_copy"
)

// Classes lists the request classes in a fixed order.
var Classes = []string{ClassPoll, ClassOwnLookup, ClassStore, ClassContactLookup, ClassSyncCopy}

// classOf is the class of an onion request, "" for one no class covers.
func (r *Recorder) classOf(o *OnionRecord) string {
	if o.Client < 0 || o.Account < 0 {
		return ""
	}
	own := o.Account == o.Client
	switch r.methods[o.Method] {
	case "retrieve":
		if own {
			return ClassPoll
		}
	case "get_swarm":
		if own {
			return ClassOwnLookup
		}
		return ClassContactLookup
	case "store":
		if !own {
			return ClassStore
		}
		return ClassSyncCopy
	}
	return ""
}

// RequestRates measures, per client platform, the onion requests of each class that clients
// sent between from and to (offsets from the run's start), per client and hour: the rates the
// path-selection mode extrapolates. Every request sent counts, whatever its outcome, since each
// one took a path to a destination; a platform no client has is absent.
func (r *Recorder) RequestRates(from, to time.Duration) map[string]map[string]float64 {
	clients := map[string]int{}
	for _, c := range r.T.Clients {
		clients[c.Platform]++
	}
	counts := map[string]map[string]int{}
	for i := range r.Onion {
		o := &r.Onion[i]
		if o.Sent < from || o.Sent >= to {
			continue
		}
		cl := r.classOf(o)
		if cl == "" {
			continue
		}
		pl := r.T.Clients[o.Client].Platform
		if counts[pl] == nil {
			counts[pl] = map[string]int{}
		}
		counts[pl][cl]++
	}
	hours := (to - from).Hours()
	out := map[string]map[string]float64{}
	for pl, n := range clients {
		out[pl] = map[string]float64{}
		for _, cl := range Classes {
			v := 0.0
			if hours > 0 {
				v = float64(counts[pl][cl]) / float64(n) / hours
			}
			out[pl][cl] = round6(v)
		}
	}
	return out
}
