package scenarios

import (
	"fmt"

	"github.com/sessionsim/sessionsim/actor"
	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/onion"
	"github.com/sessionsim/sessionsim/scenarios/simnet"
	"github.com/sessionsim/sessionsim/sim"
)

// Servers are the servers of a scenario besides the service nodes.
type Servers struct {
	// FileServer is the file server (servers.file_server), placed when attachments are sent
	// or a fault targets it.
	FileServer FileServerSpec `yaml:"file_server"`
	// Push is the push-notification server (servers.push).
	Push PushServer `yaml:"push"`
	// Communities are community servers (servers.communities).
	Communities Communities `yaml:"communities"`
}

// worldServer is a server of the world that is not a service node: the file server, the push
// server, a community server. Clients reach it by its host name through onion requests, which
// the last hop proxies to it; the nodes know the name (node.Config.Servers).
type worldServer struct {
	role string // "file", "push", "community"
	name string // actor and host name
	addr actor.Addr
	host sim.HostID
	dest onion.Server // how clients address it
	keys identity.Keys
	a    actor.Actor
	up   bool
}

// addServer places a server of role on its own host in region, under the host name hostName,
// with keys derived from (seed, name) like every actor's, and spawns the actor newActor makes
// from them. The host name joins the nodes' table of servers (node.Config.Servers), one map
// every node of the world shares, so a server added after the nodes started is reachable too.
func (w *world) addServer(role, name, hostName, region string, cores int, newActor func(identity.Keys) (actor.Actor, error)) (*worldServer, error) {
	if _, dup := w.nodeConf.Servers[hostName]; dup {
		return nil, fmt.Errorf("two servers named %s", hostName)
	}
	h, addr, err := w.sn.AddServer(name, region, cores)
	if err != nil {
		return nil, err
	}
	keys := identity.Derive(w.sc.Seed, name)
	a, err := newActor(keys)
	if err != nil {
		return nil, fmt.Errorf("%s server %s: %w", role, name, err)
	}
	if w.docker != nil {
		if err := w.docker.placeServer(h, addr, hostName); err != nil {
			return nil, err
		}
	}
	if _, err := w.drv.Spawn(h, simnet.ServerPort, name, a); err != nil {
		return nil, err
	}
	w.nodeConf.Servers[hostName] = addr
	if w.leak != nil {
		w.leak.T.AddServerRole(role)
	}
	s := &worldServer{role: role, name: name, addr: addr, host: h, keys: keys, a: a, up: true,
		dest: onion.Server{Host: hostName, X25519: keys.X25519Public}}
	w.servers = append(w.servers, s)
	return s, nil
}

// buildServers adds the scenario's servers, after the nodes and before the clients, who are
// configured with the servers' addresses (onion.Server).
func (w *world) buildServers() error {
	if w.sc.needsFileServer() {
		if err := w.addFileServer(); err != nil {
			return err
		}
	}
	if w.sc.Servers.Communities.Count > 0 {
		if err := w.buildCommunities(); err != nil {
			return err
		}
	}
	return w.buildPush()
}
