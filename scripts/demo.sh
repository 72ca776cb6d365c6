#!/bin/sh
# make demo: parse the bundled sample reports and show what each stage makes of them.
set -eu
BIN=${1:-target/release}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "== spira-parse: the sample reports (JUnit dialects and CSV) -> result lines"
"$BIN/spira-parse" --stats fixtures/demo/ > "$tmp/results.jsonl"
echo
echo "== the first result line, as spira-map will read it:"
head -n 1 "$tmp/results.jsonl"
echo
echo "== results per report file:"
sed -e 's/.*"report":"\([^"]*\)".*"status":"\([a-z]*\)".*/\1 \2/' "$tmp/results.jsonl" | sort | uniq -c
