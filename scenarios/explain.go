package scenarios

import (
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// keyDoc is what `sessionsim scenarios --explain` says of one key. The keys come from the
// schema (schemaKeys) and the defaults from Default, so only the meaning and the unit are
// written here; a test fails when a key of the schema has no entry or an entry names no key.
type keyDoc struct {
	unit    string
	meaning string
}

// keyDocs holds every key a scenario file may set; items of a list are written "faults[].at".
var keyDocs = map[string]keyDoc{
	"name":        {"text", "names the scenario in reports and the default results directory"},
	"description": {"text", "free text shown in reports; overrides from the environment or --set are appended"},
	"seed":        {"integer", "every random choice of the run derives from it: same seed, same binary, byte-identical summary.json"},
	"mode":        {"sim|live|docker", "the driver: sim (in-process, virtual time), live (the same actors on real loopback sockets, in real time) or docker (the registry and nodes in containers, the clients in this process)"},
	"crypto":      {"real|modeled", "real bytes everywhere, or modeled: same sizes and views, no curve operations, their CPU cost still charged"},
	"wire":        {"bytes|structural", "bytes: requests as the real wire's bytes; structural (needs crypto=modeled and mode=sim): onion requests and answers as values with their exact sizes, the same CPU charges and observations, so the same summary as bytes, faster"},
	"duration":    {"duration", "virtual time during which clients send"},
	"warmup":      {"duration", "virtual time before the first message, in which clients start, bootstrap and build paths"},
	"drain":       {"duration", "virtual time after the sending period in which messages in flight arrive"},

	"network.latency_matrix":  {"builtin|file", "region-to-region RTT matrix: the embedded AWS 2017 data or a CSV file of RTTs in ms"},
	"network.same_region_rtt": {"duration", "RTT between two hosts of one region"},
	"network.jitter":          {"fraction", "standard deviation added to each one-way propagation delay, as a fraction of it"},

	"nodes.count":                  {"nodes", "service nodes registered at the start"},
	"nodes.regions":                {"region: weight", "where nodes are placed, weights over the latency matrix's regions"},
	"nodes.storage_server":         {"2.11|2.8", "replication behaviour: 2.11 (ready handshake, bounded dumps, retried forwards) or 2.8 (full pushes, no retries)"},
	"nodes.cores":                  {"cores", "CPU cores of each node host"},
	"nodes.largest_operator_share": {"fraction", "share of the nodes run by the largest operator (the target of largest-operator faults)"},
	"nodes.churn.crashes_per_hour": {"per hour", "random running nodes crash (and stay down) as a Poisson process during the sending period"},
	"nodes.churn.joins_per_hour":   {"per hour", "new nodes register as a Poisson process during the sending period"},
	"nodes.churn.lifetime_median":  {"duration", "0, or the median of each node's lifetime, heavy-tailed (Pareto II: P(L > x) = (1 + x/scale)^-shape) (from the sending period's start or its join), after which it crashes"},
	"nodes.churn.lifetime_shape":   {"Pareto alpha", "tail of the lifetimes: smaller is heavier (1 or less: infinite mean)"},

	"registry.block_interval":       {"duration", "time between blocks (2m on the real chain)"},
	"registry.list_delay":           {"duration", "how long after a block the nodes learn the new list"},
	"registry.decommission_after":   {"duration", "how long a node may fail reachability tests before it is decommissioned"},
	"registry.uptime_proof_max_age": {"duration", "how old a node's last uptime proof may be"},
	"registry.obligations":          {"quorum|pooled", "how failing nodes are found: quorum (oxen-core's: each block 10 validators test max(50, N/100) other nodes, each with its own view, and 7 matching votes decide, so a dead node keeps its swarm N/max(50, N/100) blocks on average) or pooled (every node judged each block by all testers' reports, out at once)"},
	"registry.seed_nodes":           {"count", "seed nodes answering clients' bootstrap requests (1 to 16)"},

	"clients.count":                 {"clients", "the users taking part"},
	"clients.regions":               {"region: weight", "where clients are placed"},
	"clients.platforms":             {"platform: weight", "the app each client runs: desktop (broadband), ios and android (4G)"},
	"clients.profiles":              {"platform: profile", "the network profile each platform's clients run: desktop-2026, ios-2026, android-2026 (the default), android-2024, or legacy-encoding (the current app with the 2024 1:1 encoding)"},
	"clients.sessions.mean_online":  {"duration", "mean length of an online period (exponential); 0 keeps every client online"},
	"clients.sessions.mean_offline": {"duration", "mean length of an offline period"},
	"clients.encoding":              {"libsession|legacy|platform", "how 1:1 messages are framed and padded: the 2026 apps' or the 2024 apps'"},
	"clients.guard_test":            {"own-id|random-id|ping|platform", "the direct request that tests a guard candidate"},
	"clients.guard_lifetime":        {"duration", "a guard is replaced this long after its selection; 0 keeps each profile's own (10 days on iOS, until it fails elsewhere)"},
	"clients.path_rotation":         {"duration", "non-guard hops are rebuilt once a path is this old; 0 keeps each profile's own (10m on the 2026 phones)"},
	"clients.paths":                 {"count", "onion paths per client, each behind its own guard (1 to 8)"},
	"clients.onion_padding":         {"bytes list|none", "pad each onion request's destination layer up to the next of these sizes"},
	"clients.cover_traffic":         {"per hour", "dummy polls per online client for a decoy account"},
	"clients.flash_crowd.fraction":  {"fraction", "share of the clients that start in the burst instead of the warmup; 0: no crowd"},
	"clients.flash_crowd.at":        {"duration", "when the burst opens, from the end of the warmup"},
	"clients.flash_crowd.within":    {"duration", "length of the burst: each crowd client starts at a uniform moment in it"},
	"clients.clock.distribution":    {"none|normal|uniform", "how the clients' device clock errors are drawn (the nodes' clocks are the true time)"},
	"clients.clock.spread":          {"duration", "normal: the errors' standard deviation; uniform: their half-width"},
	"clients.clock.far_share":       {"fraction", "share of the clients whose clock is far_offset off instead, ahead or behind alike (OpenSignal 2013: 3.5% of Android clocks over an hour out); 0: none"},
	"clients.clock.far_offset":      {"duration", "how far off the far clocks are (nodes refuse a signature more than 60s off, a store more than 10s ahead)"},

	"workload.graph":                    {"small-world|random", "who writes to whom"},
	"workload.contacts":                 {"count", "contacts per client (even for small-world)"},
	"workload.rewire":                   {"probability", "small-world rewiring probability"},
	"workload.messages_per_hour":        {"per hour", "each online client's mean sending rate (Poisson), replies included: conversations start at this x (1 - reply_probability)"},
	"workload.activity":                 {"uniform|heavy-tailed", "every client sends at messages_per_hour, or at its own log-normal rate, the mean of all rates messages_per_hour"},
	"workload.activity_top15_share":     {"fraction", "heavy-tailed: expected share of the messages the most active 15% of clients send (0.15 to 0.95)"},
	"workload.reply_probability":        {"probability", "chance that a client answers a message it receives, if online when the answer is due (below 1)"},
	"workload.reply_delay.median":       {"duration", "median time from receiving a message to answering it (log-normal)"},
	"workload.reply_delay.sigma":        {"log-normal sigma", "spread of the reply delay"},
	"workload.reply_delay.min":          {"duration", "shortest reply delay"},
	"workload.reply_delay.max":          {"duration", "longest reply delay"},
	"workload.size.median":              {"bytes", "median message body size (log-normal)"},
	"workload.size.sigma":               {"log-normal sigma", "spread of the body size"},
	"workload.size.min":                 {"bytes", "smallest body"},
	"workload.size.max":                 {"bytes", "largest body (at most 60000)"},
	"workload.unknown_recipient_share":  {"fraction", "share of messages sent to Session IDs no client owns (undeliverable)"},
	"workload.groups.per_client":        {"count", "mean number of group chats (03 groups) a client is in; 0: no groups"},
	"workload.groups.size.median":       {"members", "median group size, its creator included (log-normal)"},
	"workload.groups.size.sigma":        {"log-normal sigma", "spread of the group size"},
	"workload.groups.size.min":          {"members", "smallest group (at least 2)"},
	"workload.groups.size.max":          {"members", "largest group (at most 100, the apps' limit)"},
	"workload.groups.messages_per_hour": {"per hour", "each group's sending rate (Poisson), each message from a random member online then"},
	"workload.groups.overlap":           {"fraction", "share of a group's members drawn from its creator's contacts; the rest at random"},
	"workload.groups.removals_per_hour": {"per hour", "each group's rate of member removals by its admin, each rotating the group key"},
	"leakage.adversaries":               {"list", "adversaries whose view of the run is measured; none: nothing is recorded"},
	"leakage.horizon":                   {"duration", "0, or the span the path-selection mode plays (pool refreshes, guards, paths, churn; no message bytes) at the request rates the run measured"},
	"leakage.link_taps":                 {"true|false", "record every transmission on every link (hosts, times, bytes) to link_taps.csv.gz in the results directory"},
	"leakage.adversaries[].name":        {"text", "labels it in the summary; default its kind (random ones get -<fraction>)"},
	"leakage.adversaries[].fraction":    {"fraction", "sybil: new nodes registered, as a share of nodes.count"},
	"leakage.adversaries[].at":          {"duration", "sybil: when they register, from the end of the warmup"},
	"leakage.adversaries[].operators":   {"count", "operator: the k largest operators together (default 1)"},
	"leakage.adversaries[].provider":    {"rank|a.b.0.0/16", "provider: a /16 block by rank of nodes (1 = largest) or by address"},
	"leakage.adversaries[].view":        {"seized|link", "provider: its nodes' full view, or timing and sizes on their links"},
	"leakage.adversaries[].region":      {"region", "region: the region whose links, client access links included, are watched"},

	"servers.push.enabled":             {"true|false", "run the push-notification server: phones register when their app opens and, in the background, are woken through it to poll (default false)"},
	"servers.push.region":              {"region", "where the push server runs (an assumption)"},
	"servers.push.cores":               {"cores", "CPU cores of the push server's host"},
	"servers.push.notify_delay.median": {"duration", "median delivery delay of the push services (APNs, Firebase) from the server to the phone (log-normal; an assumption, unpublished)"},
	"servers.push.notify_delay.sigma":  {"log-normal sigma", "spread of the push services' delay"},
	"servers.push.notify_delay.min":    {"duration", "shortest push service delay"},
	"servers.push.notify_delay.max":    {"duration", "longest push service delay"},
	"servers.push.platforms":           {"list of ios|android", "the apps that register for push notifications (the desktop app registers none)"},
	"leakage.adversaries[].kind":       {"random|operator|provider|region|global-timing|sybil|server", "who observes"},
	"leakage.adversaries[].servers":    {"role list", "server: the servers it runs, of file, push and community (all community servers)"},
	"leakage.adversaries[].fractions":  {"fraction list", "random: shares of the nodes in a coalition (default 0.01, 0.05, 0.10, 0.20); server: the node coalitions its servers are joined with (none by default)"},
	"leakage.adversaries[].draws":      {"count", "random, and server with fractions: coalitions drawn per fraction, 1 to 64 (default 16)"},

	"workload.groups.additions_per_hour": {"per hour", "each group's rate of member additions by its admin (a client never in it, drawn as the members were; none once the group has 100), each handing the new member the group's keys in a key supplement"},

	"servers.communities.count":             {"servers", "community servers (SOGS) polled by the clients in their rooms; 0: none"},
	"servers.communities.rooms":             {"rooms", "rooms on each community server"},
	"servers.communities.region":            {"region", "where the community servers are hosted"},
	"servers.communities.cores":             {"cores", "CPU cores of each community server's host"},
	"servers.communities.joined_share":      {"fraction", "share of the clients in at least one room"},
	"servers.communities.rooms_per_client":  {"rooms", "mean rooms a joined client is in (1 + Poisson), drawn over every server's rooms"},
	"servers.communities.messages_per_hour": {"per hour", "messages posted in each room by its members the server simulates (Poisson); clients read them"},

	"faults":                 {"list", "scheduled impairments; each item has the keys below (see the kinds)"},
	"faults[].kind":          {"crash|hang|degrade|offline|partition", "what happens"},
	"faults[].at":            {"duration", "when it starts, from the end of the warmup"},
	"faults[].for":           {"duration", "how long it lasts; 0 until the end (a crash with for > 0 restarts the nodes after it)"},
	"faults[].target":        {"random|paths|largest-operator|phones|file-server", "which nodes a crash, hang or degrade hits (phones: a degrade of iOS and Android clients' links; file-server: the file server, a crash restarting it with its files after for); empty is random"},
	"faults[].count":         {"count", "how many nodes (or clients) it hits; give count or fraction"},
	"faults[].fraction":      {"fraction", "the share of them it hits"},
	"faults[].regions":       {"region list", "a partition's regions, cut off from the rest"},
	"faults[].added_latency": {"duration", "a degrade's latency added to each message leaving or reaching the host"},
	"faults[].loss":          {"probability", "a degrade's extra packet loss"},

	"checks":         {"list of FIGURE OP VALUE", "assertions on summary.json's figures; a failing one makes the run exit 3"},
	"quick.checks":   {"list of FIGURE OP VALUE", "the checks of the shortened run (run --quick), replacing checks there"},
	"quick.clients":  {"count", "the client count of the shortened run, when below a tenth of clients.count (0: a tenth)"},
	"quick.duration": {"duration", "the duration of the shortened run, when below a quarter of duration (0: a quarter)"},

	"workload.attachments.share":                   {"fraction", "share of the messages sent (replies included) that carry an attachment, uploaded to the file server first; 0: none, and no file server"},
	"workload.attachments.download":                {"immediately|on-open", "when the recipient downloads: as soon as the message arrives, or when the user opens the conversation (open_delay later)"},
	"workload.attachments.open_delay.median":       {"duration", "median time from a message's arrival to the user opening its conversation (log-normal), for on-open downloads"},
	"workload.attachments.open_delay.sigma":        {"log-normal sigma", "spread of the open delays"},
	"workload.attachments.open_delay.min":          {"duration", "shortest open delay"},
	"workload.attachments.open_delay.max":          {"duration", "longest open delay"},
	"workload.attachments.kinds.voice.weight":      {"weight", "how often an attachment is one of the voice clips"},
	"workload.attachments.kinds.voice.size.median": {"bytes", "median size of voice clips (log-normal), before padding and encryption"},
	"workload.attachments.kinds.voice.size.sigma":  {"log-normal sigma", "spread of the sizes of voice clips"},
	"workload.attachments.kinds.voice.size.min":    {"bytes", "smallest of the voice clips"},
	"workload.attachments.kinds.voice.size.max":    {"bytes", "largest of the voice clips: at most 9828080, whose padded, encrypted upload fits the file server's 10,000,000 bytes"},
	"workload.attachments.kinds.photo.weight":      {"weight", "how often an attachment is one of the photos"},
	"workload.attachments.kinds.photo.size.median": {"bytes", "median size of photos (log-normal), before padding and encryption"},
	"workload.attachments.kinds.photo.size.sigma":  {"log-normal sigma", "spread of the sizes of photos"},
	"workload.attachments.kinds.photo.size.min":    {"bytes", "smallest of the photos"},
	"workload.attachments.kinds.photo.size.max":    {"bytes", "largest of the photos: at most 9828080, whose padded, encrypted upload fits the file server's 10,000,000 bytes"},
	"workload.attachments.kinds.file.weight":       {"weight", "how often an attachment is one of the other files"},
	"workload.attachments.kinds.file.size.median":  {"bytes", "median size of other files (log-normal), before padding and encryption"},
	"workload.attachments.kinds.file.size.sigma":   {"log-normal sigma", "spread of the sizes of other files"},
	"workload.attachments.kinds.file.size.min":     {"bytes", "smallest of the other files"},
	"workload.attachments.kinds.file.size.max":     {"bytes", "largest of the other files: at most 9828080, whose padded, encrypted upload fits the file server's 10,000,000 bytes"},

	"servers.file_server.region": {"region", "where the file server's host is (placed only with attachments or a fault on it)"},
	"servers.file_server.cores":  {"cores", "CPU cores of the file server's host"},
	"servers.file_server.ttl":    {"duration", "how long the file server keeps a file after its upload (3 weeks on the real one)"},
}

// faultDoc is a fault kind with an example item of a faults: list.
type faultDoc struct {
	kind, meaning, example string
}

var faultDocs = []faultDoc{
	{"crash", "nodes are killed: count or fraction of them, at random, on clients' paths (target: paths) or of the largest operator (target: largest-operator); for > 0 restarts them that much later with the same identity, address and stored messages (for 0: down for good); target: file-server stops the file server, restarted with its files after for",
		"{kind: crash, at: 5m, target: largest-operator, fraction: 1}"},
	{"hang", "nodes freeze as a stopped process (docker mode: a paused container) for a while or until the end, picked as for a crash: they keep their state and connections but answer nothing (requests to them time out), their timers wait and their oxend casts no votes; on resume they carry on",
		"{kind: hang, at: 5m, for: 2m, target: paths, count: 3}"},
	{"degrade", "nodes' links (or, with target: phones, phones' access links) get added latency and loss, for a while or until the end",
		"{kind: degrade, at: 0s, target: phones, fraction: 1, added_latency: 150ms, loss: 0.03}"},
	{"offline", "count or fraction of the clients go offline for a while, then come back",
		"{kind: offline, at: 5m, for: 2m, fraction: 0.2}"},
	{"partition", "hosts in the listed regions (nodes and clients) are cut off from all others, healed after for",
		"{kind: partition, at: 5m, for: 10m, regions: [eu-central-1]}"},
}

// FaultKinds lists the fault kinds a scenario may use.
func FaultKinds() []string {
	out := make([]string, len(faultDocs))
	for i, f := range faultDocs {
		out[i] = f.kind
	}
	return out
}

// Explain writes every scenario key with its unit, default and meaning, then every fault kind
// with an example, for `sessionsim scenarios --explain`.
func Explain(w io.Writer) error {
	defaults := defaultValues()
	keys := schemaKeys()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tUNIT\tDEFAULT\tMEANING")
	var long []string // defaults too wide for the table (the region weights), listed below it
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if keys[k] == structKey {
			continue
		}
		d, def := keyDocs[k], defaults[k]
		if len(def) > 40 {
			long = append(long, fmt.Sprintf("  %s: %s", k, def))
			def = "(below)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k, d.unit, def, d.meaning)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(long) > 0 {
		fmt.Fprintln(w, "\nDefaults (below):\n"+strings.Join(long, "\n"))
	}
	fmt.Fprintln(w, "\nDurations take a unit (90s, 20m, 1h30m); fault times count from the end of the warmup.")
	fmt.Fprintln(w, "\nFAULT KINDS (items of faults:)")
	for _, f := range faultDocs {
		fmt.Fprintf(w, "  %-10s %s\n  %-10s faults: [%s]\n", f.kind, f.meaning, "", f.example)
	}
	fmt.Fprintln(w, "\n"+QuickRules)
	_, err := fmt.Fprintln(w, "\nChecks: FIGURE OP VALUE with OP >=, <= or ==, or FIGURE between A and B; FIGURE is a JSON path in summary.json (README, Checks).")
	return err
}

// defaultValues renders the default of every key as a scenario file writes it; the keys of a
// list item take the zero item's values.
func defaultValues() map[string]string {
	out := map[string]string{}
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		for i := range v.NumField() {
			f := v.Type().Field(i)
			tag, _ := scenarioKey(f)
			if tag == "" {
				continue
			}
			key, fv := prefix+tag, v.Field(i)
			switch {
			case fv.Type() != durationType && fv.Kind() == reflect.Struct:
				walk(fv, key+".")
			case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
				out[key] = "none"
				walk(reflect.New(fv.Type().Elem()).Elem(), key+"[].")
			default:
				out[key] = plainText(fv)
			}
		}
	}
	walk(reflect.ValueOf(Default()), "")
	return out
}

// plainText writes one default value: durations with their unit, maps as sorted key=value
// pairs, empty lists and text as "none" and `""`.
func plainText(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return v.Interface().(time.Duration).String()
	case v.Kind() == reflect.Map:
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, fmt.Sprintf("%v=%v", k.Interface(), v.MapIndex(k).Interface()))
		}
		slices.Sort(parts)
		return strings.Join(parts, " ")
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			return "none"
		}
		return fmt.Sprint(v.Interface())
	case v.Kind() == reflect.String:
		if v.Len() == 0 {
			return `""`
		}
		return v.String()
	case v.Kind() == reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}
