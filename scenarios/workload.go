package scenarios

import (
	"math"
	"math/rand/v2"
	"slices"
)

// ContactGraph builds the conversation graph: contacts[i] lists the clients i writes to. The
// graph is undirected (if i writes to j, j writes to i), sorted, without self-loops, and a pure
// function of (n, workload, r).
func ContactGraph(n int, w Workload, r *rand.Rand) [][]int {
	if n < 2 {
		return make([][]int, n)
	}
	k := min(w.Contacts, n-1)
	adj := make([]map[int]struct{}, n)
	for i := range adj {
		adj[i] = make(map[int]struct{}, k)
	}
	link := func(a, b int) {
		if a != b {
			adj[a][b] = struct{}{}
			adj[b][a] = struct{}{}
		}
	}
	switch w.Graph {
	case "random":
		for i := range n {
			for len(adj[i]) < k {
				link(i, r.IntN(n))
			}
		}
	default: // small-world: Watts-Strogatz ring lattice of k/2 neighbours a side, each edge rewired with probability Rewire
		half := max(1, k/2)
		for i := range n {
			for d := 1; d <= half; d++ {
				j := (i + d) % n
				if r.Float64() < w.Rewire {
					// Rewire to a uniformly chosen node that is not i and not already linked.
					for tries := 0; tries < 8; tries++ {
						c := r.IntN(n)
						if _, dup := adj[i][c]; c != i && !dup {
							j = c
							break
						}
					}
				}
				link(i, j)
			}
		}
	}
	out := make([][]int, n)
	for i, m := range adj {
		for j := range m {
			out[i] = append(out[i], j)
		}
		slices.Sort(out[i])
	}
	return out
}

// MessageSize draws a body size from the workload's clipped log-normal distribution.
func MessageSize(z SizeDist, r *rand.Rand) int {
	v := float64(z.Median) * math.Exp(z.Sigma*r.NormFloat64())
	return int(math.Round(math.Min(math.Max(v, float64(z.Min)), float64(z.Max))))
}
