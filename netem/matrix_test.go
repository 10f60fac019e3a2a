package netem

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultMatrix(t *testing.T) {
	m := DefaultMatrix()
	require.Equal(t, 10, m.Len())
	assert.Equal(t, DefaultMatrixName, m.Source())

	tests := []struct {
		from, to string
		want     time.Duration
	}{
		{"us-east-1", "us-west-1", 72740 * time.Microsecond},
		{"us-west-1", "us-east-1", 71630 * time.Microsecond}, // not symmetric, as published
		{"eu-central-1", "ap-southeast-1", 325900 * time.Microsecond},
		{"sa-east-1", "sa-east-1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.from+"->"+tt.to, func(t *testing.T) {
			a, err := m.Lookup(tt.from)
			require.NoError(t, err)
			b, err := m.Lookup(tt.to)
			require.NoError(t, err)
			assert.Equal(t, tt.want, m.RTT(a, b))
			assert.Equal(t, tt.from, m.Name(a))
		})
	}
	_, err := m.Lookup("mars-north-1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"mars-north-1"`)
	assert.Contains(t, err.Error(), "eu-central-1", "the error lists the known regions")
	assert.Equal(t, time.Duration(0), m.RTT(0, 200), "out-of-range regions give 0, not a panic")
	assert.Equal(t, "", m.Name(200))
}

func TestParseMatrixErrors(t *testing.T) {
	tests := []struct {
		name string
		csv  string
		want []string // substrings the error must contain
	}{
		{"empty", "", []string{"bad.csv", "no header"}},
		{"only comments", "# nothing\n# here\n", []string{"bad.csv", "no header"}},
		{"header without regions", "from\n", []string{"bad.csv", "line 1", "at least one region"}},
		{"duplicate header region", "from,a,a\na,0,1\n", []string{"bad.csv", "line 1", "field 3", `"a" appears twice`}},
		{"empty header region", "from,a,\na,0,1\n", []string{"bad.csv", "line 1", "field 3", "empty region"}},
		{"unknown row region", "from,a,b\na,0,1\nc,1,0\n", []string{"bad.csv", "line 3", "field 1", `"c"`}},
		{"duplicate row", "from,a,b\na,0,1\na,0,1\n", []string{"bad.csv", "line 3", `"a" appears twice`}},
		{"short row", "from,a,b\na,0\nb,1,0\n", []string{"bad.csv", "line 2", "2 cells", "header has 3"}},
		{"long row", "from,a,b\na,0,1,2\nb,1,0\n", []string{"bad.csv", "line 2", "4 cells"}},
		{"negative value", "from,a,b\na,0,-3\nb,1,0\n", []string{"bad.csv", "line 2", "field 3", `"-3"`, "negative"}},
		{"non-numeric value", "# c\nfrom,a,b\na,0,1\nb,fast,0\n", []string{"bad.csv", "line 4", "field 2", `"fast"`, "not a number"}},
		{"NaN", "from,a,b\na,0,NaN\nb,1,0\n", []string{"bad.csv", "line 2", "field 3", `"NaN"`}},
		{"infinite", "from,a,b\na,0,1\nb,+Inf,0\n", []string{"bad.csv", "line 3", "field 2", `"+Inf"`}},
		{"implausible", "from,a,b\na,0,1e12\nb,1,0\n", []string{"bad.csv", "line 2", "field 3", "not plausible"}},
		{"missing row", "from,a,b\na,0,1\n", []string{"bad.csv", `"b"`, "no row"}},
		{"bad quoting", "from,a\na,\"0\n", []string{"bad.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMatrix("bad.csv", strings.NewReader(tt.csv))
			require.Error(t, err)
			assert.Nil(t, m)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestParseMatrixAccepts(t *testing.T) {
	csv := "# comment\nfrom, a, b\nb, 40.5, 3\na, 0, 12.25\n"
	m, err := ParseMatrix("ok.csv", strings.NewReader(csv))
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, m.Regions())
	a, _ := m.Lookup("a")
	b, _ := m.Lookup("b")
	assert.Equal(t, 12250*time.Microsecond, m.RTT(a, b))
	assert.Equal(t, 40500*time.Microsecond, m.RTT(b, a), "rows may come in any order")
	assert.Equal(t, 3*time.Millisecond, m.RTT(b, b))
}

func TestLoadMatrixFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "m.csv")
	require.NoError(t, os.WriteFile(good, []byte("from,x\nx,0\n"), 0o600))
	m, err := LoadMatrixFile(good)
	require.NoError(t, err)
	assert.Equal(t, 1, m.Len())
	assert.Equal(t, good, m.Source())

	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("from,x\nx,oops\n"), 0o600))
	_, err = LoadMatrixFile(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
	assert.Contains(t, err.Error(), `"oops"`)

	_, err = LoadMatrixFile(filepath.Join(dir, "missing.csv"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.csv")
}

func FuzzParseMatrix(f *testing.F) {
	f.Add(defaultMatrixCSV)
	f.Add([]byte("from,a,b\na,0,1\nb,1,0\n"))
	f.Add([]byte("# only\n"))
	f.Add([]byte("from,a,b\na,0,-1\nb,1,0\n"))
	f.Add([]byte("from,a\na,\"0\n"))
	f.Add([]byte("from,a,b\na,0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMatrix("fuzz.csv", bytes.NewReader(data))
		if err != nil {
			assert.Nil(t, m)
			return
		}
		n := m.Len()
		require.Positive(t, n)
		seen := map[string]bool{}
		for i := range n {
			name := m.Name(Region(i))
			require.NotEmpty(t, name)
			require.False(t, seen[name], "duplicate region %q accepted", name)
			seen[name] = true
			r, err := m.Lookup(name)
			require.NoError(t, err)
			require.Equal(t, Region(i), r)
			for j := range n {
				v := m.RTT(Region(i), Region(j))
				require.GreaterOrEqual(t, v, time.Duration(0))
				require.LessOrEqual(t, v, maxRTT)
			}
		}
	})
}

// TestNewMatrix: a matrix built from values equals the one parsed from the same values, and
// bad values are refused as a file's are.
func TestNewMatrix(t *testing.T) {
	d := DefaultMatrix()
	names := d.Regions()
	rtt := make([][]time.Duration, len(names))
	for a := range names {
		for b := range names {
			rtt[a] = append(rtt[a], d.RTT(Region(a), Region(b)))
		}
	}
	m, err := NewMatrix("values", names, rtt)
	require.NoError(t, err)
	assert.Equal(t, "values", m.Source())
	assert.Equal(t, names, m.Regions())
	for a := range names {
		for b := range names {
			assert.Equal(t, d.RTT(Region(a), Region(b)), m.RTT(Region(a), Region(b)))
		}
	}
	ms := time.Millisecond
	tests := []struct {
		name  string
		names []string
		rtt   [][]time.Duration
		want  string
	}{
		{"none", nil, nil, "no regions"},
		{"rows", []string{"a", "b"}, [][]time.Duration{{0, ms}}, "1 rows for 2 regions"},
		{"ragged", []string{"a", "b"}, [][]time.Duration{{0, ms}, {ms}}, `row "b" has 1 RTTs`},
		{"twice", []string{"a", "a"}, [][]time.Duration{{0, ms}, {ms, 0}}, "appears twice"},
		{"unnamed", []string{""}, [][]time.Duration{{0}}, "has no name"},
		{"negative", []string{"a", "b"}, [][]time.Duration{{0, -ms}, {ms, 0}}, "a -> b"},
		{"too long", []string{"a"}, [][]time.Duration{{2 * time.Hour}}, "is not in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewMatrix("bad", tt.names, tt.rtt)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
