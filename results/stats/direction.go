package stats

import "path"

// Direction says which way a figure improves, so a difference can be called better or worse.
type Direction string

// The directions a figure can have.
const (
	None   Direction = ""       // no better side: a difference is only "changed"
	Higher Direction = "higher" // higher is better (delivery ratio, copies kept)
	Lower  Direction = "lower"  // lower is better (latency, losses, bytes, exposure)
)

// directions is the table of which way each figure of summary.json improves: the first
// pattern (path.Match syntax over the figure's path, * matching any run of characters) that
// matches decides; a figure no pattern matches has no direction. It sits next to the figure
// list (results.Summary, enumerated by scenarios/checks): a new figure that has a better side
// belongs here. Counts of how many things were measured come first, because more samples is
// neither better nor worse.
var directions = []struct {
	pattern string
	dir     Direction
}{
	{"*.count", None},
	{"*.samples", None},
	{"delivery_ratio", Higher},
	{"store.success_ratio", Higher},
	{"store.failed", Lower},
	{"end_to_end_latency*", Lower},
	{"onion_rtt_ms*", Lower},
	{"messages.lost", Lower},
	{"messages.lost_by_cause.*", Lower},
	{"messages.duplicates", Lower},
	{"replication.*_copies", Higher},
	{"paths.rebuilds", Lower},
	{"paths.dropped_by_cause.*", Lower},
	{"garbage.*", Lower},
	{"engine.call_timeouts", Lower},
	{"engine.late_replies", Lower},
	{"cpu.*", Lower},
	{"traffic.*", Lower},
	{"leakage.*exposure*", Lower},
	{"leakage.*linkability*", Lower},
	{"leakage.*contact_graph*", Lower},
	{"leakage.*anonymity_set*", Higher},
	{"leakage.*ttfc*", Higher},
}

// DirectionOf is the direction of the figure at path (e.g. "onion_rtt_ms.p99").
func DirectionOf(figure string) Direction {
	for _, d := range directions {
		if ok, _ := path.Match(d.pattern, figure); ok {
			return d.dir
		}
	}
	return None
}

// Verdicts on a difference between two arms.
const (
	Better    = "better"
	Worse     = "worse"
	Changed   = "changed"               // significant, on a figure with no direction
	NoChange  = "no significant change" // the 95% interval holds 0
	NoVerdict = "no interval"           // too few seeds for an interval, and the values differ
)

// Verdict calls a difference (B minus A) at 95%: significant when its interval excludes 0,
// then better or worse by the figure's direction. Without an interval (a single seed on a
// side) only an exact zero is called, "no significant change"; any other difference is
// NoVerdict, since one seed cannot tell a change from noise.
func Verdict(diff Interval, dir Direction) string {
	switch {
	case diff.Mean == nil:
		return NoVerdict
	case !diff.Has():
		if *diff.Mean == 0 {
			return NoChange
		}
		return NoVerdict
	case *diff.Low <= 0 && *diff.High >= 0:
		return NoChange
	}
	up := *diff.Low > 0
	switch {
	case dir == None:
		return Changed
	case up == (dir == Higher):
		return Better
	default:
		return Worse
	}
}
