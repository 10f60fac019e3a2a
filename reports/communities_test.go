package reports

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

func TestCommunitiesTable(t *testing.T) {
	with := sample()
	with.Communities = &results.Communities{Servers: 2, Rooms: 40, Polls: 1234, PollFailures: 5, MessagesRead: 678, BytesIn: 3 << 20, BytesOut: 2 << 20}
	for _, tc := range []struct {
		name string
		s    results.Summary
		want bool
	}{{"with communities", with, true}, {"without", sample(), false}} {
		t.Run(tc.name, func(t *testing.T) {
			var text, html bytes.Buffer
			WriteText(&text, tc.s, nil)
			require.NoError(t, WriteHTML(&html, tc.s, nil, []byte(sampleScenario), []byte(sampleDefaults)))
			if !tc.want {
				assert.NotContains(t, text.String(), "Communities")
				assert.NotContains(t, html.String(), "<h2>Communities</h2>")
				return
			}
			parseDOM(t, html.Bytes())
			assert.Contains(t, text.String(), "2 servers, 40 rooms: 1234 polls (5 failed), 678 room messages read")
			assert.Contains(t, html.String(), "<h2>Communities</h2>")
			assert.Contains(t, html.String(), "<td>1234 (5)</td>")
			assert.Contains(t, html.String(), "<td>2 / 40</td>")
		})
	}
}
