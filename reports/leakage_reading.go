package reports

import (
	"fmt"
	"math"
	"strings"

	"github.com/sessionsim/sessionsim/results"
)

// leakageReading says in plain words what the leakage figures mean, from the figures
// themselves: which adversary exposed most clients at each level, how the direct level
// compares with the closed form 1-(1-f)^m, whether median times to first compromise fell
// within the run, and what link observers and the correlation attack could do. Each item is
// one short paragraph.
func leakageReading(l *results.Leakage, runSeconds float64) []string {
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	add(fmt.Sprintf("Every share below is of the %d clients that made at least one request to a service node; this network had %.1f clients per node, and leakage figures depend on that ratio.",
		l.ActiveClients, l.ClientsPerNode))
	for _, s := range mostExposed(l) {
		add(s)
	}
	add(directDominance(l))
	add(closedForm(l))
	add(atOnce(l))
	var beyond []string // levels at which no adversary reached its median within the run
	for _, lv := range levels {
		s, none := medianReading(l, lv, runSeconds)
		add(s)
		// A full path no one gets near is not worth a sentence beyond the exposure one.
		if none && lv.key != "full_path" {
			beyond = append(beyond, "the "+lv.name+" level")
		}
	}
	if len(beyond) > 0 {
		add(fmt.Sprintf("No adversary exposed half of the clients at %s within the run (%s of virtual time): every median time to first compromise there lies beyond it.",
			joinWith(beyond, "or"), seconds(runSeconds)))
	}
	for _, a := range l.Adversaries {
		add(observerReading(a))
	}
	for _, a := range l.Adversaries {
		add(setReading(a))
	}
	return out
}

// describe names an adversary with what it holds.
func describe(a results.Adversary) string {
	switch {
	case a.View == "link":
		return fmt.Sprintf("%s (a %s link observer)", a.Name, a.Kind)
	case a.Fraction != nil && a.Draws > 1:
		return fmt.Sprintf("%s (%d random coalitions of %s of the nodes, %.0f nodes each)", a.Name, a.Draws, share(*a.Fraction), a.Nodes)
	case a.Fraction != nil:
		return fmt.Sprintf("%s (a random coalition of %s of the nodes, %.0f nodes)", a.Name, share(*a.Fraction), a.Nodes)
	}
	return fmt.Sprintf("%s (%s, %.0f nodes)", a.Name, a.Kind, a.Nodes)
}

// share is a fraction as a percentage without needless digits ("10%", "2.5%", "0.35%").
func share(f float64) string {
	return fmt.Sprintf("%.3g%%", 100*f)
}

// top is the adversary with the largest value of v among those that measure it (first in
// summary order on ties), or -1.
func top(l *results.Leakage, v func(results.Adversary) *float64) int {
	best := -1
	for i, a := range l.Adversaries {
		if x := v(a); x != nil && (best < 0 || *x > *v(l.Adversaries[best])) {
			best = i
		}
	}
	return best
}

// mostExposed names, per level, the adversary that exposed the most clients; one sentence
// when the same adversary leads at every level.
func mostExposed(l *results.Leakage) []string {
	type lead struct {
		lv level
		a  results.Adversary
		e  float64
	}
	var leads []lead
	for _, lv := range levels {
		i := top(l, func(a results.Adversary) *float64 { return lv.exposure(a.Exposure) })
		if i >= 0 {
			a := l.Adversaries[i]
			leads = append(leads, lead{lv, a, *lv.exposure(a.Exposure)})
		}
	}
	figure := func(ld lead) string {
		s := share(ld.e)
		if lo, hi := ld.lv.exposure(ld.a.ExposureLow), ld.lv.exposure(ld.a.ExposureHigh); ld.a.Draws > 1 && lo != nil && hi != nil {
			s += fmt.Sprintf(" (%s to %s over its coalitions)", share(*lo), share(*hi))
		}
		return s
	}
	same := len(leads) > 1
	for _, ld := range leads {
		same = same && ld.a.Name == leads[0].a.Name && ld.e > 0
	}
	if same {
		var parts []string
		for _, ld := range leads {
			parts = append(parts, figure(ld)+" at the "+ld.lv.name+" level")
		}
		return []string{fmt.Sprintf("%s exposed the most clients at every level by the end of the run: %s.", describe(leads[0].a), joinWords(parts))}
	}
	var out []string
	described := map[string]bool{}
	for _, ld := range leads {
		if ld.e == 0 {
			out = append(out, fmt.Sprintf("No adversary linked any client's IP address to its Session ID at the %s level.", ld.lv.name))
			continue
		}
		name := ld.a.Name
		if !described[name] {
			name, described[name] = describe(ld.a), true
		}
		out = append(out, fmt.Sprintf("At the %s level, %s exposed the most clients: %s by the end of the run.", ld.lv.name, name, figure(ld)))
	}
	return out
}

// directDominance compares the two ways a coalition learns a client's ID with its address: a
// direct request (the guard test) and an onion request whose guard and destination it holds,
// over every adversary that measures both.
func directDominance(l *results.Leakage) string {
	type ratio struct {
		name string
		r    float64
	}
	var ratios []ratio
	var onionOnly, directOnly []string
	for _, a := range l.Adversaries {
		d, gd := a.Exposure.Direct, a.Exposure.GuardAndDestination
		switch {
		case d == nil || gd == nil || *d == 0 && *gd == 0:
		case *gd == 0:
			directOnly = append(directOnly, a.Name)
		case *d < *gd:
			onionOnly = append(onionOnly, a.Name)
		default:
			ratios = append(ratios, ratio{a.Name, *d / *gd})
		}
	}
	var parts []string
	if len(ratios) > 0 {
		lo, hi := ratios[0], ratios[0]
		for _, r := range ratios[1:] {
			if r.r < lo.r {
				lo = r
			}
			if r.r > hi.r {
				hi = r
			}
		}
		s := "direct requests exposed more clients than holding both guard and destination of an onion request did"
		if len(onionOnly) == 0 {
			s = "for every adversary, " + s
		}
		if lo == hi {
			s += fmt.Sprintf(": %.1f times as many for %s", lo.r, lo.name)
		} else {
			s += fmt.Sprintf(": from %.1f times as many (%s) to %.1f times (%s)", lo.r, lo.name, hi.r, hi.name)
		}
		parts = append(parts, s)
	}
	if len(directOnly) > 0 {
		parts = append(parts, fmt.Sprintf("onion routing gave %s nothing: every client it exposed, it exposed through direct requests", joinWords(directOnly)))
	}
	if len(onionOnly) > 0 {
		parts = append(parts, fmt.Sprintf("for %s, onion requests exposed more clients than direct requests", joinWords(onionOnly)))
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, "; ") + "."
	return strings.ToUpper(s[:1]) + s[1:]
}

// closedForm compares the direct level of random coalitions with 1-(1-f)^m, the chance that m
// uniformly chosen nodes include a coalition node, for the measured m.
func closedForm(l *results.Leakage) string {
	m := l.GuardCandidatesTestedMean
	var parts []string
	var above, below bool
	for _, a := range l.Adversaries {
		if a.Fraction == nil || a.Exposure.Direct == nil {
			continue
		}
		f, got := *a.Fraction, *a.Exposure.Direct
		want := 1 - math.Pow(1-f, m)
		p := fmt.Sprintf("f = %s: predicted %s, measured %s", share(f), share(want), share(got))
		lo, hi := a.ExposureLow.Direct, a.ExposureHigh.Direct
		switch {
		case a.Draws < 2 || lo == nil || hi == nil:
			p += " (one coalition: no spread to compare with)"
		case want < *lo-1e-9:
			p += fmt.Sprintf(", above the spread over draws (%s to %s)", share(*lo), share(*hi))
			above = true
		case want > *hi+1e-9:
			p += fmt.Sprintf(", below the spread over draws (%s to %s)", share(*lo), share(*hi))
			below = true
		default:
			p += " (within the spread over draws)"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return ""
	}
	if m == 0 {
		return "No client tested a guard candidate, so the closed form 1-(1-f)^m predicts no direct exposure; measured: " + strings.Join(parts, "; ") + "."
	}
	s := fmt.Sprintf("Each client tested %.2f guard candidates on average, and each test is a direct get_swarm naming the client's own Session ID. If those were the only direct requests and the candidates uniform, a random coalition holding a share f of the nodes would see a client with probability 1-(1-f)^m: %s.",
		m, strings.Join(parts, "; "))
	if above {
		s += " Where the measurement is above, more coalition nodes got a direct request naming the ID from the client's address than the m guard tests alone account for, or the candidates were not drawn uniformly."
	}
	if below {
		s += " Where it is below, part of the gap is expected if clients tested different numbers of candidates: 1-(1-f)^m is concave in m, so putting in the mean m overstates it."
	}
	return s
}

// atOnce says how many clients the strongest direct adversary exposed at their very first
// request, read from the time-to-first-compromise curve at zero.
func atOnce(l *results.Leakage) string {
	i := top(l, func(a results.Adversary) *float64 { return a.Exposure.Direct })
	if i < 0 {
		return ""
	}
	a := l.Adversaries[i]
	sv := a.TTFC.Direct
	if sv == nil || len(sv.Curve) == 0 || sv.Curve[0][0] != 0 || sv.Curve[0][1] >= 1 {
		return ""
	}
	return fmt.Sprintf("Exposure comes early: %s of %s's clients were exposed by their very first request to a service node, of the %s it exposed by the end of the run.",
		share(1-sv.Curve[0][1]), a.Name, share(*a.Exposure.Direct))
}

// medianReading says whether half of the clients were exposed at a level within the run;
// none reports, instead of a sentence, that some adversary exposed clients there but none
// reached its median (leakageReading says that of all such levels at once).
func medianReading(l *results.Leakage, lv level, runSeconds float64) (sentence string, none bool) {
	var reached, missed []string
	anyExposed := false
	for _, a := range l.Adversaries {
		sv := lv.ttfc(a.TTFC)
		if sv == nil {
			continue
		}
		if e := lv.exposure(a.Exposure); e != nil && *e > 0 {
			anyExposed = true
		}
		if sv.MedianS != nil {
			reached = append(reached, fmt.Sprintf("%s in %s", a.Name, seconds(*sv.MedianS)))
		} else {
			missed = append(missed, a.Name)
		}
	}
	run := seconds(runSeconds)
	switch {
	case len(reached) == 0 && len(missed) == 0, !anyExposed:
		return "", false
	case len(reached) == 0:
		return "", true
	case len(missed) == 0:
		return fmt.Sprintf("Every adversary exposed half of the clients at the %s level within the run (%s): the median time from a client's first request was %s.", lv.name, run, joinWords(reached)), false
	}
	return fmt.Sprintf("At the %s level, %d of %d adversaries exposed half of the clients within the run (%s): %s; for %s the median lies beyond it.",
		lv.name, len(reached), len(reached)+len(missed), run, joinWords(reached), joinWords(missed)), false
}

// observerReading says what an adversary could do with timing: for a link observer, how
// often it watched both ends of a request; for any adversary, what the correlation attack
// achieved where it was measured.
func observerReading(a results.Adversary) string {
	var s string
	if a.View == "link" {
		s = describe(a) + " decrypts nothing and never sees a Session ID."
		switch {
		case a.TimingBothEnds == nil:
		case *a.TimingBothEnds == 0:
			s += " It never watched both the entry and the exit link of a client's request, so it has nothing to correlate."
		default:
			s += fmt.Sprintf(" It watched both the entry and the exit link of a request for %s of the clients, the precondition of linking them by timing.", share(*a.TimingBothEnds))
		}
	}
	w, lk := bestLinkability(a)
	switch {
	case lk != nil:
		lead, attack, pairs := " Its", "correlation attack", "(sender, recipient)"
		if lk.Target == "node" {
			// A link observer links an address to the node a request went to, not to an ID.
			attack, pairs = "cross-correlation attack", "(client address, destination node)"
		}
		if s == "" {
			lead = "For " + a.Name + ", the"
		}
		s += fmt.Sprintf("%s %s linked %s of the true %s pairs at a false-positive rate of 1e-3 with %s windows", lead, attack, share(*lk.TPRAtFPR1e3), pairs, w)
		if lk.Precision != nil {
			s += fmt.Sprintf(", and %s of the pairs it linked were true", share(*lk.Precision))
		}
		s += "."
	case a.View == "link" && (a.TimingBothEnds == nil || *a.TimingBothEnds > 0):
		s += " Whether it could link senders and recipients by timing is not measured in this summary."
	}
	return s
}

// setReading summarises the anonymity sets an adversary left.
func setReading(a results.Adversary) string {
	as := a.AnonymitySet
	if as == nil || as.Median == nil {
		return ""
	}
	s := fmt.Sprintf("For the stores %s saw, the effective number of candidate senders had median %.1f", a.Name, *as.Median)
	if as.P10 == nil {
		return s + "."
	}
	s += fmt.Sprintf(" and 10th percentile %.1f", *as.P10)
	if *as.P10 < 1.5 {
		return s + ": one store in ten was as good as attributed to its sender."
	}
	return s + "."
}

// joinWords joins a list as a reader would: "a", "a and b", "a, b and c".
func joinWords(xs []string) string { return joinWith(xs, "and") }

// joinWith is joinWords with another conjunction ("or").
func joinWith(xs []string, conj string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " " + conj + " " + xs[len(xs)-1]
}
