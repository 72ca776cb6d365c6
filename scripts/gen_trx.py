#!/usr/bin/env python3
"""Generate a large VSTest TRX report on stdout, results before definitions as vstest writes them.

usage: gen_trx.py N [SEED]
About 1 in 10 results fails with a stack trace, 1 in 20 is not executed, 1 in 8 has output.
"""
import random, sys

n = int(sys.argv[1]); rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 7)
w = sys.stdout.write
w('\ufeff<?xml version="1.0" encoding="utf-8"?>\r\n<TestRun id="00000000-0000-0000-0000-000000000000" name="bench" '
  'xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">\r\n'
  '  <Times creation="2024-05-14T12:00:00.0000000+02:00" start="2024-05-14T12:00:00.0000000+02:00" />\r\n  <Results>\r\n')
frames = "".join("   at Bench.Pkg%d.Service.Method%d() in C:\\src\\Service.cs:line %d\r\n" % (i, i, 10 + i) for i in range(25))
for i in range(n):
    tid = "%08x-0000-0000-0000-%012x" % (i // 50, i)
    eid = "%08x-1111-0000-0000-%012x" % (i // 50, i)
    r = rnd.random()
    outcome = "Failed" if r < 0.10 else "NotExecuted" if r < 0.15 else "Passed"
    head = ('    <UnitTestResult executionId="%s" testId="%s" testName="Bench.Suite%d.ServiceTests.Handles_&lt;edge&gt;_case_é_%d" '
            'computerName="ci" duration="00:00:%02d.%07d" startTime="2024-05-14T12:00:00.0000000+02:00" '
            'endTime="2024-05-14T12:00:01.0000000+02:00" testType="13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b" outcome="%s" '
            'testListId="8c84fa94-04c1-424b-9868-57a2d4851a1d" relativeResultsDirectory="%s"'
            % (eid, tid, i // 50, i, rnd.randrange(3), rnd.randrange(10**7), outcome, eid))
    body = ""
    if outcome == "Failed":
        body += ('<ErrorInfo><Message>Assert.AreEqual failed. Expected:&lt;1&gt;. Actual:&lt;2&gt;.</Message>'
                 '<StackTrace>%s</StackTrace></ErrorInfo>' % frames)
    if rnd.random() < 0.125:
        body = '<StdOut>log line one\r\nlog line two &amp; more</StdOut>' + body
    if body:
        w(head + '>\r\n      <Output>' + body + '</Output>\r\n    </UnitTestResult>\r\n')
    else:
        w(head + ' />\r\n')
w('  </Results>\r\n  <TestDefinitions>\r\n')
for i in range(n):
    tid = "%08x-0000-0000-0000-%012x" % (i // 50, i)
    w('    <UnitTest name="Handles_&lt;edge&gt;_case_é_%d" storage="c:\\build\\bench.tests.dll" id="%s">\r\n'
      '      <Execution id="%08x-1111-0000-0000-%012x" />\r\n'
      '      <TestMethod codeBase="C:\\build\\Bench.Tests.dll" adapterTypeName="executor://mstestadapter/v2" '
      'className="Bench.Suite%d.ServiceTests" name="Handles_edge_case_%d" />\r\n    </UnitTest>\r\n'
      % (i, tid, i // 50, i, i // 50, i))
w('  </TestDefinitions>\r\n</TestRun>\r\n')
