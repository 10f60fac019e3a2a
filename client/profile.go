package client

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sessionsim/sessionsim/protocol/message"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// NetProfile is the network behaviour of one app release: how it polls, keeps its node pool,
// tests guards, rotates paths and encrypts onion layers. A client takes the profile of its
// platform's current app unless a scenario names an older one, so a run can measure what a
// release changed. Every behaviour constant is defined once below, next to the source file it
// comes from.
type NetProfile struct {
	// Name is how scenarios select the profile ("android-2024").
	Name string
	// Platform is the app the profile belongs to; only its clients may take it.
	Platform Platform

	Poll          Profile
	GroupPoll     GroupPoll
	Pool          PoolRules
	GuardTest     GuardTest
	GuardLifetime time.Duration
	PathRotate    time.Duration
	EncType       string
	Encoding      message.Encoding
	MaxSize       int
	ConfigMaxSize int
	NetTime       NetTime
	StoreRetry    StoreRetry
	ConfigExpiry  ConfigExpiry

	// FreshGuardsOnDrop, Strike421 and OwnSwarmRefresh are the desktop's recovery (the Config
	// fields of the same names).
	FreshGuardsOnDrop bool
	Strike421         bool
	OwnSwarmRefresh   time.Duration
	// FilePaths and LocalSwarms are libsession's network on iOS (the Config fields).
	FilePaths   int
	LocalSwarms bool
}

// StoreRetry is how an app sends a message store and tries it again: up to Attempts tries, the
// first retry Delay after a failure, each later one Delay again or, Doubling, twice the last.
// Every try picks a swarm member afresh. Sequence sends the store as a one-request `sequence`
// instead of a `batch` (the same request and answer on the wire but for the method name).
type StoreRetry struct {
	Attempts int
	Delay    time.Duration
	Doubling bool
	Sequence bool
}

// ConfigExpiry is the `expire` an app adds to each poll for the hashes of its current config
// messages: their expiry moves to now + Extend, in Mode (ExpireSet replaces it whatever it
// was, ExpireExtend only moves it later). First puts it before the retrieves in the poll's
// batch; otherwise it comes after them.
type ConfigExpiry struct {
	Extend time.Duration
	Mode   storagerpc.ExpireMode
	First  bool
}

// PoolRules are how an app keeps its node pool (the Config fields PoolMin, PoolRefreshEvery,
// PoolAgreement, PoolRefreshFirst and PoolRefreshFromStart).
type PoolRules struct {
	Min          int
	RefreshEvery time.Duration
	Agreement    Agreement
	First        time.Duration
	FromStart    bool
}

// Desktop (session-desktop, 2026).
const (
	// desktopPollInterval and desktopPollParallel: ts/session/apis/snode_api/swarmPolling.ts
	// polls the own swarm every 5 s from 2 random members and merges their answers.
	desktopPollInterval = 5 * time.Second
	desktopPollParallel = 2
	// desktopPoolMin: ts/session/apis/snode_api/snodePool.ts, minSnodePoolCount; the pool must
	// hold more than this many nodes or is fetched from the seeds again.
	desktopPoolMin = 8
	// desktopPoolRefresh, desktopPoolFirst and desktopOwnSwarmRefresh:
	// ts/components/leftpane/ActionsPanel.tsx, from the moment the app's main window opens,
	// calls forceRefreshRandomSnodePool (snodePool.ts) once after 5 min and then, with
	// getFreshSwarmFor of the own Session ID, every hour; ts/state/startup.ts fetches the own
	// swarm fresh when the app starts, before polling begins.
	desktopPoolRefresh     = time.Hour
	desktopPoolFirst       = 5 * time.Minute
	desktopOwnSwarmRefresh = time.Hour
	// desktopStoreAttempts and desktopStoreRetryDelay: ts/session/sending/MessageSender.ts,
	// sendSingleMessage: attempts 3, retryMinTimeout 100 ms with pRetry factor 1 (no growth),
	// each attempt a `sequence` to a member drawn afresh, 10 s timeout (Config.RequestTimeout).
	desktopStoreAttempts   = 3
	desktopStoreRetryDelay = 100 * time.Millisecond
	// desktopConfigExtend: ts/session/apis/snode_api/retrieveRequest.ts, buildRetrieveRequest
	// appends to every poll of the own swarm an expire of the config hashes to now +
	// TTL_DEFAULT.CONFIG_MESSAGE, with neither extend nor shorten (shortenOrExtend '').
	desktopConfigExtend = configTTL
)

// The desktop's recovery from a dropped path (session-desktop, 2026), which the profile turns
// on with FreshGuardsOnDrop and Strike421: ts/session/onions/onionPath.ts,
// dropPathStartingWithGuardNode, drops the guard of a path that failed
// pathFailureThreshold (3) times from the pool and its guard list, and
// buildNewOnionPathsOneAtATime then finds fewer guards than desiredGuardCount (2,
// ts/session/onions/onionPathConstants.ts): selectGuardNodes tests a fresh pair drawn from the
// whole shuffled pool (the surviving guard may be drawn again) and every path is rebuilt on
// them. ts/session/apis/snode_api/onions.ts, handle421InvalidSwarm, adopts the swarm a 421
// names and then calls incrementBadSnodeCountOrDrop on the node that sent it: a strike,
// 3 of which (snodeFailureThreshold) drop it.

// Android (session-android, 2026).
const (
	// androidPollInterval and androidBackoffMax: app/src/main/java/org/session/libsession/
	// messaging/sending_receiving/pollers/BasePoller.kt, successfulPollIntervalSeconds (2) and
	// maxRetryIntervalSeconds (10): after k failures the next poll waits 2 s + min(10 s, 2 s x (k-1)).
	androidPollInterval = 2 * time.Second
	androidBackoffMax   = 10 * time.Second
	// androidMaxSize and androidConfigMaxSize: .../pollers/Poller.kt retrieves namespace 0 with
	// max_size -2 and each config namespace with -8.
	androidMaxSize       = -2
	androidConfigMaxSize = -8
	// androidPathRotate: app/src/main/java/org/session/libsession/network/onion/PathManager.kt,
	// PATH_ROTATE_INTERVAL_MS.
	androidPathRotate = 10 * time.Minute
	// androidPoolMin and androidPoolRefresh: app/src/main/java/org/session/libsession/network/
	// snode/SnodeDirectory.kt, MINIMUM_SNODE_POOL_COUNT (12: a pool of 11 or fewer is fetched
	// from a seed again) and POOL_REFRESH_INTERVAL_MS (2 h); its refresh asks 3 nodes and keeps
	// those at least 2 list (AgreeTwoOfThree).
	androidPoolMin     = 12 - 1
	androidPoolRefresh = 2 * time.Hour
	// androidConfigExtend: .../pollers/Poller.kt adds buildAuthenticatedAlterTtlBatchRequest
	// for the current config hashes after the retrieves, newExpiry now + 14 days, extend = true.
	androidConfigExtend = 14 * 24 * time.Hour
)

// Android polls its own swarm only in the foreground: BasePoller.kt (above) waits before every
// poll until ProcessLifecycleOwner reports the app RESUMED (in the foreground) and the network
// up; in the background the app relies on push notifications. The simulator has no push server
// yet, so a phone's online period is its foreground and its offline period its background (see
// Client.GoOffline): no distinct background state is modelled, and none is needed while a
// backgrounded phone sends nothing.

// Android before 2025 (session-android 1.x, 2021-2024).
const (
	// android2024BackoffStep, android2024BackoffFactor and android2024BackoffMax:
	// app/src/main/java/org/session/libsession/messaging/sending_receiving/pollers/Poller.kt of
	// the 2024 app waited min(15 s, 2 s x 1.2^k) after k failures and stayed on one swarm member
	// until it failed.
	android2024BackoffStep   = 2 * time.Second
	android2024BackoffFactor = 1.2
	android2024BackoffMax    = 15 * time.Second
)

// iOS (session-ios, 2026, on libsession-util's network).
const (
	// iosPollInterval, iosSwitchAfter and the backoff: session-ios SessionMessagingKit/Sending &
	// Receiving/Pollers/CurrentUserPoller.swift polls every 1.5 s, moves to another member after
	// 6 polls of one or at its first failure, and after k failures waits
	// min(15 s, 1.5 s + 0.25 s x k x 1.2).
	iosPollInterval  = 1500 * time.Millisecond
	iosSwitchAfter   = 6
	iosBackoffStep   = 250 * time.Millisecond
	iosBackoffFactor = 1.2
	iosBackoffMax    = 15 * time.Second
	// iosPoolMin, iosPoolRefresh, iosPathRotate and iosGuardLifetime: libsession-util
	// include/session/network/network_config.hpp: cache_min_size 12 (a pool of 11 or fewer is
	// fetched again), cache_expiration 2 h, refreshed from cache_num_nodes_to_use_for_refresh 3
	// nodes keeping those in cache_min_num_refresh_presence_to_include_node 2 lists,
	// onionreq_path_rotation_frequency 10 min, onionreq_edge_node_cache_duration (guards) 10 days.
	iosPoolMin       = 12 - 1
	iosPoolRefresh   = 2 * time.Hour
	iosPathRotate    = 10 * time.Minute
	iosGuardLifetime = 10 * 24 * time.Hour
	// iosFilePaths: the same network_config.hpp, onionreq_min_path_counts: 2 paths of
	// PathCategory::standard and 2 of PathCategory::file (uploads and downloads to the file
	// server), all pre-built (onionreq_disable_pre_build_paths false) and each behind its own
	// edge node (guard); the client keeps them like the standard ones.
	iosFilePaths = 2
	// iosConfigExtend: session-ios SessionNetworkingKit/StorageServer/StorageServerAPI.swift
	// puts prepareUpdateExpiryRequest for the refreshing config hashes first in each poll,
	// updatedExpiryMs now + 30 days, extendOnly.
	iosConfigExtend = 30 * 24 * time.Hour
)

// How each app polls the swarm of a group (03) it is a member of: namespaces 11 (messages), 12
// (keys), 13 (info) and 14 (members), libsession-util include/session/config/namespaces.hpp
// (GroupMessages, GroupKeys, GroupInfo, GroupMembers).
const (
	// desktopGroupActive...: session-desktop ts/session/apis/snode_api/swarmPolling.ts,
	// getPollingTimeout: a group active in the last 2 days is polled every 5 s, one active in
	// the last week every 60 s, any other every 120 s.
	desktopGroupActive       = 5 * time.Second
	desktopGroupActiveWithin = 2 * 24 * time.Hour
	desktopGroupRecent       = 60 * time.Second
	desktopGroupRecentWithin = 7 * 24 * time.Hour
	desktopGroupIdle         = 120 * time.Second
	// iosGroupMin, iosGroupMax and iosGroupRamp: session-ios SessionMessagingKit/Sending &
	// Receiving/Pollers/GroupPoller.swift, minPollInterval 3 s and maxPollInterval 30 s; the
	// next poll waits min + (max - min) x t / 12 h, t the time since the group's last message
	// capped at 12 h.
	iosGroupMin  = 3 * time.Second
	iosGroupMax  = 30 * time.Second
	iosGroupRamp = 12 * time.Hour
	// androidGroupInterval: session-android app/src/main/java/org/session/libsession/messaging/
	// sending_receiving/pollers/ClosedGroupPoller.kt, POLL_INTERVAL 3 s whatever the group's
	// activity (in the foreground, as every Android poller).
	androidGroupInterval = 3 * time.Second
)

// GroupPoll is how often an app polls each group's swarm, from the time since the group was
// last active (a message sent or received). With Ramp set the interval grows linearly from Min
// to Max over Ramp (iOS); otherwise it is Active within ActiveWithin, Recent within
// RecentWithin and Idle after (the desktop; Android has Idle only).
type GroupPoll struct {
	Active, Recent, Idle       time.Duration
	ActiveWithin, RecentWithin time.Duration
	Min, Max, Ramp             time.Duration
}

// Interval is the wait before the next poll of a group last active since ago.
func (p GroupPoll) Interval(since time.Duration) time.Duration {
	since = max(since, 0)
	if p.Ramp > 0 {
		return p.Min + time.Duration(float64(p.Max-p.Min)*float64(min(since, p.Ramp))/float64(p.Ramp))
	}
	switch {
	case since < p.ActiveWithin:
		return p.Active
	case since < p.RecentWithin:
		return p.Recent
	}
	return p.Idle
}

var (
	desktopGroupPoll = GroupPoll{Active: desktopGroupActive, ActiveWithin: desktopGroupActiveWithin,
		Recent: desktopGroupRecent, RecentWithin: desktopGroupRecentWithin, Idle: desktopGroupIdle}
	iosGroupPoll     = GroupPoll{Min: iosGroupMin, Max: iosGroupMax, Ramp: iosGroupRamp}
	androidGroupPoll = GroupPoll{Idle: androidGroupInterval}
)

// The phones' store retry: the simulator's long-standing rule (3 attempts, 1 s then doubling,
// in a batch), kept until their senders are modelled from their source as the desktop's is.
const (
	phoneStoreAttempts   = 3
	phoneStoreRetryDelay = time.Second
)

// iosLocalSwarms: libsession-util's snode pool refresh (src/network/snode_pool.cpp) asks for
// each node's swarm_id along with its keys and address, and the swarm of an account is the
// pool's nodes whose swarm_id owns the account's swarm space: libsession computes it and
// sends no get_swarm.
const iosLocalSwarms = true

// legacyPool are the pool rules session-desktop had before its refresh at 5 min, which the 2024
// Android app shared: more than 8 nodes, refreshed hourly, 3 lists agreeing on all nodes.
var legacyPool = PoolRules{Min: desktopPoolMin, RefreshEvery: desktopPoolRefresh, Agreement: AgreeAll}

// desktopPool adds the desktop's refresh 5 min after start, its hourly refresh counted from
// start rather than from the last install.
var desktopPool = PoolRules{Min: desktopPoolMin, RefreshEvery: desktopPoolRefresh, Agreement: AgreeAll,
	First: desktopPoolFirst, FromStart: true}

// phoneStoreRetry is the phones' store retry (both releases of each).
var phoneStoreRetry = StoreRetry{Attempts: phoneStoreAttempts, Delay: phoneStoreRetryDelay, Doubling: true}

// androidConfigExpiry is the config expire of both Android releases.
var androidConfigExpiry = ConfigExpiry{Extend: androidConfigExtend, Mode: storagerpc.ExpireExtend}

// profiles are the named profiles, the current app of each platform first.
var profiles = []NetProfile{
	{
		Name: "desktop-2026", Platform: Desktop,
		Poll:              Profile{Interval: desktopPollInterval, Parallel: desktopPollParallel},
		GroupPoll:         desktopGroupPoll,
		Pool:              desktopPool,
		GuardTest:         GuardTestOwnID,
		EncType:           "aes-gcm",
		FreshGuardsOnDrop: true,
		Strike421:         true,
		OwnSwarmRefresh:   desktopOwnSwarmRefresh,
		StoreRetry:        StoreRetry{Attempts: desktopStoreAttempts, Delay: desktopStoreRetryDelay, Sequence: true},
		ConfigExpiry:      ConfigExpiry{Extend: desktopConfigExtend, Mode: storagerpc.ExpireSet},
		NetTime:           NetTime{Samples: desktopTimeSamples},
	},
	{
		Name: "android-2026", Platform: Android,
		Poll: Profile{Interval: androidPollInterval, Parallel: 1, Cycle: true,
			Backoff: Backoff{Step: androidPollInterval, Factor: 1, Max: androidBackoffMax, Skip: 1, Add: androidPollInterval}},
		GroupPoll:     androidGroupPoll,
		Pool:          PoolRules{Min: androidPoolMin, RefreshEvery: androidPoolRefresh, Agreement: AgreeTwoOfThree},
		GuardTest:     GuardTestOwnID,
		PathRotate:    androidPathRotate,
		EncType:       "aes-gcm",
		MaxSize:       androidMaxSize,
		ConfigMaxSize: androidConfigMaxSize,
		StoreRetry:    phoneStoreRetry,
		ConfigExpiry:  androidConfigExpiry,
		NetTime:       NetTime{Resync: true, ResyncNodes: androidResyncNodes, ResyncEvery: androidResyncEvery, ResyncTimeout: androidResyncTimeout},
	},
	{
		Name: "ios-2026", Platform: IOS,
		Poll: Profile{Interval: iosPollInterval, Parallel: 1, SwitchAfter: iosSwitchAfter, Sticky: true,
			Backoff: Backoff{Step: iosBackoffStep, Factor: iosBackoffFactor, Max: iosBackoffMax - iosPollInterval, Add: iosPollInterval}},
		GroupPoll:     iosGroupPoll,
		Pool:          PoolRules{Min: iosPoolMin, RefreshEvery: iosPoolRefresh, Agreement: AgreeTwoOfThree},
		GuardTest:     GuardTestPing,
		GuardLifetime: iosGuardLifetime,
		PathRotate:    iosPathRotate,
		EncType:       "xchacha20",
		FilePaths:     iosFilePaths,
		LocalSwarms:   iosLocalSwarms,
		StoreRetry:    phoneStoreRetry,
		ConfigExpiry:  ConfigExpiry{Extend: iosConfigExtend, Mode: storagerpc.ExpireExtend, First: true},
		NetTime:       NetTime{Samples: iosTimeSamples},
	},
	{
		Name: "android-2024", Platform: Android,
		Poll: Profile{Interval: androidPollInterval, Parallel: 1, Sticky: true,
			Backoff: Backoff{Step: android2024BackoffStep, Factor: android2024BackoffFactor, Max: android2024BackoffMax, Geometric: true}},
		// The 2024 app predates 03 groups; its clients poll groups as the current app does,
		// so that a run mixing releases still has groups.
		GroupPoll:    androidGroupPoll,
		Pool:         legacyPool,
		GuardTest:    GuardTestOwnID,
		EncType:      "aes-gcm",
		Encoding:     message.Legacy,
		StoreRetry:   phoneStoreRetry,
		ConfigExpiry: androidConfigExpiry,
		NetTime:      NetTime{Samples: android2024TimeSamples},
	},
}

// DefaultNetProfile is the profile of platform p's current app.
func DefaultNetProfile(p Platform) NetProfile {
	for _, np := range profiles {
		if np.Platform == p {
			return np
		}
	}
	return profiles[0]
}

// LegacyEncoding names, for every platform, its current app sending the 2024 1:1 encoding
// (message.Legacy), so that a run can measure what the encoding alone changed.
const LegacyEncoding = "legacy-encoding"

// ProfileNames lists the named profiles of platform p, its current app first and
// LegacyEncoding last.
func ProfileNames(p Platform) []string {
	var out []string
	for _, np := range profiles {
		if np.Platform == p {
			out = append(out, np.Name)
		}
	}
	return append(out, LegacyEncoding)
}

// ParseNetProfile reads a profile name for a client of platform p, in any case; "" and
// "platform" give the platform's current app, LegacyEncoding the same with the 2024 encoding.
func ParseNetProfile(p Platform, name string) (NetProfile, error) {
	if name == "" || strings.EqualFold(name, "platform") {
		return DefaultNetProfile(p), nil
	}
	if strings.EqualFold(name, LegacyEncoding) {
		np := DefaultNetProfile(p)
		np.Name, np.Encoding = LegacyEncoding, message.Legacy
		return np, nil
	}
	i := slices.IndexFunc(profiles, func(np NetProfile) bool { return strings.EqualFold(np.Name, name) })
	if i < 0 {
		return NetProfile{}, fmt.Errorf("unknown network profile %q for %v: use %s", name, p, strings.Join(ProfileNames(p), ", "))
	}
	if profiles[i].Platform != p {
		return NetProfile{}, fmt.Errorf("network profile %q is the %v app's, not %v's: use %s", name, profiles[i].Platform, p, strings.Join(ProfileNames(p), ", "))
	}
	return profiles[i], nil
}

// Config is the configuration of a client running this profile; Seeds must still be set.
func (np NetProfile) Config() Config {
	c := baseConfig(np.Platform)
	c.Poll = np.Poll
	c.GroupPoll = np.GroupPoll
	c.PoolMin, c.PoolRefreshEvery, c.PoolAgreement = np.Pool.Min, np.Pool.RefreshEvery, np.Pool.Agreement
	c.PoolRefreshFirst, c.PoolRefreshFromStart = np.Pool.First, np.Pool.FromStart
	c.GuardTest = np.GuardTest
	c.GuardLifetime = np.GuardLifetime
	c.PathRotate = np.PathRotate
	c.EncType = np.EncType
	c.Encoding = np.Encoding
	c.MaxSize = np.MaxSize
	c.ConfigMaxSize = np.ConfigMaxSize
	c.StoreRetry = np.StoreRetry
	c.ConfigExpiry = np.ConfigExpiry
	c.NetTime = np.NetTime
	c.FreshGuardsOnDrop, c.Strike421, c.OwnSwarmRefresh = np.FreshGuardsOnDrop, np.Strike421, np.OwnSwarmRefresh
	c.FilePaths, c.LocalSwarms = np.FilePaths, np.LocalSwarms
	return c
}
