package reports

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

func TestClocksLine(t *testing.T) {
	offsets := results.Percentiles{Count: 200, P50: 1400, P90: 3700, P99: 3_600_000, Max: 3_600_500}
	for _, tc := range []struct {
		name    string
		c       results.Clocks
		want    []string
		wantNot []string
	}{
		{"nothing refused", results.Clocks{OffsetAbsMs: offsets},
			[]string{"off by p50 1.4 s, p90 3.7 s, p99 1 h, max 1 h (200 samples)", "0 requests refused (406: 0, 425: 0)"},
			[]string{"too old", "spells"}},
		{"refusals", results.Clocks{
			OffsetAbsMs: offsets, Status406: 30, Status425: 2, RejectedTooOld: 12, RejectedTooNew: 20, ClientsRejected: 3,
			ByPlatform: map[string]results.ClockRejections{"ios": {RejectedTooOld: 2}, "desktop": {RejectedTooOld: 10, RejectedTooNew: 20}},
			RecoveryMs: results.Percentiles{Count: 4, P50: 800, P90: 22_800, P99: 22_800, Max: 22_900}, ClientsUnrecovered: 1,
		}, []string{
			"32 requests refused (406: 30, 425: 2) from 3 clients, 12 too old, 20 too new (old/new: desktop 10/20, ios 2/0)",
			"spells until one was accepted again: p50 800 ms", "(4 samples); 1 client still refused at the end",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := clocks(tc.c)
			for _, w := range tc.want {
				assert.Contains(t, line, w)
			}
			for _, w := range tc.wantNot {
				assert.NotContains(t, line, w)
			}
			s := sample()
			s.Clocks = tc.c
			var text, html bytes.Buffer
			WriteText(&text, s, nil)
			assert.Contains(t, text.String(), "client clocks: "+line, "the printed summary shows it under Load")
			require.NoError(t, WriteHTML(&html, s, nil, nil, nil))
			assert.Contains(t, html.String(), "<th>client clocks</th>", "so does the report")
		})
	}
}
