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
			r := 0.5
			s.MessagesByKind = map[string]results.KindMessages{"photo": {Messages: results.Messages{Sent: 2, Delivered: 1, Lost: 1, LostByCause: map[string]uint64{"upload-timeout": 1}}, DeliveryRatio: &r}}
			var text, html bytes.Buffer
			WriteText(&text, s, nil)
			require.NoError(t, WriteHTML(&html, s, nil, nil, nil))
			if tc.fs == nil {
				assert.NotContains(t, text.String(), "photo:", "one kind alone is the messages line already")
				assert.NotContains(t, text.String(), "File server")
				assert.NotContains(t, html.String(), "<h2>File server</h2>")
				return
			}
			for _, w := range tc.want {
				assert.Contains(t, text.String(), w)
			}
			assert.Contains(t, html.String(), "<h2>File server</h2>")
			assert.Contains(t, html.String(), "<th>most files held</th><td>11</td>")
			assert.Contains(t, text.String(), "photo: sent 2, delivered 1, lost 1, pending 0, delivery ratio 50.00% (lost: upload-timeout 1)", "each kind's delivery")
			assert.Contains(t, html.String(), "<th>photo messages</th>")
		})
	}
}
