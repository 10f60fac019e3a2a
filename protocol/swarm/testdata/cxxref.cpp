// Reference for the golden files in this directory: the swarm assignment rules of oxen-core
// (service_node_swarm.cpp, as described in the package documentation) written out a second time
// in C++ so that the real std::mt19937_64, std::sort (unstable; the order of equal-sized swarms
// matters) and std::map ordering decide the result, as they do on the real network.
//
// Regenerate (GCC/libstdc++, as the network's Linux builds):
//   g++ -O2 -std=c++17 -o /tmp/cxxref testdata/cxxref.cpp
//   /tmp/cxxref sort   > testdata/cxx_sort.golden
//   /tmp/cxxref mt     > testdata/cxx_mt.golden
//   /tmp/cxxref assign > testdata/cxx_assign.golden
//   /tmp/cxxref seedseq > testdata/cxx_seedseq.golden
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

using u64 = uint64_t;
using Key = std::array<uint8_t, 32>;
using Swarms = std::map<u64, std::vector<Key>>;

static const u64 kUnassigned = UINT64_MAX;
static const u64 kMaxID = UINT64_MAX - 1;
static const size_t kMin = 5, kMargin = 2, kNew = 7, kExcessBase = 5;

struct SplitMix {
    u64 s;
    u64 next() {
        u64 z = (s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
};

struct Fnv {
    u64 h = 1469598103934665603ULL;
    void byte(uint8_t b) { h = (h ^ b) * 1099511628211ULL; }
    void u(u64 v) { for (int i = 0; i < 8; i++) byte(uint8_t(v >> (8 * i))); }
};

static u64 uniform(std::mt19937_64& g, u64 n) {
    const u64 secure = g.max() - g.max() % n;
    u64 x;
    do x = g(); while (x >= secure);
    return x / (secure / n);
}

struct Size { u64 id; size_t size; };

static std::vector<Size> sorted_sizes(const Swarms& s) {
    std::vector<Size> v;
    for (auto& [id, nodes] : s) v.push_back({id, nodes.size()});
    std::sort(v.begin(), v.end(), [](const Size& a, const Size& b) { return a.size < b.size; });
    return v;
}

static u64 new_id(const Swarms& s) {
    if (s.empty()) return 0;
    std::vector<u64> ids;
    for (auto& e : s) ids.push_back(e.first);
    u64 best_dist = 0; size_t best = 0;
    for (size_t i = 0; i + 1 < ids.size(); i++)
        if (ids[i + 1] - ids[i] > best_dist) { best_dist = ids[i + 1] - ids[i]; best = i; }
    u64 wrap = kMaxID - ids.back() + ids.front() + 1;
    if (wrap > best_dist) { best_dist = wrap; best = ids.size() - 1; }
    u64 half = best_dist / 2, room = kMaxID - ids[best];
    return half > room ? half - room - 1 : ids[best] + half;
}

struct PoolEntry { Key k; u64 swarm; };

static size_t pool_of(const Swarms& s, size_t above, std::vector<PoolEntry>& pool) {
    pool.clear();
    size_t excess = 0;
    if (above < kMin) return 0;
    for (auto& [id, nodes] : s)
        if (nodes.size() > above) {
            excess += nodes.size() - kMin;
            for (auto& k : nodes) pool.push_back({k, id});
        }
    return excess;
}

static Key take(Swarms& s, const std::vector<PoolEntry>& pool, std::mt19937_64& g) {
    const PoolEntry e = pool.at(uniform(g, pool.size()));
    auto& v = s.at(e.swarm);
    v.erase(std::remove(v.begin(), v.end(), e.k), v.end());
    return e.k;
}

static void grow(Swarms& s, std::mt19937_64& g) {
    for (auto& e : s) if (e.second.size() < kMin) return;
    auto excess = [&] {
        size_t t = 0;
        for (auto& e : s) if (e.second.size() > kExcessBase) t += e.second.size() - kExcessBase;
        return t;
    };
    std::vector<PoolEntry> pool;
    while (excess() >= kNew + s.size() * kMargin) {
        std::vector<Key> members;
        while (members.size() < kNew) {
            pool_of(s, kExcessBase, pool);
            if (pool.empty()) { std::fprintf(stderr, "empty pool\n"); return; }
            members.push_back(take(s, pool, g));
        }
        u64 id = new_id(s);
        if (!s.emplace(id, std::move(members)).second) std::fprintf(stderr, "duplicate id\n");
    }
}

static void place(const std::vector<Key>& keys, Swarms& s, std::mt19937_64& g, size_t pct) {
    for (auto& k : keys) {
        auto sorted = sorted_sizes(s);
        size_t pi = pct * (sorted.size() - 1) / 100, pv = sorted.at(pi).size;
        size_t upper = sorted.size() - 1;
        for (size_t i = pi; i < sorted.size(); i++)
            if (sorted[i].size > pv) { upper = i - 1; break; }
        s.at(sorted[uniform(g, upper + 1)].id).push_back(k);
        grow(s, g);
    }
}

static void robin_hood(Swarms& s, std::mt19937_64& g) {
    const auto sorted = sorted_sizes(s);  // one snapshot for the whole round
    std::vector<PoolEntry> pool;
    for (auto& sw : sorted) {
        if (sw.size >= kMin) break;
        auto& poor = s.at(sw.id);
        do {
            size_t pv = sorted.at(75 * (sorted.size() - 1) / 100).size - 1;
            pv = std::max(kMin, pv);
            size_t excess = pool_of(s, pv, pool);
            if (excess < kMin - poor.size()) return;
            poor.push_back(take(s, pool, g));
        } while (poor.size() < kMin);
    }
}

static void calc(Swarms& s, u64 seed) {
    if (s.empty()) return;
    std::mt19937_64 g(seed);
    std::vector<Key> fresh;
    if (auto it = s.find(kUnassigned); it != s.end()) { fresh = it->second; s.erase(it); }
    if (s.empty()) s.insert({new_id(s), {}});
    place(fresh, s, g, 25);
    robin_hood(s, g);
    grow(s, g);
    if (s.size() > 1) {
        while (s.size() > 1) {  // the Go port keeps the last swarm; see assign.go
            auto it = std::find_if(s.begin(), s.end(), [](auto& e) { return e.second.size() < kMin; });
            if (it == s.end()) break;
            std::vector<Key> orphans;
            std::swap(orphans, it->second);
            s.erase(it);
            place(orphans, s, g, 0);
        }
    }
}

// ---- drivers ----

static void run_sort() {
    SplitMix r{1};
    for (int trial = 0; trial < 400; trial++) {
        size_t n = 1 + r.next() % 400;
        size_t k = 1 + r.next() % 13;
        std::vector<Size> v(n), h;
        for (size_t i = 0; i < n; i++) v[i] = {i, size_t(r.next() % k)};
        h = v;
        auto less = [](const Size& a, const Size& b) { return a.size < b.size; };
        std::sort(v.begin(), v.end(), less);
        std::partial_sort(h.begin(), h.end(), h.end(), less);  // the heapsort fallback alone
        Fnv fs, fh;
        for (auto& e : v) fs.u(e.id);
        for (auto& e : h) fh.u(e.id);
        std::printf("%d %zu %zu %016llx %016llx\n", trial, n, k, (unsigned long long)fs.h,
                    (unsigned long long)fh.h);
    }
}

static void run_mt() {
    std::mt19937_64 d;
    for (int i = 1; i <= 10000; i++) {
        u64 x = d();
        if (i <= 3 || i == 10000) std::printf("default %d %llu\n", i, (unsigned long long)x);
    }
    const u64 seeds[] = {0, 1, 0xdeadbeefcafebabeULL, UINT64_MAX};
    const u64 ns[] = {1, 2, 3, 7, 1000, (1ULL << 63) + 1, UINT64_MAX};
    for (u64 seed : seeds) {
        std::mt19937_64 g(seed);
        for (u64 n : ns)
            for (int j = 0; j < 3; j++)
                std::printf("uniform %llu %llu %llu\n", (unsigned long long)seed,
                            (unsigned long long)n, (unsigned long long)uniform(g, n));
    }
}

// Seeding from a std::seed_seq, as oxen-core seeds its quorum draws since HF16, and its portable
// shuffle (tools::shuffle_portable in common/random.h): for word lists of several lengths, the
// first outputs, then the FNV hash of 0..n-1 shuffled by a generator seeded the same way.
static void run_seedseq() {
    const size_t lens[] = {0, 1, 2, 9, 40, 700};
    const size_t ns[] = {1, 2, 3, 10, 500};
    for (size_t c = 0; c < sizeof lens / sizeof lens[0]; c++) {
        SplitMix r{100 + c};
        std::vector<uint32_t> words(lens[c]);
        for (auto& w : words) w = uint32_t(r.next());
        std::seed_seq seq(words.begin(), words.end());
        std::mt19937_64 g(seq);
        u64 a = g(), b = g(), d = g();
        std::printf("seedseq %zu %zu %llu %llu %llu\n", c, lens[c], (unsigned long long)a,
                    (unsigned long long)b, (unsigned long long)d);
        for (size_t n : ns) {
            std::seed_seq seq2(words.begin(), words.end());
            std::mt19937_64 h(seq2);
            std::vector<u64> v(n);
            for (size_t i = 0; i < n; i++) v[i] = i;
            for (size_t i = 1; i < n; i++) std::swap(v[i], v[uniform(h, i + 1)]);
            Fnv f;
            for (u64 x : v) f.u(x);
            std::printf("shuffle %zu %zu %016llx\n", c, n, (unsigned long long)f.h);
        }
    }
}

struct Scenario {
    const char* name;
    u64 seed;
    int blocks;
    int max_join, max_leave, max_decomm, max_recomm;  // per block, drawn uniformly in [0, max]
    size_t cap;  // no joins above this many active nodes
};

static Key new_key(SplitMix& r) {
    Key k;
    for (int w = 0; w < 4; w++) {
        u64 v = r.next();
        for (int b = 0; b < 8; b++) k[8 * w + b] = uint8_t(v >> (8 * b));
    }
    return k;
}

static void run_assign() {
    const Scenario scs[] = {
        {"one-per-block", 11, 150, 1, 0, 0, 0, 1000000},
        {"five-per-block", 12, 420, 5, 0, 0, 0, 2100},
        {"churn", 13, 500, 6, 2, 2, 2, 400},
        {"small", 14, 400, 2, 2, 1, 1, 16},
    };
    for (auto& sc : scs) {
        SplitMix r{sc.seed};
        std::map<Key, u64> active;
        std::vector<Key> decomm;
        for (int b = 0; b < sc.blocks; b++) {
            bool changed = false;
            int joins = int(r.next() % (sc.max_join + 1));
            for (int i = 0; i < joins && active.size() < sc.cap; i++) {
                active[new_key(r)] = kUnassigned;
                changed = true;
            }
            int leaves = int(r.next() % (sc.max_leave + 1));
            for (int i = 0; i < leaves && !active.empty(); i++) {
                auto it = std::next(active.begin(), r.next() % active.size());
                active.erase(it);
                changed = true;
            }
            int decs = int(r.next() % (sc.max_decomm + 1));
            for (int i = 0; i < decs && !active.empty(); i++) {
                auto it = std::next(active.begin(), r.next() % active.size());
                decomm.push_back(it->first);
                active.erase(it);
                changed = true;
            }
            int recs = int(r.next() % (sc.max_recomm + 1));
            for (int i = 0; i < recs && !decomm.empty(); i++) {
                size_t j = r.next() % decomm.size();
                active[decomm[j]] = kUnassigned;
                decomm.erase(decomm.begin() + j);
                changed = true;
            }
            u64 seed = r.next();
            if (changed) {
                Swarms s;
                for (auto& [k, id] : active) s[id].push_back(k);
                calc(s, seed);
                for (auto& [id, nodes] : s)
                    for (auto& k : nodes) active[k] = id;
            }
            Fnv f;
            std::map<u64, int> count;
            for (auto& [k, id] : active) {
                for (uint8_t c : k) f.byte(c);
                f.u(id);
                count[id]++;
            }
            std::printf("%s %d %zu %zu %016llx\n", sc.name, b, active.size(), count.size(),
                        (unsigned long long)f.h);
        }
    }
}

int main(int argc, char** argv) {
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "sort") run_sort();
    else if (mode == "mt") run_mt();
    else if (mode == "assign") run_assign();
    else if (mode == "seedseq") run_seedseq();
    else { std::fprintf(stderr, "usage: cxxref sort|mt|assign|seedseq\n"); return 2; }
    return 0;
}
