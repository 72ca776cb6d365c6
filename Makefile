# spira-pipe: the two commands of the quick start are `make demo` and `make test`.
CARGO   ?= cargo
CORPUS  ?= ../shared/corpus
BENCH   ?= ../shared/bench
BIN     := target/release

.PHONY: all build test corpus demo bench man fuzz clean

all: build

build:
	$(CARGO) build --release --locked

## Every check CI runs: format, lints, unit and integration tests, and the corpus checks
## (they run inside `cargo test` and are skipped, with a note, when $(CORPUS) is absent).
test:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --locked -- -D warnings
	SPIRA_CORPUS=$(abspath $(CORPUS)) $(CARGO) test --locked
	@if [ -d "$(CORPUS)" ]; then echo "corpus checks ran against $(CORPUS)"; \
	 else echo "corpus checks skipped: $(CORPUS) not found"; fi

## Only the corpus checks; fails when the corpus is absent.
corpus:
	@test -d "$(CORPUS)" || { echo "no corpus at $(CORPUS)"; exit 2; }
	SPIRA_CORPUS=$(abspath $(CORPUS)) $(CARGO) test --locked --test spira corpus -- --nocapture

## The pipeline on the bundled sample reports.
demo: build
	@sh scripts/demo.sh $(BIN)

## Man pages (target/man/*.1) and shell completions (target/completions/), from the clap
## definitions: `man target/man/spira-post.1`; source a completion file from your shell's rc.
TOOLS := spira-parse spira-map spira-validate spira-batch spira-post spira-inspect spira-ids spira-mock
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

## Speed and memory against the peers in $(BENCH) (see README, "Benchmarks").
bench: build
	@python3 scripts/bench.py $(BIN) $(BENCH)

clean:
	$(CARGO) clean
