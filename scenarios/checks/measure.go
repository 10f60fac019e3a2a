package checks

import (
	"reflect"
	"slices"
)

// identity are the summary's numbers that say which run it is rather than what it measured.
var identity = []string{"schema", "seed"}

// Measure lists the figures a summary holds, each by the path a check would name it with,
// sorted: the schema's figures (Figures) with every map key the run has and, in lists of
// named elements (leakage adversaries), [name=VALUE] for each element. Lists of unnamed
// points (replication.timeline) are time series, not figures to aggregate, and are left out,
// as are the summary's identity (schema, seed). A figure that is null in this run is listed.
func Measure(summary any) []string {
	var out []string
	measure(reflect.ValueOf(summary), "", 0, &out)
	out = slices.DeleteFunc(out, func(f string) bool { return slices.Contains(identity, f) })
	slices.Sort(out)
	return out
}

func measure(v reflect.Value, prefix string, depth int, out *[]string) {
	if depth > maxDepth || !v.IsValid() {
		return
	}
	t := deref(v.Type())
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			if isNumber(t) { // a null figure: listed, read as null
				*out = append(*out, prefix)
			}
			return
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range figureFields(v.Type()) {
			measure(v.FieldByIndex(f.index), join(prefix, f.name), depth+1, out)
		}
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return
		}
		for _, k := range v.MapKeys() {
			measure(v.MapIndex(k), join(prefix, k.String()), depth+1, out)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			e := reflect.Indirect(v.Index(i))
			if e.Kind() != reflect.Struct {
				return
			}
			f, ok := fieldNamed(e.Type(), "name")
			if !ok || e.FieldByIndex(f.index).Kind() != reflect.String {
				return
			}
			measure(e, prefix+"[name="+e.FieldByIndex(f.index).String()+"]", depth+1, out)
		}
	default:
		if isNumber(v.Type()) {
			*out = append(*out, prefix)
		}
	}
}

// Collect reads the figures of several summaries (one per run) into one table: every figure
// any of them has (Measure), sorted, and each run's value of each, nil where a run does not
// have it or it is null there. A cause of loss one run never saw reads 0 in it, as in a check.
func Collect(summaries []any) (figures []string, values [][]*float64) {
	for _, s := range summaries {
		figures = append(figures, Measure(s)...)
	}
	slices.Sort(figures)
	figures = slices.Compact(figures)
	paths := make([]Path, len(figures))
	for i, f := range figures {
		paths[i], _ = ParsePath(f) // written by Measure in the path syntax
	}
	values = make([][]*float64, len(summaries))
	for r, s := range summaries {
		values[r] = make([]*float64, len(figures))
		for i, p := range paths {
			values[r][i], _ = Lookup(s, p) // an error is a figure this run lacks: nil
		}
	}
	return figures, values
}
