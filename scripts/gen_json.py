#!/usr/bin/env python3
"""Generates a JSON test report of about SIZE megabytes in FORMAT, for make bench.

usage: gen_json.py FORMAT SIZE_MB OUT
FORMAT: go, jest, mocha, dart, rspec, playwright, ctrf, cucumber, tap (TAP 14 text with
subtests and YAML diagnostics). One test in ten fails with a message
and a stack trace of a few lines; one in twenty is skipped. Tests come grouped by file and
describe block, as the runners write them, and Mocha's report holds every test twice (in `tests`
and in the list of its status), as its reporter writes it. Written streaming, so a 200 MB
report needs no more memory than a small one.
"""
import json, sys

fmt, size_mb, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
limit = int(size_mb * 1_000_000)
TRACE = "\n".join(f"    at Object.<anonymous> (src/module{i}/file.js:{i * 7}:{i + 3})" for i in range(6))


def status(i):
    return "failed" if i % 10 == 3 else "skipped" if i % 20 == 7 else "passed"


def go(f):
    i = 0
    while f.tell() < limit:
        pkg, t = f"example.com/svc/pkg{i // 200}", f"TestCase{i}"
        s = {"passed": "pass", "failed": "fail", "skipped": "skip"}[status(i)]
        for e in ({"Time": "2024-05-14T12:00:00.1Z", "Action": "run", "Package": pkg, "Test": t},
                  {"Time": "2024-05-14T12:00:00.2Z", "Action": "output", "Package": pkg, "Test": t,
                   "Output": f"=== RUN   {t}\n"},
                  {"Time": "2024-05-14T12:00:00.3Z", "Action": s, "Package": pkg, "Test": t, "Elapsed": 0.01}):
            f.write(json.dumps(e) + "\n")
        i += 1


def dart(f):
    f.write(json.dumps({"protocolVersion": "0.1.1", "runnerVersion": "1.25.0", "type": "start", "time": 0}) + "\n")
    f.write(json.dumps({"suite": {"id": 0, "platform": "vm", "path": "test/a_test.dart"}, "type": "suite", "time": 0}) + "\n")
    i = 1
    while f.tell() < limit:
        f.write(json.dumps({"test": {"id": i, "name": f"group test {i}", "suiteID": 0, "groupIDs": [],
                                     "metadata": {"skip": False, "skipReason": None}, "line": 3, "column": 5},
                            "type": "testStart", "time": i}) + "\n")
        s = status(i)
        if s == "failed":
            f.write(json.dumps({"testID": i, "error": "Expected: <4>", "stackTrace": TRACE, "isFailure": True,
                                "type": "error", "time": i}) + "\n")
        f.write(json.dumps({"testID": i, "result": "failure" if s == "failed" else "success",
                            "skipped": s == "skipped", "hidden": False, "type": "testDone", "time": i + 1}) + "\n")
        i += 1


def array_doc(f, head, key_path, item, tail):
    """Writes head, then items until the size is reached, then tail."""
    f.write(head)
    i = 0
    while f.tell() < limit:
        if i:
            f.write(",\n")
        f.write(json.dumps(item(i)))
        i += 1
    f.write(tail)
    return i


def jest_file(i):
    tests = []
    for j in range(20):
        n = i * 20 + j
        s = status(n)
        tests.append({"ancestorTitles": ["Module", f"feature {n % 7}"], "fullName": f"Module feature {n}",
                      "title": f"works {n}", "status": "pending" if s == "skipped" else s, "duration": 3,
                      "failureMessages": [f"Error: expected 3 to be 4\n{TRACE}"] if s == "failed" else [],
                      "location": None})
    return {"name": f"/repo/src/module{i}.test.js", "status": "failed", "message": "", "startTime": 1715688000000,
            "endTime": 1715688000100, "assertionResults": tests}


def mocha_test(i):
    """A test as Mocha's JSON reporter cleans it; 200 tests to a file, in a describe block each."""
    s = status(i)
    t = {"title": f"works {i}", "fullTitle": f"Suite {i // 200} works {i}", "file": f"/repo/test/s{i // 200}.js",
         "duration": 3, "currentRetry": 0, "speed": "fast", "err": {}}
    if s == "skipped":
        del t["duration"], t["speed"]
    if s == "failed":
        t["err"] = {"message": "expected 3 to equal 4", "stack": f"AssertionError: expected 3 to equal 4\n{TRACE}",
                    "showDiff": True, "actual": "3", "expected": "4", "operator": "strictEqual"}
    return t


def mocha(f):
    """Mocha's reporter writes every test twice: in `tests`, and in the list of its status
    (`pending`, `failures`, `passes`), which follow. The lists go to temporary files while
    `tests` is written (so that memory stays flat), and are appended after it."""
    import tempfile
    lists = {k: tempfile.TemporaryFile("w+") for k in ("pending", "failures", "passes")}
    f.write('{"stats":{"suites":0,"tests":0,"passes":0,"pending":0,"failures":0},"tests":[\n')
    i, size = 0, 0
    while size < limit:
        line = json.dumps(mocha_test(i))
        part = lists[{"skipped": "pending", "failed": "failures", "passed": "passes"}[status(i)]]
        if part.tell():
            part.write(",\n")
        part.write(line)
        f.write((",\n" if i else "") + line)
        size = f.tell() + sum(p.tell() for p in lists.values())
        i += 1
    f.write("]")
    for k, part in lists.items():
        f.write(f',"{k}":[\n')
        part.seek(0)
        while chunk := part.read(1 << 20):
            f.write(chunk)
        f.write("]")
    f.write("}\n")


def rspec_example(i):
    s = status(i)
    e = {"id": f"./spec/m_spec.rb[1:{i}]", "description": f"works {i}", "full_description": f"Module works {i}",
         "status": "pending" if s == "skipped" else s, "file_path": f"./spec/m{i // 200}_spec.rb",
         "line_number": i % 300, "run_time": 0.001, "pending_message": "later" if s == "skipped" else None}
    if s == "failed":
        e["exception"] = {"class": "RSpec::Expectations::ExpectationNotMetError", "message": "expected 4, got 3",
                          "backtrace": TRACE.split("\n")}
    return e


def playwright_file(i):
    specs = []
    for j in range(10):
        n = i * 10 + j
        s = status(n)
        res = {"workerIndex": 0, "status": s, "duration": 120, "stdout": [], "stderr": [], "retry": 0,
               "startTime": "2024-05-14T12:00:00.000Z", "attachments": [],
               "errors": [{"message": "Error: expect(received).toBe(expected)", "stack": TRACE}] if s == "failed" else []}
        specs.append({"title": f"works {n}", "ok": s != "failed", "tags": [], "id": f"id{n}", "file": f"f{i}.spec.ts",
                      "line": j, "column": 5, "tests": [{"timeout": 30000, "annotations": [],
                      "expectedStatus": "skipped" if s == "skipped" else "passed", "projectId": "chromium",
                      "projectName": "chromium", "results": [res],
                      "status": {"passed": "expected", "failed": "unexpected", "skipped": "skipped"}[s]}]})
    return {"title": f"f{i}.spec.ts", "file": f"f{i}.spec.ts", "line": 0, "column": 0, "specs": specs, "suites": []}


def ctrf_test(i):
    s = status(i)
    t = {"name": f"works {i}", "status": s, "duration": 3, "suite": ["module", f"feature {i // 20 % 7}"],
         "filePath": f"src/m{i // 200}.test.ts"}
    if s == "failed":
        t["message"], t["trace"] = "expected 3 to be 4", TRACE
    return t


def cucumber_feature(i):
    """A feature of 20 scenarios, each with a background step and three steps."""
    elements = []
    for j in range(20):
        n = i * 20 + j
        s = status(n)
        elements.append({"keyword": "Background", "type": "background", "name": "", "line": 3,
                         "steps": [{"keyword": "Given ", "name": "the app is up", "line": 4,
                                    "result": {"status": "passed", "duration": 1200000}}]})
        steps = [{"keyword": "Given ", "name": f"user {n}", "line": 6, "result": {"status": "passed", "duration": 900000}},
                 {"keyword": "When ", "name": "they log in", "line": 7,
                  "result": {"status": "failed" if s == "failed" else "skipped" if s == "skipped" else "passed",
                             "duration": 3000000,
                             **({"error_message": "expected 200 but was 500\n" + TRACE} if s == "failed" else {})}},
                 {"keyword": "Then ", "name": "they see the dashboard", "line": 8,
                  "result": {"status": "skipped" if s != "passed" else "passed", "duration": 400000}}]
        elements.append({"id": f"f{i};s{n}", "keyword": "Scenario", "type": "scenario", "name": f"scenario {n}",
                         "line": 5, "tags": [{"name": f"@TC:{n % 2000 + 1}", "line": 4}], "steps": steps})
    return {"uri": f"features/f{i}.feature", "id": f"f{i}", "keyword": "Feature", "name": f"Feature {i}",
            "line": 1, "tags": [{"name": "@web", "line": 1}], "elements": elements}


def tap(f):
    """node:test style: a subtest of ten points per group, YAML on the failures."""
    f.write("TAP version 14\n")
    g = 0
    while f.tell() < limit:
        g += 1
        f.write(f"# Subtest: group {g}\n")
        for j in range(10):
            n = g * 10 + j
            s = status(n)
            f.write(f"    # Subtest: test {n}\n")
            if s == "failed":
                f.write(f"    not ok {j + 1} - test {n}\n      ---\n      duration_ms: 1.5\n"
                        f"      error: 'expected 3 to equal 4'\n      stack: |-\n")
                f.write("".join(f"        {line.strip()}\n" for line in TRACE.splitlines()))
                f.write("      ...\n")
            elif s == "skipped":
                f.write(f"    ok {j + 1} - test {n} # SKIP not here\n")
            else:
                f.write(f"    ok {j + 1} - test {n}\n      ---\n      duration_ms: 0.5\n      ...\n")
        f.write(f"    1..10\nok {g} - group {g}\n  ---\n  duration_ms: 9\n  ...\n")
    f.write(f"1..{g}\n")


with open(out, "w") as f:
    if fmt == "go":
        go(f)
    elif fmt == "dart":
        dart(f)
    elif fmt == "jest":
        array_doc(f, '{"numFailedTests":0,"numPassedTests":0,"numPendingTests":0,"numTotalTests":0,'
                     '"startTime":1715688000000,"success":false,"testResults":[\n', "testResults", jest_file, "]}\n")
    elif fmt == "mocha":
        mocha(f)
    elif fmt == "rspec":
        array_doc(f, '{"version":"3.13.0","seed":1,"examples":[\n', "examples", rspec_example,
                  '],"summary":{"duration":1,"example_count":0,"failure_count":0,"pending_count":0,'
                  '"errors_outside_of_examples_count":0}}\n')
    elif fmt == "playwright":
        array_doc(f, '{"config":{"projects":[{"id":"chromium","name":"chromium"}]},"suites":[\n', "suites",
                  playwright_file, '],"errors":[],"stats":{}}\n')
    elif fmt == "ctrf":
        array_doc(f, '{"reportFormat":"CTRF","specVersion":"1.0.0","results":{"tool":{"name":"gen"},"tests":[\n',
                  "results.tests", ctrf_test, "]}}\n")
    elif fmt == "cucumber":
        array_doc(f, "[\n", "", cucumber_feature, "]\n")
    elif fmt == "tap":
        tap(f)
    else:
        sys.exit(f"unknown format {fmt}")
