package scenarios

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dc "github.com/ory/dockertest/v3/docker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/live/docker"
	"github.com/sessionsim/sessionsim/live/storeburst"
)

// containerLife is what a watcher saw of one node container: its states in the order they
// came (each once in a row) with when each was first seen, and its addresses while it ran.
type containerLife struct {
	states []string
	since  []time.Time
	ips    map[string]bool
	// hashes is what the node's store held once it ran again after a stop, when it did.
	hashes map[string]bool
}

// TestDockerModeHangAndRestart runs a tiny world in docker mode (make test-docker) with a crash
// that restarts its node after 15 s, a hang of another node for 15 s and a hang to the end.
// A watcher polls the run's containers (by the run's label: another test's run may be under
// way beside it): the crashed one must stop and run again at the same address with the
// messages it had stored, the hung one must be paused and run again, and nothing labelled may
// be left afterwards (a container still paused at the end included).
func TestDockerModeHangAndRestart(t *testing.T) {
	d, sc := dockerTestWorld(t, 0)
	sc.Clients.Platforms = map[string]float64{"desktop": 1}
	sc.Workload.Groups.PerClient, sc.Servers.Push.Enabled, sc.Workload.Attachments.Share = 0, false, 0
	sc.Warmup, sc.Duration, sc.Drain = 15*time.Second, 45*time.Second, 5*time.Second
	sc.Workload.MessagesPerHour = 1200
	crash := Fault{Kind: "crash", At: 5 * time.Second, For: 15 * time.Second, Count: 1}
	hang := Fault{Kind: "hang", At: 6 * time.Second, For: 15 * time.Second, Count: 1} // one of the others: the crashed node is not alive
	frozen := Fault{Kind: "hang", At: 35 * time.Second, Count: 1}
	sc.Faults = []Fault{crash, hang, frozen}

	var mu sync.Mutex
	var seen storesSeen
	lives := map[string]*containerLife{}
	stop, watched := make(chan struct{}), make(chan struct{})
	label := make(chan string, 1)
	go func() {
		defer close(watched)
		var filter map[string][]string
		select {
		case <-stop:
			return
		case run := <-label:
			filter = map[string][]string{"label": {docker.LabelRun + "=" + run}}
		}
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			cs, err := d.pool.Client.ListContainers(dc.ListContainersOptions{All: true, Filters: filter})
			if err != nil {
				continue
			}
			for _, c := range cs {
				if len(c.Names) == 0 || !strings.HasPrefix(c.Names[0][strings.LastIndex(c.Names[0], "-")+1:], "n") {
					continue // the registry (nodes are named n0, n1, ...: docker.NodeName)
				}
				mu.Lock()
				l := lives[c.Names[0]]
				if l == nil {
					l = &containerLife{ips: map[string]bool{}}
					lives[c.Names[0]] = l
				}
				back := c.State == "running" && len(l.states) > 0 && l.states[len(l.states)-1] == "exited"
				if len(l.states) == 0 || l.states[len(l.states)-1] != c.State {
					l.states = append(l.states, c.State)
					l.since = append(l.since, time.Now())
				}
				var ip string
				if c.State == "running" && c.Networks.Networks != nil {
					for _, n := range c.Networks.Networks {
						ip = n.IPAddress
						l.ips[ip] = true
					}
				}
				mu.Unlock()
				if back && ip != "" {
					// Read its store once it serves again (Restart waits until it does).
					go func() {
						for range 50 {
							if hs, err := storeburst.Hashes(docker.AdminURL(netip.MustParseAddr(ip))); err == nil {
								mu.Lock()
								l.hashes = hs
								mu.Unlock()
								return
							}
							time.Sleep(200 * time.Millisecond)
						}
					}()
				}
			}
		}
	}()
	w, s, err := run(sc, RunOptions{Sink: seen.sink, OnDocker: func(run string) { d.started(run); label <- run }})
	close(stop)
	<-watched
	require.NoError(t, err)
	assert.Nil(t, w.docker, "the run removed its containers")
	assert.Positive(t, s.Messages.Delivered, "messages arrived")

	stored := seen.list()
	mu.Lock()
	defer mu.Unlock()
	var restarted, resumed []string
	for _, name := range slices.Sorted(maps.Keys(lives)) {
		l := lives[name]
		t.Logf("%s: %v at %v (from %v)", name, l.states, slices.Sorted(maps.Keys(l.ips)), l.since)
		switch {
		case runAt(l.states, "running", "exited", "running") >= 0:
			restarted = append(restarted, name)
			assert.Len(t, l.ips, 1, "%s restarts at the same address", name)
			ip := slices.Collect(maps.Keys(l.ips))[0]
			killAt := w.epoch.Add(sc.Warmup + crash.At)
			var before []string
			for _, e := range stored {
				if e.node.Addr().String() == ip && e.at.Before(killAt.Add(-time.Second)) {
					before = append(before, e.hash)
				}
			}
			require.NotEmpty(t, before, "%s stored messages before its crash", name)
			require.NotNil(t, l.hashes, "%s's store was read after the restart", name)
			t.Logf("%s stored %d messages before its crash; its store after the restart holds %d", name, len(before), len(l.hashes))
			for _, h := range before {
				assert.True(t, l.hashes[h], "%s keeps message %s across the crash", name, h)
			}
		default:
			// The removal at the end unpauses a container still paused: a resume counts only
			// well before the end.
			end := w.epoch.Add(sc.Warmup + sc.Duration + sc.Drain - 5*time.Second)
			if i := runAt(l.states, "running", "paused", "running"); i >= 0 && l.since[i+2].Before(end) {
				resumed = append(resumed, name)
			}
		}
	}
	assert.Len(t, restarted, 1, "the crash with for restarted its node")
	assert.Len(t, resumed, 1, "the hang with for paused its node and let it run again")

	d.nothingLeft(t)
}

// runAt is where want occurs in states as consecutive entries, -1 if nowhere.
func runAt(states []string, want ...string) int {
	for i := 0; i+len(want) <= len(states); i++ {
		if slices.Equal(states[i:i+len(want)], want) {
			return i
		}
	}
	return -1
}
