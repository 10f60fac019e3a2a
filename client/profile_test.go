package client

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/actor/actortest"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// observedPoll is one retrieve of a client's own swarm as its events show it.
type observedPoll struct {
	start, end time.Time
	dest       actor.Addr
}

// profileNamed is the profile called name, of whichever platform.
func profileNamed(t *testing.T, name string) NetProfile {
	t.Helper()
	i := slices.IndexFunc(profiles, func(np NetProfile) bool { return np.Name == name })
	require.GreaterOrEqual(t, i, 0, "no profile %q", name)
	return profiles[i]
}

// runProfile runs one client of profile np (platform's name) on a fake network of 40 nodes in
// swarms of 8 for d after a 10 s bootstrap; with failing, every retrieve fails at the
// destination (500), which costs no path. It returns the client's own polls in order and
// every event.
func runProfile(t *testing.T, name string, d time.Duration, failing bool) (NetProfile, []observedPoll, actortest.Log) {
	t.Helper()
	np := profileNamed(t, name)
	drv := newDriver()
	f := newFakeNet(t, drv, 40, 8)
	c, _ := newTestClient(t, drv, f, "alice", np.Platform, useProfile(np))
	drv.RunFor(10 * time.Second)
	if failing {
		f.intercept = func(_ *fakeNode, r storagerpc.Request) (int, []byte, bool) {
			if _, ok := r.(*storagerpc.Batch); ok {
				return 500, []byte("request failed"), true
			}
			return 0, nil, false
		}
	}
	from := len(drv.Events)
	drv.RunFor(d)
	var polls []observedPoll
	for _, o := range drv.Events[from:] {
		if rt, ok := o.Event.(OnionRoundTrip); ok && rt.Method == "retrieve" && rt.Account == c.ID() && !rt.Cover {
			polls = append(polls, observedPoll{start: o.At.Add(-rt.RTT), end: o.At, dest: rt.Dest})
		}
	}
	require.NotEmpty(t, polls)
	return np, polls, drv.Events
}

// rounds groups polls that went out together (a desktop round asks 2 members at once, one
// after the other as the client's CPU builds the requests: within a few milliseconds, far
// less than any poll interval).
func rounds(polls []observedPoll) [][]observedPoll {
	var out [][]observedPoll
	for _, p := range polls {
		if n := len(out); n > 0 && p.start.Sub(out[n-1][0].start) < 500*time.Millisecond {
			out[n-1] = append(out[n-1], p)
			continue
		}
		out = append(out, []observedPoll{p})
	}
	return out
}

// waits are the pauses between the end of one round (its last answer) and the start of the
// next: the poll interval, or the backoff after failures.
func waits(rs [][]observedPoll) []time.Duration {
	var out []time.Duration
	for k := 1; k < len(rs); k++ {
		end := rs[k-1][0].end
		for _, p := range rs[k-1] {
			if p.end.After(end) {
				end = p.end
			}
		}
		out = append(out, rs[k][0].start.Sub(end))
	}
	return out
}

// waitTolerance covers the client's CPU work between an answer and the timer it sets.
const waitTolerance = 20 * time.Millisecond

func TestProfilePollingAsObserved(t *testing.T) {
	tests := []struct {
		profile  string
		interval time.Duration // the source's poll interval
		parallel int           // members asked per round
		// members checks the sequence of polled members against the source's rule.
		members func(t *testing.T, dests []actor.Addr)
	}{
		{"desktop-2026", 5 * time.Second, 2, nil},
		{"android-2026", 2 * time.Second, 1, func(t *testing.T, dests []actor.Addr) {
			// SwarmSnodeSelector.kt: each member once, in random order, before any again. The
			// first cycle began before the observed polls, so some alignment of the observed
			// polls must cut them into cycles of 8 different members.
			aligned := slices.ContainsFunc([]int{0, 1, 2, 3, 4, 5, 6, 7}, func(off int) bool {
				for k := off; k+8 <= len(dests); k += 8 {
					cycle := map[actor.Addr]bool{}
					for _, d := range dests[k : k+8] {
						cycle[d] = true
					}
					if len(cycle) != 8 {
						return false
					}
				}
				return true
			})
			assert.True(t, aligned, "the polls fall into cycles of all 8 members: %v", dests)
		}},
		{"ios-2026", 1500 * time.Millisecond, 1, func(t *testing.T, dests []actor.Addr) {
			// CurrentUserPoller.swift: 6 polls of a member, then another one.
			runs := 0
			for k := 0; k < len(dests); {
				n := 1
				for k+n < len(dests) && dests[k+n] == dests[k] {
					n++
				}
				// The first run began before the observed polls, the last is cut by the end.
				if k > 0 && k+n < len(dests) {
					assert.Equal(t, 6, n, "a member serves 6 polls (from poll %d)", k)
					runs++
				}
				k += n
			}
			assert.Greater(t, runs, 3)
		}},
		{"android-2024", 2 * time.Second, 1, func(t *testing.T, dests []actor.Addr) {
			// The 2024 app stays on one member until it fails; none fails here.
			assert.Len(t, slices.Compact(slices.Clone(dests)), 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			_, polls, _ := runProfile(t, tt.profile, 2*time.Minute, false)
			rs := rounds(polls)
			want := int(2 * time.Minute / tt.interval)
			assert.InDelta(t, want, len(rs), float64(want)/5, "rounds in 2 minutes at one per %v plus a round trip", tt.interval)
			for k, w := range waits(rs) {
				assert.InDelta(t, float64(tt.interval), float64(w), float64(waitTolerance), "wait %d", k)
			}
			var dests []actor.Addr
			for _, r := range rs {
				require.Len(t, r, tt.parallel)
				if tt.parallel == 2 {
					assert.NotEqual(t, r[0].dest, r[1].dest, "a round asks 2 different members")
				}
				dests = append(dests, r[0].dest)
			}
			if tt.members != nil {
				tt.members(t, dests)
			}
		})
	}
}

func TestProfileBackoffAsObserved(t *testing.T) {
	tests := []struct {
		profile string
		// want are the waits after 1, 2, ... consecutive failed rounds, from the source's
		// formula; the last one repeats once the cap is reached.
		want []time.Duration
	}{
		// BasePoller.kt: 2 s + min(10 s, 2 s x (k-1)).
		{"android-2026", []time.Duration{2 * time.Second, 4 * time.Second, 6 * time.Second, 8 * time.Second, 10 * time.Second, 12 * time.Second, 12 * time.Second}},
		// CurrentUserPoller.swift: min(15 s, 1.5 s + 0.25 s x k x 1.2).
		{"ios-2026", []time.Duration{1800 * time.Millisecond, 2100 * time.Millisecond, 2400 * time.Millisecond, 2700 * time.Millisecond, 3 * time.Second}},
		// The 2024 Android app: min(15 s, 2 s x 1.2^k).
		{"android-2024", []time.Duration{2400 * time.Millisecond, 2880 * time.Millisecond, 3456 * time.Millisecond, 4147200 * time.Microsecond}},
		// Desktop has no backoff: the normal 5 s.
		{"desktop-2026", []time.Duration{5 * time.Second, 5 * time.Second, 5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			_, polls, _ := runProfile(t, tt.profile, time.Minute, true)
			got := waits(rounds(polls))
			require.GreaterOrEqual(t, len(got), len(tt.want))
			for k, w := range tt.want {
				assert.InDelta(t, float64(w), float64(got[k]), float64(waitTolerance), "wait after %d failures", k+1)
			}
		})
	}
}

func TestProfileRotationAsObserved(t *testing.T) {
	tests := []struct {
		profile string
		rotate  time.Duration // 0: the profile keeps its paths
	}{
		{"android-2026", 10 * time.Minute}, // PathManager.kt
		{"ios-2026", 10 * time.Minute},     // libsession-util network_config.hpp
		{"desktop-2026", 0},
		{"android-2024", 0},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			np, _, events := runProfile(t, tt.profile, 25*time.Minute, false)
			n := np.Config().Paths + np.FilePaths
			var first time.Time
			var rotations []time.Time
			for _, o := range events {
				if b, ok := o.Event.(PathBuilt); ok {
					if !b.Rebuild {
						first = o.At
						continue
					}
					rotations = append(rotations, o.At)
				}
			}
			if tt.rotate == 0 {
				assert.Empty(t, rotations)
				return
			}
			// Every path (the file paths too) is rotated at the first request after each
			// period; the phones send one at least every 2 s, so each set comes within 5 s (a
			// poll and its round trips) of the period's end, counted from the previous set.
			require.Len(t, rotations, 2*n, "two rotations of every path in 25 minutes")
			prev := first
			for k := 0; k < len(rotations); k += n {
				for _, at := range rotations[k : k+n] {
					assert.GreaterOrEqual(t, at.Sub(prev), tt.rotate, "rotation %d", k)
					assert.Less(t, at.Sub(prev), tt.rotate+5*time.Second, "rotation %d", k)
				}
				prev = rotations[k]
			}
		})
	}
}
