// Package results is the format of a run's results directory: the resolved scenario, the
// versioned summary.json, and run.json with what varies between otherwise identical runs (wall
// time, host). Reports read only this format; everything they show is recomputable from it.
package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// SchemaVersion is the version of summary.json. Bump it when a field changes meaning or goes
// away; adding a field keeps it.
const SchemaVersion = 1

// File names inside a results directory.
const (
	SummaryFile  = "summary.json"
	ScenarioFile = "scenario.yaml"
	RunFile      = "run.json"
	ReportFile   = "report.html"
	// JUnitFile holds the verdicts of a scenario's checks for CI systems; written only when the
	// scenario has checks.
	JUnitFile = "junit.xml"
	// LinkTapsFile holds every transmission on every link of the run, as gzip-compressed CSV
	// (see leakage.LinkTapsHeader); written only when the scenario sets leakage.link_taps.
	LinkTapsFile = "link_taps.csv.gz"
	// IncompleteMarker exists while a run is writing its directory, and stays if it failed, so
	// a half-written directory never looks complete.
	IncompleteMarker = "INCOMPLETE"
)

// Summary is summary.json: everything measured, deterministic for a given seed and binary
// (nothing here depends on the wall clock or the machine).
type Summary struct {
	Schema   int    `json:"schema"`
	Scenario string `json:"scenario"`
	Seed     uint64 `json:"seed"`
	Crypto   string `json:"crypto"`
	// Wire is the form requests took between actors ("bytes" or "structural"); the two give
	// the same figures, so it is reported beside crypto but is not itself a result.
	Wire    string `json:"wire"`
	Version string `json:"version"`
	// Incomplete: the run was stopped (Ctrl-C) before its end; the figures cover only the
	// virtual time it ran. Absent from the summary of a run that finished.
	Incomplete bool `json:"incomplete,omitempty" figure:"-"`

	VirtualSeconds float64 `json:"virtual_seconds"`
	Nodes          int     `json:"nodes"`
	Clients        int     `json:"clients"`

	Messages Messages `json:"messages"`
	// DeliveryRatio is Delivered / (Delivered + Lost); null when no message was eligible
	// (every one pending or undeliverable, or none sent), where a ratio would mean nothing.
	DeliveryRatio *float64 `json:"delivery_ratio"`
	// MessagesByKind splits Messages by what they carry (text, group, voice, photo, file), each
	// with its delivery ratio and end-to-end latency; only the kinds the run sent.
	MessagesByKind map[string]KindMessages `json:"messages_by_kind,omitempty"`
	// FileServer is the file server's load, when the run placed one.
	FileServer *FileServer `json:"file_server,omitempty"`
	// MessagesByGroupSize splits the group messages by the group's size when they were sent
	// (GroupSizeBuckets); a group message is delivered when every member at send time that is
	// still a member decrypted it. Groups summarises the run's group chats. Both are absent
	// without groups.
	MessagesByGroupSize map[string]KindMessages `json:"messages_by_group_size,omitempty"`
	Groups              *Groups                 `json:"groups,omitempty"`

	// EndToEndMs is send call -> first decrypt by the recipient, for every delivered message
	// (a recipient who was offline adds its offline time); EndToEndOnlineMs only for messages
	// whose recipient was online when they were sent.
	EndToEndMs       Percentiles `json:"end_to_end_latency_ms"`
	EndToEndOnlineMs Percentiles `json:"end_to_end_latency_online_ms"`
	// EndToEndByPlatform splits end-to-end latency by the recipient's platform, whose polling
	// decides most of it.
	EndToEndByPlatform map[string]Percentiles `json:"end_to_end_latency_ms_by_platform,omitempty"`
	OnionRTTMs         Percentiles            `json:"onion_rtt_ms"`
	// OnionRTTByPlatform splits onion round trips by client platform.
	OnionRTTByPlatform map[string]Percentiles `json:"onion_rtt_ms_by_platform,omitempty"`

	Store       Store       `json:"store"`
	Replication Replication `json:"replication"`
	// TimelineBucketSeconds is the width of each Timeline bucket in virtual seconds.
	TimelineBucketSeconds float64 `json:"timeline_bucket_s,omitempty"`
	// Timeline is the run bucket by bucket from its start (warmup included; the last bucket
	// may be shorter), so a report can draw delivery, latency and copies over virtual time.
	Timeline []TimelineBucket `json:"timeline,omitempty"`
	Paths    Paths            `json:"paths"`
	// RPCByMethod is the request mix clients sent: platform -> method -> namespace -> requests.
	// A batch counts once per subrequest (a poll of five namespaces is five retrieves); a
	// request that names no namespace is under NoNamespace. Onion requests count when their
	// answer or failure arrives, direct guard tests when they are answered or time out.
	RPCByMethod map[string]map[string]map[string]uint64 `json:"rpc_by_method,omitempty"`
	Traffic     Traffic                                 `json:"traffic"`
	// Clocks is how far clients' clocks were off and how often nodes refused them for it.
	Clocks  Clocks      `json:"clocks"`
	CPU     CPU         `json:"cpu"`
	Network NetworkInfo `json:"network"`
	Engine  Engine      `json:"engine"`
	// Garbage counts malformed or undecryptable data clients received, by kind.
	Garbage map[string]uint64 `json:"garbage,omitempty" figure:"counts"`
	// Leakage is what the scenario's adversaries learnt; absent without a leakage section.
	Leakage *Leakage `json:"leakage,omitempty"`
	// Push is the push-notification server's work and the phones' wake-ups; absent when the
	// scenario runs no push server.
	Push *Push `json:"push,omitempty"`
	// Communities is the community servers' traffic; absent when the run has none.
	Communities *Communities `json:"communities,omitempty"`

	// Checks are the verdicts of the scenario's checks, in its order; absent when it has none.
	// (The `figure` tags tell scenarios/checks what a check may name: "-" nothing here, "counts"
	// a map of counts where a key the run never saw reads 0.)
	Checks []CheckResult `json:"checks,omitempty" figure:"-"`
}

// Communities is what the clients' community pollers did (servers.communities): the servers
// and rooms, the polls and how many failed, the room messages they brought, and the bytes the
// servers received and answered (the proxied requests' wire sizes).
type Communities struct {
	Servers      int    `json:"servers"`
	Rooms        int    `json:"rooms"`
	Polls        uint64 `json:"polls"`
	PollFailures uint64 `json:"poll_failures"`
	MessagesRead uint64 `json:"messages_read"`
	BytesIn      uint64 `json:"bytes_in"`
	BytesOut     uint64 `json:"bytes_out"`
}

// CheckResult is the verdict of one check on this summary.
type CheckResult struct {
	// Check is the check as written, e.g. "delivery_ratio >= 0.999".
	Check string `json:"check"`
	// Figure is the summary path the check reads.
	Figure string `json:"figure"`
	// Value is the measured figure; null when the run has no such figure (a platform it did
	// not run) or the figure is null.
	Value  *float64 `json:"value"`
	Passed bool     `json:"passed"`
	// Reason says why a check failed: the measured value, or why there was none.
	Reason string `json:"reason,omitempty"`
}

// ChecksFailed counts the checks that did not pass.
func ChecksFailed(cs []CheckResult) int {
	n := 0
	for _, c := range cs {
		if !c.Passed {
			n++
		}
	}
	return n
}

// Messages counts 1:1 messages by outcome. Delivered + Lost + Pending + Undeliverable +
// InFlight = Sent.
type Messages struct {
	Sent uint64 `json:"sent"`
	// Delivered: decrypted by the recipient.
	Delivered uint64 `json:"delivered"`
	// Lost: not delivered although the recipient was online after the message was stored, or
	// never stored at all; LostByCause explains each.
	Lost        uint64            `json:"lost"`
	LostByCause map[string]uint64 `json:"lost_by_cause,omitempty" figure:"counts"`
	// Pending: the recipient has not been online since the message was sent; left out of the
	// delivery ratio.
	Pending uint64 `json:"pending"`
	// Undeliverable: addressed to a Session ID no client owns (stored, never read).
	Undeliverable uint64 `json:"undeliverable"`
	// InFlight: only in a run that was interrupted before its drain: not yet delivered, and
	// neither refused by the network nor pending, so its outcome is unknown; left out of the
	// delivery ratio. Absent from the summary of a run that finished.
	InFlight uint64 `json:"in_flight,omitempty"`
	// Duplicates: deliveries of a message already decrypted (deduplicated by the client).
	Duplicates uint64 `json:"duplicates"`
}

// FileServer is what the file server did (Summary.FileServer): uploads stored and downloads
// served with their bytes (the encrypted, padded files), the most files it held at once, the
// files its expiry sweeps deleted, and the requests it refused, by cause: "bad-request" (did
// not open or decode, or a bad X-FS-TTL), "not-found" (no such file), "too-large" (an upload
// over the limit, or empty), "method" (a method the endpoint does not take), "no-id" (no free
// file id), or the status code.
type FileServer struct {
	Uploads         uint64            `json:"uploads"`
	Downloads       uint64            `json:"downloads"`
	UploadBytes     uint64            `json:"upload_bytes"`
	DownloadBytes   uint64            `json:"download_bytes"`
	StoredFilesPeak uint64            `json:"stored_files_peak"`
	Expired         uint64            `json:"expired"`
	Failures        map[string]uint64 `json:"failures,omitempty"`
}

// KindMessages is Messages for the messages of one kind (Summary.MessagesByKind).
type KindMessages struct {
	Messages
	// DeliveryRatio is Delivered / (Delivered + Lost) of this kind; null when none was eligible.
	DeliveryRatio *float64 `json:"delivery_ratio"`
	// EndToEndMs is the end-to-end latency of this kind's delivered messages.
	EndToEndMs Percentiles `json:"end_to_end_latency_ms"`
}

// GroupSizeBuckets name the group sizes of Summary.MessagesByGroupSize, smallest first; each
// bucket holds the sizes up to its upper bound.
var GroupSizeBuckets = [...]struct {
	Name string
	Max  int
}{{"2-10", 10}, {"11-25", 25}, {"26-50", 50}, {"51-100", 100}}

// GroupSizeBucket is the index in GroupSizeBuckets of the bucket of a group of n members.
func GroupSizeBucket(n int) int {
	for k, b := range GroupSizeBuckets {
		if n <= b.Max {
			return k
		}
	}
	return len(GroupSizeBuckets) - 1
}

// Groups summarises the run's group chats.
type Groups struct {
	// Count is the number of groups, MembersMean their mean size when the run started.
	Count       int     `json:"count"`
	MembersMean float64 `json:"members_mean"`
	// Removals counts members removed by a group's admin; KeyRotations the key messages of
	// those removals stored in the group's swarm (a removal whose store failed rotated nothing
	// the members could learn).
	Removals     uint64 `json:"removals"`
	KeyRotations uint64 `json:"key_rotations"`
	// Polls counts the group polls clients sent (a retrieve of a group's namespaces).
	Polls uint64 `json:"polls"`
	// Additions counts members added by a group's admin whose key supplement was stored in
	// the group's swarm.
	Additions uint64 `json:"additions"`
}

// Percentiles summarises a distribution.
type Percentiles struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// Store is the outcome of clients' store requests (each message is one logical store, retried
// up to 3 times).
type Store struct {
	Attempts  uint64  `json:"attempts"`
	Succeeded uint64  `json:"succeeded"`
	Failed    uint64  `json:"failed"`
	Ratio     float64 `json:"success_ratio"`
	// SyncCopies counts the sync copies senders stored in their own swarm after a successful
	// send (one per stored message to another account), SyncCopiesFailed those given up. They
	// are not in the figures above, which are the messages themselves.
	SyncCopies       uint64 `json:"sync_copies"`
	SyncCopiesFailed uint64 `json:"sync_copies_failed"`
	// ConfigMessages counts the config messages clients stored in their own swarm (namespaces
	// 2-5, TTL 30 days; one per config in each push that succeeded), ConfigMessagesFailed those
	// a push did not store (they go out again with the next push), ConfigByNamespace the stored
	// ones by namespace.
	ConfigMessages       uint64            `json:"config_messages"`
	ConfigMessagesFailed uint64            `json:"config_messages_failed"`
	ConfigByNamespace    map[string]uint64 `json:"config_by_namespace,omitempty" figure:"counts"`
}

// Replication is the number of live copies per unexpired message, sampled over the run.
type Replication struct {
	Samples    uint64  `json:"samples"`
	MinCopies  float64 `json:"min_copies"`
	P1Copies   float64 `json:"p1_copies"`
	MeanCopies float64 `json:"mean_copies"`
	// Timeline is (virtual seconds, min copies, mean copies) at each sample.
	Timeline [][3]float64 `json:"timeline,omitempty"`
}

// TimelineBucket is one interval of virtual time. Messages count in the bucket in which they
// were sent, with their outcome at the end of the run, so a fault shows in the buckets of the
// messages it hurt; copies are the replication samples taken after the bucket's start up to
// and including its end.
type TimelineBucket struct {
	// StartSeconds is where the bucket starts, in virtual seconds from the start of the run.
	StartSeconds float64 `json:"start_s"`
	Sent         uint64  `json:"sent"`
	Delivered    uint64  `json:"delivered"`
	Lost         uint64  `json:"lost"`
	// DeliveryRatio is Delivered / (Delivered + Lost); absent when that is 0.
	DeliveryRatio *float64 `json:"delivery_ratio,omitempty"`
	// E2EP50Ms and E2EP99Ms are the end-to-end latency of the messages sent in the bucket and
	// delivered; absent when there are none.
	E2EP50Ms float64 `json:"e2e_p50_ms,omitempty"`
	E2EP99Ms float64 `json:"e2e_p99_ms,omitempty"`
	// Copies are the live copies per unexpired message in the bucket's samples (its Timeline
	// stays empty); absent when no sample found a stored message.
	Copies *Replication `json:"copies,omitempty"`
}

// Paths counts onion path events across clients.
type Paths struct {
	Built        uint64            `json:"built"`
	Rebuilds     uint64            `json:"rebuilds"`
	DroppedCause map[string]uint64 `json:"dropped_by_cause,omitempty" figure:"counts"`
}

// Traffic is bytes moved on the simulated wire.
type Traffic struct {
	TotalBytes          uint64 `json:"total_bytes"`
	ReplicationForwards uint64 `json:"replication_forwards"` // recursive requests forwarded to swarm peers
	SwarmChangeBytes    uint64 `json:"swarm_change_bytes"`
	// ForwardsByCause counts node-to-node forwards by what caused them: a recursive client
	// request by its method ("store" is store replication, "expire" the expiry a poll
	// extends; retries included), and ForwardSwarmChange for each batch pushed when swarms
	// changed.
	ForwardsByCause map[string]uint64 `json:"forwards_by_cause,omitempty" figure:"counts"`
	// ForwardsByPlatform is ForwardsByCause for the recursive forwards, by the platform of the
	// client whose request caused them (a store's sender, the account owner otherwise); swarm
	// changes belong to no client and are not here.
	ForwardsByPlatform map[string]map[string]uint64 `json:"forwards_by_platform,omitempty"`
	// ExpireRequests counts the expires clients' polls carried to keep their config messages
	// alive (one per poll request sent once the client has a config stored); the nodes forward
	// each to every other swarm member (ForwardsByCause "expire"). ConfigExpiryUpdates counts
	// the (member, message) expiries the answers report changed.
	ExpireRequests      uint64 `json:"expire_requests"`
	ConfigExpiryUpdates uint64 `json:"config_expiry_updates"`
}

// ForwardSwarmChange is the ForwardsByCause key of data pushed when swarms changed.
const ForwardSwarmChange = "swarm-change"

// NoNamespace is the RPCByMethod key of requests that name no namespace.
const NoNamespace = "none"

// CPU is the virtual CPU busy time of node hosts.
type CPU struct {
	MeanNodeBusySeconds float64 `json:"mean_node_busy_seconds"`
	MaxNodeBusySeconds  float64 `json:"max_node_busy_seconds"`
	// MeanNodeUtilisation is mean busy time / (virtual time x cores).
	MeanNodeUtilisation float64 `json:"mean_node_utilisation"`
}

// NetworkInfo describes the service-node network at the end of the run.
type NetworkInfo struct {
	ActiveNodes     int    `json:"active_nodes"`
	Swarms          int    `json:"swarms"`
	Blocks          uint64 `json:"blocks"`
	Decommissions   uint64 `json:"decommissions"`
	Deregistrations uint64 `json:"deregistrations"`
}

// Engine is the simulator's own counters.
type Engine struct {
	Events       uint64 `json:"events"`
	Calls        uint64 `json:"calls"`
	CallTimeouts uint64 `json:"call_timeouts"`
	LateReplies  uint64 `json:"late_replies"`
	// EventsDropped counts, in docker mode, the event lines the nodes' processes dropped
	// because the harness read them too slowly: the figures counted from the nodes' events
	// (copies, replication, leakage, link taps) are short by them. Absent when none was.
	EventsDropped uint64 `json:"events_dropped,omitempty"`
}

// Run is run.json: facts about this execution that are not part of the deterministic result.
type Run struct {
	Version     string  `json:"version"`
	Commit      string  `json:"commit,omitempty"`
	GoVersion   string  `json:"go_version"`
	WallSeconds float64 `json:"wall_seconds"`
	// Speedup is virtual seconds per wall second.
	Speedup   float64 `json:"speedup"`
	StartedAt string  `json:"started_at"`
	Command   string  `json:"command"`
	// Mode is the scenario's driver when it ran in real time ("live", "docker"); empty for the
	// simulator, so that a simulated run's run.json keeps its fields.
	Mode string `json:"mode,omitempty"`
	// Workers is how many workers the engine ran the world on (--workers), and WorkersNote,
	// when that is fewer than were asked for, why.
	Workers     int    `json:"workers,omitempty"`
	WorkersNote string `json:"workers_note,omitempty"`
	// WorkersWindowMs is how far in virtual time the workers ran apart, in milliseconds (the
	// network's minimum latency), on more than one worker.
	WorkersWindowMs float64 `json:"workers_window_ms,omitempty"`
}

// WriteJSON writes v as indented JSON to dir/name, creating or replacing the file.
func WriteJSON(dir, name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	b = append(b, '\n')
	return WriteFile(dir, name, b)
}

// WriteFile writes data to dir/name through a temporary file, so a reader never sees half a file.
func WriteFile(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ReadJSON decodes the JSON file at path into v, the counterpart of WriteJSON. A file that
// cannot be read gives the os error as is (so callers can tell a missing file); one that does
// not decode names the file.
func ReadJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ReadSummary loads dir/summary.json, refusing an incomplete directory or an unknown schema.
func ReadSummary(dir string) (Summary, error) {
	var s Summary
	switch fi, err := os.Stat(dir); {
	case errors.Is(err, os.ErrNotExist):
		return s, fmt.Errorf("%s: no such directory; give a results directory that sessionsim run wrote", dir)
	case err == nil && !fi.IsDir():
		if _, err := os.Stat(filepath.Join(filepath.Dir(dir), SummaryFile)); err == nil {
			return s, fmt.Errorf("%s is a file; give the results directory that holds it (%s)", dir, filepath.Dir(dir))
		}
		return s, fmt.Errorf("%s is a file, not a results directory; give a directory that sessionsim run wrote", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, IncompleteMarker)); err == nil {
		return s, fmt.Errorf("%s: the run that wrote this directory did not finish (%s is present); run it again", dir, IncompleteMarker)
	}
	if err := ReadJSON(filepath.Join(dir, SummaryFile), &s); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if runs := runsBelow(dir); len(runs) > 0 {
				return s, fmt.Errorf("%s: no %s here, but %d runs below it, e.g. %s: give one of them (sessionsim compare reads a whole --seeds output or sweep)", dir, SummaryFile, len(runs), runs[0])
			}
			return s, fmt.Errorf("%s: no %s here; is this a sessionsim results directory?", dir, SummaryFile)
		}
		return s, err
	}
	if s.Schema != SchemaVersion {
		return s, fmt.Errorf("%s: summary schema %d, this build reads schema %d", dir, s.Schema, SchemaVersion)
	}
	return s, nil
}

// runsBelow lists the results directories one or two levels below dir, in the layout of a
// --seeds output (seed-S) and of a sweep (ARM/seed-S).
func runsBelow(dir string) []string {
	var runs []string
	for _, pattern := range []string{filepath.Join(dir, "*", SummaryFile), filepath.Join(dir, "*", "*", SummaryFile)} {
		found, _ := filepath.Glob(pattern) // the patterns are well-formed
		for _, f := range found {
			runs = append(runs, filepath.Dir(f))
		}
	}
	return runs
}

// Clock names the time a run's figures are in: virtual time on the simulator (or when there is
// no run.json to say), real time for a run in live or docker mode.
func (r *Run) Clock() string {
	if r != nil && r.Mode != "" {
		return "real time"
	}
	return "virtual time"
}

// ReadRun loads dir/run.json; nil when the directory has none, since a summary can be read,
// checked and reported without it.
func ReadRun(dir string) (*Run, error) {
	var r Run
	if err := ReadJSON(filepath.Join(dir, RunFile), &r); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	return &r, nil
}

// Clocks is how far clients' device clocks were from the nodes' and what it cost: storage
// servers refuse a signature timestamp more than 60 s from their clock, and a store timestamp
// more than 10 s ahead, with 406 (their only answer to a bad clock; 425 comes from other
// servers, so it stays 0 here). Each refused sub-request counts once.
type Clocks struct {
	// OffsetAbsMs is the spread of the clients' device clock errors, |offset| in ms, one value
	// per client (the scenario's clients.clock).
	OffsetAbsMs Percentiles `json:"offset_abs_ms"`
	// Status406 and Status425 count the refusals by status.
	Status406 uint64 `json:"status_406"`
	Status425 uint64 `json:"status_425"`
	// RejectedTooOld and RejectedTooNew split the refusals by the side the client's clock (as
	// corrected by what it had learnt) was off when it sent the request: behind or ahead.
	RejectedTooOld uint64 `json:"rejected_too_old"`
	RejectedTooNew uint64 `json:"rejected_too_new"`
	// ClientsRejected is how many clients had at least one request refused.
	ClientsRejected uint64 `json:"clients_rejected"`
	// RecoveryMs is how long clients stayed refused: from a client's first refusal to its next
	// accepted retrieve or store, once per such spell. ClientsUnrecovered counts the clients
	// still in a spell when the run ended.
	RecoveryMs         Percentiles `json:"recovery_ms"`
	ClientsUnrecovered uint64      `json:"clients_unrecovered"`
	// ByPlatform splits the refusals by the client's platform; absent without refusals.
	ByPlatform map[string]ClockRejections `json:"by_platform,omitempty"`
}

// ClockRejections are the refusals of one platform's clients, by side.
type ClockRejections struct {
	RejectedTooOld uint64 `json:"rejected_too_old"`
	RejectedTooNew uint64 `json:"rejected_too_new"`
}

// Push is what push notifications did in a run (servers.push).
type Push struct {
	// Subscriptions counts registrations the push server accepted (new and renewed).
	Subscriptions uint64 `json:"subscriptions"`
	// MonitorRequests counts monitor.messages requests the push server sent to nodes.
	MonitorRequests uint64 `json:"monitor_requests"`
	// Notifications counts notifications the push server handed to a push service, one per
	// device and message (the swarm members' duplicate notices dropped).
	Notifications uint64 `json:"notifications"`
	// GroupNotifications counts those of them for group messages (a group's namespace 11,
	// one per member device subscribed to the group).
	GroupNotifications uint64 `json:"group_notifications"`
	// Wakeups counts notifications that reached a phone.
	Wakeups uint64 `json:"wakeups"`
	// WakeLatencyMs is from a message's first store at a node to the wake-up at the phone.
	WakeLatencyMs Percentiles `json:"wake_latency_ms"`
	// DeliveryAfterWakeMs is from a message's first store at a node to its decryption in a
	// poll a wake-up started (a phone in the background).
	DeliveryAfterWakeMs Percentiles `json:"delivery_after_wake_ms"`
	// Failures counts what did not work, by cause: the push server's (bad-request,
	// bad-signature, monitor-timeout, monitor-refused, bad-notice, unknown-device, wake-failed)
	// and the phones' registrations that failed ("subscribe-" and the client failure; a
	// group's removal "unsubscribe-").
	Failures map[string]uint64 `json:"failures" figure:"counts"`
}
