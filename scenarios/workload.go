package scenarios

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
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
	return int(math.Round(clippedLogNormal(float64(z.Median), z.Sigma, float64(z.Min), float64(z.Max), r)))
}

// ReplyDelay draws the time a client takes to answer a message, from the workload's clipped
// log-normal distribution.
func ReplyDelay(z DelayDist, r *rand.Rand) time.Duration {
	return time.Duration(clippedLogNormal(float64(z.Median), z.Sigma, float64(z.Min), float64(z.Max), r))
}

// clippedLogNormal draws median x exp(sigma Z), Z standard normal, clipped to [lo, hi].
func clippedLogNormal(median, sigma, lo, hi float64, r *rand.Rand) float64 {
	v := median * math.Exp(sigma*r.NormFloat64())
	return math.Min(math.Max(v, lo), hi)
}

// topActive is the share of the most active clients whose share of the messages
// Workload.ActivityTop15Share sets: the cut at which the real network's activity was reported.
const topActive = 0.15

// ActivityRates gives each client's mean sending rate per online hour, one client per stream
// of rs. Uniform activity gives every client MessagesPerHour and draws nothing.
//
// Heavy-tailed activity draws one log-normal rate from each client's stream, with the sigma
// at which the most active 15% of clients carry ActivityTop15Share of the expected messages
// (activitySigma), and scales the rates so that their mean is exactly MessagesPerHour: the run
// carries the load of a uniform one, whatever the draws. (At sigma 1.88 the mean of 200 draws
// strays from its expectation by a third, root mean square, which would change the load from
// seed to seed; the price is that adding a client rescales the others' rates by a common
// factor, though their order and ratios stay as drawn.)
//
// Log-normal rather than Pareto: a Pareto tail with 80% of the messages in its top 15% has
// shape 1.13 (share = 0.15^(1-1/shape)) and an infinite variance, so the share a world of
// clients draws approaches the target only very slowly: for 20,000 clients its median is 0.74,
// its 5th to 95th percentiles 0.69 and 0.86, against 0.79 and 0.81 for the log-normal, whose
// sigma also follows in closed form.
func ActivityRates(w Workload, rs []*rand.Rand) []float64 {
	rates := make([]float64, len(rs))
	if w.Activity != "heavy-tailed" {
		for i := range rates {
			rates[i] = w.MessagesPerHour
		}
		return rates
	}
	sigma := activitySigma(w.ActivityTop15Share)
	sum := 0.0
	for i, r := range rs {
		rates[i] = math.Exp(sigma * r.NormFloat64())
		sum += rates[i]
	}
	scale := w.MessagesPerHour * float64(len(rates)) / sum
	for i := range rates {
		rates[i] *= scale
	}
	return rates
}

// activitySigma is the log-normal sigma at which the most active fraction topActive of the
// clients carry share of the expected messages. For rates exp(mu + sigma Z), the clients above
// the quantile z = Phi^-1(1 - topActive) carry E[X; Z > z] / E[X] = Phi(sigma - z) of the
// total, so sigma = Phi^-1(share) + Phi^-1(1 - topActive): 1.878 for 80%, 0 for 15% (every
// client alike).
func activitySigma(share float64) float64 {
	return distuv.UnitNormal.Quantile(share) + distuv.UnitNormal.Quantile(1-topActive)
}
