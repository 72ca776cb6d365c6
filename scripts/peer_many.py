#!/usr/bin/env python3
"""The peers on a directory of many reports, in one process, one file after another, as a
user's script would call them (sorted names; one JSON line per test on stdout).

usage: peer_many.py PEER DIR
PEER: codecov (test-results-parser's parse_junit_xml, one call per file), junitparser
(JUnitXml.fromfile per file), json (Python's json.load per file, walking a Jest report's tests),
allure (json.load of every *-result.json, the latest of each historyId kept, as Allure does).
"""
import json, os, sys

peer, d = sys.argv[1], sys.argv[2]
names = sorted(os.listdir(d))
out = sys.stdout
if peer == "codecov":
    import test_results_parser as t
    for n in names:
        with open(os.path.join(d, n), "rb") as f:
            info = t.parse_junit_xml(f.read())
        for r in info.testruns:
            out.write(json.dumps({"name": r.name, "classname": r.classname, "duration": r.duration,
                                  "outcome": str(r.outcome), "testsuite": r.testsuite,
                                  "failure_message": r.failure_message}, ensure_ascii=False) + "\n")
elif peer == "junitparser":
    from junitparser import JUnitXml, Failure, Error, Skipped
    for n in names:
        xml = JUnitXml.fromfile(os.path.join(d, n))
        for suite in ([xml] if xml._tag == "testsuite" else xml):
            for case in suite:
                res = case.result
                status, msg = "passed", None
                if res:
                    status = {Failure: "failed", Error: "error", Skipped: "skipped"}.get(type(res[0]), "failed")
                    msg = res[0].message
                out.write(json.dumps({"suite": suite.name, "classname": case.classname, "name": case.name,
                                      "time": case.time, "status": status, "message": msg,
                                      "system_out": case.system_out}, ensure_ascii=False) + "\n")
elif peer == "json":
    for n in names:
        with open(os.path.join(d, n)) as f:
            doc = json.load(f)
        for tr in doc["testResults"]:
            for a in tr["assertionResults"]:
                out.write(json.dumps({"file": tr["name"], "name": a["fullName"], "status": a["status"],
                                      "duration": a["duration"], "message": (a["failureMessages"] or [None])[0]},
                                     ensure_ascii=False) + "\n")
elif peer == "allure":
    latest = {}
    for n in names:
        if n.endswith("-result.json"):
            with open(os.path.join(d, n)) as f:
                r = json.load(f)
            k = r.get("historyId") or r["uuid"]
            if k not in latest or r.get("stop", 0) >= latest[k].get("stop", 0):
                latest[k] = r
    for r in latest.values():
        out.write(json.dumps({"name": r["fullName"], "status": r["status"],
                              "message": r.get("statusDetails", {}).get("message")}, ensure_ascii=False) + "\n")
else:
    sys.exit(f"peer_many.py: unknown peer {peer!r}")
