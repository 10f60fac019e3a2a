// Package reports turns a results directory into what people read: the plain-text summary
// printed at the end of a run, and the self-contained HTML report. It reads results only and
// never runs anything, so every report can be rebuilt from its directory.
package reports

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sessionsim/sessionsim/results"
)

// WriteText prints the summary of a run in words. run may be nil (a report rebuilt later).
func WriteText(w io.Writer, s results.Summary, run *results.Run) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	m := s.Messages
	// A live or docker run's clock is the wall clock: no virtual time and no simulator. Live
	// mode has no CPU figures either (no model charges the nodes' work, and its nodes share this
	// process); docker mode measures each node process's own.
	realTime := run != nil && run.Mode != ""
	p("Scenario %q, seed %d, %s crypto: %s, %s, %s of %s.",
		s.Scenario, s.Seed, s.Crypto, Count(s.Nodes, "service node"), Count(s.Clients, "client"), seconds(s.VirtualSeconds), run.Clock())
	switch {
	case realTime:
		p("Ran in %s of wall time, in real time (%s mode).", seconds(run.WallSeconds), run.Mode)
	case run != nil && run.Speedup > 0 && run.Speedup < 1:
		p("Ran in %s of wall time: %.1fx slower than real time.", seconds(run.WallSeconds), 1/run.Speedup)
	case run != nil:
		p("Ran in %s of wall time: %.1fx faster than real time.", seconds(run.WallSeconds), run.Speedup)
	}
	p("")
	p("Messages")
	p("  sent %d, delivered %d, lost %d, pending %d (recipient not online since), undeliverable %d (no such recipient)",
		m.Sent, m.Delivered, m.Lost, m.Pending, m.Undeliverable)
	if m.InFlight > 0 {
		p("  in flight %d (the run was interrupted before they were delivered or lost)", m.InFlight)
	}
	p("  delivery ratio: %s (delivered / (sent - pending - undeliverable - in flight))", ratio(s.DeliveryRatio))
	if len(m.LostByCause) > 0 {
		p("  lost by cause: %s", counts(m.LostByCause))
	}
	p("  end-to-end latency (send -> first decrypt): %s", latencies(s.EndToEndMs))
	p("    recipient online at send: %s", latencies(s.EndToEndOnlineMs))
	for _, name := range slices.Sorted(maps.Keys(s.EndToEndByPlatform)) {
		p("    recipient on %-8s %s", name+":", latencies(s.EndToEndByPlatform[name]))
	}
	writeKindsAndGroups(p, s)
	p("")
	p("Onion requests and paths")
	p("  onion round trip: %s", latencies(s.OnionRTTMs))
	for _, name := range slices.Sorted(maps.Keys(s.OnionRTTByPlatform)) {
		p("    %-8s %s", name, latencies(s.OnionRTTByPlatform[name]))
	}
	p("  stores: %d of %s stored (%s), %d failed; %s in all, retries included",
		s.Store.Succeeded, Count(s.Store.Succeeded+s.Store.Failed, "message"), percent(s.Store.Ratio), s.Store.Failed, Count(s.Store.Attempts, "attempt"))
	p("  sync copies in senders' own swarms: %d stored, %d failed", s.Store.SyncCopies, s.Store.SyncCopiesFailed)
	configNS := ""
	if len(s.Store.ConfigByNamespace) > 0 {
		configNS = " (by namespace: " + counts(s.Store.ConfigByNamespace) + ")"
	}
	p("  config messages in own swarms: %d stored, %d failed%s", s.Store.ConfigMessages, s.Store.ConfigMessagesFailed, configNS)
	p("  config expiry kept alive: %s in polls, %s changed on swarm members", Count(s.Traffic.ExpireRequests, "expire"), Count(s.Traffic.ConfigExpiryUpdates, "expiry"))
	p("  paths built %d, rebuilt %d", s.Paths.Built, s.Paths.Rebuilds)
	if len(s.Paths.DroppedCause) > 0 {
		p("  paths dropped by cause: %s", counts(s.Paths.DroppedCause))
	}
	p("")
	p("Swarms and replication")
	p("  %s in %s after %s; %d decommissioned, %d deregistered",
		Count(s.Network.ActiveNodes, "active node"), Count(s.Network.Swarms, "swarm"), Count(s.Network.Blocks, "block"), s.Network.Decommissions, s.Network.Deregistrations)
	p("  live copies per unexpired message: min %.0f, p1 %.0f, mean %.2f (%s)",
		s.Replication.MinCopies, s.Replication.P1Copies, s.Replication.MeanCopies, Count(s.Replication.Samples, "sample"))
	if fs := s.FileServer; fs != nil {
		p("")
		p("File server")
		p("  uploads %d (%s), downloads %d (%s)", fs.Uploads, ByteSize(fs.UploadBytes), fs.Downloads, ByteSize(fs.DownloadBytes))
		p("  most files held %d, expired %d", fs.StoredFilesPeak, fs.Expired)
		if len(fs.Failures) > 0 {
			p("  refused by cause: %s", counts(fs.Failures))
		}
	}
	p("")
	p("Load")
	p("  bytes moved %s (%s on swarm changes; %s forwarded to swarm peers)", ByteSize(s.Traffic.TotalBytes), ByteSize(s.Traffic.SwarmChangeBytes), Count(s.Traffic.ReplicationForwards, "request"))
	if len(s.RPCByMethod) > 0 {
		p("  requests clients sent, by method (by namespace):")
		for _, name := range slices.Sorted(maps.Keys(s.RPCByMethod)) {
			p("    %-8s %s", name, requestMix(s.RPCByMethod[name]))
		}
	}
	p("  client clocks: %s", clocks(s.Clocks))
	if len(s.Traffic.ForwardsByCause) > 0 {
		p("  node-to-node forwards by cause: %s", counts(s.Traffic.ForwardsByCause))
		for _, name := range slices.Sorted(maps.Keys(s.Traffic.ForwardsByPlatform)) {
			p("    caused by %-8s %s", name, counts(s.Traffic.ForwardsByPlatform[name]))
		}
	}
	if realTime && run.Mode == "live" {
		p("  CPU per node: not measured in live mode (no CPU model: the real work runs in this process)")
	} else {
		p("  CPU per node: mean %s busy (%s utilisation), max %s", seconds(s.CPU.MeanNodeBusySeconds), percent(s.CPU.MeanNodeUtilisation), seconds(s.CPU.MaxNodeBusySeconds))
	}
	engine := "simulator"
	if realTime {
		engine = run.Mode + " driver"
	}
	p("  %s: %s, %s, %d timed out, %s dropped", engine, Count(s.Engine.Events, "event"), Count(s.Engine.Calls, "call"), s.Engine.CallTimeouts, Count(s.Engine.LateReplies, "late reply"))
	if s.Engine.EventsDropped > 0 {
		p("  WARNING: the nodes dropped %s the harness read too slowly: the figures from their events are short", Count(s.Engine.EventsDropped, "event line"))
	}
	if len(s.Garbage) > 0 {
		p("  garbage received by clients: %s", counts(s.Garbage))
	}
	if s.Push != nil {
		p("")
		writePush(p, s.Push)
	}
	if c := s.Communities; c != nil {
		p("")
		p("Communities")
		p("  %s, %s: %s (%d failed), %s read", Count(c.Servers, "server"), Count(c.Rooms, "room"), Count(c.Polls, "poll"), c.PollFailures, Count(c.MessagesRead, "room message"))
		p("  the servers received %s and answered %s", ByteSize(c.BytesIn), ByteSize(c.BytesOut))
	}
	if s.Leakage != nil {
		p("")
		writeLeakage(p, s.Leakage)
	}
	if len(s.Checks) > 0 {
		p("")
		WriteChecks(w, s.Checks)
	}
}

// latencies prints percentiles of a latency in milliseconds, each in the unit a reader would use.
func latencies(q results.Percentiles) string {
	if q.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s (%s)", readableMs(q.P50), readableMs(q.P90), readableMs(q.P99), readableMs(q.Max), Count(q.Count, "sample"))
}

// clocks says how far clients' clocks were off and what nodes refused for it.
func clocks(c results.Clocks) string {
	out := fmt.Sprintf("off by %s; %s refused (406: %d, 425: %d)", latencies(c.OffsetAbsMs), Count(c.Status406+c.Status425, "request"), c.Status406, c.Status425)
	if c.ClientsRejected == 0 {
		return out
	}
	parts := make([]string, 0, len(c.ByPlatform))
	for _, name := range slices.Sorted(maps.Keys(c.ByPlatform)) {
		r := c.ByPlatform[name]
		parts = append(parts, fmt.Sprintf("%s %d/%d", name, r.RejectedTooOld, r.RejectedTooNew))
	}
	return out + fmt.Sprintf(" from %s, %d too old, %d too new (old/new: %s); spells until one was accepted again: %s; %s still refused at the end",
		Count(c.ClientsRejected, "client"), c.RejectedTooOld, c.RejectedTooNew, strings.Join(parts, ", "), latencies(c.RecoveryMs), Count(c.ClientsUnrecovered, "client"))
}

// Count writes n and a noun, plural unless n is one: "1 sample", "2 samples", "3 late replies".
// noun is the singular; its last word takes the plural: a consonant and y become "ies", any
// other ending takes an s.
func Count[N ~int | ~int32 | ~int64 | ~uint32 | ~uint64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(noun) > 1 && noun[len(noun)-1] == 'y' && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])) {
		return fmt.Sprintf("%d %sies", n, noun[:len(noun)-1])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func percent(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// ratio is a ratio that may not exist (nil: nothing to divide) as a percentage or "n/a".
func ratio(f *float64) string {
	if f == nil {
		return "n/a"
	}
	return percent(*f)
}

func seconds(s float64) string {
	switch {
	case s >= 3600:
		return fmt.Sprintf("%.1f h", s/3600)
	case s >= 60:
		return fmt.Sprintf("%.1f min", s/60)
	case s >= 1:
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f ms", s*1000)
}

// ByteSize prints a byte count in binary units (KiB, MiB, ...), one decimal.
func ByteSize(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// requestMix prints one platform's requests: each method's total, then its namespaces in
// numeric order when it names any.
func requestMix(byMethod map[string]map[string]uint64) string {
	parts := make([]string, 0, len(byMethod))
	for _, method := range slices.Sorted(maps.Keys(byMethod)) {
		byNS := byMethod[method]
		var total uint64
		for _, n := range byNS {
			total += n
		}
		part := fmt.Sprintf("%s %d", method, total)
		if _, none := byNS[results.NoNamespace]; !none || len(byNS) > 1 {
			nss := slices.SortedFunc(maps.Keys(byNS), func(a, b string) int {
				x, errA := strconv.Atoi(a)
				y, errB := strconv.Atoi(b)
				if errA != nil || errB != nil {
					return strings.Compare(a, b)
				}
				return x - y
			})
			ns := make([]string, len(nss))
			for k, name := range nss {
				ns[k] = fmt.Sprintf("%s: %d", name, byNS[name])
			}
			part += " (" + strings.Join(ns, ", ") + ")"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

func counts(m map[string]uint64) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// writePush prints the push section.
func writePush(p func(string, ...any), s *results.Push) {
	p("Push")
	p("  subscriptions accepted %d; monitor requests to nodes %d", s.Subscriptions, s.MonitorRequests)
	p("  notifications %d, wake-ups %d", s.Notifications, s.Wakeups)
	p("  store to wake-up: %s", latencies(s.WakeLatencyMs))
	p("  store to decrypted after a wake-up: %s", latencies(s.DeliveryAfterWakeMs))
	if len(s.Failures) > 0 {
		p("  failures: %s", counts(s.Failures))
	}
}
