# sessionsim: see README.md. Every target installs what it needs through go.mod.
GO        ?= go
PKGS      ?= ./...
BIN       := bin/sessionsim
VERSION   := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/sessionsim/sessionsim/internal/cli.Version=$(VERSION)
FUZZTIME  ?= 20s
BENCHTIME ?= 1s

.PHONY: all build run test test-structural test-live test-docker test-browser chromium bench bench-full fuzz lint clean scenarios scenarios-quick

all: build

# -buildvcs=auto stamps the commit (run.json's "commit") from a git clone even where GOFLAGS
# turns stamping off; Go finds no repository in a git worktree, whose .git is a file.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=auto -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sessionsim

# Runs the default scenario on the in-process simulator and writes runs/<name>/ with the report.
run: build
	./$(BIN) run

# The scenario library (every built-in `sessionsim scenarios` lists), each run with its checks:
# `scenarios` at full size (all but `full`, which takes hours here: `make bench-full`),
# `scenarios-quick` shortened with --quick and its quick checks. Every scenario runs; the target
# then fails with exit 3 if any check failed, and stops at once on a run error (1) or bad
# input (2). Results go to runs/<scenario>-seed<seed>-<time>/.
scenarios scenarios-quick: build
	@verdict=0; for s in $$(./$(BIN) scenarios | awk '{print $$1}'); do \
	  if [ $@ = scenarios ] && [ $$s = full ]; then echo "== full: left out at full size (hours on this machine; see make bench-full)"; continue; fi; \
	  echo "== $$s"; ./$(BIN) run $$s $(if $(filter scenarios-quick,$@),--quick) --progress none; rc=$$?; \
	  case $$rc in 0) ;; 3) verdict=3 ;; *) exit $$rc ;; esac; \
	done; \
	if [ $$verdict -ne 0 ]; then echo "scenario checks failed (exit 3)"; fi; exit $$verdict

# Unit, property and end-to-end tests, fuzz seed corpora included; lint first. Both build
# without cgo, as the binary (make build) and make test-docker do: the project has no C, and a
# second set of every package compiled with cgo would only double a cold build cache's work.
test lint: export CGO_ENABLED = 0
test: lint
	$(GO) test -count=1 -timeout 20m $(PKGS)

# wire=structural against wire=bytes (modeled crypto) at full size, side by side: the default
# scenario whole, the large world's 2,000 nodes under churn, crashes, partitions and degrades (1,000
# clients, 3 virtual minutes of sending), and the leakage scenario's 2,000 nodes and adversaries
# (400 clients, 3 minutes); each pair of summaries must be byte-identical apart from the wire
# field. `make test` runs the same comparison shortened.
test-structural:
	SESSIONSIM_TEST_STRUCTURAL=full $(GO) test -count=1 -run TestStructuralSameSummary -timeout 240m -v ./scenarios

# The live driver under the race detector, four small worlds run live under it (real sockets,
# real time, about three minutes: nodes joining and crashing on paths; a node hung and one
# crashed and restarted; group chats whose
# admins add and remove members, push wake-ups and attachments; a leakage section with sybil
# nodes joining and the link taps), the same world of 20 nodes
# and 50 clients in sim and live mode compared over 5 minutes and a world of 20 nodes and 40
# clients whose leakage figures are checked over 70 s (both without the race detector, which would slow the live side down), and the
# crash test of sessionsim node processes five times over.
test-live:
	$(GO) test -count=1 -race -timeout 20m ./live/...
	SESSIONSIM_TEST_LIVE=1 $(GO) test -count=1 -race -run TestLiveMode -timeout 20m ./scenarios
	SESSIONSIM_TEST_LIVE=1 $(GO) test -count=1 -run TestSimAndLiveAgree -v -timeout 20m ./scenarios
	SESSIONSIM_TEST_LIVE=1 $(GO) test -count=1 -run TestLiveLeakageFigures -v -timeout 20m ./scenarios
	$(GO) test -count=5 -run TestCrashSafety -timeout 20m ./live/proc

# Docker mode's tests: in live/docker, the registry and 12 nodes in containers built FROM
# scratch around the static binary, a store burst with one container killed and restarted, a
# pause and the fault switch; in scenarios, small worlds in containers (a crash and a partition;
# a hang and a crash restart; the push, file and community servers; nodes joining; a leakage
# section with sybil nodes and the link taps, checked against the clients' records). Each checks
# that no container, network, image or packet-filter rule of its run is left. CGO_ENABLED=0
# builds the test and the binary it puts in the image from the same cache (make test's). The
# two packages run at once, their six worlds (the crash test's and scenarios' five) in two
# lanes that both test processes share (testkit.DockerLanes, file locks), so that at most two
# worlds of about 12 containers share the machine; -parallel lets every test wait on its lane
# at once.
test-docker:
	CGO_ENABLED=0 SESSIONSIM_TEST_DOCKER=1 $(GO) test -count=1 -p 2 -parallel 8 -run TestDocker -timeout 30m -v ./live/docker ./scenarios

# The HTML report opened in a real browser (headless Chromium). `make chromium` installs
# Debian's chromium when it is missing; .ci/run does that, so CI runs the browser test too.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

test-browser: chromium
	REQUIRE_BROWSER=1 $(GO) test -count=1 -run Browser -v ./reports

# Benchmarks report custom metrics (events/s, msgs/s, virtual-s/wall-s, bytes/client, ...).
# Whole-scenario benchmarks run once each; SQLite batches a fixed count so the file stays small.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) $$($(GO) list $(PKGS) | grep -v -e /scenarios$$ -e /node/store/sqlite$$)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 60x ./node/store/sqlite
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 30m ./scenarios

# The full scenario (2,000 nodes, 100,000 clients, one virtual hour) as a benchmark:
# FULL_SHARE is the share of its clients, FULL_DURATION a shorter virtual duration (empty: 1h).
FULL_SHARE ?= 1
FULL_DURATION ?=
bench-full:
	SESSIONSIM_BENCH_FULL=$(FULL_SHARE) SESSIONSIM_BENCH_FULL_DURATION=$(FULL_DURATION) $(GO) test -run '^$$' -bench FullScenario -benchtime 1x -timeout 600m ./scenarios

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 1s $$pkg; \
	  done; \
	done

lint:
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

clean:
	rm -rf bin
