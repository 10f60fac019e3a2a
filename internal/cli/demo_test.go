package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/reports"
)

// runDemoCLI runs the demo command with args.
func runDemoCLI(args ...string) (int, string, string) {
	return runCLI(append([]string{"demo"}, args...)...)
}

// measured drops the lines that depend on the wall clock or the Go heap.
func measured(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "simulated") || strings.Contains(l, "per wall-clock second") || strings.HasPrefix(l, "heap") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

func TestDemoRuns(t *testing.T) {
	code, out, errOut := runDemoCLI("--actors", "300", "--duration", "5s", "--seed", "3")
	require.Equal(t, 0, code, errOut)
	for _, want := range []string{"300 actors", "seed 3", "simulated 5s of virtual time", "same region", "between continents", "answered", "busiest host"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "no calls")

	_, again, _ := runDemoCLI("--actors", "300", "--duration", "5s", "--seed", "3")
	assert.Equal(t, measured(out), measured(again), "same seed, same measurements")
	_, other, _ := runDemoCLI("--actors", "300", "--duration", "5s", "--seed", "4")
	assert.NotEqual(t, measured(out), measured(other), "another seed, another run")
}

func TestDemoRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--actors", "1"}, "--actors 1"},
		{[]string{"--actors", "999999999"}, "--actors"},
		{[]string{"--actors", "many"}, "many"},
		{[]string{"--duration", "0s"}, "--duration"},
		{[]string{"--duration", "-5s"}, "--duration"},
		{[]string{"--duration", (25 * time.Hour).String()}, "--duration"},
		{[]string{"--seed", "-1"}, "seed"},
		{[]string{"extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runDemoCLI(tt.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tt.want)
		})
	}
}

func TestDemoHelpers(t *testing.T) {
	assert.Equal(t, "1,234,567", demoCount(1234567))
	assert.Equal(t, "999", demoCount(999))
	assert.Equal(t, "-1,000", demoCount(-1000))
	assert.Equal(t, "512 B", reports.ByteSize(512))
	assert.Equal(t, "1.5 KiB", reports.ByteSize(1536))
	assert.Equal(t, uint8(classSameRegion), demoRegionClass("eu-west-1", "eu-west-1"))
	assert.Equal(t, uint8(classSameContinent), demoRegionClass("eu-west-1", "eu-central-1"))
	assert.Equal(t, uint8(classIntercontinental), demoRegionClass("eu-west-1", "us-east-1"))

	var s demoStats
	for i := 1; i <= 1000; i++ {
		s.record(classSameRegion, time.Duration(i)*time.Millisecond, nil)
	}
	s.record(classSameRegion, time.Hour, actor.ErrTimeout)
	s.record(classSameRegion, time.Hour, actor.ErrUnreachable)
	h := &s.rtt[classSameRegion]
	assert.Equal(t, []int{1000, 1, 1}, []int{s.answered, s.timedOut, s.unreached})
	assert.Equal(t, uint64(1000), h.Count(), "only answered calls have a round trip")
	assert.InEpsilon(t, float64(500*time.Millisecond), float64(micros(h.Quantile(0.5))), 0.011)
	assert.InEpsilon(t, float64(990*time.Millisecond), float64(micros(h.Quantile(0.99))), 0.011)
	assert.Equal(t, time.Second, micros(h.Max()))

}
