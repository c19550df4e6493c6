# Ferry — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
GO ?= go
GOBIN := $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)
export GOFLAGS := -buildvcs=false


.PHONY: all build test unit e2e bench chaos demo lint tools clean fuzz screenshots

all: build

build:
	$(GO) build -o bin/ferry ./cmd/ferry
	$(GO) build -o bin/us3emu ./test/us3emu/cmd/us3emu

# MINIO_VERSION pins the MinIO server the tests build (go install of a fixed
# module version; an unpinned @latest re-resolves and rebuilds).
MINIO_VERSION ?= v0.0.0-20260212201848-7aac2a2c5b7c

# AZURITE_VERSION pins the Azurite blob emulator the Azure driver's tests run
# (npm; its Node.js 20 is enough).
AZURITE_VERSION ?= 3.35.0

# tools installs what the tests need when it is missing: a MinIO server
# (built with go install), Azurite (npm), fuse3 (fusermount3, for non-root
# mounts) and Chromium (the web console's browser tests, driven with chromedp).
tools:
	@command -v minio >/dev/null || { echo "installing minio $(MINIO_VERSION) (go install)"; $(GO) install github.com/minio/minio@$(MINIO_VERSION); }
	@command -v azurite-blob >/dev/null || { echo "installing azurite $(AZURITE_VERSION) (npm)"; npm install -g azurite@$(AZURITE_VERSION); }
	@if ! command -v fusermount3 >/dev/null; then \
	  echo "installing fuse3"; (apt-get update -qq && apt-get install -y -qq fuse3 >/dev/null) || echo "warning: could not install fuse3"; fi
	@if ! command -v chromium >/dev/null; then \
	  echo "installing chromium"; apt-get update -qq && apt-get install -y -qq chromium >/dev/null; fi
	@# Debian's default mode, which lets the non-root mount test use fusermount3.
	@if [ "$$(id -u)" = 0 ] && [ -c /dev/fuse ] && [ "$$(stat -c %a /dev/fuse)" != 666 ]; then chmod 666 /dev/fuse; fi

# test runs every test: unit and driver suites under the race detector
# (against real MinIO, the US3 emulator, SQLite files and kernel FUSE), then
# the end-to-end tests that drive the built binaries.
test: tools build lint
	$(GO) test -race -count=1 -timeout 30m $$($(GO) list ./... | grep -v -e /test/e2e -e /test/bench -e /fetchbench)
	FERRY_BIN=$(CURDIR)/bin/ferry US3EMU_BIN=$(CURDIR)/bin/us3emu $(GO) test -count=1 -timeout 40m ./test/e2e/...
	cd deploy && FERRY_BIN=$(CURDIR)/bin/ferry $(GO) test -count=1 -timeout 20m ./...

# RCLONE_VERSION and TOXIPROXY_VERSION pin what the benchmark installs
# (go install): rclone, the tool Ferry is compared with, and Toxiproxy,
# the proxy that gives the network rows their latency and bandwidth cap.
# BENCH_FLAGS is passed to test/bench, e.g. BENCH_FLAGS='-profiles loopback,20ms'.
RCLONE_VERSION ?= v1.76.0
TOXIPROXY_VERSION ?= v2.5.0
BENCH_FLAGS ?=

bench: tools build
	@command -v rclone >/dev/null || { echo "installing rclone $(RCLONE_VERSION) (go install)"; $(GO) install github.com/rclone/rclone@$(RCLONE_VERSION); }
	@test -x bin/toxiproxy/server || { echo "installing toxiproxy $(TOXIPROXY_VERSION) (go install)"; GOBIN=$(CURDIR)/bin/toxiproxy $(GO) install github.com/Shopify/toxiproxy/v2/cmd/server@$(TOXIPROXY_VERSION) github.com/Shopify/toxiproxy/v2/cmd/cli@$(TOXIPROXY_VERSION); }
	$(GO) run ./test/bench -ferry $(CURDIR)/bin/ferry -us3emu $(CURDIR)/bin/us3emu -toxiproxy $(CURDIR)/bin/toxiproxy/server $(BENCH_FLAGS)
	$(GO) run ./agent/fetch/fetchbench -ferry $(CURDIR)/bin/ferry -us3emu $(CURDIR)/bin/us3emu
	$(GO) test -run '^$$' -bench . -benchtime 3x ./agent/ ./catalog/ ./web/

# chaos drives bin/ferry through faults (a fault proxy in front of MinIO,
# kill -9 of ferry, of the servers, of the master and agents, sources
# rewritten mid-copy), checks every object byte for byte and prints a table.
chaos: tools build
	$(GO) run ./test/chaos -ferry $(CURDIR)/bin/ferry -us3emu $(CURDIR)/bin/us3emu

# screenshots writes a PNG of every page of the web console, taken in
# headless Chromium on a demo dataset, into docs/img.
screenshots: tools build
	$(GO) run ./test/screenshots -ferry $(CURDIR)/bin/ferry -out $(CURDIR)/docs/img

demo: build
	@bash test/demo.sh

# fuzz runs every fuzz target of the project (each func FuzzXxx in a
# _test.go file) for FUZZTIME each, one after the other, and stops at the
# first failure; go test saves the failing input under the package's
# testdata/fuzz, where plain go test replays it.
FUZZTIME ?= 60s
fuzz:
	@set -e; for dir in $$(grep -rlE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | xargs -n1 dirname | sort -u); do \
	  fns=$$($(GO) test -list '^Fuzz' $$dir | grep '^Fuzz'); \
	  for fn in $$fns; do \
	    echo "== $$dir $$fn ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$dir; \
	  done; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin
