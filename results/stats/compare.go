package stats

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Comparison is compare.json: B against A, figure by figure, for each pair of arms.
type Comparison struct {
	A    Source          `json:"a"`
	B    Source          `json:"b"`
	Arms []ArmComparison `json:"arms"`
	// Rules are the --fail-on rules with their outcome on each pair of arms.
	Rules []RuleResult `json:"rules,omitempty"`
}

// Source is one side of a comparison.
type Source struct {
	Path     string   `json:"path"`
	Kind     string   `json:"kind"` // run, seeds or sweep
	Scenario string   `json:"scenario"`
	Seeds    []uint64 `json:"seeds"`
}

// ArmComparison compares one arm of B with the matching arm of A.
type ArmComparison struct {
	A string `json:"a"`
	B string `json:"b"`
	// Paired is true when both ran the same seeds, so differences are taken seed by seed.
	Paired  bool               `json:"paired"`
	Figures []FigureComparison `json:"figures"`
}

// FigureComparison is one figure on both sides and B minus A.
type FigureComparison struct {
	Figure    string    `json:"figure"`
	Direction Direction `json:"direction,omitempty"`
	A         Interval  `json:"a"`
	B         Interval  `json:"b"`
	Diff      Interval  `json:"diff"`
	Verdict   string    `json:"verdict"`
}

// Compare matches the arms of a and b and compares every figure either has. Two experiments
// of one arm each (two runs, two --seeds outputs) are compared whatever their names; two
// sweeps must have the same grid, and their arms are compared in order.
func Compare(a, b Experiment) ([]ArmComparison, error) {
	if a.Schema != b.Schema {
		return nil, fmt.Errorf("side A holds summary schema %d and side B schema %d: results of different schema versions cannot be compared", a.Schema, b.Schema)
	}
	if len(a.Arms) != len(b.Arms) {
		return nil, fmt.Errorf("side A has %d arms and side B %d: compare two single runs, two --seeds outputs, or two sweeps of the same grid", len(a.Arms), len(b.Arms))
	}
	if len(a.Arms) > 1 {
		for i := range a.Arms {
			if !slices.Equal(a.Arms[i].Settings, b.Arms[i].Settings) {
				return nil, fmt.Errorf("the sweeps' grids differ: arm %d is %s in A and %s in B", i+1, a.Arms[i].Name, b.Arms[i].Name)
			}
		}
	}
	paired := slices.Equal(a.Seeds, b.Seeds)
	out := make([]ArmComparison, len(a.Arms))
	for i := range a.Arms {
		out[i] = compareArm(&a.Arms[i], &b.Arms[i], paired)
	}
	return out, nil
}

func compareArm(a, b *Arm, paired bool) ArmComparison {
	c := ArmComparison{A: a.Name, B: b.Name, Paired: paired}
	var names []string
	for _, f := range a.Figures {
		names = append(names, f.Figure)
	}
	for _, f := range b.Figures {
		names = append(names, f.Figure)
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		fc := FigureComparison{Figure: name, Direction: DirectionOf(name)}
		var va, vb []*float64
		if f := a.Figure(name); f != nil {
			fc.A, va = f.Interval, f.Values
		}
		if f := b.Figure(name); f != nil {
			fc.B, vb = f.Interval, f.Values
		}
		fc.Diff = Difference(va, vb, paired)
		fc.Verdict = Verdict(fc.Diff, fc.Direction)
		c.Figures = append(c.Figures, fc)
	}
	return c
}

// HasIntervals reports whether any difference of the comparison has an interval: none has when
// a side of every pair of arms is a single run.
func (c Comparison) HasIntervals() bool {
	for _, a := range c.Arms {
		for _, f := range a.Figures {
			if f.Diff.Has() {
				return true
			}
		}
	}
	return false
}

// Figure finds a figure of the comparison by its path; nil when neither side has it.
func (c *ArmComparison) Figure(name string) *FigureComparison {
	return figureNamed(c.Figures, name, func(f FigureComparison) string { return f.Figure })
}

// Rule is a --fail-on rule: FIGURE OP THRESHOLD on the difference B minus A, with OP one of
// <, <=, > and >=. It is broken (a regression) when the mean difference satisfies it:
// "delivery_ratio<-0.001" fails a B that delivers more than 0.1 points less than A.
type Rule struct {
	Text      string
	Figure    string
	Op        string
	Threshold float64
}

// ParseRule reads a rule such as "delivery_ratio<-0.001" or "onion_rtt_ms.p99 > 50". The
// figure's existence is for the caller to check, against the summary's schema.
func ParseRule(text string) (Rule, error) {
	r := Rule{Text: strings.TrimSpace(text)}
	depth := 0
	for i := 0; i < len(r.Text); i++ {
		switch ch := r.Text[i]; {
		case ch == '[':
			depth++
		case ch == ']':
			depth--
		case depth == 0 && (ch == '<' || ch == '>'):
			r.Figure, r.Op = strings.TrimSpace(r.Text[:i]), r.Text[i:i+1]
			rest := r.Text[i+1:]
			if strings.HasPrefix(rest, "=") {
				r.Op, rest = r.Op+"=", rest[1:]
			}
			if r.Figure == "" {
				return r, fmt.Errorf("--fail-on %q: no figure before %s; write FIGURE<THRESHOLD, e.g. delivery_ratio<-0.001", text, r.Op)
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return r, fmt.Errorf("--fail-on %q: the threshold %q is not a number", text, strings.TrimSpace(rest))
			}
			r.Threshold = v
			return r, nil
		}
	}
	return r, fmt.Errorf("--fail-on %q: no comparison; write FIGURE OP THRESHOLD with OP <, <=, > or >= on the difference B-A, e.g. delivery_ratio<-0.001", text)
}

// Broken reports whether a difference breaks the rule.
func (r Rule) Broken(diff float64) bool {
	switch r.Op {
	case "<":
		return diff < r.Threshold
	case "<=":
		return diff <= r.Threshold
	case ">":
		return diff > r.Threshold
	case ">=":
		return diff >= r.Threshold
	}
	return false
}

// RuleResult is a rule's outcome on one pair of arms.
type RuleResult struct {
	Rule   string   `json:"rule"`
	Arm    string   `json:"arm"`
	Diff   *float64 `json:"diff"`
	Broken bool     `json:"broken"`
	// Reason says why a rule broke, or why it could not be evaluated (which counts as broken:
	// a figure that vanished is no pass).
	Reason string `json:"reason,omitempty"`
}

// Apply evaluates the rules on every pair of arms.
func Apply(rules []Rule, arms []ArmComparison) []RuleResult {
	var out []RuleResult
	for _, r := range rules {
		for i := range arms {
			res := RuleResult{Rule: r.Text, Arm: arms[i].B}
			f := arms[i].Figure(r.Figure)
			switch {
			case f == nil || f.Diff.Mean == nil:
				res.Broken, res.Reason = true, r.Figure+" is not measured on both sides"
			default:
				res.Diff = f.Diff.Mean
				if res.Broken = r.Broken(*f.Diff.Mean); res.Broken {
					res.Reason = "difference " + strconv.FormatFloat(*f.Diff.Mean, 'g', 6, 64)
				}
			}
			out = append(out, res)
		}
	}
	return out
}
