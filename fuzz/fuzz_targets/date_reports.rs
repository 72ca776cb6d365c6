//! Reports of every format with one value in each date- or duration-bearing attribute or field:
//! for the `date_fields` fuzz target and the no-panic test (`tests/no_panic.rs`).

pub fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('\u{0}', "&#0;")
}

/// Every date- or duration-bearing attribute of each XML format, filled with `v`.
pub fn reports(v: &str) -> Vec<(&'static str, String)> {
    let v = xml_escape(v);
    vec![
        ("junit.xml", format!(r#"<testsuites time="{v}" timestamp="{v}"><testsuite name="s" timestamp="{v}" time="{v}"><testcase name="a" time="{v}" timestamp="{v}"/></testsuite></testsuites>"#)),
        ("nunit3.xml", format!(r#"<test-run start-time="{v}" end-time="{v}" duration="{v}"><test-suite type="TestFixture" name="s" start-time="{v}" duration="{v}"><test-case name="a" fullname="s.a" result="Passed" start-time="{v}" end-time="{v}" duration="{v}"/></test-suite></test-run>"#)),
        ("nunit2.xml", format!(r#"<test-results date="{v}" time="{v}"><test-suite name="s" time="{v}"><results><test-case name="a" executed="True" result="Success" success="True" time="{v}"/></results></test-suite></test-results>"#)),
        ("xunit2.xml", format!(r#"<assemblies timestamp="{v}"><assembly name="a" run-date="{v}" run-time="{v}" time="{v}" start-rtf="{v}"><collection name="c" time="{v}"><test name="t" type="T" method="m" result="Pass" time="{v}" start-rtf="{v}" finish-rtf="{v}"/></collection></assembly></assemblies>"#)),
        ("xunit1.xml", format!(r#"<assembly name="a" run-date="{v}" run-time="{v}" time="{v}"><class name="c" time="{v}"><test name="t" type="T" method="m" result="Pass" time="{v}"/></class></assembly>"#)),
        ("trx.trx", format!(r#"<TestRun><Times creation="{v}" start="{v}" finish="{v}"/><Results><UnitTestResult testId="1" testName="a" outcome="Passed" startTime="{v}" endTime="{v}" duration="{v}"/></Results><TestDefinitions><UnitTest id="1" name="a"><TestMethod className="C" name="a"/></UnitTest></TestDefinitions></TestRun>"#)),
        ("testng.xml", format!(r#"<testng-results><suite name="s" started-at="{v}" finished-at="{v}" duration-ms="{v}"><test name="t" started-at="{v}" duration-ms="{v}"><class name="C"><test-method name="m" status="PASS" started-at="{v}" finished-at="{v}" duration-ms="{v}"/></class></test></suite></testng-results>"#)),
        ("results.csv", format!("name,status,duration,duration_ms,start\na,passed,\"{v}\",,\"{v}\"\nb,failed,,\"{v}\",\"{v}\"\n", v = v.replace('"', "\"\""))),
    ]
}
