package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"reflect"
	"strconv"
	"strings"

	"github.com/sessionsim/sessionsim/results/stats"
)

//go:embed report.html.tmpl
var reportTemplate string

//go:embed leakage.html.tmpl
var leakageTemplate string

//go:embed experiment.html.tmpl
var experimentTemplate string

// pages is every page's template in one set with one function table, so that a chart (the run
// report's "chart") and a number look the same on every page: "report" with its "leakage"
// section (a template of its own, so the report's page only names it), and the experiment pages
// "sweep", "seeds" and "compare".
var pages = func() *template.Template {
	t := template.New("report").Funcs(template.FuncMap{
		"percent":   percent,
		"ratio":     ratio,
		"seconds":   seconds,
		"bytes":     ByteSize,
		"counts":    counts,
		"mix":       requestMix,
		"clocks":    clocks,
		"latencies": latencies,
		"kindRows":  kindRows,
		"sizeRows":  groupSizeRows,
		"f1":        func(f float64) string { return fmt.Sprintf("%.1f", f) },
		"ms":        readableMs,
		"f2":        func(f float64) string { return fmt.Sprintf("%.2f", f) },
		"value":     func(f *float64) string { return strconv.FormatFloat(*f, 'g', -1, 64) },
		"leakage":   leakageSection,
		"num":       num,
		"interval":  interval,
		"seeds":     seedRange,
		"named":     NamedSeeds,
		"count": func(n any, noun string) string { // Count for a field of any integer type
			if v := reflect.ValueOf(n); v.CanInt() {
				return Count(v.Int(), noun)
			}
			return Count(reflect.ValueOf(n).Uint(), noun)
		},
		"overSeeds":   overSeeds,
		"noIntervals": func() string { return noIntervals },
		"join":        func(vs []string) string { return strings.Join(vs, ", ") },
		"deref":       func(iv *stats.Interval) stats.Interval { return *iv },
		"class": func(verdict string) string {
			switch verdict {
			case stats.Better, stats.Worse, stats.Changed:
				return verdict
			}
			return ""
		},
	})
	template.Must(t.Parse(reportTemplate))
	template.Must(t.New("leakage").Parse(leakageTemplate))
	template.Must(t.New("experiment").Parse(experimentTemplate))
	return t
}()
