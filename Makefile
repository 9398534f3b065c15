# safetynet: `make demo` to see it, `make test` to check it, `make bench` to measure it.
GO      ?= go
BIN     := bin/safetynet
ADDR    ?= :8080

# Go 1.27.3, for the standard library's security fixes since 1.26.8 (make
# vulncheck finds them in 1.26.8): the go command fetches it from the Go
# module proxy the first time (76 MB, seconds), whatever Go the machine has.
export GOTOOLCHAIN := go1.27.3

.PHONY: all build install demo demo-reset test deps vet vulncheck fuzz bench bench-big clean echarts

all: build

build:
	$(GO) build -o $(BIN) ./cmd/safetynet

## install: the safetynet binary on your PATH, in $(go env GOPATH)/bin
install:
	$(GO) install ./cmd/safetynet
	@echo "installed $$($(GO) env GOPATH)/bin/safetynet"

## demo: build, generate a synthetic county, run every job once, serve http://localhost:8080
demo: build
	./$(BIN) demo --addr $(ADDR)

## demo-reset: the same with a freshly generated county
demo-reset: build
	./$(BIN) demo --addr $(ADDR) --reset

## deps: the system tools the tests use, from Debian: promtool (prometheus),
## headless chromium and a CJK font for the browser tests, and a PostgreSQL
## server the connector tests start on a loopback port, and an Alertmanager
## the notification test starts on another
DEBS := prometheus prometheus-alertmanager chromium fonts-wqy-zenhei postgresql systemd
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

vet:
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...

## vulncheck: govulncheck over every package against the Go vulnerability
## database as of VULNDB_VERSION: the golang.org/x/vulndb module, indexed
## here (the database's own site is out of the build machines' reach); bump
## the version for newer reports. Fails on a vulnerability the code reaches.
VULNDB_VERSION ?= v0.0.0-20261105234957-e22db6528018
VULN_VERSION   ?= v1.9.0
VULNDB_DIR     ?= $(or $(TMPDIR),/tmp)/safetynet-vulndb-$(VULNDB_VERSION)
vulncheck:
	@if [ ! -f $(VULNDB_DIR)/index/db.json ]; then \
	  echo "indexing the Go vulnerability database $(VULNDB_VERSION)"; \
	  src=$$(cd / && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'); \
	  $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns $$src/data/osv -out $(VULNDB_DIR); \
	fi
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(VULN_VERSION) -db file://$(VULNDB_DIR) ./...

## test: the whole suite on real parts (DuckDB file, XLSX, loopback HTTP, promtool, chromium);
## screenshots of the browser test land in artifacts/
test: deps vet vulncheck
	ARTIFACTS=$(CURDIR)/artifacts $(GO) test -count=1 ./...
	@$(GO) test -count=1 -run TestEndToEnd -v ./jobs | grep -E '^e2e |^(ok|FAIL|---)' 
	@$(MAKE) --no-print-directory fuzz

## fuzz: each fuzz target for FUZZTIME beyond its seed corpus (ingest/testdata/fuzz);
## a failure leaves the input there as a new seed. A count, not a duration:
## Go 1.26's fuzz coordinator can report a spurious "context deadline
## exceeded" when a duration runs out (golang/go#75804, fixed in Go 1.27).
FUZZTIME ?= 20000x
FUZZ_TARGETS := FuzzParseDate FuzzParseMoney FuzzCheckID FuzzHeader FuzzCSV FuzzJSONLine FuzzPage
fuzz:
	@for f in $(FUZZ_TARGETS); do 	  echo "fuzz $$f for $(FUZZTIME)"; 	  $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./ingest >/tmp/safetynet-fuzz.log 2>&1 || { cat /tmp/safetynet-fuzz.log; exit 1; }; 	done

## bench: throughput and peak memory per stage next to DuckDB's own CSV load,
## each connector, the match stage at province scale (3M persons, 1M records),
## the inbox page's latency with 1M alerts in the store, the rule pack over
## 10M department rows and 3M registry persons, and the analysts' side at that
## scale with 24 months of history (publish, cohort queries, Flight SQL), and
## the history benchmark: 24 monthly deliveries for 3M persons, one run each,
## and the load soak: 50 people (operators, grid workers, analysts) for 10 minutes on 1M alerts, a run a minute
bench: build
	./$(BIN) bench
	./$(BIN) bench --match
	./$(BIN) bench --inbox
	./$(BIN) bench --rules
	./$(BIN) bench --analytics --requests 5
	./$(BIN) bench --history
	./$(BIN) bench --soak
	$(GO) test -run '^$$' -bench Ingest -benchtime 3x ./ingest
	$(GO) test -run '^$$' -bench Parse ./ingest ./match

## bench-big: the same plus a 2 GiB CSV (about 3 minutes more), for peak memory
bench-big: build
	./$(BIN) bench --big-gib 2

## echarts: refresh the embedded Apache ECharts from the npm registry (the
## file is committed, so building needs no npm); its licence comes with it
ECHARTS_VERSION ?= 6.1.0
echarts:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null && tar xzf echarts-$(ECHARTS_VERSION).tgz && \
	cp package/dist/echarts.min.js package/LICENSE package/NOTICE package/licenses/* $(CURDIR)/web/static/echarts/ && \
	integrity=$$(npm view echarts@$(ECHARTS_VERSION) dist.integrity) && sum=$$(sha256sum package/dist/echarts.min.js | cut -d' ' -f1) && \
	printf 'echarts %s (Apache-2.0: LICENSE, NOTICE; d3 parts: LICENSE-d3), dist/echarts.min.js of the npm package\nnpm integrity %s\nsha256 %s  echarts.min.js\nrefresh: make echarts ECHARTS_VERSION=x.y.z\n' \
	  $(ECHARTS_VERSION) "$$integrity" "$$sum" > $(CURDIR)/web/static/echarts/VERSION && rm -rf $$tmp && echo "echarts $(ECHARTS_VERSION) embedded"

clean:
	rm -rf bin demo bench-data
