package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/sogs"
	"github.com/sessionsim/sessionsim/results"
	"github.com/sessionsim/sessionsim/servers/community"
	"github.com/sessionsim/sessionsim/servers/lsrpc"
)

// Communities are community servers (SOGS) and the clients in their rooms: background traffic
// of onion requests to servers, polled at each app's cadence while online. Each room's other
// members are simulated by the server, which posts MessagesPerHour messages in each room (a
// Poisson process, bodies sized as workload.size); simulated clients read them and post none.
type Communities struct {
	// Count is the number of community servers; 0 (the default) has none.
	Count int `yaml:"count"`
	// Rooms is each server's number of rooms.
	Rooms int `yaml:"rooms"`
	// Region hosts the servers.
	Region string `yaml:"region"`
	// Cores of each server's host.
	Cores int `yaml:"cores"`
	// JoinedShare is the share of clients in at least one room.
	JoinedShare float64 `yaml:"joined_share"`
	// RoomsPerClient is the mean number of rooms a joined client is in: 1 + Poisson(mean - 1),
	// at most every room, drawn uniformly over all rooms of all servers.
	RoomsPerClient float64 `yaml:"rooms_per_client"`
	// MessagesPerHour is each room's posting rate by its simulated members.
	MessagesPerHour float64 `yaml:"messages_per_hour"`
}

// defaultCommunities: off; the other values are what a scenario turning them on gets.
func defaultCommunities() Communities {
	return Communities{Rooms: 20, Region: "eu-central-1", Cores: 4, JoinedShare: 0.3, RoomsPerClient: 2, MessagesPerHour: 30}
}

// validateCommunities checks servers.communities; region says whether a region exists.
func (s *Scenario) validateCommunities(region func(string) error) error {
	c := s.Servers.Communities
	switch {
	case c.Count < 0 || c.Count > 1000:
		return bad("servers.communities.count", c.Count, "must be between 0 (no community servers) and 1000")
	case c.Count == 0:
		return nil
	case c.Rooms < 1 || c.Rooms > 1000:
		return bad("servers.communities.rooms", c.Rooms, "must be between 1 and 1000 rooms per server")
	case c.Cores < 1 || c.Cores > 256:
		return bad("servers.communities.cores", c.Cores, "must be between 1 and 256")
	case c.JoinedShare < 0 || c.JoinedShare > 1:
		return bad("servers.communities.joined_share", c.JoinedShare, "must be a share between 0 and 1")
	case c.RoomsPerClient < 1 || c.RoomsPerClient > float64(c.Count*c.Rooms):
		return bad("servers.communities.rooms_per_client", c.RoomsPerClient, fmt.Sprintf("must be a mean of at least 1 room and at most every room (%d)", c.Count*c.Rooms))
	case c.MessagesPerHour < 0 || c.MessagesPerHour > 36000:
		return bad("servers.communities.messages_per_hour", c.MessagesPerHour, "must be between 0 and 36000 messages per hour per room")
	}
	if err := region(c.Region); err != nil {
		return bad("servers.communities.region", c.Region, err.Error())
	}
	return nil
}

// communityServer is one community server of the world.
type communityServer struct {
	ws    *worldServer
	s     *community.Server
	rooms []string
}

// communityName is community server i's name and host name.
func communityName(i int) (name, host string) {
	name = fmt.Sprintf("community-%d", i)
	return name, name + ".example"
}

// buildCommunities adds the community servers, named community-<i>, host
// community-<i>.example.
func (w *world) buildCommunities() error {
	c := w.sc.Servers.Communities
	rooms := make([]string, c.Rooms)
	for j := range rooms {
		rooms[j] = fmt.Sprintf("room-%d", j)
	}
	for i := range c.Count {
		name, host := communityName(i)
		var srv *community.Server
		ws, err := w.addServer(community.Role, name, host, c.Region, c.Cores, func(k identity.Keys) (actor.Actor, error) {
			srv = community.New(community.Config{Suite: w.suite, Keys: k, Rooms: rooms, MessagesPerHour: c.MessagesPerHour,
				SizeMedian: w.sc.Workload.Size.Median, SizeSigma: w.sc.Workload.Size.Sigma})
			return srv, nil
		})
		if err != nil {
			return err
		}
		w.communities = append(w.communities, &communityServer{ws: ws, s: srv, rooms: rooms})
	}
	return nil
}

// communitiesOf draws the rooms one client joins, from its own stream (so that adding
// communities changes no other draw): with probability joined_share at least one room.
func (w *world) communitiesOf(r *rand.Rand) []client.Community {
	c := w.sc.Servers.Communities
	if len(w.communities) == 0 || r.Float64() >= c.JoinedShare {
		return nil
	}
	total := len(w.communities) * c.Rooms
	n := min(total, 1+poissonCount(c.RoomsPerClient-1, r))
	// Floyd's sampling: n distinct rooms in O(n) draws, however many rooms there are.
	seen := make(map[int]bool, n)
	picked := make([]int, 0, n)
	for j := total - n; j < total; j++ {
		k := r.IntN(j + 1)
		if seen[k] {
			k = j
		}
		seen[k] = true
		picked = append(picked, k)
	}
	slices.Sort(picked)
	var out []client.Community
	for _, k := range picked {
		cs := w.communities[k/c.Rooms]
		if len(out) == 0 || out[len(out)-1].Server.Host != cs.ws.dest.Host {
			out = append(out, client.Community{Server: cs.ws.dest})
		}
		out[len(out)-1].Rooms = append(out[len(out)-1].Rooms, cs.rooms[k%c.Rooms])
	}
	return out
}

// poissonCount draws a Poisson count of mean m (Knuth's method; the means here are small).
func poissonCount(m float64, r *rand.Rand) int {
	if m <= 0 {
		return 0
	}
	k := 0
	for t := r.ExpFloat64(); t < m; t += r.ExpFloat64() {
		k++
	}
	return k
}

// communityTally counts the community pollers' events and the community servers' traffic.
type communityTally struct {
	polls, failures, read uint64
	bytesIn, bytesOut     uint64
}

func (t *communityTally) observe(ev actor.Event) {
	switch e := ev.(type) {
	case client.CommunityPolled:
		t.polls++
		t.read += uint64(e.New)
		if e.Failure != client.OK {
			t.failures++
		}
	case lsrpc.Served:
		if e.Role == community.Role {
			t.bytesIn += uint64(e.BytesIn)
			t.bytesOut += uint64(e.BytesOut)
		}
	}
}

// summary is the summary's communities section.
func (t *communityTally) summary(servers, rooms int) *results.Communities {
	return &results.Communities{Servers: servers, Rooms: rooms, Polls: t.polls, PollFailures: t.failures,
		MessagesRead: t.read, BytesIn: t.bytesIn, BytesOut: t.bytesOut}
}

// blindedAliases tells the leakage tables the blinded IDs of client ci (keys) towards the
// community servers it joined, so that what a server learns from them is tied to the account,
// as anyone who knows the Session ID can tie it.
func (w *world) blindedAliases(ci int, keys identity.Keys, joined []client.Community) {
	for _, cm := range joined {
		b, _ := sogs.Blind15(w.suite.Costs(), keys.Seed[:], cm.Server.X25519)
		w.leak.T.AddAlias(b.ID, ci)
	}
}
