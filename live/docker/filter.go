package docker

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// Partitions are packet-filter rules on the engine's machine: Docker sends the traffic
// between two containers of a bridge network through the FORWARD chain (bridge-nf-call-
// iptables), whose first jump is to DOCKER-USER, the chain Docker leaves to its users. A
// partition is one rule per ordered pair of containers across the cut, answering TCP with a
// reset, so that both sides see the connection fail at once (as the in-binary fault switch
// and the simulator's partitions make it fail), established connections included: the rules
// come before Docker's own ACCEPT of established traffic. Every rule carries a comment with
// the run and the harness's process id, so that Close removes the run's rules and Sweep those
// of dead harnesses, as for containers.

// filterChain is where the rules go.
const filterChain = "DOCKER-USER"

// ErrNoFilter is returned when the packet filter cannot be changed.
var ErrNoFilter = errors.New("docker mode applies partitions as iptables rules in the DOCKER-USER chain of the engine's machine")

// iptables runs the iptables command (iptables-restore with stdin); a variable so that the rule
// handling can be tested without root. Both wait (-w) for the lock another change to the packet
// filter holds (the engine's, another run's beside this one) instead of failing.
var iptables = func(stdin []byte, args ...string) ([]byte, error) {
	args = append([]string{"-w"}, args...)
	cmd := exec.Command("iptables", args...)
	if stdin != nil {
		cmd = exec.Command("iptables-restore", args...)
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %w: %s", cmd.Args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// CheckFilter says whether this process can change the DOCKER-USER chain (it needs root and
// the iptables command on the machine of a local engine).
func CheckFilter() error {
	if _, err := iptables(nil, "-S", filterChain); err != nil {
		return fmt.Errorf("%w, and listing it failed (run as root on the engine's machine): %v", ErrNoFilter, err)
	}
	return nil
}

// ruleComment is the comment of a run's partition rule.
func ruleComment(run string, pid int, partition int) string {
	return fmt.Sprintf("%s=%s %s=%d partition=%d", LabelRun, run, LabelPID, pid, partition)
}

// partitionRules are the rules of partition id between the addresses of a and those of b, in
// iptables-restore's format, with op -I (add) or -D (remove).
func partitionRules(op, run string, pid, id int, a, b []netip.Addr) []byte {
	var buf bytes.Buffer
	buf.WriteString("*filter\n")
	comment := ruleComment(run, pid, id)
	for _, x := range a {
		for _, y := range b {
			for _, p := range [2][2]netip.Addr{{x, y}, {y, x}} {
				fmt.Fprintf(&buf, "%s %s -s %s/32 -d %s/32 -p tcp -m comment --comment %q -j REJECT --reject-with tcp-reset\n",
					op, filterChain, p[0], p[1], comment)
			}
		}
	}
	buf.WriteString("COMMIT\n")
	return buf.Bytes()
}

// Partition cuts the containers at a off from those at b (both ways) until Heal(id).
func (c *Cluster) Partition(id int, a, b []netip.Addr) error {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	if _, err := iptables(partitionRules("-I", c.run, os.Getpid(), id, a, b), "--noflush"); err != nil {
		return fmt.Errorf("docker: partition %d: %w", id, err)
	}
	c.log.Info("partition", "id", id, "inside", len(a), "outside", len(b))
	return nil
}

// Heal removes partition id's rules.
func (c *Cluster) Heal(id int) error {
	n, err := removeRules(func(run string, _ int, p int) bool { return run == c.run && p == id })
	c.log.Info("partition healed", "id", id, "rules", n)
	return err
}

// filterRule is one of our rules as `iptables -S` lists it.
type filterRule struct {
	spec      string // the rule after "-A DOCKER-USER "
	run       string
	pid       int
	partition int
}

// parseRules picks the rules carrying a run's comment out of `iptables -S DOCKER-USER`.
func parseRules(listing string) []filterRule {
	var out []filterRule
	for _, line := range strings.Split(listing, "\n") {
		spec, ok := strings.CutPrefix(strings.TrimSpace(line), "-A "+filterChain+" ")
		if !ok {
			continue
		}
		_, rest, ok := strings.Cut(spec, LabelRun+"=")
		if !ok {
			continue
		}
		r := filterRule{spec: spec, partition: -1}
		for _, f := range strings.Fields(strings.NewReplacer(`"`, " ").Replace(LabelRun + "=" + rest)) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case LabelRun:
				r.run = v
			case LabelPID:
				r.pid, _ = strconv.Atoi(v)
			case "partition":
				r.partition, _ = strconv.Atoi(v)
			}
		}
		out = append(out, r)
	}
	return out
}

// listRules lists the rules of every run (none when the packet filter cannot be read: then
// no run can have made any).
func listRules() []filterRule {
	out, err := iptables(nil, "-S", filterChain)
	if err != nil {
		return nil
	}
	return parseRules(string(out))
}

// removeRules removes the rules drop selects (by run, harness pid and partition) and says how
// many it removed.
func removeRules(drop func(run string, pid int, partition int) bool) (int, error) {
	var buf bytes.Buffer
	n := 0
	for _, r := range listRules() {
		if drop(r.run, r.pid, r.partition) {
			fmt.Fprintf(&buf, "-D %s %s\n", filterChain, r.spec)
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	if _, err := iptables([]byte("*filter\n"+buf.String()+"COMMIT\n"), "--noflush"); err != nil {
		return 0, fmt.Errorf("docker: removing %d packet-filter rules: %w", n, err)
	}
	return n, nil
}
