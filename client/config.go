package client

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/internal/enum"
	"github.com/sessionsim/sessionsim/protocol/cryptomode"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/protocol/pushrpc"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/wiremode"
)

// Platform is the app a client runs. The apps share the protocol but poll, back off, keep their
// pool and paths differently: each release's behaviour is a NetProfile of its platform.
type Platform uint8

const (
	// Desktop is session-desktop.
	Desktop Platform = iota
	// IOS is session-ios, on libsession-util's network since 2025.
	IOS
	// Android is session-android.
	Android
)

var platformNames = enum.Names[Platform]{
	Type:     "Platform",
	Names:    []string{Desktop: "desktop", IOS: "ios", Android: "android"},
	FoldCase: true,
}

func (p Platform) String() string { return platformNames.Name(p) }

// ParsePlatform reads a platform name as written in scenario files, in any case.
func ParsePlatform(s string) (Platform, error) {
	return platformNames.Read(s, "client platform", "")
}

// Agreement is how a pool refresh combines the node lists of three pool nodes.
type Agreement uint8

const (
	// AgreeAll keeps the nodes all three lists share and accepts the result only when at least
	// Config.PoolAgreementMin remain (session-desktop).
	AgreeAll Agreement = iota
	// AgreeTwoOfThree keeps the nodes at least two of the three lists contain (newer
	// libsession-util).
	AgreeTwoOfThree
)

var agreementNames = enum.Names[Agreement]{
	Type:     "Agreement",
	Names:    []string{AgreeAll: "all", AgreeTwoOfThree: "two-of-three"},
	Aliases:  map[string]Agreement{"desktop": AgreeAll, "2-of-3": AgreeTwoOfThree, "libsession": AgreeTwoOfThree},
	FoldCase: true,
}

func (a Agreement) String() string { return agreementNames.Name(a) }

// ParseAgreement reads an agreement name, in any case: "all" (desktop) or "two-of-three"
// (libsession).
func ParseAgreement(s string) (Agreement, error) {
	return agreementNames.Read(s, "pool agreement", `"all" (desktop) or "two-of-three" (libsession)`)
}

// GuardTest is how a client tests a guard candidate before it trusts it with its paths. The
// test is a direct request, so the candidate sees the client's address and whatever account the
// request names.
type GuardTest uint8

const (
	// GuardTestDefault is the zero value: the platform's own test (DefaultConfig).
	GuardTestDefault GuardTest = iota
	// GuardTestOwnID is a direct get_swarm for the client's own Session ID, as the desktop app
	// sends: every candidate learns which address owns which ID.
	GuardTestOwnID
	// GuardTestRandomID is a direct get_swarm for a random Session ID drawn for each test.
	GuardTestRandomID
	// GuardTestPing is a direct "info" request, which names no account (libsession's handshake).
	GuardTestPing
)

var guardTestNames = [...]string{GuardTestDefault: "platform", GuardTestOwnID: "own-id", GuardTestRandomID: "random-id", GuardTestPing: "ping"}

func (g GuardTest) String() string {
	if int(g) < len(guardTestNames) {
		return guardTestNames[g]
	}
	return fmt.Sprintf("GuardTest(%d)", uint8(g))
}

// ParseGuardTest reads a guard test name as written in scenario files: "own-id", "random-id",
// "ping", or "platform" (and "") for each platform's own.
func ParseGuardTest(s string) (GuardTest, error) {
	if s == "" {
		return GuardTestDefault, nil
	}
	for i, n := range guardTestNames {
		if strings.EqualFold(s, n) {
			return GuardTest(i), nil
		}
	}
	return 0, fmt.Errorf("unknown guard test %q: use own-id, random-id, ping or platform", s)
}

// Backoff is the delay before the next poll after k consecutive failed polls (k >= 1), with
// n = k - Skip (at least 0): linear: Step * Factor * n; geometric: Step * Factor^n; either capped
// at Max, then Add added (the apps that count from their normal interval). A zero Step means no
// backoff: the normal interval applies.
type Backoff struct {
	Step      time.Duration
	Factor    float64
	Max       time.Duration
	Geometric bool
	// Skip failures count for nothing: Android 2026 waits its normal 2 s after the first.
	Skip int
	// Add is added after the cap.
	Add time.Duration
}

// Delay is the wait after fails consecutive failures; ok is false when the normal interval
// applies (no failures or no backoff configured).
func (b Backoff) Delay(fails int) (d time.Duration, ok bool) {
	if fails <= 0 || b.Step <= 0 {
		return 0, false
	}
	f := b.Factor
	if f <= 0 {
		f = 1
	}
	n := float64(max(fails-b.Skip, 0))
	x := float64(b.Step) * f * n
	if b.Geometric {
		x = float64(b.Step) * math.Pow(f, n)
	}
	limit := float64(b.Max)
	if b.Max <= 0 {
		limit = float64(maxDelay)
	}
	if !(x <= limit) { // also catches +Inf and NaN
		x = limit
	}
	return time.Duration(x) + b.Add, true
}

// maxDelay bounds an uncapped backoff (a year: far past any run).
const maxDelay = 365 * 24 * time.Hour

// Profile is the polling behaviour of one app.
type Profile struct {
	// Interval is the wait between the end of one poll round and the start of the next.
	Interval time.Duration
	// Parallel is how many distinct swarm members one round asks at once; answers are merged by
	// message hash. Desktop 2, the phones 1.
	Parallel int
	// SwitchAfter makes the poller move to another swarm member after this many polls of the
	// same one (iOS 6); 0 picks a fresh random member every round.
	SwitchAfter int
	// Sticky keeps polling the same member until it fails or SwitchAfter is reached (iOS, the
	// 2024 Android app); desktop draws new members every round.
	Sticky bool
	// Cycle polls each member of the swarm once, in random order, before any member again
	// (Android 2026): every poll goes to a different member.
	Cycle bool
	// Backoff applies after failed rounds.
	Backoff Backoff
}

// DefaultProfile is the polling profile of platform p's current app.
func DefaultProfile(p Platform) Profile { return DefaultNetProfile(p).Poll }

// Config is one client's settings. Start from DefaultConfig (or a NetProfile's Config) and
// change what a scenario needs; every field documents its default, and the fields a NetProfile
// sets say so: their default is the platform's current app (DefaultNetProfile).
type Config struct {
	// Platform is the app; its current profile fills the zero fields. Default Desktop.
	Platform Platform
	// Poll is the polling behaviour; the zero value means DefaultProfile(Platform).
	Poll Profile
	// GroupPoll is how often each group's swarm is polled; the zero value means the platform's
	// current app's.
	GroupPoll GroupPoll
	// Suite does every X25519 and Ed25519 operation; nil means real crypto with DefaultCosts.
	Suite cryptomode.Suite
	// Wire is the form of the client's onion requests to nodes: the real bytes (the default) or
	// structural values with their exact sizes (wiremode.Structural, with a modeled Suite
	// only), which the nodes answer in the same form.
	Wire wiremode.Mode
	// Directory interns node records so that many clients share them; nil gives the client a
	// private one. Sharing changes memory use only, never behaviour.
	Directory *Directory
	// KeyMemo remembers the conversions of senders' keys of the messages the client opens. The
	// clients (and nodes) of a world that run on one engine worker share one (see
	// identity.X25519Memo); nil gives the client a memo of its own.
	KeyMemo *identity.X25519Memo
	// Seeds are the seed nodes' addresses (required).
	Seeds []actor.Addr

	// SeedTimeout bounds each bootstrap request to a seed node. Default 5 s.
	SeedTimeout time.Duration
	// SeedTries is how many rounds of asking every seed in parallel one bootstrap makes. Default 4.
	SeedTries int
	// SeedRetryDelay is the pause between bootstrap rounds, and between failed bootstraps. Default 1 s.
	SeedRetryDelay time.Duration

	// PoolMin: a pool of PoolMin nodes or fewer is unusable and is fetched from seeds again.
	// Set by the profile (desktop 8: the pool must hold more than 8; the 2026 phones 11).
	PoolMin int
	// PoolRefreshBelow triggers a refresh from pool nodes when the pool is smaller. Default 16.
	PoolRefreshBelow int
	// PoolRefreshEvery is the periodic refresh. Set by the profile (desktop 1 h, phones 2 h).
	PoolRefreshEvery time.Duration
	// PoolAgreement combines the three lists of a refresh. Set by the profile (zero: AgreeAll).
	PoolAgreement Agreement
	// PoolAgreementMin is the least number of nodes an AgreeAll refresh must keep. Default 24.
	PoolAgreementMin int
	// PoolRefreshFirst refreshes the pool once this long after the app starts (each Start and
	// GoOnline); 0 never. Set by the profile (desktop 5 min, 0 elsewhere).
	PoolRefreshFirst time.Duration
	// PoolRefreshFromStart counts the periodic refresh from the app's start (every
	// PoolRefreshEvery after it, whatever was installed meanwhile, as a timer of the desktop's
	// window does) instead of from the last install (libsession's cache expiry). Set by the
	// profile (desktop true).
	PoolRefreshFromStart bool

	// Communities are the community servers the user joined, with their rooms; each server is
	// polled every CommunityPoll while the client is online. None by default.
	Communities []Community
	// CommunityPoll is the interval between a community server's polls. Set by the profile
	// (desktop 10 s, iOS 3 s, Android 4 s).
	CommunityPoll time.Duration

	// Paths is how many onion paths the client keeps for its requests. Default 2.
	Paths int
	// FilePaths is how many more paths the client builds and keeps, each behind its own guard,
	// for the file server: they are built, tested, rotated and repaired like the others, but no
	// request of the simulator uses them (it has no file server yet). Set by the profile (iOS 2,
	// 0 elsewhere).
	FilePaths int
	// FreshGuardsOnDrop: when a path is dropped, the other guards are given up too (they stay
	// in the pool) and a fresh set is tested, every path rebuilt on it, as the desktop does.
	// Set by the profile (desktop true).
	FreshGuardsOnDrop bool
	// Hops is the length of each path, guard included. Default 3.
	Hops int
	// GuardTestTimeout bounds the direct get_swarm that tests a guard candidate. Default 10 s.
	GuardTestTimeout time.Duration
	// GuardTestRounds bounds the rounds of candidate tests of one guard selection. Default 6.
	GuardTestRounds int
	// GuardTest is the direct request that tests a guard candidate. Set by the profile (own-id
	// on desktop and Android, ping on iOS).
	GuardTest GuardTest
	// GuardLifetime retires a guard this long after it was selected (its path goes with it, the
	// node stays in the pool) and a fresh one is tested in its place; 0 keeps a guard until it
	// fails. Set by the profile (10 days on iOS, 0 elsewhere).
	GuardLifetime time.Duration
	// PathFailures drops a path (and its guard) at this many failures. Default 3.
	PathFailures int
	// NodeStrikes drops a node from the pool at this many strikes. Default 3.
	NodeStrikes int
	// PathRotate rebuilds the non-guard hops of every path this often; 0 never. Set by the
	// profile (10 min on the 2026 phones, 0 on desktop).
	PathRotate time.Duration
	// StrikeExpiry forgets strikes older than this; 0 never (desktop). Newer libsession: 48 h.
	StrikeExpiry time.Duration

	// RequestTimeout bounds each onion request, from the guard call to the decrypted answer.
	// Default 10 s.
	RequestTimeout time.Duration
	// EncType is the onion layer cipher: "aes-gcm" or "xchacha20". Set by the profile
	// (xchacha20 on iOS).
	EncType string
	// OnionPadding pads the destination layer of every onion request up to the next of these
	// sizes in bytes (ascending), so that paths and observers see a few sizes instead of the
	// exact request size; see padRPC. Nil, the default, pads nothing (the apps do not pad).
	OnionPadding []int
	// CoverPollsPerHour is the mean rate of dummy polls (a Poisson process while online): onion
	// retrieves shaped like the client's real polls, for a decoy account of the client's own
	// at a random member of its swarm, whose answers are ignored (see coverPoll). Default 0:
	// none, as the apps send none.
	CoverPollsPerHour float64

	// SwarmMinMembers refreshes a cached swarm when fewer of its members remain in the pool.
	// Default 3.
	SwarmMinMembers int
	// SwarmCacheSize bounds the cached swarms of other users (least recently used go first).
	// Default 64.
	SwarmCacheSize int
	// LocalSwarms computes swarms from the swarm_id of the pool's nodes (asked for in every
	// node-list request) instead of asking a node with get_swarm; each pool install computes the
	// cached swarms again. Set by the profile (iOS true).
	LocalSwarms bool
	// OwnSwarmRefresh fetches the own swarm afresh when the app starts and again once the last
	// fetch is this old; 0 fetches it only when too few cached members remain. Set by the
	// profile (desktop 1 h).
	OwnSwarmRefresh time.Duration
	// Strike421 charges a strike to a node that answers 421 (wrong swarm), after adopting the
	// swarm it names, as the desktop does. Set by the profile (desktop true).
	Strike421 bool

	// StoreRetry is how a message store is sent and tried again. Set by the profile (desktop:
	// 3 attempts 100 ms apart, each a one-store sequence; the phones: 3 attempts, 1 s then
	// doubling, in a batch).
	StoreRetry StoreRetry
	// TTL is the lifetime of a 1:1 message and of its sync copy. Default contentTTL (14 days).
	TTL time.Duration
	// ConfigExpiry is the expire each poll carries for the client's config messages. Set by
	// the profile.
	ConfigExpiry ConfigExpiry
	// Encoding frames and pads the 1:1 messages the client sends. The zero value is
	// message.Libsession, what all three 2026 apps send; message.Legacy is the 2024 apps'.
	// Received messages open in either.
	Encoding message.Encoding

	// ClockOffset is how far the device's clock is from the true time (the nodes' clocks):
	// positive ahead, negative behind. Default 0. See clock.go.
	ClockOffset time.Duration
	// NetTime is how the app learns the network time from the nodes. Set by the profile; the
	// zero value means the platform's current app's.
	NetTime NetTime

	// FileServer is the file server attachments go to (its host name, as the nodes know it,
	// and its X25519 key); zero: SendAttachment refuses. The world sets it.
	FileServer onion.Server
	// Attachments is how attachments are uploaded and downloaded (retries, the recipient's
	// open delay). Default defaultAttachmentConfig: Android's job retries, downloads at once.
	Attachments AttachmentConfig

	// Namespaces are the own-swarm namespaces polled. Default 0, 2, 3, 4, 5.
	Namespaces []int16
	// MaxSize is the retrieve max_size parameter of namespace 0 (negative -k: 1/k of the
	// server's maximum answer). Default 0: left out, so the server applies its own default (-5).
	MaxSize int
	// ConfigMaxSize is the max_size of the config namespaces (every one but 0); 0 leaves it out.
	ConfigMaxSize int

	// PushEnabled registers the account for push notifications (push.go) when PushServer is
	// set. Default (DefaultConfig) true on iOS and Android, false on desktop.
	PushEnabled bool
	// PushServer is the push server; no Host (the default) means there is none to register with.
	PushServer onion.Server
	// PushService is the push service the phone registers through: "apns" (default on iOS) or
	// "firebase" (default elsewhere).
	PushService string
	// PushToken is the device token the push service knows the phone by.
	PushToken string
	// PushRenew is how long a registration lasts before the app registers again (when it opens
	// or, if it stays open, then). Default 12 h (session-android TokenManager).
	PushRenew time.Duration
}

// maxSizeOf is the retrieve max_size of namespace ns: MaxSize for the inbox, ConfigMaxSize for
// the config namespaces.
func (c *Config) maxSizeOf(ns int16) int {
	if ns == 0 {
		return c.MaxSize
	}
	return c.ConfigMaxSize
}

// DefaultConfig is the configuration of a client on platform p running its current app
// (DefaultNetProfile); Seeds must still be set.
func DefaultConfig(p Platform) Config { return DefaultNetProfile(p).Config() }

// baseConfig holds the settings no profile changes; NetProfile.Config sets the rest.
func baseConfig(p Platform) Config {
	return Config{
		Platform:         p,
		SeedTimeout:      5 * time.Second,
		SeedTries:        4,
		SeedRetryDelay:   time.Second,
		PoolRefreshBelow: 16,
		PoolAgreementMin: 24,
		Paths:            2,
		Hops:             3,
		GuardTestTimeout: 10 * time.Second,
		GuardTestRounds:  6,
		PathFailures:     3,
		NodeStrikes:      3,
		RequestTimeout:   10 * time.Second,
		SwarmMinMembers:  3,
		SwarmCacheSize:   64,
		TTL:              contentTTL,
		Namespaces:       []int16{0, 2, 3, 4, 5},
		PushEnabled:      p != Desktop,
		PushService:      pushService(p),
		PushRenew:        12 * time.Hour,
		Attachments:      defaultAttachmentConfig(),
	}
}

// pushService is the push service of platform p's app.
func pushService(p Platform) string {
	if p == IOS {
		return pushrpc.ServiceAPNs
	}
	return pushrpc.ServiceFirebase
}

// withDefaults fills zero fields from DefaultConfig(c.Platform) and checks the rest.
func (c Config) withDefaults() (Config, error) {
	d := DefaultConfig(c.Platform)
	if c.Poll == (Profile{}) {
		c.Poll = d.Poll
	}
	if c.GroupPoll == (GroupPoll{}) {
		c.GroupPoll = d.GroupPoll
	}
	if c.Suite == nil {
		c.Suite = cryptomode.New(cryptomode.Real, cryptomode.DefaultCosts)
	}
	if c.Wire == wiremode.Structural && c.Suite.Mode() != cryptomode.Modeled {
		return c, fmt.Errorf("client: structural wire form with %v crypto: it makes no bytes for real crypto to work on; use modeled crypto", c.Suite.Mode())
	}
	if c.Directory == nil {
		c.Directory = NewDirectory()
	}
	if c.KeyMemo == nil {
		c.KeyMemo = identity.NewX25519Memo()
	}
	c.SeedTimeout = cmp.Or(c.SeedTimeout, d.SeedTimeout)
	c.SeedTries = cmp.Or(c.SeedTries, d.SeedTries)
	c.SeedRetryDelay = cmp.Or(c.SeedRetryDelay, d.SeedRetryDelay)
	c.PoolMin = cmp.Or(c.PoolMin, d.PoolMin)
	c.PoolRefreshBelow = cmp.Or(c.PoolRefreshBelow, d.PoolRefreshBelow)
	c.PoolRefreshEvery = cmp.Or(c.PoolRefreshEvery, d.PoolRefreshEvery)
	c.PoolAgreementMin = cmp.Or(c.PoolAgreementMin, d.PoolAgreementMin)
	c.Paths = cmp.Or(c.Paths, d.Paths)
	c.Hops = cmp.Or(c.Hops, d.Hops)
	c.GuardTestTimeout = cmp.Or(c.GuardTestTimeout, d.GuardTestTimeout)
	c.GuardTestRounds = cmp.Or(c.GuardTestRounds, d.GuardTestRounds)
	c.GuardTest = cmp.Or(c.GuardTest, d.GuardTest)
	c.PathFailures = cmp.Or(c.PathFailures, d.PathFailures)
	c.NodeStrikes = cmp.Or(c.NodeStrikes, d.NodeStrikes)
	c.RequestTimeout = cmp.Or(c.RequestTimeout, d.RequestTimeout)
	c.EncType = cmp.Or(c.EncType, d.EncType)
	c.SwarmMinMembers = cmp.Or(c.SwarmMinMembers, d.SwarmMinMembers)
	c.SwarmCacheSize = cmp.Or(c.SwarmCacheSize, d.SwarmCacheSize)
	c.CommunityPoll = cmp.Or(c.CommunityPoll, d.CommunityPoll)
	if c.StoreRetry == (StoreRetry{}) {
		c.StoreRetry = d.StoreRetry
	}
	if c.ConfigExpiry == (ConfigExpiry{}) {
		c.ConfigExpiry = d.ConfigExpiry
	}
	c.TTL = cmp.Or(c.TTL, d.TTL)
	c.PushService = cmp.Or(c.PushService, d.PushService)
	c.PushRenew = cmp.Or(c.PushRenew, d.PushRenew)
	c.Attachments.Attempts = cmp.Or(c.Attachments.Attempts, d.Attachments.Attempts)
	c.Attachments.Delay = cmp.Or(c.Attachments.Delay, d.Attachments.Delay)
	c.Attachments.MaxDelay = cmp.Or(c.Attachments.MaxDelay, d.Attachments.MaxDelay)
	c.Attachments.Timeout = cmp.Or(c.Attachments.Timeout, d.Attachments.Timeout)
	if c.Namespaces == nil {
		c.Namespaces = d.Namespaces
	}
	if c.NetTime == (NetTime{}) {
		c.NetTime = d.NetTime
	}

	var errs []error
	if len(c.Seeds) == 0 {
		errs = append(errs, errors.New("no seed nodes: set Config.Seeds to the seed nodes' addresses"))
	}
	if c.Hops < 1 || c.Hops > 15 {
		errs = append(errs, fmt.Errorf("hops %d (Config.Hops): a path needs 1 to 15 hops (the real apps use 3)", c.Hops))
	}
	if c.Paths > 8 {
		errs = append(errs, fmt.Errorf("Paths %d: at most 8 paths (the real apps use 2)", c.Paths))
	}
	if c.FilePaths < 0 || c.FilePaths > 8 {
		errs = append(errs, fmt.Errorf("FilePaths %d: 0 to 8 file paths (iOS keeps 2)", c.FilePaths))
	}
	if c.PoolRefreshFirst < 0 || c.OwnSwarmRefresh < 0 {
		errs = append(errs, fmt.Errorf("PoolRefreshFirst %v, OwnSwarmRefresh %v: must not be negative (0 turns them off)", c.PoolRefreshFirst, c.OwnSwarmRefresh))
	}
	if c.Poll.Parallel < 1 {
		errs = append(errs, fmt.Errorf("Poll.Parallel %d: poll at least one swarm member", c.Poll.Parallel))
	}
	if c.Poll.Cycle && c.Poll.Sticky {
		errs = append(errs, errors.New("Poll.Cycle and Poll.Sticky: a poller either cycles through the swarm or stays on one member"))
	}
	if c.Poll.Backoff.Skip < 0 || c.Poll.Backoff.Add < 0 {
		errs = append(errs, fmt.Errorf("Poll.Backoff Skip %d, Add %v: must not be negative", c.Poll.Backoff.Skip, c.Poll.Backoff.Add))
	}
	if c.Poll.Interval <= 0 {
		errs = append(errs, fmt.Errorf("Poll.Interval %v: must be positive", c.Poll.Interval))
	}
	if c.PoolAgreement > AgreeTwoOfThree {
		errs = append(errs, fmt.Errorf("PoolAgreement %d: use AgreeAll or AgreeTwoOfThree", c.PoolAgreement))
	}
	if c.TTL < storagerpc.TTLMin || c.TTL > storagerpc.TTLMax {
		errs = append(errs, fmt.Errorf("TTL %v: the public inbox accepts 10 s to 14 days", c.TTL))
	}
	if c.StoreRetry.Attempts < 1 || c.StoreRetry.Delay < 0 {
		errs = append(errs, fmt.Errorf("StoreRetry attempts %d, delay %v: try at least once, never wait a negative time", c.StoreRetry.Attempts, c.StoreRetry.Delay))
	}
	if c.ConfigExpiry.Extend <= 0 || c.ConfigExpiry.Extend > storagerpc.TTLMaxPrivate || c.ConfigExpiry.Mode > storagerpc.ExpireExtend {
		errs = append(errs, fmt.Errorf("ConfigExpiry extend %v, mode %d: extend by up to 30 days (a config message's longest life), mode set, shorten or extend", c.ConfigExpiry.Extend, c.ConfigExpiry.Mode))
	}
	if len(c.Namespaces) == 0 {
		errs = append(errs, errors.New("no namespaces to poll: the inbox is namespace 0"))
	}
	if c.Encoding > message.Legacy {
		errs = append(errs, fmt.Errorf("message encoding %v (Config.Encoding): use message.Libsession or message.Legacy", c.Encoding))
	}
	if c.GuardTest > GuardTestPing {
		errs = append(errs, fmt.Errorf("GuardTest %d: use GuardTestOwnID, GuardTestRandomID or GuardTestPing", c.GuardTest))
	}
	if c.GuardLifetime < 0 || c.PathRotate < 0 {
		errs = append(errs, fmt.Errorf("GuardLifetime %v, PathRotate %v: must not be negative (0 turns them off)", c.GuardLifetime, c.PathRotate))
	}
	if err := CheckPadding(c.OnionPadding); err != nil {
		errs = append(errs, fmt.Errorf("OnionPadding: %w", err))
	}
	if !(c.CoverPollsPerHour >= 0) || c.CoverPollsPerHour > MaxCoverPollsPerHour {
		errs = append(errs, fmt.Errorf("CoverPollsPerHour %v: must be between 0 and %d", c.CoverPollsPerHour, MaxCoverPollsPerHour))
	}
	if nt := c.NetTime; nt.Samples < 0 || (nt.Resync && (nt.ResyncNodes < 1 || nt.ResyncTimeout <= 0 || nt.ResyncEvery < 0)) || (!nt.Resync && nt.Samples == 0) {
		errs = append(errs, fmt.Errorf("NetTime %+v: learn from Samples > 0 answers, or Resync from ResyncNodes >= 1 nodes within a positive ResyncTimeout", nt))
	}
	if a := c.Attachments; a.Attempts < 1 || a.Attempts > 255 || a.Timeout <= 0 || a.Delay < 0 || a.MaxDelay < a.Delay || a.OpenDelay.Median < 0 || a.OpenDelay.Sigma < 0 || a.OpenDelay.Max < a.OpenDelay.Min {
		errs = append(errs, fmt.Errorf("Config.Attachments %+v: 1 to 255 attempts, MaxDelay at least Delay, an open delay with Max at least Min and nothing negative", a))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("client config: %w", err)
	}
	return c, nil
}
