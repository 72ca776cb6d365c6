# spira-pipe: the two commands of the quick start are `make demo` and `make test`.
CARGO   ?= cargo
CORPUS  ?= ../shared/corpus
BENCH   ?= ../shared/bench
BIN     := target/release

.PHONY: all build test corpus demo bench man fuzz dist dist-check clean

all: build

build:
	$(CARGO) build --release --locked

## Every check CI runs: format, lints, the everyday tests, then the tests a plain `cargo test`
## leaves out (marked #[ignore]): the slow ones, those that need jq, script or PyPI (check-jsonschema
## for the CI recipes; Inflectra's
## Python clients), and the corpus checks when
## $(CORPUS) is there. What cannot run is named, never passed over in silence.
test:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
	$(CARGO) test --locked
	$(CARGO) test --locked --test spira -- --ignored --skip corpus:: --skip with_jq --skip with_script --skip with_python_clients --skip with_check_jsonschema
	@if python3 -m pip download --no-deps -q -d target/pypi-probe pytest-spiratest==2.1.1 >/dev/null 2>&1; then \
	  $(CARGO) test --locked --test spira with_python_clients -- --ignored; \
	 else echo "make test: PyPI cannot be reached: Inflectra's pytest and Robot clients were NOT run against spira-mock"; fi
	@if command -v jq >/dev/null 2>&1; then \
	  $(CARGO) test --locked --test spira with_jq -- --ignored; \
	 else echo "make test: jq not found: the recipes that use jq were NOT run"; fi
	@[ -x target/dist-venv/bin/check-jsonschema ] || { [ -x target/dist-venv/bin/pip ] || python3 -m venv target/dist-venv; target/dist-venv/bin/pip install -q check-jsonschema; } >/dev/null 2>&1 || true
	@if [ -x target/dist-venv/bin/check-jsonschema ] && command -v jq >/dev/null 2>&1; then \
	  $(CARGO) test --locked --test spira with_check_jsonschema -- --ignored; \
	 else echo "make test: check-jsonschema (PyPI) or jq missing: the CI recipes of docs/recipes.md were NOT checked against their schemas nor run"; fi
	@if command -v script >/dev/null 2>&1; then \
	  $(CARGO) test --locked --test spira with_script -- --ignored; \
	 else echo "make test: script (util-linux) not found: the progress-line test was NOT run"; fi
	@if [ -d "$(CORPUS)" ]; then \
	  SPIRA_CORPUS=$(abspath $(CORPUS)) $(CARGO) test --locked --test spira corpus:: -- --ignored; \
	 else echo "make test: $(CORPUS) not found: the corpus checks were NOT run"; fi

## Only the corpus checks; fails when the corpus is absent.
corpus:
	@test -d "$(CORPUS)" || { echo "no corpus at $(CORPUS)"; exit 2; }
	SPIRA_CORPUS=$(abspath $(CORPUS)) $(CARGO) test --locked --test spira corpus:: -- --ignored --nocapture

## The pipeline on the bundled sample reports.
demo: build
	@sh scripts/demo.sh $(BIN)

## Man pages (target/man/*.1) and shell completions (target/completions/), from the clap
## definitions: `man target/man/spira-post.1`; source a completion file from your shell's rc.
TOOLS := spira-parse spira-map spira-validate spira-batch spira-post spira-inspect spira-ids spira-cases spira-mock
man: build
	@mkdir -p target/man target/completions/bash target/completions/zsh target/completions/fish
	@for t in $(TOOLS); do \
	  $(BIN)/$$t --generate man > target/man/$$t.1 && \
	  $(BIN)/$$t --generate bash > target/completions/bash/$$t && \
	  $(BIN)/$$t --generate zsh > target/completions/zsh/_$$t && \
	  $(BIN)/$$t --generate fish > target/completions/fish/$$t.fish || exit 1; \
	done
	@echo "man pages in target/man, completions in target/completions"

## Fuzz every target for FUZZ_SECONDS each (nightly and cargo-fuzz needed; CI does not run it).
fuzz: build
	@sh scripts/fuzz.sh

## Speed and memory against the peers in $(BENCH) (BENCHMARKS.md).
bench: build
	@python3 scripts/bench.py $(BIN) $(BENCH)

## Release archives (static musl; DIST_TARGETS to pick) with their checksums, into dist/.
dist:
	@sh scripts/dist.sh

## Each artifact in dist/ installed into a clean place and proven; what was not checked is named.
dist-check:
	@sh scripts/dist-check.sh

clean:
	$(CARGO) clean
	rm -rf dist
