package reports

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// runShape is what the time charts take from a run's scenario.yaml: its phases and faults.
type runShape struct {
	Warmup, Duration, Drain time.Duration
	Faults                  []faultMark
}

// faultMark is one scheduled fault as the report shows it.
type faultMark struct {
	Kind string
	// At is from the end of the warmup, as in the scenario; For is 0 for "until the end".
	At, For time.Duration
	// What says what the fault hits, in words.
	What string
}

// instant reports whether the fault is a moment rather than a period: a crash without `for`
// is permanent and happens at once; one with `for` is the period until the restart.
func (f faultMark) instant() bool { return f.Kind == "crash" && f.For == 0 }

// span is where the fault is on the charts' axis, in virtual seconds from the start
// of the run; End is the run's end for a fault that lasts until then.
func (f faultMark) span(warmup time.Duration, total float64) (start, end float64) {
	start = (warmup + f.At).Seconds()
	end = total
	if f.For > 0 && !f.instant() {
		end = min(end, (warmup + f.At + f.For).Seconds())
	}
	return start, end
}

// parseShape reads the phases and faults of a resolved scenario.
func parseShape(scenarioYAML []byte) (*runShape, error) {
	var doc struct {
		Warmup   string `yaml:"warmup"`
		Duration string `yaml:"duration"`
		Drain    string `yaml:"drain"`
		Faults   []struct {
			Kind         string   `yaml:"kind"`
			At           string   `yaml:"at"`
			For          string   `yaml:"for"`
			Target       string   `yaml:"target"`
			Count        int      `yaml:"count"`
			Fraction     float64  `yaml:"fraction"`
			Regions      []string `yaml:"regions"`
			AddedLatency string   `yaml:"added_latency"`
			Loss         float64  `yaml:"loss"`
		} `yaml:"faults"`
	}
	if err := yaml.Unmarshal(scenarioYAML, &doc); err != nil {
		return nil, err
	}
	var sh runShape
	var errs []string
	duration := func(key, s string, to *time.Duration) {
		if s == "" {
			return // 0, as in a scenario
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not a duration such as 90s or 2m", key, s))
		}
		*to = d
	}
	duration("warmup", doc.Warmup, &sh.Warmup)
	duration("duration", doc.Duration, &sh.Duration)
	duration("drain", doc.Drain, &sh.Drain)
	for i, f := range doc.Faults {
		m := faultMark{Kind: f.Kind}
		duration(fmt.Sprintf("faults[%d].at", i), f.At, &m.At)
		duration(fmt.Sprintf("faults[%d].for", i), f.For, &m.For)
		var added time.Duration
		duration(fmt.Sprintf("faults[%d].added_latency", i), f.AddedLatency, &added)
		who := "clients"
		if f.Kind != "offline" {
			who = "nodes"
		}
		var what []string
		switch {
		case f.Kind == "partition":
			what = append(what, "regions "+strings.Join(f.Regions, ", ")+" cut off from the rest")
		case f.Count > 0:
			what = append(what, fmt.Sprintf("%d %s", f.Count, who))
		default:
			what = append(what, fmt.Sprintf("%s of the %s", percent(f.Fraction), who))
		}
		if f.Target == "paths" {
			what = append(what, "on clients' paths")
		}
		if added > 0 {
			what = append(what, "+"+readableMs(float64(added)/float64(time.Millisecond)))
		}
		if f.Loss > 0 {
			what = append(what, percent(f.Loss)+" loss")
		}
		m.What = strings.Join(what, ", ")
		sh.Faults = append(sh.Faults, m)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return &sh, nil
}

// paramRow is one scenario key in the report's parameter table.
type paramRow struct {
	Key, Value string
	// Default is the key's default value, "" when the defaults have no such key (a fault).
	Default string
	Changed bool
}

// paramRows lists every key of the resolved scenario in order with its value, marking those
// that differ from the defaults (both given as resolved scenario YAML; without defaults no
// row is marked).
func paramRows(scenarioYAML, defaultsYAML []byte) ([]paramRow, error) {
	var doc, defDoc any
	if err := yaml.Unmarshal(scenarioYAML, &doc); err != nil {
		return nil, err
	}
	if err := yaml.Unmarshal(defaultsYAML, &defDoc); err != nil {
		return nil, fmt.Errorf("the defaults: %w", err)
	}
	var rows []paramRow
	flattenYAML("", doc, func(key, value string) { rows = append(rows, paramRow{Key: key, Value: value}) })
	if defaultsYAML == nil {
		return rows, nil
	}
	defaults := map[string]string{}
	flattenYAML("", defDoc, func(key, value string) { defaults[key] = value })
	for i := range rows {
		def, ok := defaults[rows[i].Key]
		rows[i].Default, rows[i].Changed = def, !ok || def != rows[i].Value
	}
	return rows, nil
}

// flattenYAML calls leaf for every scalar below v in key order, keyed by its dotted path as in
// --set (lists of maps by index, faults[0].kind); a list of scalars is one value.
func flattenYAML(prefix string, v any, leaf func(key, value string)) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			leaf(prefix, "{}")
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			flattenYAML(join(k), x[k], leaf)
		}
	case []any:
		scalars := make([]string, 0, len(x))
		for i, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				flattenYAML(fmt.Sprintf("%s[%d]", prefix, i), e, leaf)
			default:
				scalars = append(scalars, fmt.Sprint(e))
			}
		}
		if len(scalars) == len(x) {
			leaf(prefix, "["+strings.Join(scalars, ", ")+"]")
		}
	case nil:
		leaf(prefix, "")
	default:
		leaf(prefix, fmt.Sprint(x))
	}
}
