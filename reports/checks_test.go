package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/sessionsim/sessionsim/results"
)

// sampleChecks are three verdicts: one pass, one failure with a value, one with none.
func sampleChecks() []results.CheckResult {
	return []results.CheckResult{
		{Check: "delivery_ratio >= 0.99", Figure: "delivery_ratio", Value: ptr(0.998), Passed: true},
		{Check: "onion_rtt_ms.p99 <= 1000", Figure: "onion_rtt_ms.p99", Value: ptr(1300.0), Reason: "measured 1300"},
		{Check: "onion_rtt_ms_by_platform.linux.p50 <= 800 & <more>", Figure: "onion_rtt_ms_by_platform.linux.p50",
			Reason: `onion_rtt_ms_by_platform has no "linux" in this run (it has: ios)`},
	}
}

func TestWriteChecks(t *testing.T) {
	cases := []struct {
		name string
		cs   []results.CheckResult
		want []string
	}{
		{"mixed", sampleChecks(), []string{
			"Checks: 2 of 3 failed\n",
			"  pass  delivery_ratio >= 0.99                              measured 0.998\n",
			"  FAIL  onion_rtt_ms.p99 <= 1000                            measured 1300\n",
			"  FAIL  onion_rtt_ms_by_platform.linux.p50 <= 800 & <more>  onion_rtt_ms_by_platform has no \"linux\" in this run (it has: ios)\n",
		}},
		{"all pass", sampleChecks()[:1], []string{"Checks: all 1 passed\n", "  pass  delivery_ratio >= 0.99  measured 0.998\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			WriteChecks(&buf, tc.cs)
			assert.Equal(t, strings.Join(tc.want, ""), buf.String())
		})
	}
}

func TestWriteTextShowsChecksOnlyWhenPresent(t *testing.T) {
	var buf bytes.Buffer
	WriteText(&buf, sample(), nil)
	assert.NotContains(t, buf.String(), "Checks")
	s := sample()
	s.Checks = sampleChecks()
	buf.Reset()
	WriteText(&buf, s, nil)
	assert.True(t, strings.HasSuffix(buf.String(), "\n\nChecks: 2 of 3 failed\n"+
		"  pass  delivery_ratio >= 0.99                              measured 0.998\n"+
		"  FAIL  onion_rtt_ms.p99 <= 1000                            measured 1300\n"+
		"  FAIL  onion_rtt_ms_by_platform.linux.p50 <= 800 & <more>  onion_rtt_ms_by_platform has no \"linux\" in this run (it has: ios)\n"), buf.String())
}

func TestWriteJUnit(t *testing.T) {
	cases := []struct {
		name     string
		checks   []results.CheckResult
		run      *results.Run
		failures int
		time     string
	}{
		{"mixed, with run", sampleChecks(), &results.Run{WallSeconds: 12.3456}, 2, "12.346"},
		{"all pass, no run", sampleChecks()[:1], nil, 0, "0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sample()
			s.Checks = tc.checks
			var buf bytes.Buffer
			require.NoError(t, WriteJUnit(&buf, s, tc.run))
			require.True(t, strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`))

			// Read back with plain encoding/xml structs shaped as JUnit readers expect, not
			// the writer's own types.
			var doc struct {
				XMLName  xml.Name `xml:"testsuites"`
				Tests    int      `xml:"tests,attr"`
				Failures int      `xml:"failures,attr"`
				Time     string   `xml:"time,attr"`
				Suites   []struct {
					Name       string `xml:"name,attr"`
					Tests      int    `xml:"tests,attr"`
					Failures   int    `xml:"failures,attr"`
					Errors     int    `xml:"errors,attr"`
					Time       string `xml:"time,attr"`
					Properties []struct {
						Name  string `xml:"name,attr"`
						Value string `xml:"value,attr"`
					} `xml:"properties>property"`
					Cases []struct {
						Name      string `xml:"name,attr"`
						Classname string `xml:"classname,attr"`
						Time      string `xml:"time,attr"`
						Failure   *struct {
							Message string `xml:"message,attr"`
							Type    string `xml:"type,attr"`
							Text    string `xml:",chardata"`
						} `xml:"failure"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc), buf.String())
			assert.Equal(t, len(tc.checks), doc.Tests)
			assert.Equal(t, tc.failures, doc.Failures)
			assert.Equal(t, tc.time, doc.Time)
			require.Len(t, doc.Suites, 1)
			suite := doc.Suites[0]
			assert.Equal(t, "demo seed 7", suite.Name)
			assert.Equal(t, len(tc.checks), suite.Tests)
			assert.Equal(t, tc.failures, suite.Failures)
			assert.Zero(t, suite.Errors)
			assert.Equal(t, tc.time, suite.Time)
			assert.Contains(t, suite.Properties, struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			}{"seed", "7"})
			require.Len(t, suite.Cases, len(tc.checks))
			for i, c := range suite.Cases {
				assert.Equal(t, tc.checks[i].Check, c.Name, "special characters survive")
				assert.Equal(t, "sessionsim.demo", c.Classname)
				assert.Equal(t, "0", c.Time)
				if tc.checks[i].Passed {
					assert.Nil(t, c.Failure)
					continue
				}
				require.NotNil(t, c.Failure)
				assert.Equal(t, "check failed", c.Failure.Type)
				assert.Contains(t, c.Failure.Text, "figure: "+tc.checks[i].Figure)
			}
			if tc.failures > 0 {
				assert.Equal(t, "measured 1300", suite.Cases[1].Failure.Message, "the measured value")
				assert.Equal(t, `onion_rtt_ms_by_platform has no "linux" in this run (it has: ios)`, suite.Cases[2].Failure.Message)
			}
		})
	}
}

func TestHTMLPutsChecksFirst(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, sample(), nil, nil, nil))
	assert.NotContains(t, buf.String(), `id="checks"`, "no table without checks")

	s := sample()
	s.Checks = sampleChecks()
	buf.Reset()
	require.NoError(t, WriteHTML(&buf, s, nil, nil, nil))
	out := buf.String()
	var rows [][]string
	for n := range parseDOM(t, buf.Bytes()).Descendants() {
		if !isElement(n, "table") || attr(n, "id") != "checks" {
			continue
		}
		for tr := range n.Descendants() {
			if !isElement(tr, "tr") {
				continue
			}
			var cells []string
			for td := range tr.ChildNodes() {
				if td.Type == html.ElementNode {
					cells = append(cells, text(td))
				}
			}
			rows = append(rows, cells)
		}
	}
	assert.Equal(t, [][]string{
		{"check", "measured", "verdict"},
		{"delivery_ratio >= 0.99", "0.998", "pass"},
		{"onion_rtt_ms.p99 <= 1000", "1300", "FAIL"},
		{"onion_rtt_ms_by_platform.linux.p50 <= 800 & <more>", `onion_rtt_ms_by_platform has no "linux" in this run (it has: ios)`, "FAIL"},
	}, rows)
	assert.Less(t, strings.Index(out, `id="checks"`), strings.Index(out, `class="cards"`), "the checks come first")
	assert.Contains(t, out, `<td class="fail">FAIL</td>`)
}
