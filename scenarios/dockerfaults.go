package scenarios

import (
	"sync"

	"github.com/sessionsim/sessionsim/live/docker"
)

// dockerNodeOps runs the engine calls of the faults on each node's container in the order the
// faults came (a hang's pause before the crash's kill that follows it, a kill before the
// restart), each on a goroutine of its own: the engine's answers take a while, and the world
// lock is held where faults are applied. The zero value is ready.
type dockerNodeOps struct {
	mu   sync.Mutex
	last map[int]chan struct{} // per node, closed when its latest operation is done
	// earlier is what the processes of nodes restarted after a crash reported before their
	// kill, added to what their new processes report.
	earlier map[int]docker.Usage
}

// onNode runs f on a goroutine once node i's earlier operations are done; d.kills waits for it.
func (d *dockerWorld) onNode(i int, f func()) {
	o := &d.ops
	o.mu.Lock()
	if o.last == nil {
		o.last = map[int]chan struct{}{}
	}
	prev, done := o.last[i], make(chan struct{})
	o.last[i] = done
	o.mu.Unlock()
	d.kills.Add(1)
	go func() {
		defer d.kills.Done()
		defer close(done)
		if prev != nil {
			<-prev
		}
		f()
	}()
}

// pauseDockerNode freezes node i's container (docker pause: its processes stop where they are,
// its sockets stay open) and tells the registry its machine is down, as hangNode does in the
// other modes. What the process reported of its work is read first: a node that stays hung to
// the end cannot answer then.
func (w *world) pauseDockerNode(i int) {
	w.stopDockerNode(i, "hang fault", "pausing", w.docker.cluster.Pause)
}

// stopDockerNode stops node i's container with stop (a kill, a pause) after the node's earlier
// operations (onNode), having read what its process reported of its work first, and tells the
// registry its machine is down; fault and doing name the step in a warning.
func (w *world) stopDockerNode(i int, fault, doing string, stop func(name string) error) {
	d, name, ip := w.docker, w.nodes[i].name, w.nodes[i].addr.Addr()
	d.onNode(i, func() {
		d.readUsage(i, ip)
		if err := stop(name); err != nil {
			d.log.Warn(fault+": "+doing+" a node's container", "node", name, "err", err)
			return
		}
		if err := d.cluster.Halt(name); err != nil {
			d.log.Warn(fault+": telling the registry", "node", name, "err", err)
		}
	})
}

// unpauseDockerNode lets node i's paused container run again and tells the registry.
func (w *world) unpauseDockerNode(i int) {
	w.backDockerNode(i, "hang fault", "unpausing", w.docker.cluster.Unpause)
}

// backDockerNode starts node i's container again with start (an unpause, a restart) after the
// node's earlier operations, gives it its link table (the tables changed while it was down: a
// degrade, a node that joined; a new process starts without one) and tells the registry it is
// back; fault and doing name the step in a warning.
func (w *world) backDockerNode(i int, fault, doing string, start func(name string) error) {
	d, name := w.docker, w.nodes[i].name
	d.onNode(i, func() {
		if err := start(name); err != nil {
			d.log.Warn(fault+": "+doing+" a node's container", "node", name, "err", err)
			return
		}
		w.giveTable(i)
		if err := d.cluster.Unhalt(name); err != nil {
			d.log.Warn(fault+": telling the registry", "node", name, "err", err)
		}
	})
}

// thawDockerNode lets node i's paused container run only so that a crash can kill it: the
// registry is not told it is back, nor is it given a table, since the kill follows at once.
func (w *world) thawDockerNode(i int) {
	d, name := w.docker, w.nodes[i].name
	d.onNode(i, func() {
		if err := d.cluster.Unpause(name); err != nil {
			d.log.Warn("crash fault: unpausing a hung node's container", "node", name, "err", err)
		}
	})
}

// restartDockerNode starts node i's killed container again (same address, same database on
// its disk) and tells the registry, once it serves; what its process did before the kill is
// kept for the summary (usageOf).
func (w *world) restartDockerNode(i int) {
	d := w.docker
	w.backDockerNode(i, "crash fault", "restarting", func(name string) error {
		d.usageMu.Lock()
		if d.ops.earlier == nil {
			d.ops.earlier = map[int]docker.Usage{}
		}
		e := d.ops.earlier[i]
		e.Bytes += d.usage[i].Bytes
		e.CPU += d.usage[i].CPU
		d.ops.earlier[i], d.usage[i] = e, docker.Usage{}
		d.usageMu.Unlock()
		return d.cluster.Restart(name)
	})
}

// usageOf is what node i's processes reported of their work, those before a restart included.
func (d *dockerWorld) usageOf(i int) docker.Usage {
	d.usageMu.Lock()
	defer d.usageMu.Unlock()
	u, e := d.usage[i], d.ops.earlier[i]
	return docker.Usage{Bytes: u.Bytes + e.Bytes, CPU: u.CPU + e.CPU}
}
