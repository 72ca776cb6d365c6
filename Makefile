# spira-pipe: the two commands of the quick start are `make demo` and `make test`.
CARGO   ?= cargo
CORPUS  ?= ../shared/corpus
BENCH   ?= ../shared/bench
BIN     := target/release

.PHONY: all build test corpus demo bench clean

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

## Speed and memory against the peers in $(BENCH) (see README, "Benchmarks").
bench: build
	@python3 scripts/bench.py $(BIN) $(BENCH)

clean:
	$(CARGO) clean
