package netem

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartitionBlocksAndHeals(t *testing.T) {
	n := newNet(t, Config{})
	var h [4]HostID
	for i := range h {
		h[i] = addHost(t, n, "a", Profile{Name: "p"})
	}
	id, err := n.Partition(t0.Add(10*time.Second), []HostID{h[0], h[1]}, []HostID{h[2]})
	require.NoError(t, err)
	require.NoError(t, n.Heal(id, t0.Add(20*time.Second)))

	tests := []struct {
		name     string
		from, to HostID
		at       time.Duration
		pass     bool
	}{
		{"before the cut", h[0], h[2], 9 * time.Second, true},
		{"across the cut", h[0], h[2], 10 * time.Second, false},
		{"across the cut, other way", h[2], h[1], 15 * time.Second, false},
		{"inside one group", h[0], h[1], 15 * time.Second, true},
		{"to a host in no group", h[0], h[3], 15 * time.Second, true},
		{"from a host in no group", h[3], h[2], 15 * time.Second, true},
		{"healed", h[0], h[2], 20 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := t0.Add(tt.at)
			assert.Equal(t, tt.pass, n.Reachable(tt.from, tt.to, at))
			_, ok := n.Transit(tt.from, tt.to, 100, at, nil)
			assert.Equal(t, tt.pass, ok)
		})
	}
	assert.Equal(t, uint64(2), n.Stats().Blocked)

	// Hosts added after the partition are in no group.
	late := addHost(t, n, "a", Profile{Name: "p"})
	assert.True(t, n.Reachable(late, h[0], t0.Add(15*time.Second)))
}

func TestPartitionErrors(t *testing.T) {
	n := newNet(t, Config{})
	a := addHost(t, n, "a", Profile{})
	b := addHost(t, n, "a", Profile{})
	tests := []struct {
		name   string
		groups [][]HostID
		want   string
	}{
		{"one group", [][]HostID{{a, b}}, "at least 2 groups"},
		{"empty group", [][]HostID{{a}, {}}, "group 1 is empty"},
		{"unknown host", [][]HostID{{a}, {42}}, "unknown host 42"},
		{"host on both sides", [][]HostID{{a, b}, {b}}, "host 1 is in partition groups 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := n.Partition(t0, tt.groups...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	id, err := n.Partition(t0.Add(time.Minute), []HostID{a}, []HostID{b})
	require.NoError(t, err)
	assert.ErrorContains(t, n.Heal(id, t0), "cannot heal earlier")
	assert.ErrorContains(t, n.Heal(7, t0), "unknown partition 7")
	require.NoError(t, n.Heal(id, t0.Add(2*time.Minute)))
	assert.ErrorContains(t, n.Heal(id, t0.Add(3*time.Minute)), "already healed")
}

func TestDegradeAppliesInWindow(t *testing.T) {
	n := newNet(t, Config{})
	a := addHost(t, n, "a", Profile{Name: "p"})
	b := addHost(t, n, "a", Profile{Name: "p"})
	c := addHost(t, n, "a", Profile{Name: "p"})
	require.NoError(t, n.Degrade(b, Degradation{Start: t0.Add(10 * time.Second), End: t0.Add(20 * time.Second), Latency: 50 * time.Millisecond}))
	require.NoError(t, n.Degrade(b, Degradation{Start: t0.Add(15 * time.Second), End: t0.Add(20 * time.Second), Latency: 5 * time.Millisecond}))

	tests := []struct {
		name     string
		from, to HostID
		at       time.Duration
		want     time.Duration
	}{
		{"before", a, b, 9 * time.Second, time.Millisecond},
		{"to the degraded host", a, b, 10 * time.Second, 51 * time.Millisecond},
		{"from the degraded host", b, a, 12 * time.Second, 51 * time.Millisecond},
		{"overlapping windows add up", a, b, 16 * time.Second, 56 * time.Millisecond},
		{"other hosts unaffected", a, c, 12 * time.Second, time.Millisecond},
		{"after", a, b, 20 * time.Second, time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := t0.Add(tt.at)
			arrive, ok := n.Transit(tt.from, tt.to, 100, at, nil)
			require.True(t, ok)
			assert.Equal(t, tt.want, arrive.Sub(at))
		})
	}
}

func TestDegradeLossOnlyInWindow(t *testing.T) {
	n := newNet(t, Config{})
	a := addHost(t, n, "a", Profile{Name: "p"})
	b := addHost(t, n, "a", Profile{Name: "p"})
	require.NoError(t, n.Degrade(a, Degradation{Start: t0.Add(time.Minute), End: t0.Add(2 * time.Minute), Loss: 1}))
	r := rand.New(rand.NewPCG(1, 1))
	for _, tt := range []struct {
		at time.Duration
		ok bool
	}{{0, true}, {time.Minute, false}, {90 * time.Second, false}, {2 * time.Minute, true}} {
		_, ok := n.Transit(b, a, 100, t0.Add(tt.at), r)
		assert.Equal(t, tt.ok, ok, "at +%v", tt.at)
	}

	// An open-ended degradation lasts.
	require.NoError(t, n.Degrade(b, Degradation{Start: t0.Add(time.Hour), Latency: time.Second}))
	arrive, ok := n.Transit(b, a, 100, t0.Add(1000*time.Hour), r)
	require.True(t, ok)
	assert.Equal(t, time.Second+time.Millisecond, arrive.Sub(t0.Add(1000*time.Hour)))
}

func TestDegradeErrors(t *testing.T) {
	n := newNet(t, Config{})
	a := addHost(t, n, "a", Profile{})
	tests := []struct {
		name string
		h    HostID
		d    Degradation
		want string
	}{
		{"unknown host", 9, Degradation{}, "unknown host 9"},
		{"negative latency", a, Degradation{Latency: -time.Millisecond}, "negative added latency"},
		{"loss above one", a, Degradation{Loss: 1.5}, "not a probability"},
		{"ends before start", a, Degradation{Start: t0.Add(time.Minute), End: t0}, "before it starts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := n.Degrade(tt.h, tt.d)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
