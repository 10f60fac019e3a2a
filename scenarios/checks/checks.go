// Package checks reads and evaluates checks: assertions on the figures of a run's summary that
// a scenario (its `checks:` list) or a separate file carries, so that a run in CI has a verdict.
//
// A check is one line, `FIGURE OP VALUE` with OP one of >=, <= and ==, or
// `FIGURE between A and B` (both ends included):
//
//	delivery_ratio >= 0.999
//	onion_rtt_ms.p99 <= 2000
//	replication.min_copies between 5 and 10
//	onion_rtt_ms_by_platform.ios.p50 <= 800
//	leakage.adversaries[name=random-0.05].exposure.direct <= 0.01
//
// # Figure paths
//
// FIGURE is the figure's path in summary.json: its JSON keys from the top, joined by dots.
// Below a map the next part is a key of the map (a platform in onion_rtt_ms_by_platform.ios).
// Below a list a selector in brackets picks one element: [N], counting from 0
// (replication.timeline[0][1]), or [FIELD=VALUE], the first element whose FIELD (a string or
// number of the element, usually name) is VALUE; VALUE runs to the closing bracket and may hold
// dots and dashes. A path ends at a number.
//
// The figures are read from the summary type's JSON tags (Schema), so a check naming one
// that does not exist is refused before the run, with the closest names. Map keys and list
// elements are only known after the run: before it, their shape is checked; after it, a key
// or element the run does not have fails the check and says what the run has. Maps of counts
// by cause (messages.lost_by_cause, paths.dropped_by_cause, garbage) are the exception: a
// cause that never happened counts 0. A figure that is null (delivery_ratio when no message
// was eligible) fails every check on it.
package checks

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sessionsim/sessionsim/results"
)

// Op is a check's comparison.
type Op string

// The comparisons a check may make.
const (
	AtLeast Op = ">="
	AtMost  Op = "<="
	Equal   Op = "=="
	Between Op = "between"
)

// Check is one parsed check.
type Check struct {
	// Text is the check as written.
	Text   string
	Figure Path
	Op     Op
	// Value is the threshold of >=, <= and ==; Low and High the ends of between.
	Value, Low, High float64
}

// Summary is the schema of summary.json: the figures a check may name.
var Summary = SchemaOf(results.Summary{})

// Parse reads a check and validates its figure against summary.json's schema.
func Parse(text string) (Check, error) { return Summary.Parse(text) }

// Parse reads a check and validates its figure against this schema.
func (s *Schema) Parse(text string) (Check, error) {
	c, err := parseSyntax(text)
	if err != nil {
		return c, err
	}
	return c, s.Validate(c.Figure)
}

func parseSyntax(text string) (Check, error) {
	c := Check{Text: strings.TrimSpace(text)}
	if c.Text == "" {
		return c, fmt.Errorf("empty check: write FIGURE OP VALUE, e.g. delivery_ratio >= 0.999")
	}
	var figure string
	var err error
	if fields := strings.Fields(c.Text); len(fields) > 1 && fields[1] == "between" {
		if len(fields) != 5 || fields[3] != "and" {
			return c, fmt.Errorf("expected FIGURE between A and B, e.g. replication.min_copies between 5 and 10")
		}
		figure, c.Op = fields[0], Between
		if c.Low, err = parseNumber(fields[2]); err != nil {
			return c, err
		}
		if c.High, err = parseNumber(fields[4]); err != nil {
			return c, err
		}
		if c.Low > c.High {
			return c, fmt.Errorf("between %s and %s: the first end is above the second; write the lower one first", fields[2], fields[4])
		}
	} else {
		var op, value string
		if figure, op, value, err = splitOperator(c.Text); err != nil {
			return c, err
		}
		c.Op = Op(op)
		if c.Value, err = parseNumber(value); err != nil {
			return c, err
		}
	}
	c.Figure, err = ParsePath(figure)
	return c, err
}

// splitOperator cuts a check at its operator, the first run of <, >, = and ! outside brackets
// (a selector such as [name=x] holds an = of its own).
func splitOperator(text string) (figure, op, value string, err error) {
	depth := 0
	for i := 0; i < len(text); i++ {
		switch ch := text[i]; {
		case ch == '[':
			depth++
		case ch == ']':
			depth--
		case depth == 0 && strings.IndexByte("<>=!", ch) >= 0:
			j := i
			for j < len(text) && strings.IndexByte("<>=!", text[j]) >= 0 {
				j++
			}
			figure, op, value = strings.TrimSpace(text[:i]), text[i:j], strings.TrimSpace(text[j:])
			switch Op(op) {
			case AtLeast, AtMost, Equal:
			default:
				return "", "", "", fmt.Errorf("operator %q: use >=, <= or ==, or write FIGURE between A and B", op)
			}
			if figure == "" {
				return "", "", "", fmt.Errorf("no figure before %s: write FIGURE OP VALUE, e.g. delivery_ratio >= 0.999", op)
			}
			return figure, op, value, nil
		}
	}
	return "", "", "", fmt.Errorf("no operator: write FIGURE OP VALUE with OP >=, <= or ==, or FIGURE between A and B")
}

// parseNumber reads a threshold: a finite decimal number.
func parseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		if s == "" {
			return 0, fmt.Errorf("no value to compare with: write FIGURE OP VALUE, e.g. delivery_ratio >= 0.999")
		}
		return 0, fmt.Errorf("value %q is not a number", s)
	}
	return f, nil
}

// Holds reports whether the measured value v passes the check.
func (c Check) Holds(v float64) bool {
	switch c.Op {
	case AtLeast:
		return v >= c.Value
	case AtMost:
		return v <= c.Value
	case Equal:
		return v == c.Value
	case Between:
		return v >= c.Low && v <= c.High
	}
	return false
}

// Evaluate measures the check's figure in summary (results.Summary, or any value of the type
// the check was validated against) and gives its verdict.
func (c Check) Evaluate(summary any) results.CheckResult {
	r := results.CheckResult{Check: c.Text, Figure: c.Figure.String()}
	v, err := Lookup(summary, c.Figure)
	switch {
	case err != nil:
		r.Reason = err.Error()
	case v == nil:
		r.Reason = c.Figure.String() + " is null in this run (nothing to measure)"
	default:
		r.Value, r.Passed = v, c.Holds(*v)
		if !r.Passed {
			r.Reason = "measured " + FormatValue(*v)
		}
	}
	return r
}

// Evaluate gives the verdict of every check on summary, in order.
func Evaluate(cs []Check, summary any) []results.CheckResult {
	out := make([]results.CheckResult, len(cs))
	for i, c := range cs {
		out[i] = c.Evaluate(summary)
	}
	return out
}

// ParseAll parses checks already validated when their scenario was loaded (a failure here is
// a check that changed since), naming the first bad one by its index.
func ParseAll(texts []string) ([]Check, error) {
	cs := make([]Check, len(texts))
	for i, text := range texts {
		var err error
		if cs[i], err = Parse(text); err != nil {
			return nil, fmt.Errorf("checks[%d] %q: %w", i, text, err)
		}
	}
	return cs, nil
}

// FormatValue writes a measured value with the digits it has and no more.
func FormatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
