package reports

import (
	"fmt"

	"github.com/sessionsim/sessionsim/results"
)

// writeLeakage prints the leakage table: per adversary, the share of active clients whose
// (IP, Session ID) pair it learnt at each level, and the median time to first compromise.
func writeLeakage(p func(string, ...any), l *results.Leakage) {
	p("Leakage (share of %d active clients whose IP and Session ID the adversary linked; %.1f clients per node)", l.ActiveClients, l.ClientsPerNode)
	p("  guard candidates tested per client: %.2f (a desktop or Android test is a direct get_swarm naming the client's own Session ID, so the candidate sees both; iOS's ping names none)", l.GuardCandidatesTestedMean)
	p("  %-22s %-5s %8s %12s %10s %10s %12s %14s", "adversary", "view", "nodes", "direct", "guard+dest", "full path", "correlation", "median TTFC")
	for _, a := range l.Adversaries {
		if a.View == "link" {
			p("  %-22s %-5s %8s %12s %10s %10s %12s %14s", a.Name, a.View, "-", "-", "-", "-", "-", "timing both ends "+optPercent(a.TimingBothEnds))
		} else {
			median := "n/a"
			if a.TTFC.Direct != nil && a.TTFC.Direct.MedianS != nil {
				median = seconds(*a.TTFC.Direct.MedianS)
			} else if a.TTFC.Direct != nil {
				median = "not reached"
			}
			p("  %-22s %-5s %8.1f %12s %10s %10s %12s %14s", a.Name, a.View, a.Nodes,
				optPercent(a.Exposure.Direct), optPercent(a.Exposure.GuardAndDestination), optPercent(a.Exposure.FullPath), optPercent(a.Exposure.Correlation), median)
		}
		if l := a.Linkability["10m"]; l != nil {
			line := fmt.Sprintf("linkability (10 min): TPR %s at FPR 1e-3, precision %s", optPercent(l.TPRAtFPR1e3), optPercent(l.Precision))
			if l.TimingOnly != nil {
				line += fmt.Sprintf(" (timing only: TPR %s)", optPercent(l.TimingOnly.TPRAtFPR1e3))
			}
			if l.Target == "node" {
				line += " (address to destination node)"
			}
			p("  %-22s %s", "", line)
		}
	}
	p("  (exposure is the mean over each adversary's coalitions; the median TTFC is the direct level's; correlation: the timing attack linked the pair; a link observer's attack links a client's address to a destination node, not to a Session ID)")
}

// optPercent is a fraction that may not be measured.
func optPercent(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100**f)
}
