package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestEstimateMemoryCountsTraffic checks that the estimate grows with what the clients' traffic
// stores over the run, in proportion to its length and sending rate, and not for idle clients.
func TestEstimateMemoryCountsTraffic(t *testing.T) {
	world := func(clients int, duration time.Duration, perHour float64) Scenario {
		sc := Default()
		sc.Nodes.Count, sc.Clients.Count = 100, clients
		sc.Duration, sc.Drain = duration, 0
		sc.Workload.MessagesPerHour = perHour
		return sc
	}
	tests := []struct {
		name        string
		short, long Scenario
		want        uint64 // what long needs more than short
	}{
		{"an hour more at 30 messages an hour", world(1000, time.Hour, 30), world(1000, 2*time.Hour, 30), 1000 * 60 * bytesPerClientMinute},
		{"half the rate, half the growth", world(1000, time.Hour, 15), world(1000, 2*time.Hour, 15), 1000 * 60 * bytesPerClientMinute / 2},
		{"idle clients store nothing", world(1000, time.Hour, 0), world(1000, 2*time.Hour, 0), 0},
		{"up to the messages' lifetime", world(1000, 13*24*time.Hour, 30), world(1000, 14*24*time.Hour, 30), 1000 * 24 * 60 * bytesPerClientMinute},
		{"no more once the first messages expire", world(1000, 14*24*time.Hour, 30), world(1000, 60*24*time.Hour, 30), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, EstimateMemory(tt.long)-EstimateMemory(tt.short))
		})
	}
}

// TestFitsMemoryNamesTheTraffic checks that a world refused for its run's length names the
// clients and what their traffic stores.
func TestFitsMemoryNamesTheTraffic(t *testing.T) {
	sc := Default()
	sc.Nodes.Count, sc.Clients.Count, sc.Duration = 100, 10_000, 1000*time.Hour
	err := sc.fitsMemory(8 << 30)
	if assert.Error(t, err) {
		assert.Contains(t, err.Error(), "clients.count")
		assert.Contains(t, err.Error(), "of stored messages and records")
	}
}
