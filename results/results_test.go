package results

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/internal/testkit"
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
			if !testkit.WantNoError(t, err, tc.wantErr) {
				return
			}
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

func TestReadSummaryNamesWhatItWasGiven(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, WriteJSON(root, SummaryFile, Summary{Schema: SchemaVersion}))
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "notes.txt"), nil, 0o644))
	sweep := t.TempDir()
	for _, run := range []string{"arm-01-clients.paths=1/seed-1", "arm-01-clients.paths=1/seed-2"} {
		require.NoError(t, os.MkdirAll(filepath.Join(sweep, run), 0o755))
		require.NoError(t, WriteJSON(filepath.Join(sweep, run), SummaryFile, Summary{Schema: SchemaVersion}))
	}
	cases := []struct {
		name, path, wantErr string
	}{
		{"no such directory", filepath.Join(root, "nowhere"), filepath.Join(root, "nowhere") + ": no such directory; give a results directory"},
		{"the summary itself", filepath.Join(root, SummaryFile), filepath.Join(root, SummaryFile) + " is a file; give the results directory that holds it (" + root + ")"},
		{"a file of no results directory", filepath.Join(other, "notes.txt"), filepath.Join(other, "notes.txt") + " is a file, not a results directory; give a directory that sessionsim run wrote"},
		{"a directory without a summary", t.TempDir(), "no summary.json here; is this a sessionsim results directory?"},
		{"a sweep", sweep, "no summary.json here, but 2 runs below it, e.g. " + filepath.Join(sweep, "arm-01-clients.paths=1/seed-1") + ": give one of them"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSummary(tc.path)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestRunClock(t *testing.T) {
	cases := []struct {
		name string
		run  *Run
		want string
	}{
		{"no run.json", nil, "virtual time"},
		{"simulated", &Run{}, "virtual time"},
		{"live", &Run{Mode: "live"}, "real time"},
		{"docker", &Run{Mode: "docker"}, "real time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.run.Clock())
		})
	}
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

func TestSurvivalAt(t *testing.T) {
	// S drops to 0.8 at 1 s and to 0.5 at 10 s; the run ends at 100 s.
	sv := &Survival{Curve: [][2]float64{{0, 1}, {1, 0.8}, {10, 0.5}, {100, 0.5}}}
	cases := []struct {
		name string
		t    float64
		want float64
	}{
		{"at zero", 0, 1},
		{"before the first drop", 0.999, 1},
		{"at a point, the value after the step", 1, 0.8},
		{"between points, the earlier one", 9.99, 0.8},
		{"at the last point", 100, 0.5},
		{"past the end, the last value", 1000, 0.5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, sv.At(tc.t))
		})
	}
	assert.Equal(t, 100.0, sv.End())
	assert.Equal(t, 0.0, (&Survival{}).End(), "an empty curve ends at once")
	assert.Equal(t, 1.0, (&Survival{}).At(5), "nobody is compromised on an empty curve")
}

// TestLevelsAll checks All against summary.json: every level once, under its JSON name.
func TestLevelsAll(t *testing.T) {
	a, b, c, d := 1.0, 2.0, 3.0, 4.0
	e := Exposure{Direct: &a, GuardAndDestination: &b, FullPath: &c, Correlation: &d}
	raw, err := json.Marshal(e)
	require.NoError(t, err)
	var byName map[string]float64
	require.NoError(t, json.Unmarshal(raw, &byName))
	all := e.All()
	require.Len(t, all, len(byName))
	for _, lv := range all {
		assert.Equal(t, byName[lv.Key], *lv.Value, lv.Key)
	}
}
