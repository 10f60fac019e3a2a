package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/sessionsim/sessionsim/results"
)

// WriteChecks prints the verdict of each check, its measured value, and how many passed: the
// table `sessionsim run`, `check` and `report` show.
func WriteChecks(w io.Writer, cs []results.CheckResult) {
	failed := results.ChecksFailed(cs)
	if failed == 0 {
		fmt.Fprintf(w, "Checks: all %d passed\n", len(cs))
	} else {
		fmt.Fprintf(w, "Checks: %d of %d failed\n", failed, len(cs))
	}
	width := 0
	for _, c := range cs {
		width = max(width, len(c.Check))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-4s  %-*s  %s\n", verdict(c), width, c.Check, measured(c))
	}
}

func verdict(c results.CheckResult) string {
	if c.Passed {
		return "pass"
	}
	return "FAIL"
}

// measured is a check's measured value, or why it has none.
func measured(c results.CheckResult) string {
	if c.Value == nil {
		return c.Reason
	}
	return "measured " + strconv.FormatFloat(*c.Value, 'g', -1, 64)
}

// JUnit XML, as the readers of CI systems (Jenkins, GitLab, GitHub actions' reporters) take it:
// <testsuites> around one <testsuite> with one <testcase> a check, a failing one holding a
// <failure>. Counts and times are attributes on both levels, since readers differ in which
// they read.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Time       string          `xml:"time,attr"`
		Properties []junitProperty `xml:"properties>property"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitFailure `xml:"failure"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
)

// WriteJUnit writes the summary's checks as JUnit XML: one test suite for the run, named after
// its scenario and seed, and one test case per check, named by the check as written. A failure
// carries the measured value (or why there was none). The suite's time is the run's wall time
// when run is known; each case takes no time of its own.
func WriteJUnit(w io.Writer, s results.Summary, run *results.Run) error {
	wall := "0"
	if run != nil {
		wall = strconv.FormatFloat(run.WallSeconds, 'f', 3, 64)
	}
	class := "sessionsim." + strings.ReplaceAll(s.Scenario, ".", "_")
	suite := junitSuite{
		Name:     fmt.Sprintf("%s seed %d", s.Scenario, s.Seed),
		Tests:    len(s.Checks),
		Failures: results.ChecksFailed(s.Checks),
		Time:     wall,
		Properties: []junitProperty{
			{"scenario", s.Scenario}, {"seed", strconv.FormatUint(s.Seed, 10)}, {"crypto", s.Crypto}, {"version", s.Version},
		},
	}
	for _, c := range s.Checks {
		tc := junitCase{Name: c.Check, Classname: class, Time: "0"}
		if !c.Passed {
			tc.Failure = &junitFailure{Message: measured(c), Type: "check failed",
				Text: fmt.Sprintf("check: %s\nfigure: %s\n%s\n", c.Check, c.Figure, measured(c))}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	doc := junitSuites{Name: "sessionsim", Tests: suite.Tests, Failures: suite.Failures, Time: wall, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing JUnit XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
