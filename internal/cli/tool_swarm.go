package cli

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sessionsim/sessionsim/protocol/identity"
	"github.com/sessionsim/sessionsim/protocol/storagerpc"
	"github.com/sessionsim/sessionsim/protocol/swarm"
	"github.com/sessionsim/sessionsim/protocol/wireerr"
	"github.com/sessionsim/sessionsim/registry"
)

func init() {
	registerTool(newSwarmSpaceCmd)
	registerTool(newSwarmOwnerCmd)
	registerTool(newSwarmsCmd)
}

func newSwarmSpaceCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "swarm-space PUBKEY",
		Short: "Print where an account (any one-byte prefix) or public key lies in the swarm space",
		Long: `Print the swarm space position of an account: the XOR of the four big-endian 64-bit words
of the 32 bytes after its one-byte prefix, as the storage server computes it
(session-storage-server oxenss/common/pubkey.cpp, pubkey_to_swarm_space of user_pubkey::raw()).

PUBKEY is 66 hex characters (the prefix byte and the key) or a bare 64-hex-character key. The
server takes any prefix byte and hashes only the key, so this tool does too. Real clients store
under two: 05 (a Session ID: X25519 key) and 03 (a group: Ed25519 key). libsession-util names
further prefixes (include/session/util.hpp SessionIDPrefix) that identify users in communities
and never own a swarm: 15 (community-blinded), 25 (version-blinded), 07 (unblinded); 00 is the
testnet's Session ID.`,
		Example: `  sessionsim tool swarm-space 053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8
  sessionsim tool swarm-space 033506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8`,
		Args: cobra.ArbitraryArgs, // checked below, so that --json reports it as JSON
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return toolFailure(cmd, usageError(fmt.Errorf("swarm-space takes one PUBKEY argument, got %d", len(args))))
			}
			key, err := parsePubkeyArg(args[0])
			if err != nil {
				return toolFailure(cmd, err)
			}
			return printTool(cmd, []toolField{{Key: "swarm_space", Value: swarm.Space(key)}})
		},
	}
}

func newSwarmOwnerCmd() *cobra.Command {
	var list string
	cmd := &cobra.Command{
		Use:   "swarm-owner --swarms ID,ID,... PUBKEY_OR_DECIMAL_SPACE",
		Short: "Print which of the given swarms owns an account or a swarm-space position",
		Long: `Print the swarm that owns an account (a 66-hex-character ID or 64-hex-character key) or a
position in the swarm space (a decimal number), among the given swarm ids (decimal, or hex
with 0x): the nearest id on the ring, a tie going to the lower one.`,
		Example: `  sessionsim tool swarm-owner --swarms 100,200 150
  sessionsim tool swarm-owner --swarms 0,9223372036854775807 05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return toolFailure(cmd, usageError(fmt.Errorf("swarm-owner takes one PUBKEY_OR_DECIMAL_SPACE argument, got %d", len(args))))
			}
			ids, err := parseSwarmList(list)
			if err != nil {
				return toolFailure(cmd, err)
			}
			x, err := parseSpaceArg(args[0])
			if err != nil {
				return toolFailure(cmd, err)
			}
			owner, _ := swarm.NewRing(ids).Owner(x)
			return printTool(cmd, []toolField{{Key: "swarm_id", Value: uint64(owner)}})
		},
	}
	cmd.Flags().StringVar(&list, "swarms", "", "comma-separated swarm ids (decimal, or hex with 0x)")
	return cmd
}

// maxToolNodes bounds `tool swarms` (each block re-sorts the swarms once per new node) to ten
// times the real network of about 2,000 nodes: a few seconds one per block.
const maxToolNodes = 20000

func newSwarmsCmd() *cobra.Command {
	var nodes, perBlock int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "swarms --nodes N [--per-block K] [--seed S]",
		Short: "Register N service nodes, K per block, and print the swarms oxen-core's assignment makes",
		Long: `Register N service nodes (keys derived from the seed), K in each block, run oxen-core's swarm
assignment in every block (block hashes derived from the seed and the height) and print the
number of swarms, their sizes in ascending order and the excess (members beyond 5, summed).`,
		Example: `  sessionsim tool swarms --nodes 2000
  sessionsim tool swarms --nodes 500 --per-block 25 --seed 7 --json`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return toolFailure(cmd, usageError(fmt.Errorf("swarms takes no arguments (got %q): use --nodes N", args[0])))
			}
			if !cmd.Flags().Changed("nodes") {
				return toolFailure(cmd, usageError(fmt.Errorf("--nodes is required: how many service nodes to register, 1 to %d", maxToolNodes)))
			}
			if nodes < 1 || nodes > maxToolNodes {
				return toolFailure(cmd, usageError(fmt.Errorf("--nodes %d: want 1 to %d", nodes, maxToolNodes)))
			}
			if perBlock < 1 {
				return toolFailure(cmd, usageError(fmt.Errorf("--per-block %d: want at least 1", perBlock)))
			}
			sizes := simulateRegistrations(nodes, perBlock, seed)
			excess := 0
			for _, s := range sizes {
				excess += max(0, s-swarm.ExcessBase)
			}
			return printTool(cmd, []toolField{
				{Key: "swarms", Value: len(sizes)},
				{Key: "sizes", Value: sizes},
				{Key: "excess", Value: excess},
			})
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&nodes, "nodes", 0, "how many service nodes to register")
	fl.IntVar(&perBlock, "per-block", 1, "how many register in each block")
	fl.Uint64Var(&seed, "seed", 1, "seed for node keys and block hashes")
	return cmd
}

// simulateRegistrations returns the swarm sizes, ascending, after registering n nodes k per block.
func simulateRegistrations(n, k int, seed uint64) []int {
	var st swarm.State
	for height, registered := uint64(1), 0; registered < n; height++ {
		for i := 0; i < k && registered < n; i++ {
			st.Add(identity.Derive(seed, fmt.Sprintf("node-%d", registered)).Ed25519Public)
			registered++
		}
		st.Block(registry.BlockHash(seed, height))
	}
	return slices.Sorted(maps.Values(st.Sizes()))
}

// parsePubkeyArg reads a 66-hex-character account with any prefix byte, as the storage server
// does, or a bare 64-hex-character key.
func parsePubkeyArg(s string) ([32]byte, error) {
	s = strings.TrimSpace(s)
	switch len(s) {
	case identity.IDHexSize:
		pk, err := storagerpc.ParsePubkey(s)
		if err != nil {
			return [32]byte{}, usageError(err)
		}
		return pk.Key, nil
	case 64:
		k, err := identity.ParseKey(s)
		if err != nil {
			return k, usageError(err)
		}
		return k, nil
	}
	return [32]byte{}, usageError(fmt.Errorf("pubkey %q is %d characters: want a 66-hex-character account (a prefix byte such as 05 or 03, then the key) or a 64-hex-character key", wireerr.Excerpt(s), len(s)))
}

// parseSpaceArg reads a pubkey (64 or 66 hex characters) or a decimal swarm-space position; a
// uint64 has at most 20 decimal digits, so the length tells them apart.
func parseSpaceArg(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 || len(s) == identity.IDHexSize {
		k, err := parsePubkeyArg(s)
		if err != nil {
			return 0, err
		}
		return swarm.Space(k), nil
	}
	x, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, usageError(fmt.Errorf("%q is neither a pubkey (64 or 66 hex characters) nor a decimal swarm-space position (0 to 18446744073709551615)", wireerr.Excerpt(s)))
	}
	return x, nil
}

func parseSwarmList(list string) ([]swarm.ID, error) {
	if strings.TrimSpace(list) == "" {
		return nil, usageError(errors.New("--swarms is required: comma-separated swarm ids, e.g. --swarms 100,200"))
	}
	var ids []swarm.ID
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		var v uint64
		var err error
		if h, ok := strings.CutPrefix(strings.ToLower(f), "0x"); ok {
			v, err = strconv.ParseUint(h, 16, 64)
		} else {
			v, err = strconv.ParseUint(f, 10, 64)
		}
		if err != nil {
			return nil, usageError(fmt.Errorf("--swarms: %q is not a swarm id (decimal, or hex with 0x, below 2^64)", wireerr.Excerpt(f)))
		}
		if swarm.ID(v) == swarm.Unassigned {
			return nil, usageError(fmt.Errorf("--swarms: %d is the \"unassigned\" marker, not a swarm id", v))
		}
		ids = append(ids, swarm.ID(v))
	}
	return ids, nil
}
