package results

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadSummary(t *testing.T) {
	half := 0.5
	cases := []struct {
		name    string
		prepare func(dir string)
		wantErr string
	}{
		{"complete", func(dir string) {
			require.NoError(t, WriteJSON(dir, SummaryFile, Summary{Schema: SchemaVersion, Scenario: "x", DeliveryRatio: &half}))
		}, ""},
		{"incomplete", func(dir string) {
			require.NoError(t, WriteJSON(dir, SummaryFile, Summary{Schema: SchemaVersion}))
			require.NoError(t, WriteFile(dir, IncompleteMarker, nil))
		}, "did not finish"},
		{"missing", func(string) {}, "no summary.json"},
		{"other schema", func(dir string) {
			require.NoError(t, WriteJSON(dir, SummaryFile, Summary{Schema: SchemaVersion + 1}))
		}, "schema"},
		{"garbage", func(dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, SummaryFile), []byte("{"), 0o644))
		}, "summary.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(dir)
			s, err := ReadSummary(dir)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "x", s.Scenario)
			require.NotNil(t, s.DeliveryRatio)
			assert.Equal(t, 0.5, *s.DeliveryRatio)
		})
	}
}
