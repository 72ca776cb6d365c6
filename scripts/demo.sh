#!/bin/sh
# make demo: the bundled sample reports through the pipeline, stage by stage.
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
"$BIN/spira-mock" --listen 127.0.0.1:0 --test-cases 1-2000 --data fixtures/names/demo.json --record "$tmp/recorded.jsonl" --check-answers > "$tmp/mock.out" 2>&1 &
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

echo "== spira-parse fixtures/demo/  (JUnit surefire, pytest, NUnit 3, and a CSV export)"
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
export SPIRA_URL="$url" SPIRA_USERNAME=demo SPIRA_PROJECT_ID=1
export SPIRA_API_KEY='{00000000-DEMO-KEY0-0000-000000000000}'
cp fixtures/demo/ids.csv "$tmp/ids.csv"
echo "== spira-map --unmapped-out: which tests have no test case in the map yet"
"$BIN/spira-map" --map "$tmp/ids.csv" --unmapped-out "$tmp/new.jsonl" "$tmp/results.jsonl" > /dev/null 2> "$tmp/map.err" || true
tail -n 1 "$tmp/map.err"
echo
echo "== spira-cases --append: create them in Spira (folders from the suites), append to a copy of the map"
"$BIN/spira-cases" --map "$tmp/ids.csv" --append "$tmp/new.jsonl"
echo "   the map's new lines:"
tail -n "$(wc -l < "$tmp/new.jsonl")" "$tmp/ids.csv" | sed 's/^/   /'
echo
echo "== spira-ids releases: the project's releases, to name one by its version"
"$BIN/spira-ids" releases | head -n 4 | sed 's/^/   /'
echo
echo "== spira-map --map ids.csv --release-version 1.4.0 --automation-host-name demo-runner --custom-property Browser=Firefox:"
echo "   result lines -> Spira test runs (every test mapped now; the names asked of Spira once)"
"$BIN/spira-map" --map "$tmp/ids.csv" --release-version 1.4.0 --automation-host-name demo-runner \
  --custom-property Browser=Firefox --start 2024-05-14T12:00:00Z --strict \
  "$tmp/results.jsonl" > "$tmp/runs.jsonl"
echo
echo "== the first run, as record-multiple will receive it:"
head -n 1 "$tmp/runs.jsonl"
echo
echo "== spira-validate | spira-batch --size 5: checked against the run schema, then grouped"
"$BIN/spira-validate" "$tmp/runs.jsonl" | "$BIN/spira-batch" --size 5 > "$tmp/batches.jsonl"
echo
echo "== spira-inspect: look before you upload"
"$BIN/spira-inspect" --top 3 "$tmp/batches.jsonl"
echo
echo "== spira-post --dry-run: the first request that would be sent (the key shown as ***)"
"$BIN/spira-post" --dry-run "$tmp/batches.jsonl" 2> "$tmp/dry.err" | head -n 1 | cut -c 1-300
echo "   ..."
cat "$tmp/dry.err"
echo
echo "== spira-post --journal --create-build: the batches into spira-mock's record-multiple"
"$BIN/spira-post" --journal "$tmp/upload.journal" --create-build "demo build" "$tmp/batches.jsonl" > "$tmp/created.jsonl"
echo "   $(wc -l < "$tmp/created.jsonl") created lines; the first:"
head -n 1 "$tmp/created.jsonl"
echo
echo "== what spira-mock recorded (its --record file), summarised by spira-inspect:"
"$BIN/spira-inspect" --top 3 "$tmp/recorded.jsonl"
echo
echo "== run it again with the same journal: nothing is sent twice"
"$BIN/spira-post" --journal "$tmp/upload.journal" "$tmp/batches.jsonl" > /dev/null
echo
echo "== a Cucumber report whose scenarios carry @TC: tags, posted with their steps (spira-map --steps steps)"
"$BIN/spira-parse" fixtures/demo/checkout.cucumber.json \
  | "$BIN/spira-map" --steps steps --release-version 1.4.0 --start 2024-05-14T12:00:00Z --strict \
  | "$BIN/spira-batch" | "$BIN/spira-post" > "$tmp/bdd.jsonl"
echo "   $(wc -l < "$tmp/bdd.jsonl") runs created; the steps spira-mock stored with the second (TC:12):"
grep '"TestCaseId":12' "$tmp/recorded.jsonl" | grep -o '"TestRunSteps":\[[^]]*\]' | sed 's/},{/},\n   {/g; s/^/   /'
echo
if command -v curl >/dev/null 2>&1; then
  echo "== spira-mock's counters (/__mock/stats):"
  curl -s "$url/__mock/stats"; echo
fi
echo "== the whole pipeline in one line:"
echo "   spira-parse fixtures/demo/*.xml | spira-map --map ids.csv --release-version 1.4.0 | spira-validate | spira-batch | spira-post"
echo
echo "== spira-inspect --markdown: what was stored, as a CI job page shows it (>> \$GITHUB_STEP_SUMMARY)"
cat "$tmp/created.jsonl" "$tmp/bdd.jsonl" | "$BIN/spira-inspect" --markdown
