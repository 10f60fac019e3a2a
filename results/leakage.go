package results

// Leakage is summary.json's "leakage" section: what each adversary of the scenario's
// leakage.adversaries learnt in the run. It is absent (nil) when the scenario has no leakage
// section. The names of Adversaries, their name, kind, fraction, exposure (its four levels),
// ttfc (median_s, p10_s, p90_s per level), linkability (tpr_at_fpr_1e-3 and precision per
// window), anonymity_set (median, p10) and contact_graph (precision, recall, f1), and
// guard_candidates_tested_mean are a contract that checks and other tools rely on.
//
// A value that is not measured is null, never 0: a level an adversary cannot reach by its
// nature (a link observer decrypts nothing, so it never sees a Session ID: its exposure
// levels and contact graph are null, and its linkability links addresses to destination
// nodes), a window longer than the run, and figures with nothing to measure (no true pair
// seen on both sides, no store seen).
type Leakage struct {
	Adversaries []Adversary `json:"adversaries"`
	// GuardCandidatesTestedMean is the mean number of distinct nodes an active client tested as
	// guard candidates (the m of 1-(1-f)^m for the direct level).
	GuardCandidatesTestedMean float64 `json:"guard_candidates_tested_mean"`
	// ActiveClients is the denominator of every exposure: clients that made at least one
	// request to a service node. ActivePairs is that of pair exposure: (sender, recipient)
	// pairs of clients with at least one store from the sender naming the recipient.
	ActiveClients int `json:"active_clients"`
	ActivePairs   int `json:"active_pairs"`
	// ClientsPerNode is clients / service nodes: leakage figures depend on it, so it is said.
	ClientsPerNode float64 `json:"clients_per_node"`
	// Roles is the per-role view table: what each role sees and how much of it it saw.
	Roles []RoleView `json:"roles"`
	// Mode is "path-selection" when the figures come from the path-selection mode
	// (leakage.horizon): pool refreshes, guard selection, paths, node churn and swarm changes
	// played over HorizonS seconds without message bytes, with each client's requests drawn
	// at the RequestRates the full simulation measured; Note says so in words. All three are
	// absent for the full simulation.
	Mode     string  `json:"mode,omitempty"`
	HorizonS float64 `json:"horizon_s,omitempty"`
	Note     string  `json:"note,omitempty"`
	// RequestRates are the rates the path-selection mode drew requests at: onion requests per
	// client per hour, by platform and request class, as measured in the full simulation.
	RequestRates map[string]map[string]float64 `json:"request_rates,omitempty"`
}

// Adversary is one adversary's measurements (one per fraction for kind random). Exposure,
// TTFC and the timeline are the mean over the adversary's draws of coalitions.
type Adversary struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Fraction is the share of nodes in each coalition, for kind random.
	Fraction *float64 `json:"fraction,omitempty"`
	// View is "node" (the coalition runs nodes and sees what they decrypt) or "link" (it
	// watches links: addresses, times and sizes only).
	View string `json:"view"`
	// Draws is the number of coalitions drawn (1 for a fixed adversary); Nodes the mean
	// number of service nodes in one (0 for a link observer).
	Draws int     `json:"draws"`
	Nodes float64 `json:"nodes"`
	// Exposure is the fraction of active clients whose (IP, Session ID) pair the adversary
	// learnt by the end of the run, per level; ExposureLow and ExposureHigh the 2.5th and
	// 97.5th percentiles over draws.
	Exposure     Exposure `json:"exposure"`
	ExposureLow  Exposure `json:"exposure_low"`
	ExposureHigh Exposure `json:"exposure_high"`
	// PairExposure is the same for (sender IP, recipient Session ID) pairs, over ActivePairs.
	PairExposure Exposure `json:"pair_exposure"`
	// ExposureByPlatform splits Exposure by the client's platform.
	ExposureByPlatform map[string]Exposure `json:"exposure_by_platform"`
	// TTFC is the time to first compromise per level, from a Kaplan-Meier estimate over
	// active clients (time from the client's first request to a service node; censored at
	// the run's end).
	TTFC TTFC `json:"ttfc"`
	// Timeline is Exposure over the run.
	Timeline ExposureTimeline `json:"exposure_timeline"`
	// TimingBothEnds is, for a link observer, the fraction of active clients with at least
	// one onion request naming their own ID whose client-guard link and last-hop-destination
	// link it both watched: the precondition of a timing correlation. Null for node views.
	TimingBothEnds *float64 `json:"timing_both_ends"`
	// Linkability (per observation window: "1m", "10m", "60m"), AnonymitySet and
	// ContactGraph come from the correlation attack (see package leakage); a link observer
	// has no contact graph.
	Linkability  map[string]*Linkability `json:"linkability"`
	AnonymitySet *AnonymitySet           `json:"anonymity_set"`
	ContactGraph *ContactGraph           `json:"contact_graph"`
	// Server is what a server adversary learnt; absent for the other kinds.
	Server *ServerLearned `json:"server,omitempty"`
}

// Levels holds one value per exposure level; null where the level is not measured (see
// Leakage).
type Levels[T any] struct {
	// Direct: a coalition node got a direct request naming the ID from the client's address.
	Direct T `json:"direct"`
	// GuardAndDestination: an onion request naming the ID had its guard and its destination
	// in the coalition.
	GuardAndDestination T `json:"guard_and_destination"`
	// FullPath: every hop and the destination were in the coalition.
	FullPath T `json:"full_path"`
	// Correlation: the timing correlation attack linked them (a true positive at its
	// threshold, at the end of the window in which it did).
	Correlation T `json:"correlation"`
}

// Level is one level's value with the level's name in summary.json.
type Level[T any] struct {
	Key   string
	Value T
}

// All is every level with its name, in the order of the summary, for code that treats the
// levels alike.
func (l Levels[T]) All() []Level[T] {
	return []Level[T]{{"direct", l.Direct}, {"guard_and_destination", l.GuardAndDestination}, {"full_path", l.FullPath}, {"correlation", l.Correlation}}
}

// Exposure is a fraction of clients (or pairs) per level.
type Exposure = Levels[*float64]

// TTFC is the time to first compromise per level.
type TTFC = Levels[*Survival]

// Survival summarises a Kaplan-Meier curve S(t) = P(not compromised by t), averaged over
// draws on a fixed time grid. A quantile the curve never reaches within the run is null.
type Survival struct {
	MedianS *float64 `json:"median_s"`
	P10S    *float64 `json:"p10_s"`
	P90S    *float64 `json:"p90_s"`
	// CompromisedBy is 1-S(t) at 1h, 1d, 7d and 30d, for those the run is long enough for.
	CompromisedBy map[string]float64 `json:"compromised_by,omitempty"`
	// Curve is (t seconds, S(t)) on the grid.
	Curve [][2]float64 `json:"curve"`
}

// At is S at t seconds, reading the curve as a step function: the value of its last point at
// or before t (1 before the first). Past the curve's last point the run says nothing (its
// clients are censored there), so callers that average curves stop each one at End.
func (s *Survival) At(t float64) float64 {
	v := 1.0
	for _, p := range s.Curve {
		if p[0] > t {
			break
		}
		v = p[1]
	}
	return v
}

// End is the time of the curve's last point in seconds, 0 for an empty curve.
func (s *Survival) End() float64 {
	if len(s.Curve) == 0 {
		return 0
	}
	return s.Curve[len(s.Curve)-1][0]
}

// ExposureTimeline is exposure (over clients active by the end) at TS seconds of the run.
type ExposureTimeline struct {
	TS                  []float64 `json:"t_s"`
	Direct              []float64 `json:"direct,omitempty"`
	GuardAndDestination []float64 `json:"guard_and_destination,omitempty"`
	FullPath            []float64 `json:"full_path,omitempty"`
	Correlation         []float64 `json:"correlation,omitempty"`
}

// Linkability is the correlation attack's result for one observation window: for a node
// coalition the attack on timing and size, and TimingOnly, the same with an infinite size
// tolerance; for a link observer its cross-correlation attack, on timing alone (TimingOnly
// null). Null for a window longer than the run.
type Linkability struct {
	// Target is what the attack links a client's address to: "account" (a Session ID, for
	// a node coalition, which sees the accounts requests name) or "node" (the destination
	// service node, for a link observer, which decrypts nothing).
	Target string `json:"target"`
	LinkAttack
	TimingOnly *LinkAttack `json:"timing_only"`
}

// LinkAttack is one variant of the correlation attack, pooled over the run's windows of one
// length and over the adversary's draws.
type LinkAttack struct {
	// TPRAtFPR1e3 is the share of true pairs seen on both sides that the attack links at the
	// threshold; null when no true pair was seen on both sides.
	TPRAtFPR1e3 *float64 `json:"tpr_at_fpr_1e-3"`
	// Precision is the share of links that are true, with the false-positive rate measured on
	// the held-out half of the negatives applied to all of them; null when nothing is linked.
	Precision *float64 `json:"precision"`
	// Threshold is the score at or above which a pair is linked, chosen on the other half of
	// the negatives for a false-positive rate of at most 1e-3; null when no score qualifies.
	Threshold *float64 `json:"threshold"`
	// Positives and Negatives are the true and false pairs seen on both sides (summed over
	// windows and draws), pairs scoring 0 included.
	Positives int64 `json:"positives"`
	Negatives int64 `json:"negatives"`
	// ROC is the curve as [false-positive rate, true-positive rate] points over all
	// negatives, from (0, 0) by falling threshold, at most 50 points.
	ROC [][2]float64 `json:"roc"`
}

// AnonymitySet is the effective number of candidate senders 2^H over the stores a coalition
// sees at its destinations, pooled over draws.
type AnonymitySet struct {
	Median *float64 `json:"median"`
	P10    *float64 `json:"p10"`
	// FloorMedian and FloorP10 are the same for the last-hop pseudonym's floor: the clients
	// whose onion requests used the store's last hop in the minute before it.
	FloorMedian *float64 `json:"floor_median"`
	FloorP10    *float64 `json:"floor_p10"`
	// Stores is the number of (store, draw) observations, Online the median number of
	// clients online (a request sent in the minute before the store).
	Stores int     `json:"stores"`
	Online float64 `json:"online_median"`
	// Histogram is the distribution of 2^H as [low, high, share] bins in powers of two:
	// [1, 2), [2, 4), ...
	Histogram [][3]float64 `json:"histogram"`
}

// ContactGraph is how well a coalition recovers who talks to whom, mean over draws.
type ContactGraph struct {
	// Precision is null when no draw inferred an edge.
	Precision *float64 `json:"precision"`
	Recall    *float64 `json:"recall"`
	F1        *float64 `json:"f1"`
	// Edges is the true graph's edge count, Inferred the mean number of edges inferred.
	Edges    int     `json:"edges"`
	Inferred float64 `json:"inferred"`
}

// ServerLearned is what a server adversary (kind server) learnt: its servers see no client
// address, only the node that proxied each request, so its exposure levels are null; it learns
// accounts, devices and, at the push server, when accounts get messages, never who sent them.
type ServerLearned struct {
	// Roles are the server roles it runs.
	Roles []string `json:"roles"`
	// Requests is how many requests its servers served; ProxyAddresses how many distinct
	// nodes proxied them (the only addresses it sees).
	Requests       uint64 `json:"requests"`
	ProxyAddresses int    `json:"proxy_addresses"`
	// Accounts is the share of active clients whose account it learnt (a community member's
	// blinded ID, which anyone knowing the Session ID can derive; a push subscription);
	// AccountsWithDevice the share it tied to a device (push subscriptions).
	Accounts           float64 `json:"accounts"`
	AccountsWithDevice float64 `json:"accounts_with_device"`
	// Notifications is how many new messages its push server was told of; RecipientsTimed the
	// share of active pairs whose recipient's message times it learnt (who receives when).
	Notifications   uint64  `json:"notifications"`
	RecipientsTimed float64 `json:"recipients_timed"`
	// PairsLinked is, for a push server joined with node coalitions (fractions), the share of
	// active pairs its timing join linked (sender address to recipient account; see package
	// leakage, pushJoin), mean over draws; PairsLinkedPrecision the share of its links that were
	// true. Null without coalitions or without the push role.
	PairsLinked          *float64 `json:"pairs_linked"`
	PairsLinkedPrecision *float64 `json:"pairs_linked_precision"`
}

// RoleView is one row of the per-role view table.
type RoleView struct {
	// Role is guard, guard_candidate, middle, last_hop, swarm_member, seed_node,
	// link_observer, or for each server the world has, file_server, push_server or
	// community_server.
	Role string `json:"role"`
	// Sees lists the fields the role sees.
	Sees []string `json:"sees"`
	// Counts is how many of each it saw over the run, summed over every node in the role.
	Counts map[string]uint64 `json:"counts"`
}
