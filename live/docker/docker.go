// Package docker runs sessionsim's registry and service nodes as Docker containers, one process
// each (`sessionsim registry`, `sessionsim node`), for docker mode and its tests.
//
// A Cluster builds one image per run FROM scratch around the static binary (no registry is
// involved), makes a bridge network of its own with a unique name and a subnet drawn at random,
// and starts every container with a fixed address on it through dockertest. Every image,
// network and container carries the run's label (LabelRun) and the harness's process id
// (LabelPID): Close removes all of them, and Sweep removes those of earlier runs whose harness
// died (dockertest's Expire is only a goroutine in the harness process, so nothing else would).
//
// Faults are applied for real: a crash is SIGKILL (and a restart of the same container: same
// address, same database in the container's layer), a hang is docker pause, a partition is
// packet-filter rules in the engine machine's DOCKER-USER chain (filter.go), labelled and
// swept like the containers, and added latency and the world's link model between the nodes
// are the node's own link table (the admin endpoint's POST /fault, applied by a net.Conn
// wrapper in the binary). Nodes joining a running network get containers reserved at start
// (Config.Joins, AddNode, StartNode).
package docker

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"syscall"

	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// Labels every object of a run carries.
const (
	LabelRun = "io.sessionsim.run"
	LabelPID = "io.sessionsim.pid"
)

// ErrNoEngine is returned when no Docker engine answers.
var ErrNoEngine = errors.New("docker mode needs a Docker engine and none answered (is dockerd running, and DOCKER_HOST right?)")

// Connect is a dockertest pool on the engine DOCKER_HOST names (the local socket by default),
// checked with a ping.
func Connect() (*dockertest.Pool, error) {
	pool, err := dockertest.NewPool("")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoEngine, err)
	}
	if err := pool.Client.Ping(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoEngine, err)
	}
	return pool, nil
}

// CheckStatic refuses a binary that is not a static executable: a FROM scratch image has no
// dynamic loader and no libc.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not an ELF executable the image can run: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: build it static for docker mode (make build, or CGO_ENABLED=0 go build ./cmd/sessionsim)", path)
		}
	}
	return nil
}

// dockerfile is the image: the binary alone; /data holds a node's database.
const dockerfile = `FROM scratch
COPY sessionsim /sessionsim
WORKDIR /data
ENTRYPOINT ["/sessionsim"]
`

// buildContext is the tar the classic builder reads: the Dockerfile and the binary.
func buildContext(binary string) (io.Reader, error) {
	bin, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"sessionsim", 0o755, bin}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	return &buf, tw.Close()
}

// runFilter selects a run's objects by label (every run's when run is empty).
func runFilter(run string) map[string][]string {
	return map[string][]string{"label": {labelValue(run)}}
}

// Objects counts what a run (every run, when run is empty) has on the engine and in the packet
// filter of its machine.
type Objects struct{ Containers, Networks, Images, Rules int }

// Count lists a run's containers, networks, images and packet-filter rules.
func Count(pool *dockertest.Pool, run string) (Objects, error) {
	var o Objects
	cs, err := pool.Client.ListContainers(dc.ListContainersOptions{All: true, Filters: runFilter(run)})
	if err != nil {
		return o, err
	}
	ns, err := pool.Client.FilteredListNetworks(dc.NetworkFilterOpts{"label": {labelValue(run): true}})
	if err != nil {
		return o, err
	}
	is, err := pool.Client.ListImages(dc.ListImagesOptions{Filters: runFilter(run)})
	if err != nil {
		return o, err
	}
	rules := 0
	for _, r := range listRules() {
		if run == "" || r.run == run {
			rules++
		}
	}
	return Objects{Containers: len(cs), Networks: len(ns), Images: len(is), Rules: rules}, nil
}

func labelValue(run string) string {
	if run == "" {
		return LabelRun
	}
	return LabelRun + "=" + run
}

// remove deletes a run's packet-filter rules, containers, then its networks, then its images;
// keep decides, from an object's labels, whether to leave it.
func remove(pool *dockertest.Pool, run string, keep func(map[string]string) bool) (Objects, error) {
	var o Objects
	var errs []error
	n, err := removeRules(func(r string, pid int, _ int) bool {
		return (run == "" || r == run) && !keep(map[string]string{LabelRun: r, LabelPID: strconv.Itoa(pid)})
	})
	o.Rules = n
	errs = append(errs, err)
	cs, err := pool.Client.ListContainers(dc.ListContainersOptions{All: true, Filters: runFilter(run)})
	errs = append(errs, err)
	for _, c := range cs {
		if keep(c.Labels) {
			continue
		}
		// A paused container must be unpaused before a forced removal kills it.
		if c.State == "paused" {
			_ = pool.Client.UnpauseContainer(c.ID)
		}
		if err := pool.Client.RemoveContainer(dc.RemoveContainerOptions{ID: c.ID, Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, err)
			continue
		}
		o.Containers++
	}
	ns, err := pool.Client.FilteredListNetworks(dc.NetworkFilterOpts{"label": {labelValue(run): true}})
	errs = append(errs, err)
	for _, n := range ns {
		if keep(n.Labels) {
			continue
		}
		if err := pool.Client.RemoveNetwork(n.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		o.Networks++
	}
	is, err := pool.Client.ListImages(dc.ListImagesOptions{Filters: runFilter(run)})
	errs = append(errs, err)
	for _, im := range is {
		if keep(im.Labels) {
			continue
		}
		if err := pool.Client.RemoveImageExtended(im.ID, dc.RemoveImageOptions{Force: true}); err != nil {
			errs = append(errs, err)
			continue
		}
		o.Images++
	}
	return o, errors.Join(errs...)
}

// Sweep removes the objects of earlier runs whose harness process is gone (a crashed or killed
// run leaves them behind), and leaves those of runs still going.
func Sweep(pool *dockertest.Pool) (Objects, error) {
	return remove(pool, "", func(l map[string]string) bool { return harnessAlive(l[LabelPID]) })
}

// harnessAlive reports whether the process a label names still runs on this machine.
func harnessAlive(pid string) bool {
	n, err := strconv.Atoi(pid)
	if err != nil || n <= 0 {
		return false
	}
	if n == os.Getpid() {
		return true
	}
	return syscall.Kill(n, 0) == nil || errors.Is(syscall.Kill(n, 0), syscall.EPERM)
}

// addrIn is the n-th address of prefix (n counted from the network address).
func addrIn(prefix netip.Prefix, n int) netip.Addr {
	b := prefix.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
