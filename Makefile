# Makefile: Parley's entry points: install deps, build, run, test (lint + Go tests + Xvfb smoke), bench,
# demo, package and clean. `make help` lists the targets. Every recipe runs as one bash script.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.NOTPARALLEL:
.DEFAULT_GOAL := build

# Go may sit in /usr/local/go/bin without being on PATH; pinned tools (staticcheck, fyne) are in .tools/bin.
export PATH := $(CURDIR)/.tools/bin:$(PATH):/usr/local/go/bin
# Tests read CI (e.g. to be stricter about skips); pass it through to every recipe.
export CI

GO      ?= go
GOFMT   ?= gofmt
# FyneApp.toml says [Migrations] fyneDo = true, but a plain `go build` binary in bin/ cannot find that
# file; the tag tells Fyne the same thing at compile time (the fyne tool adds it by itself).
TAGS    ?= migrated_fynedo
TIMEOUT ?= 20m
# Packages built/tested at once. The reference machine has 2 cores; more only adds memory pressure.
P       ?= 2
BIN     := bin/parley
TESTLOG := bin/go-test.log
# Override to test a subset, e.g. `make test-race RACE_PKGS=./xmppclient/...`. Empty: computed.
RACE_PKGS ?=
UI_PKGS   ?=
ARGS      ?=

GOTEST := $(GO) test -count=1 -timeout $(TIMEOUT) -p $(P) -tags $(TAGS)

.PHONY: help deps build run demo test test-race test-ui test-clock-ahead smoke bench package clean distclean fmt fmt-check \
        vet staticcheck lint icon

help:
	@cat <<'EOF'
	make deps        install Debian packages and pinned Go tools (scripts/deps.sh; idempotent)
	make build       build bin/parley
	make run         build and run it (ARGS="--profile DIR" to pass flags)
	make demo        deps + build, then scripts/demo.sh
	make test        deps, gofmt check, go vet, staticcheck, race tests, UI tests, Xvfb smoke test,
	                 and a packaging check (make package leaves tracked files alone)
	make test-clock-ahead  the race and UI tests with the app's clock a year ahead (tag clockahead)
	make test-race   go test -race on every package except views/ and the root (RACE_PKGS= to override)
	make test-ui     go test on views/ and the root package (UI_PKGS= to override)
	make smoke       scripts/smoke-xvfb.sh: start the app under Xvfb and screenshot it
	make bench       scripts/bench.sh (figures go to docs/benchmarks.md)
	make lint        gofmt check, go vet, staticcheck
	make fmt         gofmt -w the Go sources
	make package     bin/Parley.tar.xz (fyne package) and bin/parley_VERSION_ARCH.deb (scripts/package.sh)
	make icon        regenerate assets/icon.png
	make clean       remove build outputs; distclean also removes .tools/
	EOF

deps:
	@bash scripts/deps.sh

build:
	@TAGS=$(TAGS) bash scripts/gobuild.sh $(BIN)

run: build
	@./$(BIN) $(ARGS)

demo: deps build
	@bash scripts/demo.sh

bench: deps
	@bash scripts/bench.sh

package: deps
	@bash scripts/package.sh

icon:
	$(GO) run ./scripts/mkicon -o assets/icon.png

clean:
	@rm -rf bin/ Parley.tar.xz fyne-cross/

distclean: clean
	@rm -rf .tools/

# go_files: the module's Go sources, minus testdata (go tooling ignores it) and ignored folders.
define go_files
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -co --exclude-standard -- '*.go'
	else
		find . -name '*.go' -not -path './.*' -not -path './bin/*'
	fi | grep -v '/testdata/' | while read -r f; do [ -f "$$f" ] && echo "$$f"; done || true
endef

fmt:
	@files=$$($(go_files))
	[ -z "$$files" ] || $(GOFMT) -w $$files

fmt-check:
	@files=$$($(go_files))
	bad=$$([ -z "$$files" ] || $(GOFMT) -l $$files)
	if [ -n "$$bad" ]; then
		echo "gofmt: these files need formatting (run 'make fmt'):"
		echo "$$bad" | sed 's/^/  /'
		exit 1
	fi
	echo "gofmt: ok"

vet:
	@echo "go vet ./... (the first run compiles Fyne, SQLite and the rest: a few minutes)"
	$(GO) vet -tags $(TAGS) ./...
	echo "go vet: ok"

staticcheck:
	@command -v staticcheck >/dev/null || { echo "staticcheck missing: run 'make deps'"; exit 1; }
	staticcheck -tags $(TAGS) ./...
	echo "staticcheck: ok"

lint: deps
	@rc=0
	$(MAKE) --no-print-directory fmt-check || rc=1
	$(MAKE) --no-print-directory vet || rc=1
	$(MAKE) --no-print-directory staticcheck || rc=1
	exit $$rc

# pkg_lists sets $$race and $$ui: UI packages are the root (main) package and everything under views/;
# all other packages of the module get the race detector.
define pkg_lists
	mod=$$($(GO) list -m)
	all=$$($(GO) list -e -tags $(TAGS) ./...)
	uire="^$$mod\$$|^$$mod/views(/|\$$)"
	race="$(strip $(RACE_PKGS))"; [ -n "$$race" ] || race=$$(grep -Ev "$$uire" <<<"$$all" || true)
	ui="$(strip $(UI_PKGS))"; [ -n "$$ui" ] || ui=$$(grep -E "$$uire" <<<"$$all" || true)
endef

test-race:
	@$(pkg_lists)
	mkdir -p bin
	if [ -z "$$race" ]; then echo "test-race: no packages"; exit 0; fi
	echo "==> go test -race" $$race
	$(GOTEST) -race $$race 2>&1 | tee -a $(TESTLOG)

# test-clock-ahead runs the race and UI tests with Parley's clock (app/clock) moved ahead by
# PARLEY_CLOCK_OFFSET (default a year): what still depends on the day it runs fails here.
test-clock-ahead:
	@rc=0
	$(MAKE) --no-print-directory test-race TAGS="$(TAGS),clockahead" || rc=1
	$(MAKE) --no-print-directory test-ui TAGS="$(TAGS),clockahead" || rc=1
	exit $$rc

test-ui:
	@$(pkg_lists)
	mkdir -p bin
	if [ -z "$$ui" ]; then echo "test-ui: no packages"; exit 0; fi
	echo "==> go test" $$ui
	$(GOTEST) $$ui 2>&1 | tee -a $(TESTLOG)

smoke:
	@bash scripts/smoke-xvfb.sh

# test runs every step even after a failure (one CI run shows all problems), then prints a summary.
test: deps
	@start=$$(date +%s); summary=""; failed=0
	mkdir -p bin; : > $(TESTLOG)
	step() {
		local name=$$1; shift
		echo; echo "=== $$name"
		if "$$@"; then summary="$$summary $$name=ok"; else summary="$$summary $$name=FAIL"; failed=1; fi
	}
	step gofmt $(MAKE) --no-print-directory fmt-check
	step vet $(MAKE) --no-print-directory vet
	step staticcheck $(MAKE) --no-print-directory staticcheck
	step race $(MAKE) --no-print-directory test-race
	step ui $(MAKE) --no-print-directory test-ui
	step smoke $(MAKE) --no-print-directory smoke
	step package bash scripts/test-package.sh
	passed=$$(grep -E '^ok[[:space:]]' $(TESTLOG) | grep -vc 'no tests to run' || true)
	pkgfail=$$(grep -cE '^FAIL[[:space:]]+[^[:space:]]' $(TESTLOG) || true)
	verdict=PASS; [ $$failed = 0 ] || verdict=FAIL
	echo
	echo "make test: $$verdict in $$(( $$(date +%s) - start ))s:$$summary"
	echo "packages: $$passed passed, $$pkgfail failed"
	exit $$failed
