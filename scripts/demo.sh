#!/bin/sh
# make demo: the bundled sample reports through the pipeline, stage by stage.
# (For now the pipeline is spira-parse; later stages join as they are built.)
set -eu
BIN=${1:-target/release}
tmp=$(mktemp -d)
mock_pid=
cleanup() {
  if [ -n "$mock_pid" ]; then kill "$mock_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "== spira-mock: a local Spira on a free loopback port (project 1, test cases 1-2000)"
"$BIN/spira-mock" --listen 127.0.0.1:0 --test-cases 1-2000 --record "$tmp/recorded.jsonl" > "$tmp/mock.out" 2>&1 &
mock_pid=$!
i=0
until grep -q '^listening on ' "$tmp/mock.out" 2>/dev/null; do
  i=$((i + 1))
  if [ "$i" -gt 100 ]; then echo "spira-mock did not start:"; cat "$tmp/mock.out"; exit 1; fi
  sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$tmp/mock.out")
echo "   $url"
echo

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

echo
echo "== the batches into spira-mock (record-multiple; spira-post will do this with retries and a journal)"
if command -v curl >/dev/null 2>&1; then
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    code=$(printf '%s' "$line" | curl -s -o "$tmp/answer.json" -w '%{http_code}' \
      -H 'username: demo' -H 'api-key: {00000000-DEMO-KEY0-0000-000000000000}' \
      -H 'Content-Type: application/json' --data-binary @- \
      "$url/Services/v7_0/RestService.svc/projects/1/test-runs/record-multiple")
    echo "  batch $n: HTTP $code, $(grep -o '"TestRunId"' "$tmp/answer.json" | wc -l) runs recorded"
  done < "$tmp/batches.jsonl"
  echo
  echo "== what spira-mock recorded (/__mock/stats, then the first stored run):"
  curl -s "$url/__mock/stats"; echo
  head -n 1 "$tmp/recorded.jsonl"
else
  echo "  (curl is not installed: skipped)"
fi
