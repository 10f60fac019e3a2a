package scenarios

import (
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/metrics"
	"github.com/sessionsim/sessionsim/node"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// collector turns the events actors observe into the run's measurements. It is the simulator's
// ground truth: it sees every client's sends and decrypts and every node's stores.
type collector struct {
	communities communityTally            // servers.communities' polls and server traffic
	clientIndex map[actor.Addr]int        // client address -> index
	clientByID  map[identity.ID]int       // Session ID -> client index
	platform    []string                  // client index -> platform
	ids         []identity.ID             // client index -> Session ID
	online      []bool                    // client index -> online now
	lastOnline  []time.Time               // client index -> last moment online (valid when !online)
	messages    map[string]*messageRecord // message hash -> record
	order       []string                  // message hashes in send order (deterministic iteration)
	nodeIndex   map[actor.Addr]int        // node address -> index
	copies      map[string][]int32        // tracked message's hash -> nodes holding it (see MessageStored)
	epoch       time.Time                 // the start of the run, where the timeline starts

	e2e        metrics.Histogram             // ms
	e2eOnline  metrics.Histogram             // ms, recipient online when the message was sent
	onion      metrics.Histogram             // ms
	onionByPl  map[string]*metrics.Histogram // platform -> ms
	e2eByPl    map[string]*metrics.Histogram // recipient's platform -> ms
	store      results.Store
	paths      results.Paths
	traffic    results.Traffic // TotalBytes stays 0: the network model counts it; maps set in fill
	garbage    map[string]uint64
	configByNS map[string]uint64                       // results.Store.ConfigByNamespace
	rpc        map[string]map[string]map[string]uint64 // platform -> method -> namespace -> requests
	fwdByPl    map[string]map[string]uint64            // platform -> cause -> forwards
	duplicates uint64
	sent       uint64
	delivered  uint64 // for progress reports; the summary counts outcomes at the end (fill)
	network    results.NetworkInfo
	repl       metrics.Histogram   // live copies per message + 1, over all samples
	replBucket []metrics.Histogram // the same, by timeline bucket of the sample
	timeline   [][3]float64
	clocks     clockTally
	groups     groupTally // group chats (groups.go)
	push       *pushTally // nil without a push server (servers.push)
	files      fileTally
}

// timelineBucket is the width of the summary's timeline buckets: a minute resolves a fault of a
// few minutes and keeps a day-long run to some 1,400 buckets.
const timelineBucket = time.Minute

type messageRecord struct {
	sentAt      time.Time
	kind        client.Kind
	sender      int            // client index, -1 when the sender is no client
	recipient   int            // client index, -1 when no client owns the ID
	online      bool           // the recipient was online when the message was sent
	storeFail   client.Failure // valid when storeDone
	storeDone   bool
	delivered   bool
	deliveredAt time.Time
	group       *groupRecord    // a group message's recipients (groups.go); nil for 1:1 messages
	orderIdx    int             // where the record is in collector.order
	attach      attachmentState // for attachment kinds
}

// stored reports whether the sender's store of the message succeeded.
func (r *messageRecord) stored() bool { return r.storeDone && r.storeFail == client.OK }

// latencyMs is the end-to-end latency of a delivered message.
func (r *messageRecord) latencyMs() float64 {
	return float64(r.deliveredAt.Sub(r.sentAt)) / float64(time.Millisecond)
}

func newCollector() *collector {
	return &collector{
		clientIndex: map[actor.Addr]int{},
		clientByID:  map[identity.ID]int{},
		messages:    map[string]*messageRecord{},
		nodeIndex:   map[actor.Addr]int{},
		copies:      map[string][]int32{},
		onionByPl:   map[string]*metrics.Histogram{},
		e2eByPl:     map[string]*metrics.Histogram{},
		garbage:     map[string]uint64{},
		configByNS:  map[string]uint64{},
		rpc:         map[string]map[string]map[string]uint64{},
		fwdByPl:     map[string]map[string]uint64{},
		traffic:     results.Traffic{ForwardsByCause: map[string]uint64{}},
		paths:       results.Paths{DroppedCause: map[string]uint64{}},
	}
}

func (c *collector) addClient(addr actor.Addr, id identity.ID, platform string, online bool) int {
	i := len(c.platform)
	c.clientIndex[addr] = i
	c.clientByID[id] = i
	c.platform = append(c.platform, platform)
	c.ids = append(c.ids, id)
	c.online = append(c.online, online)
	c.lastOnline = append(c.lastOnline, time.Time{})
	if _, ok := c.onionByPl[platform]; !ok {
		c.onionByPl[platform] = &metrics.Histogram{}
		c.e2eByPl[platform] = &metrics.Histogram{}
	}
	return i
}

func (c *collector) addNode(addr actor.Addr) { c.nodeIndex[addr] = len(c.nodeIndex) }

// setOnline records a client going online or offline at t.
func (c *collector) setOnline(i int, online bool, t time.Time) {
	if c.online[i] && !online {
		c.lastOnline[i] = t
	}
	c.online[i] = online
}

// Observe is the engine's sink for every event.
func (c *collector) Observe(at time.Time, from actor.Addr, ev actor.Event) {
	if c.push != nil {
		c.push.observe(at, ev)
	}
	if c.observeFiles(at, ev) {
		return
	}
	switch e := ev.(type) {
	case client.CommunityPolled, lsrpc.Served:
		c.communities.observe(ev)
	case client.MessageSent:
		c.sent++
		rec := &messageRecord{sentAt: at, kind: e.Kind, sender: -1, recipient: -1, orderIdx: len(c.order)}
		if i, ok := c.clientIndex[from]; ok {
			rec.sender = i
		}
		if e.Kind == client.KindGroup {
			rec.group = c.groups.record(c, rec.sender, e.To)
		} else if i, ok := c.clientByID[e.To]; ok {
			rec.recipient = i
			rec.online = c.online[i]
		}
		c.messages[e.Hash] = rec
		c.order = append(c.order, e.Hash)
	case client.StoreResult:
		c.store.Attempts += uint64(e.Attempts)
		if rec, ok := c.messages[e.Hash]; ok && !rec.storeDone {
			rec.storeDone = true
			rec.storeFail = e.Failure
		}
		if e.Failure == client.OK {
			c.store.Succeeded++
		} else {
			c.store.Failed++
		}
	case client.SyncCopyStored:
		if e.Failure == client.OK {
			c.store.SyncCopies++
		} else {
			c.store.SyncCopiesFailed++
		}
	case client.ConfigPushed:
		c.store.ConfigMessages += uint64(len(e.Stored))
		c.store.ConfigMessagesFailed += uint64(len(e.Failed))
		for _, ns := range e.Stored {
			c.configByNS[strconv.Itoa(int(ns))]++
		}
		if i, ok := c.clientIndex[from]; ok && e.Sent && e.Deleted > 0 {
			// The push's stores are in its OnionRoundTrip; its delete names no namespace.
			c.countRPC(i, "delete", nil)
		}
	case client.ConfigExpiryResult:
		if !e.Sent {
			return
		}
		c.traffic.ExpireRequests++
		c.traffic.ConfigExpiryUpdates += uint64(e.Updated)
		if i, ok := c.clientIndex[from]; ok {
			c.countRPC(i, "expire", nil)
		}
	case client.MessageReceived:
		rec, ok := c.messages[e.Hash]
		if !ok {
			return
		}
		if rec.group != nil {
			left := rec.group.left
			if !rec.group.received(c.clientIndex[from], at) {
				c.duplicates++
			}
			if left > 0 && rec.group.left == 0 {
				// Every recipient has it: delivered as far as the progress count goes (the
				// summary's outcome, at the end, owes it only to those still members).
				c.delivered++
			}
			return
		}
		if rec.kind.Attachment() {
			// Delivered once the attachment is fetched (AttachmentFetched).
			if rec.attach.received {
				c.duplicates++
			}
			rec.attach.received = true
			return
		}
		if rec.delivered {
			c.duplicates++
			return
		}
		c.deliver(rec, at)
	case client.OnionRoundTrip:
		i, isClient := c.clientIndex[from]
		if isClient {
			c.countRPC(i, e.Method, e.Namespaces)
			c.groups.poll(e)
		}
		if e.Failure != client.OK {
			return
		}
		if isClient {
			c.clocks.accepted(i, at, e.Method)
		}
		ms := float64(e.RTT) / float64(time.Millisecond)
		c.onion.Add(ms)
		if isClient {
			c.onionByPl[c.platform[i]].Add(ms)
		}
	case client.GuardTested:
		if i, ok := c.clientIndex[from]; ok && e.Method != "" {
			c.countRPC(i, e.Method, nil)
		}
	case client.PathBuilt:
		c.paths.Built++
		if e.Rebuild {
			c.paths.Rebuilds++
		}
	case client.PathDropped:
		c.paths.DroppedCause[e.Cause.String()]++
	case client.GroupRekeyed:
		c.groups.rekeyed(e)
	case client.GroupMemberAdded:
		c.groups.added(e)
	case client.GarbageReceived:
		c.garbage[e.Kind.String()]++
	case client.ClockRejected:
		if i, ok := c.clientIndex[from]; ok {
			c.clocks.refusal(i, c.platform[i], at, e)
		}
	case node.MessageStored:
		// Only the copies of the messages the collector follows are ever counted: config
		// messages, sync copies and the rest outnumber them and would hold most of this map
		// for nothing. A message is followed from its MessageSent, which its sender observes
		// before its store leaves; an attachment's pointer message from AttachmentUploaded,
		// observed in the callback that sends its store, so before any node can hold it.
		if !e.New {
			return
		}
		if _, tracked := c.messages[e.Hash]; !tracked {
			return
		}
		if n, ok := c.nodeIndex[from]; ok && !slices.Contains(c.copies[e.Hash], int32(n)) {
			// A swarm's few members: a short slice holds them in less than a set would.
			c.copies[e.Hash] = append(c.copies[e.Hash], int32(n))
		}
	case node.SwarmDataMoved:
		c.traffic.SwarmChangeBytes += uint64(e.Bytes)
		c.traffic.ForwardsByCause[results.ForwardSwarmChange]++
	case node.ReplicationSent:
		c.traffic.ReplicationForwards++
		c.traffic.ForwardsByCause[e.Method]++
		if i := c.causedBy(e); i >= 0 {
			pl := c.fwdByPl[c.platform[i]]
			if pl == nil {
				pl = map[string]uint64{}
				c.fwdByPl[c.platform[i]] = pl
			}
			pl[e.Method]++
		}
	case registry.BlockEvent:
		c.network.Blocks++
		c.network.ActiveNodes = e.Active
		c.network.Swarms = e.Swarms
	case registry.Decommissioned:
		c.network.Decommissions++
	case registry.Deregistered:
		c.network.Deregistrations++
	}
}

// deliver records the delivery of rec at at.
func (c *collector) deliver(rec *messageRecord, at time.Time) {
	rec.delivered = true
	rec.deliveredAt = at
	c.delivered++
	ms := rec.latencyMs()
	c.e2e.Add(ms)
	if rec.online {
		c.e2eOnline.Add(ms)
	}
	if rec.recipient >= 0 {
		c.e2eByPl[c.platform[rec.recipient]].Add(ms)
	}
}

// countRPC counts one request client i sent: once per namespace it names, once when it names none.
func (c *collector) countRPC(i int, method string, nss []int16) {
	pl := c.rpc[c.platform[i]]
	if pl == nil {
		pl = map[string]map[string]uint64{}
		c.rpc[c.platform[i]] = pl
	}
	byNS := pl[method]
	if byNS == nil {
		byNS = map[string]uint64{}
		pl[method] = byNS
	}
	if len(nss) == 0 {
		byNS[results.NoNamespace]++
		return
	}
	for _, ns := range nss {
		byNS[strconv.Itoa(int(ns))]++
	}
}

// causedBy is the client whose request a forward carries, -1 when none: a sent message's sender
// (its owner is the recipient), the account owner for anything else (a client's own polls,
// expiries and stores to its own swarm).
func (c *collector) causedBy(e node.ReplicationSent) int {
	if e.Hash != "" {
		if rec, ok := c.messages[e.Hash]; ok {
			return rec.sender
		}
	}
	if i, ok := c.clientByID[identity.ID(e.Owner)]; ok {
		return i
	}
	return -1
}

// sampleReplication counts live copies of every stored message: live reports whether node n is
// up and still holds hash (a crashed node's copies do not count).
func (c *collector) sampleReplication(at time.Duration, live func(n int, hash string) bool) {
	c.sampleReplicationOf(at, nil, live)
}

// storedNow is the set of messages stored so far: what a sample of live or docker mode, whose
// nodes are asked ahead of it, may count (one stored after the nodes were asked is not).
func (c *collector) storedNow() map[string]bool {
	stored := map[string]bool{}
	for _, h := range c.order {
		if c.messages[h].stored() {
			stored[h] = true
		}
	}
	return stored
}

// sampleReplicationOf is sampleReplication over the messages of probed only (all when nil):
// where the nodes were asked ahead of the sample, a message stored since was not asked about.
func (c *collector) sampleReplicationOf(at time.Duration, probed map[string]bool, live func(n int, hash string) bool) {
	var minCopies, sum float64 = -1, 0
	count := 0
	// A sample belongs to the bucket it ends: the one at 1m0s describes the first minute.
	b := max(int((at+timelineBucket-1)/timelineBucket)-1, 0)
	if b >= len(c.replBucket) {
		c.replBucket = append(c.replBucket, make([]metrics.Histogram, b+1-len(c.replBucket))...)
	}
	for _, h := range c.order {
		rec := c.messages[h]
		if !rec.stored() || probed != nil && !probed[h] {
			continue
		}
		n := 0
		for _, node := range c.copies[h] {
			if live(int(node), h) {
				n++
			}
		}
		v := float64(n)
		c.repl.Add(v + 1) // the histogram's unit bucket starts at 1: shift by one so 0 copies stays distinct
		c.replBucket[b].Add(v + 1)
		if minCopies < 0 || v < minCopies {
			minCopies = v
		}
		sum += v
		count++
	}
	if count == 0 {
		return
	}
	c.timeline = append(c.timeline, [3]float64{at.Seconds(), minCopies, sum / float64(count)})
}

func percentiles(h *metrics.Histogram) results.Percentiles {
	return results.Percentiles{
		Count: h.Count(), Mean: round3(h.Mean()), P50: round3(h.Quantile(0.5)), P90: round3(h.Quantile(0.9)),
		P99: round3(h.Quantile(0.99)), Max: round3(h.Max()),
	}
}

// round3 keeps three decimals, so summaries stay readable and stable.
func round3(f float64) float64 {
	const k = 1000
	if f < 0 {
		return -float64(int64(-f*k+0.5)) / k
	}
	return float64(int64(f*k+0.5)) / k
}

// outcome is what became of a message by the end of the run.
type outcome int

const (
	undeliverable outcome = iota
	delivered
	pending
	inFlight
	lost
)

// outcome classifies a message as results.Messages documents it; for a lost one it also gives
// the cause. settled is false for a run that was stopped before its drain: a message whose
// store had not finished, or that was stored and not yet received, may still have arrived, so
// it is in flight rather than lost.
func (c *collector) outcome(rec *messageRecord, settled bool) (outcome, string) {
	if rec.group != nil {
		return c.groupOutcome(rec, settled)
	}
	switch {
	case rec.recipient < 0:
		return undeliverable, ""
	case rec.delivered:
		return delivered, ""
	case rec.kind.Attachment() && rec.attach.failed():
		return attachmentOutcome(&rec.attach, settled)
	case !c.online[rec.recipient] && c.lastOnline[rec.recipient].Before(rec.sentAt):
		return pending, ""
	case rec.kind.Attachment() && rec.attach.decides():
		return attachmentOutcome(&rec.attach, settled)
	}
	return missing(rec, settled)
}

// missing classifies a message some recipient that was online after it was sent never
// received: in flight for an unsettled run, else lost with its cause.
func missing(rec *messageRecord, settled bool) (outcome, string) {
	switch {
	case !settled && (!rec.storeDone || rec.stored()):
		return inFlight, ""
	case !rec.storeDone:
		return lost, "store-unfinished"
	case !rec.stored():
		return lost, "store-" + rec.storeFail.String()
	default:
		return lost, "stored-not-received"
	}
}

// fill writes the message, latency and timeline part of the summary (see outcome for settled).
// s.VirtualSeconds must be set: it is how far the timeline goes.
func (c *collector) fill(s *results.Summary, settled bool) {
	if c.push != nil {
		c.push.fill(s)
	}
	// Every message sent is in c.order, once per MessageSent: counting them counts c.sent.
	m := results.Messages{Duplicates: c.duplicates}
	total := time.Duration(s.VirtualSeconds * float64(time.Second))
	n := int((total + timelineBucket - 1) / timelineBucket)
	buckets := make([]results.TimelineBucket, n)
	e2e := make([]metrics.Histogram, n)
	var byKind kindTally
	for _, h := range c.order {
		rec := c.messages[h]
		o, cause := c.outcome(rec, settled)
		byKind.add(rec, o, cause)
		c.groups.add(rec, o, cause)
		b := min(int(rec.sentAt.Sub(c.epoch)/timelineBucket), n-1)
		if b < 0 {
			countOutcome(&m, nil, rec, o, cause)
			continue
		}
		countOutcome(&m, &e2e[b], rec, o, cause)
		buckets[b].Sent++
		switch o {
		case delivered:
			buckets[b].Delivered++
		case lost:
			buckets[b].Lost++
		}
	}
	s.Messages = m
	s.DeliveryRatio = deliveryRatio(m.Delivered, m.Lost)
	s.MessagesByKind = byKind.fill()
	c.groups.fill(s)
	s.EndToEndMs = percentiles(&c.e2e)
	s.EndToEndOnlineMs = percentiles(&c.e2eOnline)
	s.OnionRTTMs = percentiles(&c.onion)
	s.OnionRTTByPlatform = byPlatform(c.onionByPl)
	s.EndToEndByPlatform = byPlatform(c.e2eByPl)
	s.Store = c.store
	if len(c.configByNS) > 0 {
		s.Store.ConfigByNamespace = c.configByNS
	}
	if done := c.store.Succeeded + c.store.Failed; done > 0 {
		s.Store.Ratio = round6(float64(c.store.Succeeded) / float64(done))
	}
	s.Paths = c.paths
	if len(s.Paths.DroppedCause) == 0 {
		s.Paths.DroppedCause = nil
	}
	if len(c.garbage) > 0 {
		s.Garbage = c.garbage
	}
	s.Replication = copyStats(&c.repl)
	s.Replication.Timeline = c.timeline
	s.Traffic.SwarmChangeBytes = c.traffic.SwarmChangeBytes
	s.Traffic.ReplicationForwards = c.traffic.ReplicationForwards
	s.Traffic.ExpireRequests = c.traffic.ExpireRequests
	s.Traffic.ConfigExpiryUpdates = c.traffic.ConfigExpiryUpdates
	if len(c.traffic.ForwardsByCause) > 0 {
		s.Traffic.ForwardsByCause = c.traffic.ForwardsByCause
	}
	if len(c.fwdByPl) > 0 {
		s.Traffic.ForwardsByPlatform = c.fwdByPl
	}
	if len(c.rpc) > 0 {
		s.RPCByMethod = c.rpc
	}
	s.Network = c.network
	c.clocks.fill(s)
	c.fillFiles(s)

	if n == 0 {
		return
	}
	// A sample at the very end of the run (or of an interrupted one) ends the last bucket.
	copies := make([]metrics.Histogram, n)
	for i := range c.replBucket {
		copies[min(i, n-1)].Merge(&c.replBucket[i])
	}
	for i := range buckets {
		b := &buckets[i]
		b.StartSeconds = (time.Duration(i) * timelineBucket).Seconds()
		b.DeliveryRatio = deliveryRatio(b.Delivered, b.Lost)
		if e2e[i].Count() > 0 {
			b.E2EP50Ms, b.E2EP99Ms = round3(e2e[i].Quantile(0.5)), round3(e2e[i].Quantile(0.99))
		}
		if copies[i].Count() > 0 {
			cs := copyStats(&copies[i])
			b.Copies = &cs
		}
	}
	s.TimelineBucketSeconds = timelineBucket.Seconds()
	s.Timeline = buckets
}

// deliveryRatio is delivered / (delivered + lost), nil when nothing was eligible.
func deliveryRatio(delivered, lost uint64) *float64 {
	if delivered+lost == 0 {
		return nil
	}
	r := round6(float64(delivered) / float64(delivered+lost))
	return &r
}

// byPlatform summarises each platform's latencies; nil when there is no platform.
func byPlatform(hs map[string]*metrics.Histogram) map[string]results.Percentiles {
	if len(hs) == 0 {
		return nil
	}
	out := make(map[string]results.Percentiles, len(hs))
	for name, h := range hs {
		out[name] = percentiles(h)
	}
	return out
}

// copyStats summarises live copies recorded shifted by one (see sampleReplication).
func copyStats(h *metrics.Histogram) results.Replication {
	if h.Count() == 0 {
		return results.Replication{}
	}
	return results.Replication{
		Samples:    h.Count(),
		MinCopies:  h.Min() - 1,
		P1Copies:   math.Round(h.Quantile(0.01) - 1), // copies are whole numbers
		MeanCopies: round3(h.Mean() - 1),
	}
}

func round6(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }
