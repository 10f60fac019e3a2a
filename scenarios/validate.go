package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/netem"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/wiremode"
	"github.com/sessionsim/sessionsim/registry"
	"github.com/sessionsim/sessionsim/scenarios/checks"
)

// Validate checks every value for range and consistency; the first problem is returned as an
// *Error naming the key and value and saying what would be accepted. Regions are checked
// against the scenario's latency matrix, which is read here.
func (s *Scenario) Validate() error {
	matrix, err := latencyMatrix(s.Network.LatencyMatrix)
	if err != nil {
		return bad("network.latency_matrix", s.Network.LatencyMatrix, err.Error())
	}
	region := func(name string) error {
		if _, err := matrix.Lookup(name); err != nil {
			return fmt.Errorf("no such region in the latency matrix %s (regions: %s)", matrix.Source(), strings.Join(matrix.Regions(), ", "))
		}
		return nil
	}
	platform := func(name string) error {
		_, err := client.ParsePlatform(name)
		return err
	}
	checks := []func() error{
		func() error {
			if strings.TrimSpace(s.Name) == "" || strings.ContainsAny(s.Name, "/\\") {
				return bad("name", s.Name, "must be a non-empty name without slashes (it names the results directory)")
			}
			return nil
		},
		func() error {
			switch s.Mode {
			case "sim":
				return nil
			case "live":
				return s.validateLive()
			case "docker":
				return s.validateDocker()
			}
			return bad("mode", s.Mode, "must be \"sim\", \"live\" or \"docker\"")
		},
		func() error {
			if s.Crypto != "real" && s.Crypto != "modeled" {
				return bad("crypto", s.Crypto, "must be \"real\" or \"modeled\"")
			}
			return nil
		},
		s.validateWire,
		func() error { return positive("duration", s.Duration) },
		func() error { return nonNegative("warmup", s.Warmup) },
		func() error { return nonNegative("drain", s.Drain) },
		func() error { return nonNegative("quick.duration", s.Quick.Duration) },
		func() error {
			if s.Quick.Clients < 0 {
				return bad("quick.clients", s.Quick.Clients, "must not be negative (0: a tenth of clients.count)")
			}
			return nil
		},
		func() error { return nonNegative("network.same_region_rtt", s.Network.SameRegionRTT) },
		func() error { return fraction("network.jitter", s.Network.Jitter, 0, 1) },
		func() error { return weights("nodes.regions", s.Nodes.Regions, region) },
		func() error { return weights("clients.platforms", s.Clients.Platforms, platform) },
		s.validateProfiles,
		func() error {
			if least, why := s.minNodes(); s.Nodes.Count < least {
				return bad("nodes.count", s.Nodes.Count, fmt.Sprintf("too few service nodes to deliver anything: %s, so at least %d", why, least))
			}
			return nil
		},
		func() error {
			if s.Nodes.StorageServer != "2.11" && s.Nodes.StorageServer != "2.8" {
				return bad("nodes.storage_server", s.Nodes.StorageServer, "must be \"2.11\" or \"2.8\"")
			}
			return nil
		},
		func() error {
			if s.Nodes.Cores < 1 || s.Nodes.Cores > 256 {
				return bad("nodes.cores", s.Nodes.Cores, "must be between 1 and 256")
			}
			return nil
		},
		func() error { return fraction("nodes.largest_operator_share", s.Nodes.LargestOperatorShare, 0, 1) },
		func() error { return rate("nodes.churn.crashes_per_hour", s.Nodes.Churn.CrashesPerHour) },
		func() error { return rate("nodes.churn.joins_per_hour", s.Nodes.Churn.JoinsPerHour) },
		func() error { return nonNegative("nodes.churn.lifetime_median", s.Nodes.Churn.LifetimeMedian) },
		func() error {
			if s.Nodes.Churn.LifetimeMedian > 0 && (!(s.Nodes.Churn.LifetimeShape > 0) || s.Nodes.Churn.LifetimeShape > 10) {
				return bad("nodes.churn.lifetime_shape", s.Nodes.Churn.LifetimeShape, "must be a Pareto shape above 0 and at most 10 (1.5 is typical of measured peer-to-peer lifetimes)")
			}
			return nil
		},
		func() error { return positive("registry.block_interval", s.Registry.BlockInterval) },
		func() error { return nonNegative("registry.list_delay", s.Registry.ListDelay) },
		func() error { return positive("registry.decommission_after", s.Registry.DecommissionAfter) },
		func() error { return positive("registry.uptime_proof_max_age", s.Registry.UptimeProofMaxAge) },
		func() error {
			switch registry.Obligations(s.Registry.Obligations) {
			case registry.ObligationsQuorum, registry.ObligationsPooled:
				return nil
			}
			return bad("registry.obligations", s.Registry.Obligations, "must be \"quorum\" or \"pooled\"")
		},
		func() error {
			if s.Registry.SeedNodes < 1 || s.Registry.SeedNodes > 16 {
				return bad("registry.seed_nodes", s.Registry.SeedNodes, "must be between 1 and 16")
			}
			return nil
		},
		func() error {
			if s.Clients.Count < 1 {
				return bad("clients.count", s.Clients.Count, "must be at least 1: without clients nothing is sent or measured")
			}
			return nil
		},
		func() error { return weights("clients.regions", s.Clients.Regions, region) },
		func() error {
			if _, _, err := parseEncoding(s.Clients.Encoding); err != nil {
				return bad("clients.encoding", s.Clients.Encoding, "must be \"libsession\", \"legacy\" or \"platform\"")
			}
			return nil
		},
		func() error { return s.validateDefences() },
		s.validateFlashCrowd,
		s.validateClock,
		func() error { return nonNegative("clients.sessions.mean_online", s.Clients.Sessions.MeanOnline) },
		func() error {
			if s.Clients.Sessions.MeanOnline > 0 && s.Clients.Sessions.MeanOffline <= 0 {
				return bad("clients.sessions.mean_offline", s.Clients.Sessions.MeanOffline, "must be positive when clients.sessions.mean_online is set")
			}
			return nonNegative("clients.sessions.mean_offline", s.Clients.Sessions.MeanOffline)
		},
		func() error {
			if s.Workload.Graph != "small-world" && s.Workload.Graph != "random" {
				return bad("workload.graph", s.Workload.Graph, "must be \"small-world\" or \"random\"")
			}
			return nil
		},
		func() error {
			if s.Workload.Contacts < 1 {
				return bad("workload.contacts", s.Workload.Contacts, "must be at least 1")
			}
			if s.Clients.Count > 1 && s.Workload.Contacts >= s.Clients.Count {
				return bad("workload.contacts", s.Workload.Contacts, fmt.Sprintf("must be less than clients.count (%d)", s.Clients.Count))
			}
			return nil
		},
		func() error { return fraction("workload.rewire", s.Workload.Rewire, 0, 1) },
		func() error { return rate("workload.messages_per_hour", s.Workload.MessagesPerHour) },
		s.validateActivity,
		func() error {
			z := s.Workload.Size
			switch {
			case z.Min < 1:
				return bad("workload.size.min", z.Min, "must be at least 1 byte")
			case z.Max > 60000:
				return bad("workload.size.max", z.Max, "must be at most 60000 bytes (a stored message holds at most 76,800 bytes after encryption and base64)")
			}
			return z.check("workload.size")
		},
		func() error {
			return fraction("workload.unknown_recipient_share", s.Workload.UnknownRecipientShare, 0, 1)
		},
		func() error { return s.validateAttachments(region) },
		s.validateGroups,
		func() error { return s.validateFaults(region) },
		s.validateChecks,
		func() error { return s.validateLeakage(region) },
		func() error { return s.validatePush(region) },
		func() error { return s.validateCommunities(region) },
	}
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// latencyMatrix is the region RTT matrix a scenario names: "builtin" (or nothing) is the
// embedded one, anything else a CSV file.
func latencyMatrix(name string) (*netem.Matrix, error) {
	if name == "builtin" || name == "" {
		return netem.DefaultMatrix(), nil
	}
	return netem.LoadMatrixFile(name)
}

// minNodes is the smallest network in which every client of the scenario can deliver: a swarm
// of the registry's minimum size must form, the client's onion paths need that many distinct
// nodes (paths share no node), and the client's pool must hold more nodes than its refetch
// threshold. Paths may run through members of the destination swarm, as the apps' do, so the
// minimum is the largest of the three, not their sum. why says so in words. The numbers are
// the swarm assignment's and the clients' own defaults.
func (s *Scenario) minNodes() (least int, why string) {
	for _, name := range slices.Sorted(maps.Keys(s.Clients.Platforms)) {
		p, err := client.ParsePlatform(name)
		if err != nil || s.Clients.Platforms[name] <= 0 {
			continue
		}
		np, err := s.Clients.profile(p)
		if err != nil {
			continue
		}
		c := np.Config()
		if s.Clients.Paths > 0 {
			c.Paths = s.Clients.Paths
		}
		paths := c.Paths + c.FilePaths // file paths (iOS) take their own nodes too
		if n := max(swarm.MinSwarmSize, paths*c.Hops, c.PoolMin+1); n > least {
			least = n
			why = fmt.Sprintf("a swarm needs %d nodes, a client's %d disjoint onion paths of %d hops need %d (profile %s) and its node pool must hold more than %d",
				swarm.MinSwarmSize, paths, c.Hops, paths*c.Hops, np.Name, c.PoolMin)
		}
	}
	return least, why
}

// validateProfiles checks clients.profiles: each key a platform, each value one of its
// profiles.
func (s *Scenario) validateProfiles() error {
	for _, name := range slices.Sorted(maps.Keys(s.Clients.Profiles)) {
		key := "clients.profiles." + name
		p, err := client.ParsePlatform(name)
		if err != nil {
			return bad(key, s.Clients.Profiles[name], err.Error())
		}
		if _, err := client.ParseNetProfile(p, s.Clients.Profiles[name]); err != nil {
			return bad(key, s.Clients.Profiles[name], err.Error())
		}
	}
	return nil
}

// profile is the network profile the clients of platform p run (validated at load).
func (c Clients) profile(p client.Platform) (client.NetProfile, error) {
	return client.ParseNetProfile(p, c.Profiles[p.String()])
}

// parseEncoding reads clients.encoding: own is true for "platform", each client's own.
func parseEncoding(s string) (enc message.Encoding, own bool, err error) {
	if s == "platform" {
		return 0, true, nil
	}
	enc, err = message.ParseEncoding(s)
	return enc, false, err
}

// validateDefences checks the client options that are defences (Clients.GuardTest and the
// keys after it).
func (s *Scenario) validateDefences() error {
	c := s.Clients
	if _, err := client.ParseGuardTest(c.GuardTest); err != nil || c.GuardTest == "" {
		return bad("clients.guard_test", c.GuardTest, "must be \"own-id\", \"random-id\", \"ping\" or \"platform\"")
	}
	if err := nonNegative("clients.guard_lifetime", c.GuardLifetime); err != nil {
		return err
	}
	if c.GuardLifetime > 0 && c.GuardLifetime < time.Minute {
		return bad("clients.guard_lifetime", c.GuardLifetime, "must be 0 (each profile's own) or at least 1m: each new guard costs direct test requests")
	}
	if err := nonNegative("clients.path_rotation", c.PathRotation); err != nil {
		return err
	}
	if c.PathRotation > 0 && c.PathRotation < 10*time.Second {
		return bad("clients.path_rotation", c.PathRotation, "must be 0 (each app's own) or at least 10s")
	}
	if c.Paths < 1 || c.Paths > 8 {
		return bad("clients.paths", c.Paths, "must be between 1 and 8 (the apps keep 2)")
	}
	if err := client.CheckPadding(c.OnionPadding); err != nil {
		return bad("clients.onion_padding", c.OnionPadding, err.Error()+"; or \"none\"")
	}
	if !(c.CoverTraffic >= 0) || c.CoverTraffic > client.MaxCoverPollsPerHour {
		return bad("clients.cover_traffic", c.CoverTraffic, fmt.Sprintf("must be a rate of dummy polls per hour between 0 and %d", client.MaxCoverPollsPerHour))
	}
	return nil
}

// validateActivity checks how sending rates differ between clients and how they reply.
func (s *Scenario) validateActivity() error {
	wl := s.Workload
	if wl.Activity != "uniform" && wl.Activity != "heavy-tailed" {
		return bad("workload.activity", wl.Activity, "must be \"uniform\" or \"heavy-tailed\"")
	}
	if !(wl.ActivityTop15Share >= topActive && wl.ActivityTop15Share <= 0.95) {
		return bad("workload.activity_top15_share", wl.ActivityTop15Share, "must be between 0.15 (every client alike) and 0.95: the share of the messages the most active 15% of clients send")
	}
	if !(wl.ReplyProbability >= 0 && wl.ReplyProbability < 1) {
		return bad("workload.reply_probability", wl.ReplyProbability, "must be at least 0 and below 1: conversations start at messages_per_hour x (1 - reply_probability)")
	}
	return wl.ReplyDelay.check("workload.reply_delay")
}

// validateGroups checks the group chats (workload.groups).
func (s *Scenario) validateGroups() error {
	g := s.Workload.Groups
	z := g.Size
	switch {
	case !(g.PerClient >= 0) || g.PerClient > 100:
		return bad("workload.groups.per_client", g.PerClient, "must be between 0 (no groups) and 100: the mean number of groups a client is in")
	case z.Min < 2:
		return bad("workload.groups.size.min", z.Min, "must be at least 2 members (the creator and one more)")
	case z.Max > client.MaxGroupSize:
		return bad("workload.groups.size.max", z.Max, fmt.Sprintf("group sizes above the real maximum (%d) are refused: the apps cap a group at %d members", client.MaxGroupSize, client.MaxGroupSize))
	case g.PerClient > 0 && z.Min > s.Clients.Count:
		return bad("workload.groups.size.min", z.Min, fmt.Sprintf("must be at most clients.count (%d): a group's members are distinct clients", s.Clients.Count))
	}
	if err := z.check("workload.groups.size"); err != nil {
		return err
	}
	if err := rate("workload.groups.messages_per_hour", g.MessagesPerHour); err != nil {
		return err
	}
	if err := fraction("workload.groups.overlap", g.Overlap, 0, 1); err != nil {
		return err
	}
	if err := rate("workload.groups.removals_per_hour", g.RemovalsPerHour); err != nil {
		return err
	}
	return rate("workload.groups.additions_per_hour", g.AdditionsPerHour)
}

func (s *Scenario) validateFaults(region func(string) error) error {
	end := s.Duration + s.Drain
	for i, f := range s.Faults {
		key := func(k string) string { return fmt.Sprintf("faults[%d].%s", i, k) }
		if f.At < 0 {
			return bad(key("at"), f.At, "must not be negative")
		}
		if f.At >= end {
			return bad(key("at"), f.At, fmt.Sprintf("starts after the run ends: faults count from the end of the warmup, and duration + drain is %v", end))
		}
		if f.For < 0 {
			return bad(key("for"), f.For, "must not be negative")
		}
		for j, r := range f.Regions {
			if err := region(r); err != nil {
				return bad(fmt.Sprintf("%s[%d]", key("regions"), j), r, err.Error())
			}
		}
		if len(f.Regions) > 0 && f.Kind != "partition" {
			return bad(key("regions"), f.Regions, "only a partition fault takes regions")
		}
		if f.Target != "" && f.Target != "random" && f.Target != "paths" && f.Target != "largest-operator" && f.Target != "phones" && f.Target != faultTargetFileServer {
			return bad(key("target"), f.Target, "must be \"random\", \"paths\", \"largest-operator\", \"file-server\" or, for a degrade, \"phones\"")
		}
		if f.Target != "" && f.Kind != "crash" && f.Kind != "hang" && f.Kind != "degrade" {
			return bad(key("target"), f.Target, "only a crash, hang or degrade fault takes a target")
		}
		if f.Target == faultTargetFileServer && f.Kind == "hang" {
			return bad(key("target"), f.Target, "a hang takes target random, paths or largest-operator; to fault the file server use kind crash (restarted after for) or degrade")
		}
		if f.Kind != "degrade" && f.AddedLatency != 0 {
			return bad(key("added_latency"), f.AddedLatency, "only a degrade fault adds latency; remove it, or use kind degrade")
		}
		if f.Kind != "degrade" && f.Loss != 0 {
			return bad(key("loss"), f.Loss, "only a degrade fault adds loss; remove it, or use kind degrade")
		}
		if f.Target == "phones" && f.Kind != "degrade" {
			return bad(key("target"), f.Target, "only a degrade fault can target the phones")
		}
		switch f.Kind {
		case "offline":
			if err := faultCount(key, f, "clients.count", s.Clients.Count, "the clients that go offline"); err != nil {
				return err
			}
			if f.For <= 0 {
				return bad(key("for"), f.For, "an offline period needs a positive length")
			}
		case "crash", "hang", "degrade":
			if f.Target == faultTargetFileServer {
				if f.Count != 0 || f.Fraction != 0 {
					return bad(key("count"), f.Count, "a fault on the file server takes no count or fraction: there is one")
				}
				if f.Kind == "degrade" {
					if err := s.validateDegrade(key, f); err != nil {
						return err
					}
				}
				break
			}
			limitKey, limit, whom := "nodes.count", s.Nodes.Count, "the nodes affected"
			if f.Target == "phones" {
				limitKey, limit, whom = "clients.count", s.Clients.Count, "the phones affected"
			}
			if err := faultCount(key, f, limitKey, limit, whom); err != nil {
				return err
			}
			if f.Kind == "degrade" {
				if err := s.validateDegrade(key, f); err != nil {
					return err
				}
			}
		case "partition":
			if len(f.Regions) == 0 {
				return bad(key("regions"), f.Regions, "list the regions cut off from the rest")
			}

		default:
			return bad(key("kind"), f.Kind, "must be one of "+strings.Join(FaultKinds(), ", ")+" (`sessionsim scenarios --explain` shows an example of each)")
		}
	}
	return nil
}

// validateDegrade checks a degrade fault's impairment.
func (s *Scenario) validateDegrade(key func(string) string, f Fault) error {
	if f.AddedLatency < 0 {
		return bad(key("added_latency"), f.AddedLatency, "must not be negative")
	}
	return fraction(key("loss"), f.Loss, 0, 1)
}

// validateChecks refuses a check that does not parse or names no figure of the summary, in
// the scenario's checks and in those of its quick version.
func (s *Scenario) validateChecks() error {
	for _, l := range []struct {
		key  string
		list []string
	}{{"checks", s.Checks}, {"quick.checks", s.Quick.Checks}} {
		for i, text := range l.list {
			if _, err := checks.Parse(text); err != nil {
				return bad(fmt.Sprintf("%s[%d]", l.key, i), text, err.Error())
			}
		}
	}
	return nil
}

// validateFlashCrowd checks that the crowd's window lies in the sending period.
func (s *Scenario) validateFlashCrowd() error {
	fc := s.Clients.FlashCrowd
	if err := fraction("clients.flash_crowd.fraction", fc.Fraction, 0, 1); err != nil {
		return err
	}
	if err := nonNegative("clients.flash_crowd.at", fc.At); err != nil {
		return err
	}
	if err := nonNegative("clients.flash_crowd.within", fc.Within); err != nil {
		return err
	}
	if fc.Fraction > 0 && fc.At+fc.Within > s.Duration {
		return bad("clients.flash_crowd.within", fc.Within, fmt.Sprintf("the crowd must have started by the end of the sending period: at + within is %v, duration is %v", fc.At+fc.Within, s.Duration))
	}
	return nil
}

// faultCount checks how many a fault affects, the same way for clients and for nodes: Count
// and Fraction in range, one of them given, and Count no more than the limitKey setting
// (limit). whom ends the message asking for a count or fraction.
func faultCount(key func(string) string, f Fault, limitKey string, limit int, whom string) error {
	if f.Count < 0 {
		return bad(key("count"), f.Count, "must not be negative")
	}
	if err := fraction(key("fraction"), f.Fraction, 0, 1); err != nil {
		return err
	}
	if f.Count == 0 && f.Fraction == 0 {
		return bad(key("count"), f.Count, "set count or fraction of "+whom)
	}
	if f.Count != 0 && f.Fraction != 0 {
		return bad(key("fraction"), f.Fraction, fmt.Sprintf("count (%d) is set too: give count or fraction of %s, not both", f.Count, whom))
	}
	if f.Count > limit {
		return bad(key("count"), f.Count, fmt.Sprintf("more than %s (%d)", limitKey, limit))
	}
	return nil
}

// spread checks what every clipped log-normal distribution at key (such as workload.size) must
// satisfy once its caller has checked the bounds of its own min and max: max at least min, the
// median between them, and a sigma of 0 to 5.
func spread[T int | time.Duration](key string, median T, sigma float64, lo, hi T) error {
	switch {
	case hi < lo:
		return bad(key+".max", hi, "must be at least "+key+".min")
	case median < lo || median > hi:
		return bad(key+".median", median, "must lie between "+key+".min and "+key+".max")
	case !(sigma >= 0 && sigma <= 5):
		return bad(key+".sigma", sigma, "must be between 0 and 5")
	}
	return nil
}

func (z SizeDist) check(key string) error { return spread(key, z.Median, z.Sigma, z.Min, z.Max) }

// check refuses a negative min, and then what spread refuses.
func (z DelayDist) check(key string) error {
	if err := nonNegative(key+".min", z.Min); err != nil {
		return err
	}
	return spread(key, z.Median, z.Sigma, z.Min, z.Max)
}

func bad(key string, value any, reason string) error {
	return &Error{Key: key, Value: fmt.Sprintf("%v", value), Reason: reason}
}

func positive(key string, d time.Duration) error {
	if d <= 0 {
		return bad(key, d, "must be a positive duration such as 90s or 20m")
	}
	return nil
}

func nonNegative(key string, d time.Duration) error {
	if d < 0 {
		return bad(key, d, "must not be negative")
	}
	return nil
}

func fraction(key string, v, lo, hi float64) error {
	if !(v >= lo && v <= hi) {
		return bad(key, v, fmt.Sprintf("must be between %g and %g", lo, hi))
	}
	return nil
}

func rate(key string, v float64) error {
	if !(v >= 0) || v > 1e6 {
		return bad(key, v, "must be a rate between 0 and 1e6 per hour")
	}
	return nil
}

// weights checks a weight map: non-negative, summing to more than zero, every name accepted by
// known (which says why not).
func weights(key string, w map[string]float64, known func(name string) error) error {
	if len(w) == 0 {
		return bad(key, "{}", "needs at least one entry with a positive weight")
	}
	sum := 0.0
	for _, k := range slices.Sorted(maps.Keys(w)) { // sorted: the first bad key reported is stable
		v := w[k]
		if !(v >= 0) || v > 1e9 {
			return bad(key+"."+k, v, "weights must be non-negative numbers")
		}
		if err := known(k); err != nil {
			return bad(key+"."+k, v, err.Error())
		}
		sum += v
	}
	if sum <= 0 {
		return bad(key, "all zero", "at least one weight must be positive")
	}
	return nil
}

// validateWire checks the wire key: structural form makes no bytes, so it cannot go with real
// crypto, whose point is the real bytes (live and docker modes, which send bytes over sockets,
// need real crypto).
func (s *Scenario) validateWire() error {
	m, err := wiremode.Parse(s.Wire)
	switch {
	case err != nil:
		return bad("wire", s.Wire, "must be \"bytes\" or \"structural\"")
	case m == wiremode.Bytes:
		return nil
	case s.Crypto != "modeled":
		return bad("wire", s.Wire, fmt.Sprintf("structural form makes no bytes, and crypto=%s exists to make and check them: set crypto=modeled, or wire=bytes", s.Crypto))
	}
	return nil
}
