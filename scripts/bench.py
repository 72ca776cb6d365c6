#!/usr/bin/env python3
"""make bench: spira-parse's speed and memory on generated reports, beside the peers.

usage: bench.py BIN_DIR BENCH_DIR
Generates reports with BENCH_DIR/gen_junit.py (cached in $SPIRA_BENCH_TMP, default
/tmp/spira-bench), runs spira-parse several times (best wall time, largest peak RSS), and runs
the Python peers once each when their packages can be installed (a venv in the cache folder).
Set BENCH_SCALE=0 to skip the 10x (2,000,000 cases, ~770 MB) memory check.
"""
import json, os, subprocess, sys, time, urllib.request

bin_dir, bench = sys.argv[1], sys.argv[2]
tmp = os.environ.get("SPIRA_BENCH_TMP", "/tmp/spira-bench")
os.makedirs(tmp, exist_ok=True)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


def report(n):
    path = os.path.join(tmp, f"junit-{n}.xml")
    if not os.path.exists(path):
        print(f"generating {path} ...", file=sys.stderr)
        with open(path + ".part", "w") as f:
            subprocess.run([sys.executable, os.path.join(bench, "gen_junit.py"), str(n)], stdout=f, check=True)
        os.rename(path + ".part", path)
    return path


def measure(cmd, runs=1, stdout=subprocess.DEVNULL):
    """Best wall seconds and largest peak RSS (KB) over `runs` runs."""
    best, rss = None, 0
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            raise SystemExit(f"failed: {' '.join(cmd)}\n{p.stderr}")
        rss = max(rss, int(p.stderr.strip().splitlines()[-1]))
        best = wall if best is None else min(best, wall)
    return best, rss


def measure_together(cmds, runs):
    """Like `measure` for several commands, run in turn in each round, so that the machine's
    drift (a shared virtual machine) falls on all of them alike: their ratios are fair."""
    best, rss = [None] * len(cmds), [0] * len(cmds)
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            wall, r = measure(cmd, 1)
            best[i] = wall if best[i] is None else min(best[i], wall)
            rss[i] = max(rss[i], r)
    return list(zip(best, rss))


def peers_python():
    venv = os.path.join(tmp, "peers-venv")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
            subprocess.run([py, "-m", "pip", "install", "-q", "junitparser==5.0.3", "test-results-parser==0.6.1"],
                           check=True, capture_output=True, timeout=600)
        except Exception as e:  # no registry: the peers are left out, and the table says so
            print(f"peers not installed ({e}); their rows are left out", file=sys.stderr)
            return None
    return py


rows = []
big = report(200_000)
size_mb = os.path.getsize(big) / 1e6
parse = os.path.join(bin_dir, "spira-parse")
py = peers_python()
PEER_RUNS = int(os.environ.get("BENCH_PEER_RUNS", "3"))
peers = [("junitparser", "junitparser_parse.py"), ("codecov test-results-parser", "codecov_parse.py")] if py else []
# spira-parse and the peers in turn, PEER_RUNS rounds; then spira-parse alone to RUNS in all.
together = measure_together([[parse, big]] + [[py, os.path.join(bench, "peers", s), big] for _, s in peers],
                            PEER_RUNS)
ours, ours_rss = together[0]
if RUNS > PEER_RUNS:
    more, more_rss = measure([parse, big], RUNS - PEER_RUNS)
    ours, ours_rss = min(ours, more), max(ours_rss, more_rss)
rows.append(("spira-parse", ours, ours_rss))
for (name, _), (wall, rss) in zip(peers, together[1:]):
    rows.append((name, wall, rss))

print(f"\nJUnit, 200,000 cases ({size_mb:.0f} MB, {os.path.basename(big)}), best of {max(RUNS, PEER_RUNS)} "
      f"for spira-parse, of {PEER_RUNS} for each peer, run in turn:\n")
print(f"| {'tool':<28} | {'wall s':>7} | {'MB/s':>6} | {'peak RSS MB':>11} | {'spira-parse is':>14} |")
print(f"|{'-'*30}|{'-'*9}|{'-'*8}|{'-'*13}|{'-'*16}|")
for name, wall, rss in rows:
    ratio = "" if name == "spira-parse" else f"{wall / ours:.1f}x faster"
    print(f"| {name:<28} | {wall:>7.3f} | {size_mb / wall:>6.0f} | {rss / 1024:>11.1f} | {ratio:>14} |")

# The same number of tests as TRX (results before definitions: two readings of a file).
trx = os.path.join(tmp, "trx-200000.trx")
if not os.path.exists(trx):
    with open(trx + ".part", "w") as f:
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "gen_trx.py"), "200000"],
                       stdout=f, check=True)
    os.rename(trx + ".part", trx)
trx_wall, trx_rss = measure([parse, trx], RUNS)
trx_mb = os.path.getsize(trx) / 1e6
print(f"\nTRX, 200,000 results ({trx_mb:.0f} MB): {trx_wall:.3f} s, {trx_mb / trx_wall:.0f} MB/s "
      f"(JUnit: {size_mb / ours:.0f} MB/s, {size_mb / ours / (trx_mb / trx_wall):.1f}x), peak RSS {trx_rss / 1024:.1f} MB")

# The later stages on the 200k stream: spira-map (goal: not slower than parsing),
# spira-validate (goal: 200,000 run lines per second) and spira-batch (goal: under 10% of the
# stage before it).
results = os.path.join(tmp, "results-200000.jsonl")
runs = os.path.join(tmp, "runs-200000.jsonl")
with open(results, "w") as f:
    subprocess.run([parse, big], stdout=f, check=True)
mapping = [os.path.join(bin_dir, "spira-map"), "--default-test-case", "1", "--start", "2024-01-01T00:00:00Z", results]
with open(runs, "w") as f:
    subprocess.run(mapping, stdout=f, stderr=subprocess.DEVNULL, check=True)
# Every stage in turn in each round (parse again, for the ratio); and map piped into batch
# beside map piped into cat, to show what batch adds to the stage before it in a pipeline (a
# pipe itself costs much here: on this virtual machine map's time doubles writing into one).
map_sh = " ".join(f"'{a}'" for a in mapping)
piped = ["sh", "-c", f"{map_sh} 2>/dev/null | '{os.path.join(bin_dir, 'spira-batch')}'"]
alone = ["sh", "-c", f"{map_sh} 2>/dev/null | cat"]
(p_wall, p_rss), (map_wall, map_rss), (val_wall, val_rss), (bat_wall, bat_rss), (alone_wall, _), (piped_wall, _) = \
    measure_together([[parse, big], mapping, [os.path.join(bin_dir, "spira-validate"), runs],
                      [os.path.join(bin_dir, "spira-batch"), runs], alone, piped], RUNS)
print(f"\n200,000 results through the later stages (best of {RUNS}, the stages run in turn):\n")
print(f"| stage | wall s | rate | peak RSS MB |")
print(f"|---|---|---|---|")
print(f"| spira-parse (for comparison) | {p_wall:.3f} | {200000 / p_wall:,.0f} results/s | {p_rss / 1024:.1f} |")
print(f"| spira-map | {map_wall:.3f} | {200000 / map_wall:,.0f} results/s ({map_wall / p_wall:.2f}x parse) | {map_rss / 1024:.1f} |")
print(f"| spira-validate | {val_wall:.3f} | {200000 / val_wall:,.0f} runs/s | {val_rss / 1024:.1f} |")
print(f"| spira-batch | {bat_wall:.3f} | {200000 / bat_wall:,.0f} runs/s ({100 * bat_wall / map_wall:.0f}% of map) | {bat_rss / 1024:.1f} |")
print(f"| spira-map \\| spira-batch | {piped_wall:.3f} | (spira-map \\| cat {alone_wall:.3f}: batch adds "
      f"{100 * (piped_wall - alone_wall) / alone_wall:.0f}%) | |")

# spira-mock: 200,000 runs in batches of 500 over one keep-alive connection (curl sends the
# same body to every URL it is given, reusing the connection). Goal: 200,000 runs per second.
import shutil
if shutil.which("curl"):
    batch500 = os.path.join(tmp, "batch500.json")
    with open(batch500, "wb") as f:
        first = subprocess.run([os.path.join(bin_dir, "spira-batch"), "--size", "500", runs],
                               capture_output=True, check=True).stdout.split(b"\n")[0]
        f.write(first)
    mock = subprocess.Popen([os.path.join(bin_dir, "spira-mock"), "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = mock.stdout.readline().strip().removeprefix("listening on ")
        target = f"{url}/Services/v7_0/RestService.svc/projects/1/test-runs/record-multiple"
        best = None
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run(["curl", "-s", "-o", "/dev/null", "-H", "username: demo",
                            "-H", "api-key: {00000000-DEMO-KEY0-0000-000000000000}",
                            "-H", "Content-Type: application/json", "--data-binary", "@" + batch500]
                           + ["-o", "/dev/null", target] * 400, check=True)
            wall = time.perf_counter() - t
            best = wall if best is None else min(best, wall)
        with urllib.request.urlopen(url + "/__mock/stats") as r:
            stored = json.load(r)["runs"]
        if stored != 3 * 200_000:
            raise SystemExit(f"spira-mock stored {stored} runs of {3 * 200_000}: the batches were refused")
        print(f"\nspira-mock: 200,000 runs as 400 batches of 500, one keep-alive connection: "
              f"{best:.2f} s, {200000 / best:,.0f} runs/s (best of 3; the client, curl, shares the 2 cores)")
    finally:
        mock.kill()
        mock.wait()

# spira-post into spira-mock: 100,000 runs (the first half of the 200k stream) as 400 batches
# of 250, one request in flight; beside Inflectra's own reader, which sends one request per test
# (run on a smaller report: it manages a few hundred runs a second). Goal: 100x its runs/s.
def start_mock():
    m = subprocess.Popen([os.path.join(bin_dir, "spira-mock"), "--listen", "127.0.0.1:0"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return m, m.stdout.readline().strip().removeprefix("listening on ")


KEY = "{00000000-DEMO-KEY0-0000-000000000000}"
b100k = os.path.join(tmp, "batches-100000.jsonl")
with open(runs, "rb") as src, open(b100k, "wb") as f:
    head = b"".join(line for _, line in zip(range(100_000), src))
    f.write(subprocess.run([os.path.join(bin_dir, "spira-batch")], input=head, capture_output=True, check=True).stdout)
post_rows = []
for label, extra in [("spira-post", []), ("spira-post --journal", ["--journal", os.path.join(tmp, "bench.journal")]),
                     ("spira-post --jobs 2", ["--jobs", "2"])]:
    best, rss = None, 0
    for _ in range(3):
        if os.path.exists(os.path.join(tmp, "bench.journal")):
            os.remove(os.path.join(tmp, "bench.journal"))
        mock, url = start_mock()
        try:
            env = dict(os.environ, SPIRA_URL=url, SPIRA_USERNAME="demo", SPIRA_PROJECT_ID="1", SPIRA_API_KEY=KEY)
            t = time.perf_counter()
            p = subprocess.run(["/usr/bin/time", "-f", "%M", os.path.join(bin_dir, "spira-post"), "--quiet"] + extra + [b100k],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            wall = time.perf_counter() - t
            if p.returncode != 0:
                raise SystemExit(f"spira-post failed:\n{p.stderr}")
            rss = max(rss, int(p.stderr.strip().splitlines()[-1]))
            best = wall if best is None else min(best, wall)
        finally:
            mock.kill()
            mock.wait()
    post_rows.append((label, best, rss))
peer_rate = None
wheel = os.path.join(tmp, "wheel", "x")
if py and not os.path.exists(os.path.join(wheel, "spira_xunit_reader.py")):
    try:
        subprocess.run([py, "-m", "pip", "install", "-q", "requests"], check=True, capture_output=True, timeout=600)
        subprocess.run([py, "-m", "pip", "download", "-q", "--no-deps", "-d", os.path.join(tmp, "wheel"),
                        "spira-addons-xunit==1.0.0"], check=True, capture_output=True, timeout=600)
        subprocess.run([sys.executable, "-m", "zipfile", "-e",
                        os.path.join(tmp, "wheel", "spira_addons_xunit-1.0.0-py3-none-any.whl"), wheel], check=True)
    except Exception as e:
        print(f"Inflectra's reader not installed ({e}); its row is left out", file=sys.stderr)
if py and os.path.exists(os.path.join(wheel, "spira_xunit_reader.py")):
    small = report(5_000)
    mock, url = start_mock()
    try:
        t = time.perf_counter()
        subprocess.run([py, os.path.join(bench, "peers", "inflectra_xunit_post.py"), url, "demo", KEY, "1", small],
                       env=dict(os.environ, PYTHONPATH=wheel), stdout=subprocess.DEVNULL, check=True)
        peer_wall = time.perf_counter() - t
        peer_rate = 5000 / peer_wall
    finally:
        mock.kill()
        mock.wait()
print(f"\nspira-post into spira-mock, 100,000 runs as 400 batches of 250 (best of 3, a fresh mock each):\n")
print("| client | wall s | runs/s | peak RSS MB | vs Inflectra's reader |")
print("|---|---|---|---|---|")
for label, wall, rss in post_rows:
    vs = f"{100000 / wall / peer_rate:,.0f}x" if peer_rate else ""
    print(f"| {label} | {wall:.2f} | {100000 / wall:,.0f} | {rss / 1024:.1f} | {vs} |")
if peer_rate:
    print(f"| Inflectra's reader (spira-addons-xunit 1.0.0, 5,000 tests, one POST each) | {peer_wall:.2f} | {peer_rate:,.0f} | | 1x |")

# spira-cases into spira-mock answering each request after 20 ms: 5,000 new test cases in 200
# folders (a JUnit report of 10 areas x 19 modules, nested). The requests it cannot avoid are one
# per case, one per folder and one per page of the folder listing; goal: under 5x their time.
nested = os.path.join(tmp, "nested-5000.xml")
with open(nested, "w") as f:
    f.write("<testsuites>\n")
    for a in range(10):
        f.write(f'<testsuite name="Area {a}">\n')
        for m in range(19):
            f.write(f'<testsuite name="Module {m}">\n')
            for i in range(a * 19 + m, 5000, 190):
                f.write(f'<testcase classname="app.area{a}.Module{m}" name="test_{i}" time="0.01"/>\n')
            f.write("</testsuite>\n")
        f.write("</testsuite>\n")
    f.write("</testsuites>\n")
nested_results = subprocess.run([parse, nested], capture_output=True, check=True).stdout
cases_rows = []
for jobs in ["1", "3"]:
    m = subprocess.Popen([os.path.join(bin_dir, "spira-mock"), "--listen", "127.0.0.1:0", "--test-cases", "1-10",
                          "--latency-ms", "20"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = m.stdout.readline().strip().removeprefix("listening on ")
    try:
        env = dict(os.environ, SPIRA_URL=url, SPIRA_USERNAME="demo", SPIRA_PROJECT_ID="1", SPIRA_API_KEY=KEY)
        t = time.perf_counter()
        p = subprocess.run([os.path.join(bin_dir, "spira-cases"), "--yes", "--jobs", jobs], input=nested_results,
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - t
        if p.returncode != 0:
            raise SystemExit(f"spira-cases failed:\n{p.stderr.decode()}")
        with urllib.request.urlopen(url + "/__mock/stats") as r:
            st = json.load(r)
    finally:
        m.kill()
        m.wait()
    cases_rows.append((jobs, wall, st))
print("\nspira-cases into spira-mock --latency-ms 20: 5,000 new test cases in 200 nested folders:\n")
print("| --jobs | wall s | requests | cases created | folders | duplicates | unavoidable s | ratio |")
print("|---|---|---|---|---|---|---|---|")
for jobs, wall, st in cases_rows:
    # one listing page, 200 folders, 5,000 cases: 20 ms each, --jobs of them at once
    floor = (1 + 200 + 5000) * 0.020 / int(jobs)
    print(f"| {jobs} | {wall:.1f} | {st['requests']:,} | {st['test_cases'] - 10:,} | {st['folders']} | "
          f"{st['duplicate_test_cases']} | {floor:.1f} | {wall / floor:.2f}x |")

# The JSON formats: a generated 100 MB report of each (scripts/gen_json.py, cached), spira-parse
# beside Python's json module loading it and walking its tests (scripts/peer_json.py), in turn;
# and memory on a 200 MB Jest report. Goals: 100 MB/s, 3x Python, 16 MB.
json_rows = []
here = os.path.dirname(os.path.abspath(__file__))


def generated(fmt, mb, ext="json"):
    """A report from gen_json.py, cached under a name that holds a hash of the generator: a
    changed generator makes new files instead of measuring the old ones."""
    import hashlib
    gen = os.path.join(here, "gen_json.py")
    with open(gen, "rb") as f:
        tag = hashlib.sha1(f.read()).hexdigest()[:8]
    path = os.path.join(tmp, f"{fmt}-{mb}mb-{tag}.{ext}")
    if not os.path.exists(path):
        subprocess.run([sys.executable, gen, fmt, str(mb), path], check=True)
    return path


for fmt in ["go", "jest", "mocha", "dart", "rspec", "playwright", "ctrf"]:
    path = generated(fmt, 100)
    mb = os.path.getsize(path) / 1e6
    n = sum(1 for _ in subprocess.run([parse, path], capture_output=True, check=True).stdout.splitlines())
    want = int(subprocess.run([sys.executable, os.path.join(here, "peer_json.py"), fmt, path],
                              capture_output=True, text=True, check=True).stdout)
    if n != want:
        raise SystemExit(f"{fmt}: spira-parse wrote {n} results, the Python walk counted {want}")
    (j_ours, j_rss), (peer, peer_rss) = measure_together(
        [[parse, path], [sys.executable, os.path.join(here, "peer_json.py"), fmt, path]], 3)
    json_rows.append((fmt, mb, n, j_ours, j_rss, peer, peer_rss))
print("\nJSON formats, generated reports of about 100 MB (best of 3, in turn with Python):\n")
print("| format | MB | results | spira-parse s | MB/s | peak RSS MB | Python json s | peak RSS MB | vs Python |")
print("|---|---|---|---|---|---|---|---|---|")
for fmt, mb, n, j_ours, j_rss, peer, peer_rss in json_rows:
    print(f"| {fmt} | {mb:.0f} | {n:,} | {j_ours:.2f} | {mb / j_ours:.0f} | {j_rss / 1024:.1f} | {peer:.2f} | "
          f"{peer_rss / 1024:.0f} | {peer / j_ours:.1f}x |")
jest200 = generated("jest", 200)
wall, rss = measure([parse, jest200], 1)
print(f"Jest, {os.path.getsize(jest200) / 1e6:.0f} MB: {wall:.2f} s, peak RSS {rss / 1024:.1f} MB")
# Streaming memory of the step-carrying formats (issue 22): a 200 MB Cucumber JSON report (read
# one feature at a time) and a 200 MB TAP stream (read line by line).
for fmt, ext in [("cucumber", "json"), ("tap", "tap")]:
    path = generated(fmt, 200, ext)
    n = sum(1 for _ in subprocess.run([parse, path], capture_output=True, check=True).stdout.splitlines())
    wall, rss = measure([parse, path], 1)
    print(f"{fmt}, {os.path.getsize(path) / 1e6:.0f} MB, {n:,} results: {wall:.2f} s, peak RSS {rss / 1024:.1f} MB")

# Many small reports (issue 30): directories as CI runs leave them (scripts/gen_many.py, cached):
# 3,000 surefire files beside `cat` of the same files and the Python peers reading them one after
# another in one process (scripts/peer_many.py); -j 1 beside -j 2; 3,000 Jest files and a
# 20,000-file allure-results directory beside Python's json. Goals: <= 2x cat, >= 3x codecov,
# >= 8x junitparser, -j 2 <= 0.6x -j 1, >= 3x Python's json.
def many(kind, n):
    import hashlib
    gen = os.path.join(here, "gen_many.py")
    with open(gen, "rb") as f:
        tag = hashlib.sha1(f.read()).hexdigest()[:8]
    d = os.path.join(tmp, f"many-{kind}-{n}-{tag}")
    if not os.path.exists(d):
        subprocess.run([sys.executable, gen, kind, d + ".part", str(n)], check=True)
        os.rename(d + ".part", d)
    return d


def dir_mb(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) / 1e6


MANY_RUNS = int(os.environ.get("BENCH_MANY_RUNS", "7"))
sure = many("surefire", 3000)
cmds = [("cat", ["sh", "-c", f"cat {sure}/* > /dev/null"]), ("spira-parse", [parse, sure]),
        ("spira-parse -j 1", [parse, "-j", "1", sure]), ("spira-parse -j 2", [parse, "-j", "2", sure])]
if py:
    cmds += [("codecov test-results-parser", [py, os.path.join(here, "peer_many.py"), "codecov", sure]),
             ("junitparser", [py, os.path.join(here, "peer_many.py"), "junitparser", sure])]
got = dict(zip([c[0] for c in cmds], measure_together([c[1] for c in cmds], MANY_RUNS)))
n = sum(1 for _ in subprocess.run([parse, sure], capture_output=True, check=True).stdout.splitlines())
base = got["spira-parse"][0]
print(f"\n3,000 surefire files ({dir_mb(sure):.1f} MB, {n:,} results), best of {MANY_RUNS}, in turn:\n")
print("| command | wall s | peak RSS MB | vs spira-parse |")
print("|---|---|---|---|")
for name, (wall, rss) in got.items():
    print(f"| {name} | {wall:.3f} | {rss / 1024:.1f} | {wall / base:.2f}x |")
j1, j2 = got["spira-parse -j 1"][0], got["spira-parse -j 2"][0]
print(f"spira-parse is {base / got['cat'][0]:.2f}x cat; -j 2 is {j2 / j1:.2f}x the time of -j 1")
for kind, n_files, peer in [("jest", 3000, "json"), ("allure", 20000, "allure")]:
    d = many(kind, n_files)
    (ours_w, ours_r), (cat_w, _), (peer_w, peer_r) = measure_together(
        [[parse, d], ["sh", "-c", f"cat {d}/* > /dev/null"],
         [sys.executable, os.path.join(here, "peer_many.py"), peer, d]], MANY_RUNS)
    print(f"{kind}, {n_files:,} files ({dir_mb(d):.1f} MB): spira-parse {ours_w:.3f} s, {ours_r / 1024:.1f} MB; "
          f"cat {cat_w:.3f} s; Python's json {peer_w:.3f} s, {peer_r / 1024:.1f} MB: {peer_w / ours_w:.1f}x")

if os.environ.get("BENCH_SCALE", "1") != "0":
    huge = report(2_000_000)
    wall, rss = measure([parse, huge], 1)
    mb = os.path.getsize(huge) / 1e6
    print(f"\n10x larger ({mb:.0f} MB): {wall:.2f} s, {mb / wall:.0f} MB/s, peak RSS {rss / 1024:.1f} MB "
          f"(200k: {ours_rss / 1024:.1f} MB)")

# One testcase whose system-out is 200 MB: memory must stay near the field cap.
huge_text = os.path.join(tmp, "junit-200mb-system-out.xml")
if not os.path.exists(huge_text):
    with open(huge_text, "w") as f:
        f.write('<testsuite name="s"><testcase classname="c" name="t" time="1"><system-out>')
        line = "log line with some text & an escape &amp; more text\n" * 1000
        for _ in range(200_000_000 // len(line)):
            f.write(line)
        f.write("</system-out></testcase></testsuite>\n")
wall, rss = measure([parse, huge_text], 1)
mb = os.path.getsize(huge_text) / 1e6
print(f"one {mb:.0f} MB system-out: {wall:.2f} s, peak RSS {rss / 1024:.1f} MB (field cap 1 MiB)")
