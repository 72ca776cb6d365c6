#!/bin/sh
# make demo: the bundled sample reports through the pipeline, stage by stage.
# (For now the pipeline is spira-parse; later stages join as they are built.)
set -eu
BIN=${1:-target/release}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "== spira-parse fixtures/demo/  (JUnit surefire, pytest, and a CSV export)"
ls fixtures/demo/
"$BIN/spira-parse" --stats fixtures/demo/ > "$tmp/results.jsonl"
echo
echo "== one result line per test case; the first one:"
head -n 1 "$tmp/results.jsonl"
echo
echo "== counts per report:"
for f in fixtures/demo/*; do
  "$BIN/spira-parse" --stats "$f" 2>&1 >/dev/null | sed "s|^spira-parse: |  $f: |"
done
