package netem

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Region is the index of a region in a Matrix.
type Region uint16

// maxRegions keeps region indexes inside Region.
const maxRegions = math.MaxUint16

// maxRTT rejects values no real path has, which are typos (a value in microseconds, a missing
// decimal point) rather than measurements, and keeps every sum of delays far from overflow.
const maxRTT = time.Hour

// Matrix holds the average round-trip time between every pair of regions. Values need not be
// symmetric: rows are the source, columns the destination, and the one-way delay from a to b is
// half of RTT(a, b).
type Matrix struct {
	source string
	names  []string
	index  map[string]Region
	rtt    []time.Duration // len(names)^2, row-major by source
}

//go:embed data/aws-2017-rtt-ms.csv
var defaultMatrixCSV []byte

// DefaultMatrixName is the name errors and reports use for the embedded matrix.
const DefaultMatrixName = "aws-2017-rtt-ms.csv"

var defaultMatrix = sync.OnceValues(func() (*Matrix, error) {
	return ParseMatrix(DefaultMatrixName, bytes.NewReader(defaultMatrixCSV))
})

// DefaultMatrix is the embedded AWS inter-region RTT matrix (2017, ten regions), a good model of
// service node to service node links since nodes run in data centres.
func DefaultMatrix() *Matrix {
	m, err := defaultMatrix()
	if err != nil {
		// The embedded file is tested; reaching this means the binary was built from a broken tree.
		panic("netem: embedded matrix is invalid: " + err.Error())
	}
	return m
}

// LoadMatrixFile reads a matrix from a CSV file shaped like the embedded one.
func LoadMatrixFile(path string) (*Matrix, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("netem: open latency matrix: %w", err)
	}
	defer f.Close()
	return ParseMatrix(path, f)
}

// ParseMatrix reads a region RTT matrix. The format: lines starting with '#' are comments; the
// first record is the header, a label cell followed by the region names; every following record
// is a source region name followed by one RTT in milliseconds per header column. A zero diagonal
// means "use the network's same-region RTT"; a positive one is that region's own same-region RTT.
// name is used in error messages only.
func ParseMatrix(name string, r io.Reader) (*Matrix, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // ragged rows get a message that names the row, below
	cr.TrimLeadingSpace = true

	fail := func(line, field int, format string, args ...any) error {
		return fmt.Errorf("netem: latency matrix %s line %d field %d: %s", name, line, field, fmt.Sprintf(format, args...))
	}

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("netem: latency matrix %s: no header row (want a label cell, then one column per region)", name)
	}
	if err != nil {
		return nil, fmt.Errorf("netem: latency matrix %s: %w", name, err)
	}
	hline, _ := cr.FieldPos(0)
	if len(header) < 2 {
		return nil, fail(hline, 1, "header has %d cells; want a label cell followed by at least one region name", len(header))
	}
	regions := header[1:]
	if len(regions) > maxRegions {
		return nil, fail(hline, 1, "%d regions; at most %d are supported", len(regions), maxRegions)
	}
	m := &Matrix{
		source: name,
		names:  make([]string, len(regions)),
		index:  make(map[string]Region, len(regions)),
		rtt:    make([]time.Duration, len(regions)*len(regions)),
	}
	for i, raw := range regions {
		rn := strings.TrimSpace(raw)
		if rn == "" {
			return nil, fail(hline, i+2, "empty region name in the header")
		}
		if _, dup := m.index[rn]; dup {
			return nil, fail(hline, i+2, "region %q appears twice in the header", rn)
		}
		m.names[i] = rn
		m.index[rn] = Region(i)
	}

	seen := make([]bool, len(regions))
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("netem: latency matrix %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		src := strings.TrimSpace(rec[0])
		row, ok := m.index[src]
		if !ok {
			return nil, fail(line, 1, "row region %q is not in the header (%s)", src, strings.Join(m.names, ", "))
		}
		if seen[row] {
			return nil, fail(line, 1, "row for region %q appears twice", src)
		}
		seen[row] = true
		if len(rec) != len(header) {
			return nil, fail(line, len(rec), "row %q has %d cells; the header has %d", src, len(rec), len(header))
		}
		for j, cell := range rec[1:] {
			v, err := parseMillis(strings.TrimSpace(cell))
			if err != nil {
				return nil, fail(line, j+2, "RTT %s -> %s: value %q: %v", src, m.names[j], cell, err)
			}
			m.rtt[int(row)*len(regions)+j] = v
		}
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("netem: latency matrix %s: region %q has a header column but no row", name, m.names[i])
		}
	}
	return m, nil
}

// parseMillis reads a non-negative RTT in milliseconds.
func parseMillis(s string) (time.Duration, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("not a number (want milliseconds, e.g. 72.5)")
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, errors.New("not a finite number")
	case v < 0:
		return 0, errors.New("negative RTT")
	case v > float64(maxRTT/time.Millisecond):
		return 0, fmt.Errorf("RTT above %v is not plausible", maxRTT)
	}
	return time.Duration(math.Round(v * float64(time.Millisecond))), nil
}

// Source is the name the matrix was loaded from.
func (m *Matrix) Source() string { return m.source }

// Len is the number of regions.
func (m *Matrix) Len() int { return len(m.names) }

// Regions lists the region names in header order.
func (m *Matrix) Regions() []string { return append([]string(nil), m.names...) }

// Name is the name of region r, or "" if r is out of range.
func (m *Matrix) Name(r Region) string {
	if int(r) >= len(m.names) {
		return ""
	}
	return m.names[r]
}

// Lookup finds a region by name.
func (m *Matrix) Lookup(name string) (Region, error) {
	r, ok := m.index[name]
	if !ok {
		return 0, fmt.Errorf("netem: unknown region %q in latency matrix %s: use one of %s", name, m.source, strings.Join(m.names, ", "))
	}
	return r, nil
}

// RTT is the round-trip time from a to b as given in the data (0 on a zero diagonal, and for
// regions out of range).
func (m *Matrix) RTT(a, b Region) time.Duration {
	n := len(m.names)
	if int(a) >= n || int(b) >= n {
		return 0
	}
	return m.rtt[int(a)*n+int(b)]
}

// NewMatrix builds a matrix from region names and their RTTs, rtt[a][b] from region a to b,
// with the checks ParseMatrix makes of a file: for a matrix that travels as values (a process
// handed the world's link model). source names it in errors and reports.
func NewMatrix(source string, names []string, rtt [][]time.Duration) (*Matrix, error) {
	switch {
	case len(names) == 0:
		return nil, fmt.Errorf("netem: latency matrix %s: no regions", source)
	case len(names) > maxRegions:
		return nil, fmt.Errorf("netem: latency matrix %s: %d regions; at most %d are supported", source, len(names), maxRegions)
	case len(rtt) != len(names):
		return nil, fmt.Errorf("netem: latency matrix %s: %d rows for %d regions", source, len(rtt), len(names))
	}
	m := &Matrix{source: source, names: slices.Clone(names), index: make(map[string]Region, len(names)),
		rtt: make([]time.Duration, 0, len(names)*len(names))}
	for i, name := range names {
		if name == "" {
			return nil, fmt.Errorf("netem: latency matrix %s: region %d has no name", source, i)
		}
		if _, dup := m.index[name]; dup {
			return nil, fmt.Errorf("netem: latency matrix %s: region %q appears twice", source, name)
		}
		m.index[name] = Region(i)
		if len(rtt[i]) != len(names) {
			return nil, fmt.Errorf("netem: latency matrix %s: row %q has %d RTTs for %d regions", source, name, len(rtt[i]), len(names))
		}
		for j, d := range rtt[i] {
			if d < 0 || d > maxRTT {
				return nil, fmt.Errorf("netem: latency matrix %s: RTT %s -> %s: %v is not in [0, %v]", source, name, names[j], d, maxRTT)
			}
		}
		m.rtt = append(m.rtt, rtt[i]...)
	}
	return m, nil
}
