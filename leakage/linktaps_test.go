package leakage

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLinkTapsFile(t *testing.T) {
	epoch := time.Unix(1_700_000_000, 0)
	ns := func(d time.Duration) int64 { return epoch.Add(d).UnixNano() }
	a, b := netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("51.15.3.4")
	tests := []struct {
		name         string
		from, to     netip.Addr
		size         int
		sent, arrive int64
		ok           bool
		line         string
	}{
		{"delivered", a, b, 1200, ns(time.Second), ns(time.Second + 35*time.Millisecond), true, "1000000000,1035000000,10.0.0.7,51.15.3.4,1200"},
		{"lost: no arrival", b, a, 80, ns(2 * time.Second), 0, false, "2000000000,,51.15.3.4,10.0.0.7,80"},
		{"at the start", a, a, 0, ns(0), ns(1), true, "0,1,10.0.0.7,10.0.0.7,0"},
	}
	var buf bytes.Buffer
	taps := NewLinkTaps(&buf, epoch)
	want := LinkTapsHeader + "\n"
	for _, tt := range tests {
		taps.Record(tt.from, tt.to, tt.size, tt.sent, tt.arrive, tt.ok)
		want += tt.line + "\n"
	}
	require.NoError(t, taps.Close())
	zr, err := gzip.NewReader(&buf)
	require.NoError(t, err)
	got, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, want, string(got))
}

// Recording a transmission allocates nothing: a run with taps pays the encoding, not garbage.
func TestLinkTapsRecordAllocatesNothing(t *testing.T) {
	taps := NewLinkTaps(io.Discard, time.Unix(0, 0))
	a, b := netip.MustParseAddr("10.0.0.7"), netip.MustParseAddr("2001:db8::1")
	var at int64
	allocs := testing.AllocsPerRun(10_000, func() {
		at += 1_000_000
		taps.Record(a, b, 1500, at, at+40_000_000, true)
	})
	assert.Zero(t, allocs)
	require.NoError(t, taps.Close())
}

// A write error is kept and returned by Close.
func TestLinkTapsReportsWriteErrors(t *testing.T) {
	taps := NewLinkTaps(failingWriter{}, time.Unix(0, 0))
	for i := range 10_000 {
		taps.Record(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"), 1000, int64(i), int64(i)+1, true)
	}
	assert.ErrorIs(t, taps.Close(), io.ErrShortWrite)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }
