package docker

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartitionRules(t *testing.T) {
	a := []netip.Addr{netip.MustParseAddr("10.130.1.10")}
	b := []netip.Addr{netip.MustParseAddr("10.130.2.10"), netip.MustParseAddr("10.130.3.10")}
	got := string(partitionRules("-I", "ab12", 77, 3, a, b))
	lines := strings.Split(strings.TrimSpace(got), "\n")
	require.Len(t, lines, 2+2*2, "a header, a rule per direction per pair, COMMIT")
	assert.Equal(t, "*filter", lines[0])
	assert.Equal(t, "COMMIT", lines[len(lines)-1])
	assert.Equal(t, `-I DOCKER-USER -s 10.130.1.10/32 -d 10.130.2.10/32 -p tcp -m comment --comment "io.sessionsim.run=ab12 io.sessionsim.pid=77 partition=3" -j REJECT --reject-with tcp-reset`, lines[1])
	assert.Contains(t, lines[2], "-s 10.130.2.10/32 -d 10.130.1.10/32", "and back")
}

func TestParseRules(t *testing.T) {
	// As `iptables -S DOCKER-USER` lists them (nf_tables), with a rule of someone else's.
	listing := `-N DOCKER-USER
-A DOCKER-USER -s 10.130.1.10/32 -d 10.130.2.10/32 -p tcp -m comment --comment "io.sessionsim.run=ab12 io.sessionsim.pid=77 partition=3" -j REJECT --reject-with tcp-reset
-A DOCKER-USER -s 10.0.0.1/32 -j DROP
-A DOCKER-USER -s 10.131.1.10/32 -d 10.131.2.10/32 -p tcp -m comment --comment "io.sessionsim.run=cd34 io.sessionsim.pid=5 partition=0" -j REJECT --reject-with tcp-reset
-A DOCKER-USER -j RETURN
`
	tests := []struct {
		run       string
		pid, part int
	}{
		{"ab12", 77, 3},
		{"cd34", 5, 0},
	}
	got := parseRules(listing)
	require.Len(t, got, len(tests), "only the rules with a run's comment")
	for i, tt := range tests {
		assert.Equal(t, tt.run, got[i].run)
		assert.Equal(t, tt.pid, got[i].pid)
		assert.Equal(t, tt.part, got[i].partition)
		assert.True(t, strings.HasPrefix(got[i].spec, "-s "), "the rule as -D takes it: %s", got[i].spec)
	}
}
