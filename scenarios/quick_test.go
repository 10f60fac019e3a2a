package scenarios

import (
	"bytes"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShorten(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Scenario)
		want func(*Scenario)
	}{
		{"counts by 10, times by 4", func(s *Scenario) {
			s.Nodes.Count, s.Clients.Count = 2000, 20000
			s.Duration, s.Warmup, s.Drain = 40*time.Minute, 4*time.Minute, 8*time.Minute
		}, func(s *Scenario) {
			s.Nodes.Count, s.Clients.Count = 200, 2000
			s.Duration, s.Warmup, s.Drain = 10*time.Minute, time.Minute, 2*time.Minute
		}},
		{"floors", func(s *Scenario) {
			s.Nodes.Count, s.Clients.Count = 150, 300
			s.Duration, s.Warmup, s.Drain = 6*time.Minute, time.Minute, 2*time.Minute
		}, func(s *Scenario) {
			s.Nodes.Count, s.Clients.Count = 20, 100
			s.Duration, s.Warmup, s.Drain = 2*time.Minute, 30*time.Second, time.Minute
		}},
		{"never grows", func(s *Scenario) {
			s.Nodes.Count, s.Clients.Count, s.Workload.Contacts = 12, 8, 4
			s.Duration, s.Warmup, s.Drain = time.Minute, 10*time.Second, 0
		}, func(s *Scenario) {
			s.Nodes.Count, s.Clients.Count, s.Workload.Contacts = 12, 8, 4
			s.Duration, s.Warmup, s.Drain = time.Minute, 10*time.Second, 0
		}},
		{"rounds counts up", func(s *Scenario) { s.Nodes.Count, s.Clients.Count = 301, 1001 },
			func(s *Scenario) { s.Nodes.Count, s.Clients.Count = 31, 101 }},
		{"contacts below the clients", func(s *Scenario) { s.Clients.Count, s.Workload.Contacts = 1000, 150 },
			func(s *Scenario) { s.Clients.Count, s.Workload.Contacts = 100, 99 }},
		{"faults", func(s *Scenario) {
			s.Faults = []Fault{{Kind: "crash", At: 8 * time.Minute, Count: 15}, {Kind: "partition", At: 4 * time.Minute, For: 10 * time.Minute, Regions: []string{"us-east-1"}}}
		}, func(s *Scenario) {
			s.Faults = []Fault{{Kind: "crash", At: 2 * time.Minute, Count: 2}, {Kind: "partition", At: time.Minute, For: 150 * time.Second, Regions: []string{"us-east-1"}}}
		}},
		{"churn, sessions and the flash crowd", func(s *Scenario) {
			s.Nodes.Churn = Churn{CrashesPerHour: 10, JoinsPerHour: 20, LifetimeMedian: time.Hour, LifetimeShape: 1.2}
			s.Clients.Sessions = Sessions{MeanOnline: 8 * time.Minute, MeanOffline: 4 * time.Minute}
			s.Clients.FlashCrowd = FlashCrowd{Fraction: 0.3, At: 4 * time.Minute, Within: time.Minute}
		}, func(s *Scenario) {
			s.Nodes.Churn = Churn{CrashesPerHour: 4, JoinsPerHour: 8, LifetimeMedian: 15 * time.Minute, LifetimeShape: 1.2}
			s.Clients.Sessions = Sessions{MeanOnline: 2 * time.Minute, MeanOffline: time.Minute}
			s.Clients.FlashCrowd = FlashCrowd{Fraction: 0.3, At: time.Minute, Within: 15 * time.Second}
		}},
		{"quick checks replace the checks", func(s *Scenario) {
			s.Checks, s.Quick.Checks = []string{"delivery_ratio >= 0.999"}, []string{"delivery_ratio >= 0.9"}
		}, func(s *Scenario) { s.Checks = []string{"delivery_ratio >= 0.9"} }},
		{"no quick checks keeps the checks", func(s *Scenario) { s.Checks = []string{"messages.lost == 0"} },
			func(s *Scenario) { s.Checks = []string{"messages.lost == 0"} }},
		{"quick clients and duration below the scaled ones replace them", func(s *Scenario) {
			s.Quick.Clients, s.Quick.Duration = 150, 3*time.Minute
			s.Clients.Count = 5000
		}, func(s *Scenario) { s.Clients.Count, s.Duration = 150, 3*time.Minute }},
		{"quick clients and duration above the scaled ones change nothing", func(s *Scenario) {
			s.Quick.Clients, s.Quick.Duration = 1000, time.Hour
		}, func(*Scenario) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := func() Scenario {
				s := Default()
				// The fixed part of the scaling, on every case: default counts and times.
				s.Nodes.Count, s.Clients.Count = 100, 200
				return s
			}
			got, want := base(), base()
			tc.edit(&got)
			tc.edit(&want)
			// What every case scales the same way unless it says otherwise.
			want.Nodes.Count, want.Clients.Count = 20, 100
			want.Duration, want.Warmup, want.Drain = 5*time.Minute, 30*time.Second, time.Minute
			tc.want(&want)
			got.Shorten()
			want.Quick = Quick{}
			got.Description, want.Description = "", ""
			assert.Equal(t, want, got)
			require.NoError(t, got.Validate(), "the shortened scenario is valid")
		})
	}
}

func TestShortenDescription(t *testing.T) {
	s, err := Load("large", LoadOptions{Quick: true})
	require.NoError(t, err)
	assert.Contains(t, s.Description, "[quick: 200 nodes, 2000 clients, 2m30s]")
	b, err := s.YAML()
	require.NoError(t, err)
	assert.NotContains(t, string(b), "\nquick:", "the resolved quick scenario runs the same quick run again as it is")
}

func TestParetoLifetime(t *testing.T) {
	cases := []struct {
		u     float64
		shape float64
		want  time.Duration
	}{
		{0.5, 1.5, time.Hour},     // the median
		{0, 1.5, 0},               // short lifetimes occur, unlike the Pareto of the first kind
		{0.75, 1, 3 * time.Hour},  // shape 1: scale is the median and P(L > x) = median/(median+x)
		{0.99, 1, 99 * time.Hour}, // the heavy tail
	}
	for _, tc := range cases {
		got := paretoLifetime(time.Hour, tc.shape, tc.u)
		assert.InDelta(t, float64(tc.want), float64(got), float64(time.Millisecond), "u=%v shape=%v", tc.u, tc.shape)
	}
	assert.Positive(t, paretoLifetime(time.Hour, 0.1, math.Nextafter(1, 0)), "an extreme draw does not overflow")
}

func TestLifetimesCrashNodes(t *testing.T) {
	count := func(edit func(*Scenario)) int {
		w := faultWorld(t, edit)
		runTo(w, w.sc.Duration+w.sc.Drain)
		return crashed(t, w)
	}
	assert.Zero(t, count(func(*Scenario) {}), "no lifetimes, no crashes")
	short := count(func(s *Scenario) { s.Nodes.Churn.LifetimeMedian = 2 * time.Minute })
	long := count(func(s *Scenario) { s.Nodes.Churn.LifetimeMedian = 30 * time.Minute })
	// 5 minutes of sending with shape 1.5: a 2m median kills 74% of the 20 nodes on average,
	// a 30m median 13%.
	assert.Greater(t, short, 10)
	assert.Less(t, long, 6)
}

func TestLargestOperatorTarget(t *testing.T) {
	w := faultWorld(t, func(s *Scenario) {
		s.Nodes.LargestOperatorShare = 0.2
		s.Faults = []Fault{{Kind: "crash", At: time.Minute, Target: "largest-operator", Fraction: 1}}
	})
	var largest []int
	for i, n := range w.nodes {
		if n.operator == 0 {
			largest = append(largest, i)
		}
	}
	require.Len(t, largest, 4, "20% of 20 nodes")
	runTo(w, time.Minute)
	for i, n := range w.nodes {
		assert.Equal(t, !slices.Contains(largest, i), n.alive, "%s: only the largest operator's nodes crash", n.name)
	}
}

func TestFlashCrowd(t *testing.T) {
	w := faultWorld(t, func(s *Scenario) {
		s.Clients.Count, s.Workload.Contacts = 30, 4
		s.Clients.FlashCrowd = FlashCrowd{Fraction: 1.0 / 3, At: 2 * time.Minute, Within: time.Minute}
	})
	waiting := func() (n int) {
		for _, c := range w.clients {
			if c.waiting {
				assert.False(t, w.eng.Alive(c.addr), "%s has not started", c.name)
				assert.False(t, c.online, "%s is offline until it starts", c.name)
				n++
			}
		}
		return n
	}
	runTo(w, 2*time.Minute-time.Millisecond)
	assert.Equal(t, 10, waiting(), "a third of the clients wait for the burst")
	runTo(w, 3*time.Minute)
	assert.Zero(t, waiting(), "all of them started within the minute")
	for _, c := range w.clients {
		assert.True(t, w.eng.Alive(c.addr))
	}
}

func TestExplainCoversEveryKey(t *testing.T) {
	keys := schemaKeys()
	for k, kind := range keys {
		if kind != structKey {
			assert.Contains(t, keyDocs, k, "key %s needs an entry in keyDocs", k)
		}
	}
	for k, d := range keyDocs {
		kind, ok := keys[k]
		assert.True(t, ok && kind != structKey, "keyDocs entry %s names no key of the schema", k)
		assert.NotEmpty(t, d.unit, k)
		assert.NotEmpty(t, d.meaning, k)
	}
	var out bytes.Buffer
	require.NoError(t, Explain(&out))
	for k, kind := range keys {
		if kind != structKey {
			assert.Contains(t, out.String(), "\n"+k+" ", "the explanation lists %s", k)
		}
	}
	assert.Regexp(t, `\nnodes\.count +nodes +100 +service nodes`, out.String(), "a row gives unit, default and meaning")
}

// TestExplainListsEveryChoice holds the unit of each key that takes one of a few words to the
// words its validation accepts: the refusal of an unknown word names them all.
func TestExplainListsEveryChoice(t *testing.T) {
	for _, key := range []string{"mode", "crypto", "wire", "nodes.storage_server", "registry.obligations", "clients.encoding",
		"clients.guard_test", "workload.graph", "workload.activity", "workload.attachments.download"} {
		t.Run(key, func(t *testing.T) {
			_, err := Load("default", LoadOptions{Sets: []string{key + "=no-such-choice"}})
			require.Error(t, err)
			refusal := regexp.MustCompile(`must be (.*)$`).FindStringSubmatch(err.Error())
			require.NotNil(t, refusal, err.Error())
			var accepted []string
			for _, m := range regexp.MustCompile(`"([^"]+)"`).FindAllStringSubmatch(refusal[1], -1) {
				accepted = append(accepted, m[1])
			}
			assert.ElementsMatch(t, accepted, strings.Split(keyDocs[key].unit, "|"))
		})
	}
}

func TestFaultKindExamples(t *testing.T) {
	require.Equal(t, FaultKinds(), []string{"crash", "hang", "degrade", "offline", "partition"})
	for _, f := range faultDocs {
		t.Run(f.kind, func(t *testing.T) {
			src := "name: example\nfaults: [" + f.example + "]\n"
			s, err := Parse([]byte(src), "example.yaml", LoadOptions{})
			require.NoError(t, err, "the example of %s is a valid fault", f.kind)
			assert.Equal(t, f.kind, s.Faults[0].Kind)
		})
	}
	_, err := Parse([]byte("name: t\nfaults: [{kind: flood, at: 1m, count: 1}]\n"), "t.yaml", LoadOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "crash, hang, degrade, offline, partition")
}

func TestLibraryFaultValidation(t *testing.T) {
	cases := []struct {
		name, src, key, reason string
	}{
		{"phones only degrade", "faults: [{kind: crash, at: 1m, target: phones, count: 1}]", "faults[0].target", "only a degrade"},
		{"target only crash or degrade", "faults: [{kind: offline, at: 1m, for: 1m, target: paths, count: 1}]", "faults[0].target", "only a crash, hang or degrade"},
		{"phones counted among clients", "faults: [{kind: degrade, at: 1m, target: phones, count: 300}]", "faults[0].count", "clients.count"},
		{"lifetime shape", "nodes: {churn: {lifetime_median: 1h, lifetime_shape: 0}}", "nodes.churn.lifetime_shape", "Pareto"},
		{"negative lifetime", "nodes: {churn: {lifetime_median: -1m}}", "nodes.churn.lifetime_median", "negative"},
		{"crowd past the end", "clients: {flash_crowd: {fraction: 0.3, at: 19m, within: 2m}}", "clients.flash_crowd.within", "end of the sending period"},
		{"crowd fraction", "clients: {flash_crowd: {fraction: 1.5}}", "clients.flash_crowd.fraction", "between 0 and 1"},
		{"quick check on no figure", "quick: {checks: [delivery_rate >= 1]}", "quick.checks[0]", "delivery_ratio"},
		{"negative quick clients", "quick: {clients: -5}", "quick.clients", "negative"},
		{"negative quick duration", "quick: {duration: -1m}", "quick.duration", "negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte("name: t\n"+tc.src+"\n"), "t.yaml", LoadOptions{})
			var se *Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.key, se.Key)
			assert.Contains(t, se.Reason, tc.reason)
		})
	}
}
