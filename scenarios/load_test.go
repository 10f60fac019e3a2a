package scenarios

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sessionsim/sessionsim/client"
)

func TestBuiltinsLoadAndValidate(t *testing.T) {
	names := Builtins()
	require.Contains(t, names, "default")
	require.Contains(t, names, "large")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := Load(name, LoadOptions{})
			require.NoError(t, err)
			assert.Equal(t, name, s.Name)
		})
	}
	def, err := Load("", LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, 100, def.Nodes.Count)
	assert.Equal(t, 200, def.Clients.Count)
	assert.Equal(t, 20*time.Minute, def.Duration)
	assert.Equal(t, "real", def.Crypto)
}

func TestParseLayers(t *testing.T) {
	src := []byte("name: t\nnodes:\n  count: 30\n  regions: {us-east-1: 1}\n")
	s, err := Parse(src, "t.yaml", LoadOptions{
		Environ: []string{"SESSIONSIM_CLIENTS_COUNT=7", "HOME=/root", "SESSIONSIM_NETWORK_SAME_REGION_RTT=3ms"},
		Sets:    []string{"duration=90s", "nodes.count=40", "clients.platforms.ios=2"},
	})
	require.NoError(t, err)
	assert.Equal(t, 40, s.Nodes.Count, "--set beats the file")
	assert.Equal(t, 7, s.Clients.Count, "environment applies")
	assert.Equal(t, 3*time.Millisecond, s.Network.SameRegionRTT)
	assert.Equal(t, 90*time.Second, s.Duration)
	assert.Equal(t, map[string]float64{"us-east-1": 1}, s.Nodes.Regions, "a map in the file replaces the default")
	assert.Equal(t, 2.0, s.Clients.Platforms["ios"])
	assert.Equal(t, 2*time.Minute, s.Drain, "defaults fill what the file leaves out")
}

func TestParseErrors(t *testing.T) {
	few := []string{"clients.count=20", "workload.contacts=4"}
	checkParseErrors(t, []parseError{
		{"unknown top key", "name: t\nnodez: {count: 3}\n", LoadOptions{}, "bad.yaml:2", "nodez", "unknown key"},
		{"unknown nested key", "name: t\nnodes:\n  cuont: 3\n", LoadOptions{}, "bad.yaml:3", "nodes.cuont", "nodes.count"},
		{"non-numeric", "name: t\nnodes: {count: many}\n", LoadOptions{}, "bad.yaml:2", "nodes.count", "many"},
		{"bad duration", "name: t\nduration: soon\n", LoadOptions{}, "bad.yaml:2", "duration", "soon"},
		{"duration without unit", "name: t\nduration: 5\n", LoadOptions{}, "bad.yaml:2", "duration", "no unit"},
		{"duration without unit by --set", "name: t\n", LoadOptions{Sets: []string{"warmup=30"}}, "--set", "warmup", "no unit"},
		{"duration without unit by env", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_DRAIN=7"}}, "SESSIONSIM_DRAIN", "drain", "no unit"},
		{"negative duration", "name: t\ndrain: -5s\n", LoadOptions{}, "bad.yaml:2", "drain", "negative"},
		{"bad crypto", "name: t\ncrypto: rot13\n", LoadOptions{}, "bad.yaml:2", "crypto", "rot13"},
		{"bad wire", "name: t\nwire: json\n", LoadOptions{}, "bad.yaml:2", "wire", `must be "bytes" or "structural"`},
		{"structural wire with real crypto", "name: t\nwire: structural\n", LoadOptions{}, "bad.yaml:2", "wire", "crypto=real exists to make and check them: set crypto=modeled"},
		{"structural wire set with real crypto", "name: t\n", LoadOptions{Sets: []string{"wire=structural"}}, "--set", "wire", "set crypto=modeled, or wire=bytes"},
		{"structural wire in live mode", "name: t\nwire: structural\n", LoadOptions{Environ: []string{"SESSIONSIM_MODE=live"}}, "bad.yaml:2", "wire", "set crypto=modeled"},
		{"bad obligations", "name: t\nregistry: {obligations: vibes}\n", LoadOptions{}, "bad.yaml:2", "registry.obligations", `must be "quorum" or "pooled"`},
		{"bad platform", "name: t\nclients: {platforms: {windows-phone: 1}}\n", LoadOptions{}, "bad.yaml:2", "clients.platforms.windows-phone", "unknown client platform"},
		{"unknown profile", "name: t\n", LoadOptions{Sets: []string{"clients.profiles.android=android-1999"}}, "--set", "clients.profiles.android", `unknown network profile "android-1999"`},
		{"another platform's profile", "name: t\nclients:\n  profiles: {desktop: ios-2026}\n", LoadOptions{}, "bad.yaml:3", "clients.profiles.desktop", "the ios app's, not desktop's"},
		{"profile of no platform", "name: t\nclients:\n  profiles: {symbian: desktop-2026}\n", LoadOptions{}, "bad.yaml:3", "clients.profiles.symbian", "unknown client platform"},
		{"unknown node region", "name: t\nnodes:\n  regions: {mars-north-1: 1}\n", LoadOptions{}, "bad.yaml:3", "nodes.regions.mars-north-1", "no such region"},
		{"unknown client region", "name: t\n", LoadOptions{Sets: []string{"clients.regions.mars-north-1=1"}}, "--set", "clients.regions.mars-north-1", "no such region"},
		{"unknown fault region", "name: t\nfaults:\n  - {at: 1m, kind: partition, regions: [mars-north-1]}\n", LoadOptions{}, "bad.yaml:3", "faults[0].regions[0]", "no such region"},
		{"regions on a crash", "name: t\nfaults:\n  - {at: 1m, kind: crash, count: 1, regions: [us-east-1]}\n", LoadOptions{}, "bad.yaml:3", "faults[0].regions", "only a partition"},
		{"fault after the end", "name: t\nfaults:\n  - {at: 23m, kind: crash, count: 1}\n", LoadOptions{}, "bad.yaml:3", "faults[0].at", "after the run ends"},
		{"fault with count and fraction", "name: t\nfaults:\n  - {at: 1m, kind: crash, count: 2, fraction: 0.1}\n", LoadOptions{}, "bad.yaml:3", "faults[0].fraction", "not both"},
		{"push on the desktop", "name: t\nservers:\n  push: {enabled: true, platforms: [ios, desktop]}\n", LoadOptions{}, "bad.yaml:3", "servers.push.platforms[1]", "desktop app registers no push"},
		{"push platform twice", "name: t\nservers:\n  push: {platforms: [ios, ios]}\n", LoadOptions{}, "bad.yaml:3", "servers.push.platforms[1]", "listed twice"},
		{"push without platforms", "name: t\nservers:\n  push: {enabled: true, platforms: []}\n", LoadOptions{}, "bad.yaml:3", "servers.push.platforms", "must name ios, android or both"},
		{"push delay median above max", "name: t\nservers:\n  push:\n    notify_delay: {median: 1m}\n", LoadOptions{}, "bad.yaml:4", "servers.push.notify_delay.median", "between servers.push.notify_delay.min and servers.push.notify_delay.max"},
		{"push delay without unit", "name: t\nservers:\n  push:\n    notify_delay: {max: 30}\n", LoadOptions{}, "bad.yaml:4", "servers.push.notify_delay.max", "no unit"},
		{"push region", "name: t\n", LoadOptions{Sets: []string{"servers.push.region=mars-north-1"}}, "--set", "servers.push.region", "no such region"},
		{"push cores", "name: t\n", LoadOptions{Sets: []string{"servers.push.cores=0"}}, "--set", "servers.push.cores", "between 1 and 256"},
		{"unknown set key", "name: t\n", LoadOptions{Sets: []string{"nodes.cnt=3"}}, "--set", "nodes.cnt", "no scenario key"},
		{"set of a list", "name: t\n", LoadOptions{Sets: []string{"faults=x"}}, "--set", "faults", "write it in a scenario file"},
		{"set without value", "name: t\n", LoadOptions{Sets: []string{"nodes.count"}}, "--set", "", "key=value"},
		{"unknown env key", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_NODES_CNT=3"}}, "environment", "SESSIONSIM_NODES_CNT", "unset SESSIONSIM_NODES_CNT"},
		{"bad fault kind", "name: t\nfaults: [{at: 1m, kind: meteor}]\n", LoadOptions{}, "bad.yaml:2", "faults[0].kind", "meteor"},
		{"unknown fault key", "name: t\nfaults:\n  - at: 1m\n    kind: crash\n    cuont: 2\n", LoadOptions{}, "bad.yaml:5", "faults[0].cuont", "unknown key (known keys here: faults[].added_latency, faults[].at, faults[].count"},
		{"leakage fraction above 1", "name: t\nleakage:\n  adversaries:\n    - {kind: random, fractions: [0.1, 1.5]}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].fractions[1]", "between 0 and 1"},
		{"leakage fraction below 0", "name: t\nleakage:\n  adversaries:\n    - {kind: random, fractions: [-0.1]}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].fractions[0]", "between 0 and 1"},
		{"leakage unknown kind", "name: t\nleakage:\n  adversaries:\n    - {kind: alien}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].kind", "must be random, operator"},
		{"leakage sybil without fraction", "name: t\nleakage:\n  adversaries:\n    - {kind: sybil, at: 1m}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].fraction", "above 0 and at most 1"},
		{"leakage sybil fraction above 1", "name: t\nleakage:\n  adversaries:\n    - {kind: sybil, fraction: 1.5}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].fraction", "above 0 and at most 1"},
		{"leakage sybil after the end", "name: t\nleakage:\n  adversaries:\n    - {kind: sybil, fraction: 0.1, at: 23m}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].at", "within the run"},
		{"leakage sybil negative at", "name: t\nleakage:\n  adversaries:\n    - {kind: sybil, fraction: 0.1, at: -1m}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].at", "from 0"},
		{"leakage fraction of another kind", "name: t\nleakage:\n  adversaries:\n    - {kind: random, fraction: 0.1}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].fraction", "does not apply"},
		{"leakage at of another kind", "name: t\nleakage:\n  adversaries:\n    - {kind: operator, at: 1m}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].at", "does not apply"},
		{"leakage operator rank", "name: t\nleakage:\n  adversaries:\n    - {kind: operator, operators: 5000}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].operators", "the network has"},
		{"leakage provider rank", "name: t\nleakage:\n  adversaries:\n    - {kind: provider, provider: \"999\"}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].provider", "no provider of rank 999"},
		{"leakage unknown provider block", "name: t\nleakage:\n  adversaries:\n    - {kind: provider, provider: 10.9.0.0/16}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].provider", "no node is in 10.9.0.0/16"},
		{"leakage unknown region", "name: t\nleakage:\n  adversaries:\n    - {kind: region, region: mars-north-1}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].region", "no such region"},
		{"leakage key of another kind", "name: t\nleakage:\n  adversaries:\n    - {kind: operator, fractions: [0.1]}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].fractions", "does not apply"},
		{"leakage horizon negative", "name: t\nleakage:\n  horizon: -90d\n  adversaries:\n    - {kind: random}\n", LoadOptions{}, "bad.yaml:3", "leakage.horizon", "must be a positive duration"},
		{"leakage horizon unparseable", "name: t\nleakage:\n  horizon: 90 days\n  adversaries:\n    - {kind: random}\n", LoadOptions{}, "bad.yaml:3", "leakage.horizon", "not a duration"},
		{"leakage horizon without adversaries", "name: t\nleakage:\n  horizon: 90d\n", LoadOptions{}, "bad.yaml:3", "leakage.horizon", "with leakage.adversaries"},
		{"leakage too many draws", "name: t\nleakage:\n  adversaries:\n    - {kind: random, draws: 65}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].draws", "between 1 and 64"},
		{"leakage server of an unknown role", "name: t\nleakage:\n  adversaries:\n    - {kind: server, servers: [mail]}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].servers", `unknown server role "mail": use file, push, community`},
		{"leakage server naming none", "name: t\nleakage:\n  adversaries:\n    - {kind: server}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].servers", "name the roles it runs"},
		{"leakage servers of another kind", "name: t\nleakage:\n  adversaries:\n    - {kind: random, servers: [push]}\n", LoadOptions{}, "bad.yaml:4", "leakage.adversaries[0].servers", "does not apply"},
		{"communities negative count", "name: t\nservers:\n  communities: {count: -1}\n", LoadOptions{}, "bad.yaml:3", "servers.communities.count", "between 0"},
		{"communities without rooms", "name: t\nservers:\n  communities: {count: 1, rooms: 0}\n", LoadOptions{}, "bad.yaml:3", "servers.communities.rooms", "between 1 and 1000"},
		{"communities joined share above 1", "name: t\n", LoadOptions{Sets: []string{"servers.communities.count=1", "servers.communities.joined_share=1.5"}}, "--set", "servers.communities.joined_share", "between 0 and 1"},
		{"communities fewer than a room per client", "name: t\nservers:\n  communities: {count: 1, rooms_per_client: 0.5}\n", LoadOptions{}, "bad.yaml:3", "servers.communities.rooms_per_client", "at least 1 room"},
		{"communities more rooms per client than rooms", "name: t\nservers:\n  communities: {count: 2, rooms: 3, rooms_per_client: 7}\n", LoadOptions{}, "bad.yaml:3", "servers.communities.rooms_per_client", "every room (6)"},
		{"communities unknown region", "name: t\nservers:\n  communities: {count: 1, region: mars-north-1}\n", LoadOptions{}, "bad.yaml:3", "servers.communities.region", "no such region"},
		{"communities negative rate", "name: t\nservers:\n  communities: {count: 1, messages_per_hour: -3}\n", LoadOptions{}, "bad.yaml:3", "servers.communities.messages_per_hour", "between 0 and 36000"},
		{"communities no cores", "name: t\nservers:\n  communities: {count: 1, cores: 0}\n", LoadOptions{}, "bad.yaml:3", "servers.communities.cores", "between 1 and 256"},
		{"unknown activity", "name: t\nworkload: {activity: bursty}\n", LoadOptions{}, "bad.yaml:2", "workload.activity", `must be "uniform" or "heavy-tailed"`},
		{"top share below uniform", "name: t\n", LoadOptions{Sets: []string{"workload.activity_top15_share=0.1"}}, "--set", "workload.activity_top15_share", "between 0.15 (every client alike) and 0.95"},
		{"top share of everything", "name: t\nworkload:\n  activity: heavy-tailed\n  activity_top15_share: 1\n", LoadOptions{}, "bad.yaml:4", "workload.activity_top15_share", "between 0.15"},
		{"reply probability 1", "name: t\nworkload: {reply_probability: 1}\n", LoadOptions{}, "bad.yaml:2", "workload.reply_probability", "below 1"},
		{"negative reply probability", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_WORKLOAD_REPLY_PROBABILITY=-0.2"}}, "SESSIONSIM_WORKLOAD_REPLY_PROBABILITY", "workload.reply_probability", "at least 0"},
		{"reply delay without unit", "name: t\nworkload:\n  reply_delay: {median: 30}\n", LoadOptions{}, "bad.yaml:3", "workload.reply_delay.median", "no unit"},
		{"reply delay median above max", "name: t\nworkload:\n  reply_delay: {median: 1h}\n", LoadOptions{}, "bad.yaml:3", "workload.reply_delay.median", "between workload.reply_delay.min and workload.reply_delay.max"},
		{"reply delay max below min", "name: t\n", LoadOptions{Sets: []string{"workload.reply_delay.max=1s"}}, "--set", "workload.reply_delay.max", "at least workload.reply_delay.min"},
		{"negative reply delay", "name: t\nworkload:\n  reply_delay: {min: -1s}\n", LoadOptions{}, "bad.yaml:3", "workload.reply_delay.min", "negative"},
		{"reply delay sigma", "name: t\nworkload:\n  reply_delay: {sigma: 9}\n", LoadOptions{}, "bad.yaml:3", "workload.reply_delay.sigma", "between 0 and 5"},
		{"attachment over the file server's limit", "name: t\nworkload:\n  attachments:\n    kinds:\n      file: {size: {max: 10000000}}\n", LoadOptions{}, "bad.yaml:5", "workload.attachments.kinds.file.size.max", "at most 9828080 bytes fit"},
		{"attachment far over the limit", "name: t\n", LoadOptions{Sets: []string{"workload.attachments.kinds.photo.size.max=20000000"}}, "--set", "workload.attachments.kinds.photo.size.max", "uploads of at most 10000000 bytes"},
		{"unknown attachment kind", "name: t\nworkload:\n  attachments:\n    kinds:\n      video: {weight: 1}\n", LoadOptions{}, "bad.yaml:5", "workload.attachments.kinds.video", "unknown key"},
		{"unknown download mode", "name: t\nworkload:\n  attachments: {download: later}\n", LoadOptions{}, "bad.yaml:3", "workload.attachments.download", `"immediately" or "on-open"`},
		{"attachment share above 1", "name: t\n", LoadOptions{Sets: []string{"workload.attachments.share=1.5"}}, "--set", "workload.attachments.share", "between 0 and 1"},
		{"open delay median above max", "name: t\nworkload:\n  attachments:\n    open_delay: {median: 2h}\n", LoadOptions{}, "bad.yaml:4", "workload.attachments.open_delay.median", "between workload.attachments.open_delay.min"},
		{"file server in no region", "name: t\nservers:\n  file_server: {region: mars-north-1}\n", LoadOptions{}, "bad.yaml:3", "servers.file_server.region", "no such region"},
		{"file server fault with a count", "name: t\nfaults:\n  - {at: 1m, kind: crash, target: file-server, count: 2}\n", LoadOptions{}, "bad.yaml:3", "faults[0].count", "no count or fraction"},
		{"hang on the file server", "name: t\nfaults:\n  - {at: 1m, for: 1m, kind: hang, target: file-server}\n", LoadOptions{}, "bad.yaml:3", "faults[0].target", "a hang takes target random, paths or largest-operator"},
		{"latency on a hang", "name: t\nfaults:\n  - {at: 1m, for: 1m, kind: hang, count: 1, added_latency: 5ms}\n", LoadOptions{}, "bad.yaml:3", "faults[0].added_latency", "only a degrade fault adds latency"},
		{"loss on a crash", "name: t\nfaults:\n  - {at: 1m, kind: crash, count: 1, loss: 0.1}\n", LoadOptions{}, "bad.yaml:3", "faults[0].loss", "only a degrade fault adds loss"},
		{"hang on the phones", "name: t\nfaults:\n  - {at: 1m, kind: hang, target: phones, count: 1}\n", LoadOptions{}, "bad.yaml:3", "faults[0].target", "only a degrade"},
		{"hang of more nodes than run", "name: t\nnodes: {count: 30}\nfaults:\n  - {at: 1m, kind: hang, count: 31}\n", LoadOptions{}, "bad.yaml:4", "faults[0].count", "nodes.count"},
		{"hang with count and fraction", "name: t\nfaults:\n  - {at: 1m, kind: hang, count: 2, fraction: 0.1}\n", LoadOptions{}, "bad.yaml:3", "faults[0].fraction", "not both"},
		{"hang with regions", "name: t\nfaults:\n  - {at: 1m, kind: hang, count: 1, regions: [us-east-1]}\n", LoadOptions{}, "bad.yaml:3", "faults[0].regions", "only a partition"},
		{"negative hang", "name: t\nfaults:\n  - {at: 1m, for: -1m, kind: hang, count: 1}\n", LoadOptions{}, "bad.yaml:3", "faults[0].for", "must not be negative"},
		{"file server offline", "name: t\nfaults:\n  - {at: 1m, for: 1m, kind: offline, target: file-server, count: 1}\n", LoadOptions{}, "bad.yaml:3", "faults[0].target", "only a crash, hang or degrade"},
		{"group larger than the apps allow", "name: t\nworkload:\n  groups: {per_client: 1, size: {max: 101}}\n", LoadOptions{}, "bad.yaml:3", "workload.groups.size.max", "group sizes above the real maximum (100)"},
		{"group size by --set", "name: t\n", LoadOptions{Sets: []string{"workload.groups.size.max=150"}}, "--set", "workload.groups.size.max", "group sizes above the real maximum (100)"},
		{"message size median above max", "name: t\nworkload:\n  size: {median: 5000}\n", LoadOptions{}, "bad.yaml:3", "workload.size.median", "between workload.size.min and workload.size.max"},
		{"group size max below min", "name: t\n", LoadOptions{Sets: []string{"workload.groups.size.min=10", "workload.groups.size.max=5"}}, "--set", "workload.groups.size.max", "at least workload.groups.size.min"},
		{"attachment size sigma", "name: t\nworkload:\n  attachments:\n    kinds:\n      voice: {size: {sigma: .nan}}\n", LoadOptions{}, "bad.yaml:5", "workload.attachments.kinds.voice.size.sigma", "between 0 and 5"},
		{"negative open delay", "name: t\n", LoadOptions{Sets: []string{"workload.attachments.open_delay.min=-1s"}}, "--set", "workload.attachments.open_delay.min", "negative"},
		{"group of one", "name: t\nworkload:\n  groups: {size: {min: 1}}\n", LoadOptions{}, "bad.yaml:3", "workload.groups.size.min", "at least 2 members"},
		{"group median outside", "name: t\nworkload:\n  groups: {size: {median: 1000, max: 100}}\n", LoadOptions{}, "bad.yaml:3", "workload.groups.size.median", "between workload.groups.size.min and workload.groups.size.max"},
		{"negative groups per client", "name: t\n", LoadOptions{Sets: []string{"workload.groups.per_client=-1"}}, "--set", "workload.groups.per_client", "between 0 (no groups) and 100"},
		{"group overlap above 1", "name: t\nworkload:\n  groups: {overlap: 1.5}\n", LoadOptions{}, "bad.yaml:3", "workload.groups.overlap", "between 0 and 1"},
		{"negative group rate", "name: t\nworkload:\n  groups: {messages_per_hour: -3}\n", LoadOptions{}, "bad.yaml:3", "workload.groups.messages_per_hour", "rate between 0"},
		{"negative addition rate", "name: t\nworkload:\n  groups: {additions_per_hour: -2}\n", LoadOptions{}, "bad.yaml:3", "workload.groups.additions_per_hour", "rate between 0"},
		{"addition rate by --set", "name: t\n", LoadOptions{Sets: []string{"workload.groups.additions_per_hour=2e7"}}, "--set", "workload.groups.additions_per_hour", "rate between 0"},
		{"negative removal rate", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_WORKLOAD_GROUPS_REMOVALS_PER_HOUR=-1"}}, "SESSIONSIM_WORKLOAD_GROUPS_REMOVALS_PER_HOUR", "workload.groups.removals_per_hour", "rate between 0"},
		{"groups larger than the world", "name: t\nclients: {count: 10}\nworkload:\n  contacts: 4\n  groups: {per_client: 1, size: {min: 20, median: 20}}\n", LoadOptions{}, "bad.yaml:5", "workload.groups.size.min", "at most clients.count (10)"},
		{"bad yaml", "name: [t\n", LoadOptions{}, "bad.yaml", "", "not valid YAML"},
		{"empty file", "", LoadOptions{}, "bad.yaml", "", "sets nothing"},
		{"only comments", "# nothing yet\n", LoadOptions{}, "bad.yaml", "", "sets nothing"},
		{"other mode", "name: t\nmode: cloud\n", LoadOptions{}, "bad.yaml:2", "mode", `must be "sim", "live" or "docker"`},
		{"live mode with modeled crypto", "name: t\ncrypto: modeled\n", LoadOptions{Environ: []string{"SESSIONSIM_MODE=live"}}, "bad.yaml:2", "crypto", "use crypto=real"},
		{"too few nodes", "name: t\nnodes: {count: 11}\n", LoadOptions{Sets: few}, "bad.yaml:2", "nodes.count", "(profile android-2026) and its node pool must hold more than 11, so at least 12"},
		{"too few nodes for desktops", "name: t\nnodes: {count: 8}\nclients: {platforms: {desktop: 1}}\n", LoadOptions{Sets: few}, "bad.yaml:2", "nodes.count", "(profile desktop-2026) and its node pool must hold more than 8, so at least 9"},
		{"one node", "name: t\n", LoadOptions{Sets: append([]string{"nodes.count=1"}, few...)}, "--set", "nodes.count", "a swarm needs 5 nodes"},
		{"no clients", "name: t\nclients: {count: 0}\n", LoadOptions{}, "bad.yaml:2", "clients.count", "at least 1"},
		{"default value in conflict", "name: t\nclients: {count: 5}\n", LoadOptions{}, "default", "workload.contacts", "less than clients.count (5)"},
		{"leakage records too big for the machine", "name: t\nleakage:\n  adversaries:\n    - {kind: random}\n", LoadOptions{MachineMemory: 80 << 20}, "default", "clients.count", "MiB of leakage records"},
		{"sybil nodes too big for the machine", "name: t\nnodes: {count: 5000}\nleakage:\n  adversaries:\n    - {kind: sybil, fraction: 1}\n", LoadOptions{MachineMemory: 160 << 20}, "bad.yaml:2", "nodes.count", "10000 nodes x"},
		{"too big for the machine", "name: t\n", LoadOptions{Sets: []string{"nodes.count=200000"}, MachineMemory: 1 << 30}, "--set", "nodes.count", "estimated 1.4 GiB"},
		{"check on no figure", "name: t\nchecks:\n  - delivery_ratio >= 0.9\n  - onion_rtt_ms.p95 <= 2000\n", LoadOptions{}, "bad.yaml:4", "checks[1]", `closest: onion_rtt_ms.p90, onion_rtt_ms.p99`},
		{"check with a bad operator", "name: t\nchecks: [\"delivery_ratio > 0.9\"]\n", LoadOptions{}, "bad.yaml:2", "checks[0]", `operator ">"`},
		{"check with a bad value", "name: t\n", LoadOptions{Sets: []string{"checks=delivery_ratio >= most"}}, "--set", "checks[0]", `value "most" is not a number`},
		{"check between backwards", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_CHECKS=replication.min_copies between 7 and 5"}}, "SESSIONSIM_CHECKS", "checks[0]", "lower one first"},
		{"check that is not a string", "name: t\nchecks:\n  - {delivery_ratio: 1}\n", LoadOptions{}, "bad.yaml:3", "checks[0]", "bad value"},
		{"count not an integer", "name: t\n", LoadOptions{Sets: []string{"clients.paths=1.5"}}, "--set", "clients.paths", "bad value: want an integer"},
		{"count in words", "name: t\nnodes: {count: lots}\n", LoadOptions{}, "bad.yaml:2", "nodes.count", "bad value: want an integer"},
		{"count out of range", "name: t\n", LoadOptions{Sets: []string{"nodes.count=99999999999999999999"}}, "--set", "nodes.count", "bad value: out of range: want an integer"},
		{"negative seed", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_SEED=-3"}}, "SESSIONSIM_SEED", "seed", "bad value: want a whole number of 0 or more"},
		{"fraction in words", "name: t\n", LoadOptions{Sets: []string{"workload.rewire=some"}}, "--set", "workload.rewire", "bad value: want a number"},
		{"switch in words", "name: t\n", LoadOptions{Sets: []string{"servers.push.enabled=maybe"}}, "--set", "servers.push.enabled", "bad value: want true or false"},
		{"clients too many for the machine", "name: t\n", LoadOptions{Environ: []string{"SESSIONSIM_CLIENTS_COUNT=1000000"}, MachineMemory: 2 << 30}, "SESSIONSIM_CLIENTS_COUNT", "clients.count", "more than this machine's 2.0 GiB"},
	})
}

// parseError is a scenario file that Parse, reading it as "bad.yaml" with opts, must refuse
// with a scenario Error naming wantSource and wantKey, whose text contains wantIn.
type parseError struct {
	name       string
	src        string
	opts       LoadOptions
	wantSource string
	wantKey    string
	wantIn     string
}

// checkParseErrors runs each case as a subtest.
func checkParseErrors(t *testing.T, cases []parseError) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "bad.yaml", tc.opts)
			var se *Error
			require.ErrorAs(t, err, &se, "a scenario Error")
			assert.Equal(t, tc.wantSource, se.Source)
			assert.Equal(t, tc.wantKey, se.Key)
			assert.ErrorContains(t, err, tc.wantIn)
		})
	}
}

func TestParseAccepts(t *testing.T) {
	cases := []struct {
		name  string
		src   string
		opts  LoadOptions
		check func(t *testing.T, s Scenario)
	}{
		{"bare zero duration", "name: t\ndrain: 0\n", LoadOptions{}, func(t *testing.T, s Scenario) { assert.Zero(t, s.Drain) }},
		{"smallest network", "name: t\nnodes: {count: 12}\n", LoadOptions{}, func(t *testing.T, s Scenario) { assert.Equal(t, 12, s.Nodes.Count) }},
		{"smallest network of desktops", "name: t\nnodes: {count: 9}\nclients: {platforms: {desktop: 1}}\n", LoadOptions{}, func(t *testing.T, s Scenario) { assert.Equal(t, 9, s.Nodes.Count) }},
		{"android clients on the 2024 app", "name: t\n", LoadOptions{Sets: []string{"clients.profiles.android=android-2024"}}, func(t *testing.T, s Scenario) {
			// A map set by key replaces the default map; the platforms left out run their
			// current app.
			for p, want := range map[client.Platform]string{client.Android: "android-2024", client.Desktop: "desktop-2026", client.IOS: "ios-2026"} {
				np, err := s.Clients.profile(p)
				require.NoError(t, err)
				assert.Equal(t, want, np.Name)
			}
		}},
		{"world that fits", "name: t\n", LoadOptions{MachineMemory: 1 << 30}, func(t *testing.T, s Scenario) { assert.Equal(t, 100, s.Nodes.Count) }},
		{"last moment of the run", "name: t\nfaults: [{at: 21m59s, kind: crash, fraction: 0.1}]\n", LoadOptions{}, func(t *testing.T, s Scenario) { assert.Len(t, s.Faults, 1) }},
		{"sybil at the last moment", "name: t\nleakage:\n  adversaries:\n    - {kind: sybil, fraction: 1, at: 21m59s}\n", LoadOptions{}, func(t *testing.T, s Scenario) {
			require.Len(t, s.Leakage.Adversaries, 1)
			assert.Equal(t, Adversary{Name: "sybil", Kind: "sybil", Fraction: 1, At: 21*time.Minute + 59*time.Second}, s.Leakage.Adversaries[0])
			assert.Equal(t, 100, s.sybilNodes(), "f = 1 doubles the network")
		}},
		{"description without overrides", "name: t\ndescription: ten nodes\n", LoadOptions{}, func(t *testing.T, s Scenario) { assert.Equal(t, "ten nodes", s.Description) }},
		{"description names the overrides", "name: t\ndescription: ten nodes\n", LoadOptions{Environ: []string{"SESSIONSIM_SEED=4"}, Sets: []string{"nodes.count=30"}},
			func(t *testing.T, s Scenario) {
				assert.Equal(t, "ten nodes [overridden: SESSIONSIM_SEED=4, --set nodes.count=30]", s.Description)
			}},
		{"checks", "name: t\nchecks:\n  - delivery_ratio >= 0.999\n  - onion_rtt_ms_by_platform.ios.p50 between 1 and 900\n", LoadOptions{},
			func(t *testing.T, s Scenario) { assert.Len(t, s.Checks, 2) }},
		{"description set by --set is the user's own", "name: t\ndescription: ten nodes\n", LoadOptions{Sets: []string{"description=mine", "seed=3"}},
			func(t *testing.T, s Scenario) { assert.Equal(t, "mine", s.Description) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(tc.src), "ok.yaml", tc.opts)
			require.NoError(t, err)
			tc.check(t, s)
		})
	}
}

func TestLoadFileAndMissing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	require.NoError(t, os.WriteFile(path, []byte("name: mine\nclients: {count: 10}\nworkload: {contacts: 3}\n"), 0o644))
	s, err := Load(path, LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, "mine", s.Name)
	assert.Equal(t, 10, s.Clients.Count)

	_, err = Load(filepath.Join(dir, "absent.yaml"), LoadOptions{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "built-ins: churn, default, flash-crowd, full, groups, large")
}

func TestResolvedYAMLRoundTrips(t *testing.T) {
	s, err := Load("default", LoadOptions{})
	require.NoError(t, err)
	s.Checks, s.Quick = nil, Quick{}
	b, err := s.YAML()
	require.NoError(t, err)
	assert.NotContains(t, string(b), "checks", "a scenario without checks resolves as it did before checks existed")
	assert.NotContains(t, string(b), "quick")
	s.Faults = []Fault{{At: time.Minute, Kind: "crash", Count: 2, Regions: []string{}}}
	s.Checks = []string{"delivery_ratio >= 0.999", "replication.min_copies between 5 and 10"}
	s.Quick.Checks = []string{"delivery_ratio >= 0.9"}
	b, err = s.YAML()
	require.NoError(t, err)
	assert.Contains(t, string(b), "duration: 20m0s")
	again, err := Parse(b, "resolved", LoadOptions{})
	require.NoError(t, err)
	assert.Equal(t, s, again)
}
