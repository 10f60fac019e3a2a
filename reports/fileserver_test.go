package reports

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/results"
)

func TestFileServerTable(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   *results.FileServer
		want []string
	}{
		{"no file server", nil, nil},
		{"load and refusals", &results.FileServer{Uploads: 12, Downloads: 10, UploadBytes: 3_000_000, DownloadBytes: 2_500_000, StoredFilesPeak: 11, Expired: 1,
			Failures: map[string]uint64{"not-found": 2, "too-large": 1}},
			[]string{"uploads 12 (", "downloads 10 (", "most files held 11, expired 1", "refused by cause: not-found 2, too-large 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sample()
			s.FileServer = tc.fs
			var text, html bytes.Buffer
			WriteText(&text, s, nil)
			require.NoError(t, WriteHTML(&html, s, nil, nil, nil))
			if tc.fs == nil {
				assert.NotContains(t, text.String(), "File server")
				assert.NotContains(t, html.String(), "<h2>File server</h2>")
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, text.String(), w)
			}
			assert.Contains(t, html.String(), "<h2>File server</h2>")
			assert.Contains(t, html.String(), "<th>most files held</th><td>11</td>")
		})
	}
}
