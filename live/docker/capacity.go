package docker

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/ory/dockertest/v3"
)

// PerContainerBytes is the memory budgeted per container: docker stats measured 9.1 to 10.3
// MiB per node container (7.7 MiB for the registry) during the 12-node test's store burst.
const PerContainerBytes = 16 << 20

// memoryShare is the part of the engine machine's memory a run may plan to use: the rest is
// for the harness (clients run in it), the engine and whatever else runs there.
const memoryShare = 0.5

// CheckCapacity refuses a run of n containers that would not fit in the engine machine's
// memory, with the estimate.
func CheckCapacity(pool *dockertest.Pool, n int) error {
	info, err := pool.Client.Info()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNoEngine, err)
	}
	return capacity(n, info.MemTotal)
}

func capacity(n int, memTotal int64) error {
	limit := int(float64(memTotal) * memoryShare / PerContainerBytes)
	if n > limit {
		return fmt.Errorf("%w: %d containers at about %d MB each need %d MB, and the engine's machine has %d MB (at most %d containers, using half of it)",
			ErrTooMany, n, PerContainerBytes>>20, int64(n)*PerContainerBytes>>20, memTotal>>20, limit)
	}
	return nil
}

// neighSysctl is where the kernel's neighbour-table thresholds are (IPv4, default for new
// interfaces).
const neighSysctl = "/proc/sys/net/ipv4/neigh/default/gc_thresh"

// neighPerContainer is the neighbour entries budgeted per container for gc_thresh1 (and 4 and 8
// times that for gc_thresh2 and 3): about 30 containers in a full mesh exhaust the kernel's
// defaults (128/512/1024), so the defaults are kept up to 32 containers and scaled above.
const neighPerContainer = 4

// RaiseNeighbourTable raises net.ipv4.neigh.default.gc_thresh1/2/3 when a run of n containers
// needs more than they allow (to n*4, n*16 and n*32). Without the permission (not root) it
// logs the sysctl command to run and goes on.
func RaiseNeighbourTable(n int, log *slog.Logger) {
	if n <= 32 {
		return // the kernel's defaults hold (see neighPerContainer)
	}
	want := []int{n * neighPerContainer, n * neighPerContainer * 4, n * neighPerContainer * 8}
	for i, w := range want {
		path := neighSysctl + strconv.Itoa(i+1)
		b, err := os.ReadFile(path)
		if err != nil {
			return // not Linux, or no /proc: nothing to raise
		}
		cur, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || cur >= w {
			continue
		}
		if err := os.WriteFile(path, []byte(strconv.Itoa(w)), 0o644); err != nil {
			log.Warn("the kernel's neighbour table may be too small for this run; raise it with sysctl",
				"command", fmt.Sprintf("sysctl -w net.ipv4.neigh.default.gc_thresh%d=%d", i+1, w), "current", cur, "err", err)
			continue
		}
		log.Info("raised the kernel's neighbour table", "sysctl", fmt.Sprintf("net.ipv4.neigh.default.gc_thresh%d", i+1), "from", cur, "to", w)
	}
}
