#!/bin/sh
# make fuzz: every fuzz target for FUZZ_SECONDS (default 60) each, seeded from fixtures/.
# Needs a nightly toolchain and cargo-fuzz (cargo install cargo-fuzz). Findings land in
# fuzz/artifacts/TARGET/; the time run per target is appended to fuzz/fuzz-time.log.
set -eu
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"parse_junit parse_threads parse_order parse_nunit3 parse_nunit2 parse_xunit2 parse_xunit1 parse_trx parse_testng parse_csv parse_go parse_jest parse_mocha parse_dart parse_rspec parse_playwright parse_ctrf parse_cucumber parse_tap parse_robot parse_allure lines_map lines_validate lines_batch lines_post mapfile_csv mapfile_json mapfile_cfg json_text date date_fields"}
cd "$(dirname "$0")/.."
seed() {
  case "$1" in
    parse_junit|parse_threads|parse_order) echo fixtures/junit ;;
    parse_nunit3) echo fixtures/nunit3 ;;
    parse_nunit2) echo fixtures/nunit2 ;;
    parse_xunit2|parse_xunit1) echo fixtures/xunit ;;
    parse_trx) echo fixtures/trx ;;
    parse_testng) echo fixtures/testng ;;
    parse_csv) echo fixtures/csv ;;
    parse_tap) echo fixtures/tap ;;
    parse_robot) echo fixtures/robot ;;
    parse_allure) echo fixtures/allure/results ;;
    parse_go|parse_jest|parse_mocha|parse_dart|parse_rspec|parse_playwright|parse_ctrf|parse_cucumber) echo fixtures/json ;;
    lines_*) echo fuzz/seeds/lines ;;
    mapfile_*) echo fixtures/map ;;
    json_text) echo fuzz/seeds/lines ;;
    date|date_fields) echo fuzz/seeds/dates ;;
  esac
}
# Seeds for the line readers: result lines, the runs spira-map makes of them, their batches.
mkdir -p fuzz/seeds/lines
cat fixtures/junit/surefire.expected.jsonl fixtures/nunit3/outcomes.expected.jsonl > fuzz/seeds/lines/results.jsonl
target/release/spira-map --default-test-case 1 fuzz/seeds/lines/results.jsonl > fuzz/seeds/lines/runs.jsonl 2>/dev/null
target/release/spira-batch --size 3 fuzz/seeds/lines/runs.jsonl > fuzz/seeds/lines/batches.jsonl
# Seeds for the date targets: each form the date readers take, and a few they refuse.
mkdir -p fuzz/seeds/dates
i=0
for d in 2024-05-14T12:00:00Z "2024-05-14 12:00:00.123+0200" 2024-05-14 "2021-03-07T10:36:56 UTC" \
         "/Date(1715688000000-0000)/" "/Date(-1)/" 2024-02-30 "2024-05-14T12:00:00+aé" 1e300 00:00:01.5; do
  i=$((i+1)); printf '%s' "$d" > "fuzz/seeds/dates/seed-$i"
done
for t in $targets; do
  dir=fuzz/corpus/$t
  mkdir -p "$dir"
  extra=fixtures/bad/*
  case "$t" in lines_*|mapfile_*|json_text|date|date_fields) extra= ;; esac
  for f in $(seed "$t")/* $extra; do
    case "$f" in *.expected.*) continue ;; esac
    [ -f "$f" ] && cp "$f" "$dir/seed-$(basename "$f")"
  done
  echo "== $t: $secs s"
  (cd fuzz && cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
     -max_total_time="$secs" -close_fd_mask=3 -rss_limit_mb=2048 -timeout=20 -max_len=1048576)
  echo "$t $secs $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> fuzz/fuzz-time.log
done
