#!/usr/bin/env python3
"""Generates a directory of many small reports, as CI runs leave them, for make bench.

usage: gen_many.py KIND DIR N [SEED]
KIND:
  surefire  N files TEST-<class>.xml as Maven surefire writes them: one <testsuite> per file
            with surefire's <properties> block (18 system properties), 5 to 40 test cases
            (20 on average), about 1 in 10 failing with a stack trace, 1 in 30 erroring, 1 in 20
            skipped, 1 in 8 with system-out, and one file in ten with a <system-out> of its own.
  jest      N files, one `jest --json` report each (20 tests, 1 in 10 failing).
  allure    N result files *-result.json in DIR (an allure-results directory), with a
            container file for one in fifty, and one in ten tests retried once (same historyId).
Sizes vary with the seed; the same arguments write the same files.
"""
import json, os, random, sys

kind, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 11)
os.makedirs(out, exist_ok=True)
FRAMES = "".join(f"\tat com.example.pkg{i}.Service.method{i}(Service.java:{10 + i})\n" for i in range(10))
PROPS = [("java.version", "21.0.2"), ("java.vendor", "Eclipse Adoptium"), ("os.name", "Linux"),
         ("os.arch", "amd64"), ("user.dir", "/home/runner/work/app/app"), ("file.encoding", "UTF-8"),
         ("maven.home", "/usr/share/apache-maven-3.9.6"), ("surefire.test.class.path", "/home/runner/.m2/x.jar")]
PROPS += [(f"sun.property.{i}", f"value-{i}-" + "x" * (i % 30)) for i in range(10)]


def surefire(i):
    module, cls = i % 37, f"com.example.module{i % 37}.Feature{i}Test"
    k = max(5, min(40, int(rnd.gauss(20, 8))))
    cases, fails, errs, skips = [], 0, 0, 0
    for j in range(k):
        t = f"{rnd.random() * 0.5:.3f}"
        attrs = f'name="test{j}_handles_case_{j * 7}" classname="{cls}" time="{t}"'
        r = rnd.random()
        if r < 0.10:
            fails += 1
            cases.append(f'  <testcase {attrs}>\n    <failure message="expected:&lt;{j}&gt; but was:&lt;{j + 1}&gt;" '
                         f'type="org.opentest4j.AssertionFailedError">org.opentest4j.AssertionFailedError: '
                         f'expected:&lt;{j}&gt; but was:&lt;{j + 1}&gt;\n{FRAMES}</failure>\n  </testcase>')
        elif r < 0.133:
            errs += 1
            cases.append(f'  <testcase {attrs}>\n    <error message="Connection refused" type="java.net.ConnectException">'
                         f'<![CDATA[java.net.ConnectException: Connection refused\n{FRAMES}]]></error>\n  </testcase>')
        elif r < 0.183:
            skips += 1
            cases.append(f'  <testcase {attrs}>\n    <skipped message="Disabled on CI"/>\n  </testcase>')
        elif r < 0.308:
            cases.append(f'  <testcase {attrs}>\n    <system-out><![CDATA[' + f"12:00:0{j % 10} INFO {cls} - step {j}\n" * 6
                         + ']]></system-out>\n  </testcase>')
        else:
            cases.append(f'  <testcase {attrs}/>')
    props = "\n".join(f'    <property name="{a}" value="{b}"/>' for a, b in PROPS)
    own = "\n  <system-out><![CDATA[Started " + cls + "\n]]></system-out>" if i % 10 == 0 else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report.xsd" '
            f'version="3.0.2" name="{cls}" time="{rnd.random() * 5:.3f}" tests="{k}" errors="{errs}" '
            f'skipped="{skips}" failures="{fails}">\n  <properties>\n{props}\n  </properties>\n'
            + "\n".join(cases) + own + "\n</testsuite>\n")


def jest(i):
    tests = []
    for j in range(20):
        s = "failed" if rnd.random() < 0.1 else "pending" if rnd.random() < 0.05 else "passed"
        tests.append({"ancestorTitles": [f"module {i}", f"feature {j % 4}"], "fullName": f"module {i} feature {j}",
                      "title": f"works {j}", "status": s, "duration": rnd.randint(1, 40),
                      "failureMessages": ["Error: expect(received).toBe(expected)\n    at Object.<anonymous> "
                                          f"(src/m{i}.test.js:{j}:5)"] if s == "failed" else [],
                      "location": None})
    return json.dumps({"numTotalTests": 20, "success": False, "startTime": 1715688000000,
                       "testResults": [{"name": f"/repo/src/module{i}.test.js", "status": "failed", "message": "",
                                        "startTime": 1715688000000, "endTime": 1715688000100,
                                        "assertionResults": tests}]}, indent=2)


def allure(i, attempt):
    s = "passed" if attempt or rnd.random() > 0.12 else "failed"
    r = {"uuid": f"{i:08d}-{attempt}-0000-0000-000000000000", "historyId": f"h{i:08x}", "testCaseId": f"t{i}",
         "name": f"test {i} works", "fullName": f"tests.test_mod{i % 50}.test_{i}", "status": s,
         "stage": "finished", "start": 1715688000000 + i * 10 + attempt * 5, "stop": 1715688000008 + i * 10 + attempt * 5,
         "labels": [{"name": "suite", "value": f"test_mod{i % 50}"}, {"name": "framework", "value": "pytest"},
                    {"name": "tag", "value": "smoke"}],
         "steps": [{"name": f"step {k}", "status": "passed", "start": 1, "stop": 2} for k in range(2)]}
    if s == "failed":
        r["statusDetails"] = {"message": "AssertionError: assert 1 == 2", "trace": "tests/x.py:10: in test\n    assert 1 == 2"}
    return json.dumps(r)


if kind == "surefire":
    for i in range(n):
        with open(os.path.join(out, f"TEST-com.example.module{i % 37}.Feature{i}Test.xml"), "w") as f:
            f.write(surefire(i))
elif kind == "jest":
    for i in range(n):
        with open(os.path.join(out, f"jest-{i:05d}.json"), "w") as f:
            f.write(jest(i))
elif kind == "allure":
    written = 0
    i = 0
    while written < n:
        for attempt in range(2 if i % 10 == 3 and written + 1 < n else 1):
            with open(os.path.join(out, f"{i:08d}-{attempt}-result.json"), "w") as f:
                f.write(allure(i, attempt))
            written += 1
        if i % 50 == 0:
            with open(os.path.join(out, f"{i:08d}-container.json"), "w") as f:
                f.write(json.dumps({"uuid": f"c{i}", "children": [f"{i:08d}-0-0000-0000-000000000000"],
                                    "befores": [{"name": "db", "status": "passed", "start": 1, "stop": 2}]}))
        i += 1
else:
    sys.exit(f"gen_many.py: unknown kind {kind!r}: surefire, jest or allure")
