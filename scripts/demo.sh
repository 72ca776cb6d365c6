#!/bin/sh
# make demo: the bundled sample reports through the pipeline, stage by stage.
# (For now the pipeline is spira-parse; later stages join as they are built.)
set -eu
BIN=${1:-target/release}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "== spira-parse fixtures/demo/  (JUnit surefire, pytest, and a CSV export)"
ls fixtures/demo/
"$BIN/spira-parse" --stats fixtures/demo/*.xml fixtures/demo/manual-tests.csv > "$tmp/results.jsonl"
echo
echo "== one result line per test case; the first one:"
head -n 1 "$tmp/results.jsonl"
echo
echo "== counts per report:"
for f in fixtures/demo/*.xml fixtures/demo/manual-tests.csv; do
  "$BIN/spira-parse" --stats "$f" 2>&1 >/dev/null | sed "s|^spira-parse: |  $f: |"
done

echo
echo "== spira-map --map fixtures/demo/ids.csv --release 3: result lines -> Spira test runs"
"$BIN/spira-map" --map fixtures/demo/ids.csv --release 3 --start 2024-05-14T12:00:00Z \
  "$tmp/results.jsonl" > "$tmp/runs.jsonl"
echo
echo "== the first run, as record-multiple will receive it:"
head -n 1 "$tmp/runs.jsonl"
echo
echo "== spira-validate | spira-batch --size 5: checked against the run schema, then grouped"
"$BIN/spira-validate" "$tmp/runs.jsonl" | "$BIN/spira-batch" --size 5 > "$tmp/batches.jsonl"
n=0
while IFS= read -r line; do
  n=$((n + 1))
  runs=$(printf '%s' "$line" | grep -o '"TestCaseId"' | wc -l)
  echo "  batch $n: $runs runs, $(printf '%s' "$line" | wc -c) bytes"
done < "$tmp/batches.jsonl"
