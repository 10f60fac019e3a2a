package scenarios

import (
	"fmt"
	"time"
)

// Quick is what a scenario changes when it runs shortened (`sessionsim run --quick`), on top of
// the fixed scaling that Shorten applies.
type Quick struct {
	// Checks replace the scenario's checks in a quick run. A tenth of the network for a quarter
	// of the time sends a few hundred messages, so a full run's thresholds (a p99, a 0.999
	// ratio) would be noise there: a quick run states what it can measure. Without them a
	// quick run keeps the scenario's checks.
	Checks []string `yaml:"checks,omitempty"`
	// Clients, when set, is the client count of a quick run in place of a tenth of the
	// scenario's: a tenth of a world of 100,000 clients is still no quick run.
	Clients int `yaml:"clients,omitempty"`
	// Duration, when set, is the duration of a quick run in place of a quarter of the
	// scenario's, for the same reason.
	Duration time.Duration `yaml:"duration,omitempty"`
}

// The quick scaling, documented in `sessionsim run --help` and the README: counts are divided
// by quickCountDiv, times by quickTimeDiv, and churn rates per hour multiplied by
// quickTimeDiv/quickCountDiv so that the same share of the network churns during the run.
const (
	quickCountDiv = 10
	quickTimeDiv  = 4
	// Floors that keep a quick network valid and its run long enough to say something: enough
	// nodes for several swarms and every client's disjoint paths, enough clients for a contact
	// graph, a warmup in which apps bootstrap, a drain in which messages arrive.
	quickMinNodes    = 20
	quickMinClients  = 100
	quickMinDuration = 2 * time.Minute
	quickMinWarmup   = 30 * time.Second
	quickMinDrain    = time.Minute
)

// QuickRules describes the scaling in words, for help texts.
const QuickRules = `--quick shortens the scenario: nodes.count and clients.count are divided by 10 (rounded up; at
least 20 nodes and 100 clients, or the scenario's own count when smaller, and never fewer nodes than the network
needs), a fault's count and the flash crowd's size follow; duration, warmup and drain are divided
by 4 (at least 2m, 30s and 1m), and so are every fault's at and for, the flash crowd's at and
within, the clients' session lengths and the node lifetimes; node crash and join rates per hour
are multiplied by 0.4 (a tenth of the nodes, four times faster), so the same share of the
network churns; workload.contacts is cut below the client count. Rates per client and all other
keys are kept. The scenario's quick.checks replace its checks (it keeps its checks when it
has none); its quick.clients and quick.duration, when set, replace the scaled client count and
duration. --set and SESSIONSIM_* apply before the scaling.`

// Shorten scales the scenario down for a quick run (see QuickRules) and puts its quick checks
// in place of its checks. The result carries no quick block, so its resolved form runs the
// same quick run again as it is.
func (s *Scenario) Shorten() {
	count := func(n, floor int) int {
		return min(n, max(floor, ceilDiv(n, quickCountDiv)))
	}
	span := func(d, floor time.Duration) time.Duration { return min(d, max(floor, d/quickTimeDiv)) }
	least, _ := s.minNodes()
	s.Nodes.Count = count(s.Nodes.Count, max(quickMinNodes, least))
	s.Clients.Count = count(s.Clients.Count, quickMinClients)
	if s.Quick.Clients > 0 {
		s.Clients.Count = min(s.Clients.Count, s.Quick.Clients)
	}
	s.Workload.Contacts = max(1, min(s.Workload.Contacts, s.Clients.Count-1))
	s.Duration = span(s.Duration, quickMinDuration)
	if s.Quick.Duration > 0 {
		s.Duration = min(s.Duration, s.Quick.Duration)
	}
	s.Warmup = span(s.Warmup, quickMinWarmup)
	s.Drain = span(s.Drain, quickMinDrain)
	for i := range s.Faults {
		f := &s.Faults[i]
		f.At /= quickTimeDiv
		f.For /= quickTimeDiv
		if f.Count > 0 {
			f.Count = ceilDiv(f.Count, quickCountDiv)
		}
	}
	fc := &s.Clients.FlashCrowd
	fc.At /= quickTimeDiv
	fc.Within /= quickTimeDiv
	s.Clients.Sessions.MeanOnline /= quickTimeDiv
	s.Clients.Sessions.MeanOffline /= quickTimeDiv
	ch := &s.Nodes.Churn
	ch.LifetimeMedian /= quickTimeDiv
	ch.CrashesPerHour *= float64(quickTimeDiv) / quickCountDiv
	ch.JoinsPerHour *= float64(quickTimeDiv) / quickCountDiv
	if len(s.Quick.Checks) > 0 {
		s.Checks = s.Quick.Checks
	}
	s.Quick = Quick{}
	s.Description = fmt.Sprintf("%s [quick: %d nodes, %d clients, %v]", s.Description, s.Nodes.Count, s.Clients.Count, s.Duration)
}

func ceilDiv(n, d int) int { return (n + d - 1) / d }
