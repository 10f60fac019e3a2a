package results

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readCase is a results directory as prepare leaves it and what reading it gives: want, or an
// error containing wantErr.
type readCase[T any] struct {
	name    string
	prepare func(t *testing.T, dir string)
	want    T
	wantErr string
}

// testRead reads each case's directory with read.
func testRead[T any](t *testing.T, read func(dir string) (T, error), cases []readCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, dir)
			got, err := read(dir)
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestReadSummary(t *testing.T) {
	half := 0.5
	complete := Summary{Schema: SchemaVersion, Scenario: "x", DeliveryRatio: &half}
	testRead(t, ReadSummary, []readCase[Summary]{
		{name: "complete", prepare: func(t *testing.T, dir string) {
			require.NoError(t, WriteJSON(dir, SummaryFile, complete))
		}, want: complete},
		{name: "incomplete", prepare: func(t *testing.T, dir string) {
			require.NoError(t, WriteJSON(dir, SummaryFile, Summary{Schema: SchemaVersion}))
			require.NoError(t, WriteFile(dir, IncompleteMarker, nil))
		}, wantErr: "did not finish"},
		{name: "missing", prepare: func(*testing.T, string) {}, wantErr: "no summary.json"},
		{name: "other schema", prepare: func(t *testing.T, dir string) {
			require.NoError(t, WriteJSON(dir, SummaryFile, Summary{Schema: SchemaVersion + 1}))
		}, wantErr: "schema"},
		{name: "garbage", prepare: func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, SummaryFile), []byte("{"), 0o644))
		}, wantErr: "summary.json"},
	})
}

func TestReadRun(t *testing.T) {
	testRead(t, ReadRun, []readCase[*Run]{
		{name: "written", prepare: func(t *testing.T, dir string) {
			require.NoError(t, WriteJSON(dir, RunFile, Run{Version: "v1", WallSeconds: 12}))
		}, want: &Run{Version: "v1", WallSeconds: 12}},
		{name: "absent", prepare: func(*testing.T, string) {}, want: nil},
		{name: "garbage", prepare: func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, RunFile), []byte("{"), 0o644))
		}, wantErr: RunFile},
		{name: "unreadable", prepare: func(t *testing.T, dir string) {
			require.NoError(t, os.Mkdir(filepath.Join(dir, RunFile), 0o755))
		}, wantErr: RunFile},
	})
}
