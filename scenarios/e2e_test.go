package scenarios

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/node/store"
	"github.com/sessionsim/sessionsim/results"
)

// small is the end-to-end test network: about 30 nodes and 50 clients, always online unless
// a test says otherwise.
func small(t *testing.T, crypto string) Scenario {
	t.Helper()
	s := Default()
	s.Name = "e2e"
	s.Crypto = crypto
	s.Nodes.Count = 30
	s.Clients.Count = 50
	s.Warmup = time.Minute
	s.Duration = 8 * time.Minute
	s.Drain = 2 * time.Minute
	s.Workload.Contacts = 4
	s.Workload.MessagesPerHour = 40
	require.NoError(t, s.Validate())
	return s
}

// endToEnd skips t under -short, where a whole run is too slow (why says what it runs), and
// otherwise runs it in parallel with the other end-to-end tests.
func endToEnd(t *testing.T, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip(why)
	}
	t.Parallel()
}

// tiny is the smallest end-to-end run: 20 nodes, 20 clients, modeled crypto, 3 minutes of
// sending between 1 minute of warmup and 2 of drain.
func tiny(t *testing.T) Scenario {
	t.Helper()
	sc := small(t, "modeled")
	sc.Nodes.Count = 20
	sc.Clients.Count = 20
	sc.Duration = 3 * time.Minute
	return sc
}

func TestEndToEndNoFaults(t *testing.T) {
	endToEnd(t, "end-to-end run")
	for _, crypto := range []string{"real", "modeled"} {
		t.Run(crypto, func(t *testing.T) {
			t.Parallel() // the two runs share nothing
			_, sum, err := run(small(t, crypto), RunOptions{})
			require.NoError(t, err)
			m := sum.Messages
			require.Greater(t, m.Sent, uint64(150), "the workload sends")
			assert.Zero(t, m.Pending, "everyone is online")
			require.NotNil(t, sum.DeliveryRatio)
			assert.GreaterOrEqual(t, *sum.DeliveryRatio, 0.999, "lost: %v", m.LostByCause)
			assert.Equal(t, m.Sent, m.Delivered+m.Lost+m.Pending+m.Undeliverable)
			assert.GreaterOrEqual(t, sum.Replication.MinCopies, 5.0, "every stored message is on a whole swarm")
			assert.Positive(t, sum.OnionRTTMs.P50)
			assert.Empty(t, sum.Garbage)
		})
	}
}

func TestEndToEndPathNodesCrash(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := small(t, "modeled")
	sc.Faults = []Fault{{At: 3 * time.Minute, Kind: "crash", Target: "paths", Count: 3}}
	w, sum, err := run(sc, RunOptions{})
	require.NoError(t, err)
	crashed := 0
	for _, n := range w.nodes {
		if !n.alive {
			crashed++
		}
	}
	require.Equal(t, 3, crashed)
	assert.Positive(t, sum.Paths.Rebuilds, "clients rebuilt paths through the crashed nodes")
	require.NotNil(t, sum.DeliveryRatio)
	assert.GreaterOrEqual(t, *sum.DeliveryRatio, 0.99, "lost: %v", sum.Messages.LostByCause)
}

func TestEndToEndOfflineClientCatchesUp(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := small(t, "modeled")
	sc.Duration = 12 * time.Minute
	sc.Faults = []Fault{{At: time.Minute, For: 10 * time.Minute, Kind: "offline", Count: 5}}
	w, sum, err := run(sc, RunOptions{})
	require.NoError(t, err)
	var toOffline, deliveredToOffline int
	for i, pinnedOnce := range offlineClients(w) {
		if !pinnedOnce {
			continue
		}
		for _, h := range w.col.order {
			rec := w.col.messages[h]
			sentDuringOutage := rec.sentAt.After(w.epoch.Add(sc.Warmup+time.Minute)) && rec.sentAt.Before(w.epoch.Add(sc.Warmup+11*time.Minute))
			if rec.recipient == i && sentDuringOutage {
				toOffline++
				if rec.delivered {
					deliveredToOffline++
				}
			}
		}
	}
	require.Greater(t, toOffline, 10, "messages were sent to the clients while they were away")
	assert.Equal(t, toOffline, deliveredToOffline, "everything sent while offline arrives after the return")
	assert.Zero(t, sum.Messages.Pending)
}

// offlineClients reports which clients the offline fault took down: their lastOnline is the
// fault's start.
func offlineClients(w *world) []bool {
	out := make([]bool, len(w.clients))
	for i := range w.clients {
		out[i] = !w.col.lastOnline[i].IsZero()
	}
	return out
}

func TestEndToEndUnknownRecipients(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sc := small(t, "modeled")
	sc.Duration = 4 * time.Minute
	sc.Workload.UnknownRecipientShare = 0.25
	w, sum, err := run(sc, RunOptions{})
	require.NoError(t, err)
	m := sum.Messages
	require.Positive(t, m.Undeliverable)
	unknownStored := 0
	for _, h := range w.col.order {
		rec := w.col.messages[h]
		if rec.recipient < 0 {
			assert.False(t, rec.delivered, "a message to nobody is never delivered")
			if rec.stored() {
				unknownStored++
			}
		}
	}
	assert.Equal(t, int(m.Undeliverable), unknownStored, "messages to unknown IDs are still stored by their swarm")
	require.NotNil(t, sum.DeliveryRatio)
	assert.GreaterOrEqual(t, *sum.DeliveryRatio, 0.999)
}

func TestSameSeedSameSummary(t *testing.T) {
	endToEnd(t, "end-to-end run")
	cases := []struct {
		name string
		edit func(*Workload)
	}{
		{"uniform", func(*Workload) {}},
		{"heavy-tailed with replies", func(w *Workload) { w.Activity, w.ReplyProbability = "heavy-tailed", 0.5 }},
		{"attachments on open", func(w *Workload) {
			w.Attachments.Share, w.Attachments.Download, w.ReplyProbability = 0.5, DownloadOnOpen, 0.3
		}},
		{"groups with removals", func(w *Workload) {
			w.Groups = Groups{PerClient: 2, Size: SizeDist{Median: 6, Sigma: 1, Min: 2, Max: 20}, MessagesPerHour: 30, Overlap: 0.5, RemovalsPerHour: 6}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := tiny(t)
			sc.Clients.Sessions = Sessions{MeanOnline: 2 * time.Minute, MeanOffline: time.Minute}
			tc.edit(&sc.Workload)
			encode := func(sc Scenario) []byte {
				s, err := Run(sc, RunOptions{Version: "test"})
				require.NoError(t, err)
				b, err := json.Marshal(s)
				require.NoError(t, err)
				return b
			}
			first := encode(sc)
			assert.Equal(t, string(first), string(encode(sc)), "same seed, same summary, byte for byte")
			sc.Seed = 2
			assert.NotEqual(t, string(first), string(encode(sc)), "another seed, another run")
		})
	}
}

// TestSmallestNetworkDelivers checks that the minimum Validate enforces is the real one: a
// network of exactly that many nodes delivers, and one node fewer is refused.
func TestSmallestNetworkDelivers(t *testing.T) {
	endToEnd(t, "end-to-end run")
	s := small(t, "modeled")
	least, _ := s.minNodes()
	s.Nodes.Count = least
	s.Clients.Count = 20
	s.Duration = 4 * time.Minute
	require.NoError(t, s.Validate())
	_, sum, err := run(s, RunOptions{})
	require.NoError(t, err)
	require.Positive(t, sum.Messages.Sent)
	assert.NotContains(t, sum.Messages.LostByCause, "store-no-swarm")
	require.NotNil(t, sum.DeliveryRatio)
	assert.GreaterOrEqual(t, *sum.DeliveryRatio, 0.95, "lost: %v", sum.Messages.LostByCause)

	s.Nodes.Count = least - 1
	assert.ErrorContains(t, s.Validate(), "nodes.count")
}

// TestTimelinePhases runs a short scenario and reads its timeline phase by phase: nothing is
// sent in the warmup or the drain, the sending minutes hold every message, and once messages
// are stored every minute has live copies to count, the drain included.
func TestTimelinePhases(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sum := runShared(t, tiny(t)).sum
	require.Len(t, sum.Timeline, 6, "1m warmup + 3m sending + 2m drain, a bucket a minute")
	phases := []struct {
		name       string
		from, to   int // buckets [from, to)
		sends      bool
		copiesFrom int // first bucket with live copies
	}{
		{"warmup", 0, 1, false, 1},
		{"sending", 1, 4, true, 1},
		{"drain", 4, 6, false, 4},
	}
	var sent, delivered, lost uint64
	for _, ph := range phases {
		t.Run(ph.name, func(t *testing.T) {
			for i := ph.from; i < ph.to; i++ {
				b := sum.Timeline[i]
				assert.Equal(t, float64(60*i), b.StartSeconds)
				assert.Equal(t, ph.sends, b.Sent > 0, "bucket %d sent %d", i, b.Sent)
				assert.Equal(t, i >= ph.copiesFrom, b.Copies != nil, "bucket %d copies", i)
				if b.Copies != nil {
					assert.GreaterOrEqual(t, b.Copies.MinCopies, sum.Replication.MinCopies)
				}
				sent, delivered, lost = sent+b.Sent, delivered+b.Delivered, lost+b.Lost
			}
		})
	}
	assert.Equal(t, sum.Messages.Sent, sent)
	assert.Equal(t, sum.Messages.Delivered, delivered)
	assert.Equal(t, sum.Messages.Lost, lost)
	var byPlatform uint64
	for _, q := range sum.EndToEndByPlatform {
		byPlatform += q.Count
	}
	assert.Equal(t, sum.EndToEndMs.Count, byPlatform, "each delivered message under its recipient's platform")
}

// TestRequestMixAndSyncCopies checks on a small run that the summary shows a sync copy for
// every message stored (everyone is online, so every copy is stored before the drain ends),
// that each poll counts once per namespace, and that the forwards charged to platforms add up
// to the store forwards.
func TestRequestMixAndSyncCopies(t *testing.T) {
	endToEnd(t, "end-to-end run")
	sum := runShared(t, tiny(t)).sum
	require.Positive(t, sum.Store.Succeeded, "the workload sends")
	assert.Equal(t, sum.Store.Succeeded, sum.Store.SyncCopies, "one sync copy per stored message")
	assert.Zero(t, sum.Store.SyncCopiesFailed)

	var stores, byPlatform uint64
	require.NotEmpty(t, sum.RPCByMethod)
	for platform, methods := range sum.RPCByMethod {
		stores += methods["store"]["0"]
		polls := methods["retrieve"]["0"]
		assert.Positive(t, polls, platform)
		for _, ns := range []string{"2", "3", "4", "5"} {
			assert.Equal(t, polls, methods["retrieve"][ns], "%s: a poll asks every namespace", platform)
		}
		byPlatform += sum.Traffic.ForwardsByPlatform[platform]["store"]
	}
	// An attempt that found no path sent nothing; each stored message or copy sent one at least.
	assert.GreaterOrEqual(t, stores, sum.Store.Succeeded+sum.Store.SyncCopies, "messages and their copies are store requests")
	assert.Equal(t, sum.Traffic.ForwardsByCause["store"], byPlatform, "every store forward is charged to a sender")
}

// TestConfigTrafficAndExpiry checks on a small run that clients store config messages in their
// own swarm, that every poll's expire reaches every member of the poller's swarm (the forwards
// expected from the run's own expires and swarm sizes), that the nodes report expiries moved
// and hold config messages whose expiry is past the 30 days they were stored with, and that
// the TTLs the nodes hold are each kind's.
func TestConfigTrafficAndExpiry(t *testing.T) {
	endToEnd(t, "end-to-end run")
	r := runShared(t, tiny(t))
	w, sum := r.w, r.sum

	st := sum.Store
	var byNS uint64
	for _, n := range st.ConfigByNamespace {
		byNS += n
	}
	assert.Equal(t, st.ConfigMessages, byNS)
	for _, ns := range []string{"2", "3", "4"} {
		assert.Positive(t, st.ConfigByNamespace[ns], "namespace %s: profile, contacts, conversations", ns)
	}
	assert.Zero(t, st.ConfigByNamespace["5"], "no groups or communities: the user groups config never changes")

	tr := sum.Traffic
	require.Positive(t, tr.ExpireRequests)
	var expires uint64
	for platform, methods := range sum.RPCByMethod {
		e := methods["expire"][results.NoNamespace]
		assert.Positive(t, e, platform)
		assert.LessOrEqual(t, e, methods["retrieve"]["0"], "%s: at most one expire per poll", platform)
		expires += e
	}
	assert.Equal(t, tr.ExpireRequests, expires, "each expire sent is in the request mix")
	require.Positive(t, sum.Network.Swarms)
	peers := float64(sum.Network.ActiveNodes)/float64(sum.Network.Swarms) - 1
	assert.InEpsilon(t, float64(tr.ExpireRequests)*peers, float64(tr.ForwardsByCause["expire"]), 0.2,
		"each expire forwarded to the other members of a swarm of %.1f peers", peers)
	assert.Positive(t, tr.ConfigExpiryUpdates, "the desktop's and iOS's expires move expiries")

	configNS := map[int16]bool{}
	extended := 0
	for _, wn := range w.nodes {
		require.NoError(t, wn.n.Store().EachInRange(store.FullSpace, func(m store.Message) bool {
			life := time.Duration(m.Expiry-m.Timestamp) * time.Millisecond
			if m.Namespace == 0 {
				assert.Equal(t, 14*24*time.Hour, life, "1:1 messages and sync copies")
				return true
			}
			assert.GreaterOrEqual(t, life, 30*24*time.Hour, "config messages, namespace %d", m.Namespace)
			if life > 30*24*time.Hour {
				extended++
			}
			configNS[m.Namespace] = true
			return true
		}))
	}
	assert.Positive(t, extended, "config messages kept alive past the 30 days they were stored with")
	assert.Equal(t, map[int16]bool{2: true, 3: true, 4: true}, configNS, "config messages in namespaces 2, 3 and 4")
}
