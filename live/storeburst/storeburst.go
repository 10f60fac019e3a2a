// Package storeburst sends a burst of storage-RPC stores to service nodes over HTTPS, as
// clients would, and checks afterwards that every store a node acknowledged survived: the
// crash tests of sessionsim node processes and containers share it.
package storeburst

import (
	"bytes"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionsim/sessionsim/protocol/storagerpc"
)

// Config is one burst.
type Config struct {
	// URLs are the nodes' storage RPC endpoints (https://ip:port/storage_rpc/v1).
	URLs []string
	// Victim is the index of the node that Kill crashes; half the stores before the kill go
	// to it.
	Victim int
	// Stores and Workers: how many stores, sent by how many concurrent senders.
	Stores, Workers int
	// KillAt is the store whose sender calls Kill first (mid-burst), then sends on.
	KillAt int
	Kill   func()
}

// Result is what the nodes answered.
type Result struct {
	// Acked maps the hash of every store answered 200 to the node that answered.
	Acked map[string]int
	// Status counts answers by HTTP status (0: no answer).
	Status map[int]int
}

// Run sends the burst. Stores go to random new accounts (public inboxes: no signature), with
// payloads of 200 to 1,000 random bytes and a one-day TTL.
func Run(cfg Config) (Result, error) {
	httpc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxConnsPerHost: cfg.Workers}}
	defer httpc.CloseIdleConnections()
	res := Result{Acked: map[string]int{}, Status: map[int]int{}}
	var (
		sent   atomic.Int64
		killed atomic.Bool
		mu     sync.Mutex
		wg     sync.WaitGroup
		first  error
	)
	for w := range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(sent.Add(1))
				if k > cfg.Stores {
					return
				}
				if k == cfg.KillAt && cfg.Kill != nil {
					cfg.Kill()
					killed.Store(true)
				}
				// After the kill the victim's stores go elsewhere: a dead container's address
				// answers nothing (no reset), and waiting out each would only slow the burst.
				to := (w + k) % len(cfg.URLs)
				if k%2 == 1 && !killed.Load() {
					to = cfg.Victim
				}
				if to == cfg.Victim && killed.Load() {
					to = (to + 1) % len(cfg.URLs)
				}
				hash, code, err := store(httpc, cfg.URLs[to], k)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				res.Status[code]++
				if code == http.StatusOK {
					res.Acked[hash] = to
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return res, first
}

// store sends one store; code is 0 when no answer came.
func store(httpc *http.Client, url string, k int) (hash string, code int, err error) {
	var pkb [33]byte
	pkb[0] = 0x05
	_, _ = crand.Read(pkb[1:])
	pk, err := storagerpc.ParsePubkey(hex.EncodeToString(pkb[:]))
	if err != nil {
		return "", 0, err
	}
	data := make([]byte, 200+k%800)
	_, _ = crand.Read(data)
	req := storagerpc.NewStore(pk, storagerpc.NamespaceDefault, time.Now().UnixMilli(), 24*time.Hour, data)
	resp, err := httpc.Post(url, "application/json", bytes.NewReader(storagerpc.EncodeRequest(req)))
	if err != nil {
		return "", 0, nil // a node down or cut off: no answer, nothing acknowledged
	}
	_ = resp.Body.Close()
	return storagerpc.MessageHash(pk, storagerpc.NamespaceDefault, data), resp.StatusCode, nil
}

// Hashes is every hash in the store of the node whose admin endpoint is adminURL.
func Hashes(adminURL string) (map[string]bool, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(adminURL + "/hashes")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/hashes: %s", adminURL, resp.Status)
	}
	var out struct{ Hashes []string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s/hashes: %w", adminURL, err)
	}
	set := make(map[string]bool, len(out.Hashes))
	for _, h := range out.Hashes {
		set[h] = true
	}
	return set, nil
}

// Verdict is the check of a burst against what the nodes hold afterwards.
type Verdict struct {
	// Lost are acknowledged hashes no node holds, sorted.
	Lost []string
	// ByVictim counts stores the victim acknowledged; VictimKept those of them in its own
	// database after its restart.
	ByVictim, VictimKept int
}

// Check compares the acknowledged stores with held, every node's hashes (by node index).
func Check(acked map[string]int, held []map[string]bool, victim int) Verdict {
	var v Verdict
	for h, to := range acked {
		found := false
		for _, hs := range held {
			found = found || hs[h]
		}
		if !found {
			v.Lost = append(v.Lost, h)
		}
		if to == victim {
			v.ByVictim++
			if held[victim][h] {
				v.VictimKept++
			}
		}
	}
	sort.Strings(v.Lost)
	return v
}
