//! The report files for other CI systems (`DTS_REPORT_JSON`, `DTS_REPORT_JUNIT`,
//! `DTS_REPORT_DOTENV`), written by the real binary against mockito in every outcome, on GitHub
//! and outside it. JUnit files are validated with `xmllint` against the schemas in
//! `tests/data/junit` (see its README).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use mockito::{Mock, Server, ServerGuard};
use serde_json::{Value, json};

const JENKINS_XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/junit/jenkins-junit-4.xsd"
);
const WINDYROAD_XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/junit/windyroad-JUnit.xsd"
);

/// Everything a report must survive: markup, CDATA ends, quotes, controls, ANSI, commands.
const HOSTILE: &str = "table <x> & \"y\" 'z' ]]> <![CDATA[ </failure> \u{1b}[31mred\u{1b}[0m nul\u{0} bell\u{7} vt\u{b}\nsecond line\r\n::error::pwned %0A ##[error]x $(id) `id`";

fn answer_on(server: &mut ServerGuard, job: &str, body: &str, times: usize) -> Mock {
    server
        .mock("POST", "/")
        .match_body(job_body(job).as_str())
        .with_header("content-type", "application/json")
        .with_body(body)
        .expect(times)
        .create()
}

fn reply(server: &mut ServerGuard, body: &str) -> Mock {
    answer_on(server, JOB_ID, body, 1)
}

/// Validates with `xmllint --schema`; a missing validator fails the test, never skips it.
fn xmllint(xml: &str, schema: &str) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!(
        "dts-gate-xmllint-{}-{}",
        std::process::id(),
        dts_gate::report::os_random()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("TEST-dts-gate.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", schema])
        .arg(&file)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = out.unwrap_or_else(|e| {
        panic!(
            "xmllint could not be run ({e}); these tests validate JUnit reports with it. Install it: `apt-get install libxml2-utils` (Debian/Ubuntu; .ci/run does this), `apk add libxml2-utils` (Alpine); macOS ships it"
        )
    });
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The value of `attr` on the first `<element ` tag.
fn attr(xml: &str, element: &str, attr: &str) -> Option<String> {
    let start = xml.find(&format!("<{element} "))?;
    let tag = &xml[start..start + xml[start..].find('>')?];
    let at = tag.find(&format!(" {attr}=\""))? + attr.len() + 3;
    Some(tag[at..at + tag[at..].find('"')?].to_string())
}

/// Removes `<skipped>…</skipped>` and the `skipped` count: what the Ant schema cannot express.
fn without_skipped(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    const END: &str = "</skipped>";
    while let Some(i) = rest.find("<skipped>") {
        out.push_str(&rest[..i]);
        rest = &rest[i + rest[i..].find(END).unwrap() + END.len()..];
    }
    out.push_str(rest);
    match attr(&out, "testsuite", "skipped") {
        Some(n) => out.replacen(&format!(" skipped=\"{n}\""), "", 1),
        None => out,
    }
}

/// Valid against both schemas (the Ant one once skips are removed), counts matching the cases.
fn check_junit(xml: &str) -> Junit {
    xmllint(xml, JENKINS_XSD)
        .unwrap_or_else(|e| panic!("not valid per Jenkins junit-4.xsd: {e}\n{xml}"));
    xmllint(&without_skipped(xml), WINDYROAD_XSD)
        .unwrap_or_else(|e| panic!("not valid per windyroad JUnit.xsd: {e}\n{xml}"));
    let junit = Junit {
        xml: xml.to_string(),
        cases: xml.matches("<testcase ").count(),
        failures: xml.matches("<failure ").count(),
        errors: xml.matches("<error ").count(),
        skipped: xml.matches("<skipped>").count(),
    };
    let count = |a: &str| {
        attr(xml, "testsuite", a)
            .map(|v| v.parse::<usize>().unwrap())
            .unwrap_or(0)
    };
    assert_eq!(count("tests"), junit.cases, "{xml}");
    assert_eq!(count("failures"), junit.failures, "{xml}");
    assert_eq!(count("errors"), junit.errors, "{xml}");
    assert_eq!(count("skipped"), junit.skipped, "{xml}");
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"));
    let stamp = attr(xml, "testsuite", "timestamp").unwrap();
    assert_eq!(stamp.len(), 19, "{stamp}");
    // Unique class name + name pairs.
    let mut keys: Vec<(String, String)> = xml
        .split("<testcase ")
        .skip(1)
        .map(|t| {
            let t = format!("<testcase {t}");
            (
                attr(&t, "testcase", "classname").unwrap(),
                attr(&t, "testcase", "name").unwrap(),
            )
        })
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "duplicate test cases:\n{xml}");
    junit
}

#[derive(Debug)]
struct Junit {
    xml: String,
    cases: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

fn check_json(text: &str, exit_code: i32) -> Value {
    let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    assert_eq!(v["schema_version"], 1);
    assert_eq!(
        v["tool"],
        json!({"name": "dts-gate", "version": env!("CARGO_PKG_VERSION")})
    );
    assert_eq!(v["exit_code"], exit_code);
    assert_eq!(v["passed"], exit_code == 0);
    assert!(v["elapsed_seconds"].is_number() && v["polls"].is_u64());
    assert!(v["jobs"].is_array() && v["configuration_errors"].is_array());
    v
}

/// GitLab's dotenv rules: `KEY=VALUE`, key of letters, digits and `_`, no spaces or quotes,
/// under 5 KB, and at most 20 variables.
fn check_dotenv(text: &str, exit_code: i32) -> std::collections::HashMap<String, String> {
    assert!(text.len() < 5 * 1024);
    let mut vars = std::collections::HashMap::new();
    for line in text.lines() {
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("{line:?}"));
        assert!(
            !key.is_empty()
                && !key.starts_with(|c: char| c.is_ascii_digit())
                && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "{key:?}"
        );
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._,:/-".contains(&b)),
            "unsafe value in {line:?}"
        );
        vars.insert(key.to_string(), value.to_string());
    }
    assert!(vars.len() <= 20);
    assert_eq!(vars["DTS_GATE_EXIT_CODE"], exit_code.to_string());
    assert_eq!(vars["DTS_GATE_PASSED"], (exit_code == 0).to_string());
    vars
}

/// Every report exists, is valid, and agrees with the exit code.
fn check_all(run: &Run) -> (Value, Junit, std::collections::HashMap<String, String>) {
    let r = &run.reports;
    let (json, junit, dotenv) = (
        r.json
            .as_deref()
            .unwrap_or_else(|| panic!("no JSON report: {run:?}")),
        r.junit
            .as_deref()
            .unwrap_or_else(|| panic!("no JUnit report: {run:?}")),
        r.dotenv
            .as_deref()
            .unwrap_or_else(|| panic!("no dotenv report: {run:?}")),
    );
    for text in [json, junit, dotenv] {
        assert!(
            !text.contains("stale junk"),
            "appended, not replaced:\n{text}"
        );
    }
    run.assert_no_secrets();
    (
        check_json(json, run.code),
        check_junit(junit),
        check_dotenv(dotenv, run.code),
    )
}

#[test]
fn a_pass_reports_one_passing_case() {
    let mut server = Server::new();
    let _m = reply(&mut server, &pass());
    let run = Gate::against(&server.url()).with_reports().run();
    assert_eq!(run.code, 0, "{run:?}");
    let (json, junit, env) = check_all(&run);
    assert_eq!(json["verdict"], "passed");
    assert_eq!(json["api_version"], "2018-03-30");
    assert_eq!(json["job_kind"], "migration");
    assert_eq!(json["region"], "ap-guangzhou");
    assert_eq!(json["polls"], 1);
    let job = &json["jobs"][0];
    assert_eq!(job["id"], JOB_ID);
    assert_eq!(job["result"], "passed");
    assert_eq!(job["status"], "finished");
    assert_eq!(job["check_flag"], "1");
    assert_eq!(job["progress"], 100);
    assert_eq!(job["error_code"], "0");
    assert_eq!(job["request_id"], "req-finished-1");
    assert_eq!(job["steps"], json!([]));
    assert_eq!(
        job["migration"],
        json!({"requested": false, "started": false, "request_id": null, "error": null})
    );
    assert_eq!((junit.cases, junit.failures, junit.errors), (1, 0, 0));
    assert!(junit.xml.contains(&format!(
        "<testcase classname=\"dts-gate.{JOB_ID}\" name=\"check {JOB_ID}\""
    )));
    assert_eq!(env["DTS_GATE_RESULT"], "passed");
    assert_eq!(env["DTS_GATE_CHECK_FLAG"], "1");
    assert_eq!(env["DTS_GATE_REQUEST_ID"], "req-finished-1");
}

#[test]
fn a_hostile_message_stays_data_in_every_report() {
    let mut server = Server::new();
    let _m = reply(&mut server, &not_passed(HOSTILE));
    for outside in [false, true] {
        let gate = Gate::against(&server.url()).with_reports();
        let run = if outside { gate.outside_github() } else { gate }.run();
        assert_eq!(run.code, 1, "{run:?}");
        let (json, junit, env) = check_all(&run);
        assert_eq!(json["verdict"], "not-passed");
        // JSON carries the message exactly, controls included.
        assert_eq!(json["jobs"][0]["message"], HOSTILE);
        assert_eq!(json["message"], HOSTILE);
        assert_eq!((junit.cases, junit.failures, junit.errors), (1, 1, 0));
        let xml = &junit.xml;
        assert!(!xml.contains('\u{1b}') && !xml.contains('\u{0}') && !xml.contains('\u{7}'));
        assert!(xml.contains("table &lt;x&gt; &amp; &quot;y&quot; &apos;z&apos; ]]&gt; &lt;![CDATA[ &lt;/failure&gt; red"));
        assert!(xml.contains("nul\\u{0} bell\\u{7} vt\\u{b}\nsecond line&#13;\n::error::pwned"));
        assert!(xml.contains("type=\"CheckNotPassed\""));
        // Free text never reaches the dotenv file.
        assert!(!run.reports.dotenv.as_ref().unwrap().contains("table"));
        assert_eq!(env["DTS_GATE_ERROR_CODE"], "-1");
    }
}

#[test]
fn a_timeout_is_an_error_case() {
    let mut server = Server::new();
    let _m = answer_on(&mut server, JOB_ID, &running("50"), 100);
    let run = Gate::against(&server.url())
        .env("DTS_TIMEOUT", "1")
        .env("DTS_POLL_INTERVAL", "300ms")
        .with_reports()
        .run();
    assert_eq!(run.code, 4, "{run:?}");
    let (json, junit, env) = check_all(&run);
    assert_eq!(json["verdict"], "timed-out");
    assert_eq!(json["jobs"][0]["error_code"], "Timeout");
    assert_eq!(json["jobs"][0]["progress"], 50);
    assert_eq!((junit.cases, junit.failures, junit.errors), (1, 0, 1));
    assert!(
        junit
            .xml
            .contains("<error message=\"DTS check timed out: dts-1kl0iy0v\" type=\"Timeout\">")
    );
    assert_eq!(env["DTS_GATE_RESULT"], "timed-out");
    assert_eq!(env["DTS_GATE_STATUS"], "running");
}

#[test]
fn an_api_error_is_an_error_case_with_its_code() {
    let mut server = Server::new();
    let _m = reply(&mut server, &signature_failure());
    let run = Gate::against(&server.url()).with_reports().run();
    assert_eq!(run.code, 3, "{run:?}");
    let (json, junit, env) = check_all(&run);
    assert_eq!(json["verdict"], "error");
    assert_eq!(
        json["jobs"][0]["error_code"],
        "AuthFailure.SignatureFailure"
    );
    assert_eq!(json["jobs"][0]["request_id"], "req-error");
    assert_eq!(json["jobs"][0]["status"], Value::Null);
    assert_eq!((junit.cases, junit.failures, junit.errors), (1, 0, 1));
    assert!(junit.xml.contains("type=\"AuthFailure.SignatureFailure\""));
    assert_eq!(env["DTS_GATE_ERROR_CODE"], "AuthFailure.SignatureFailure");
    assert_eq!(env["DTS_GATE_STATUS"], "");
}

#[test]
fn a_configuration_error_still_writes_every_report() {
    for outside in [false, true] {
        let gate = Gate::bare()
            .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
            .env("TENCENTCLOUD_REGION", "ap-guangzhou")
            .env("DTS_TIMEOUT", "soon <&>")
            .with_reports();
        let run = if outside { gate.outside_github() } else { gate }.run();
        assert_eq!(run.code, 2, "{run:?}");
        let (json, junit, env) = check_all(&run);
        assert_eq!(json["verdict"], "error");
        assert_eq!(json["api_version"], Value::Null);
        assert_eq!(json["job_kind"], Value::Null);
        assert_eq!(json["region"], Value::Null);
        assert_eq!(json["jobs"], json!([]));
        assert_eq!(json["error_code"], "InvalidConfiguration");
        let errors = json["configuration_errors"].as_array().unwrap();
        let variables: Vec<&str> = errors
            .iter()
            .map(|e| e["variable"].as_str().unwrap())
            .collect();
        assert_eq!(variables, ["DTS_JOB_ID", "DTS_TIMEOUT"]);
        assert!(
            errors[0]["problem"]
                .as_str()
                .unwrap()
                .starts_with("is not set")
        );
        assert_eq!((junit.cases, junit.failures, junit.errors), (1, 0, 1));
        assert!(
            junit
                .xml
                .contains("<testcase classname=\"dts-gate\" name=\"configuration\"")
        );
        assert!(
            junit
                .xml
                .contains("\nDTS_TIMEOUT: got &quot;soon &lt;&amp;&gt;&quot;; expected"),
            "{}",
            junit.xml
        );
        assert_eq!(env["DTS_GATE_RESULT"], "error");
        assert_eq!(env["DTS_GATE_ERROR_CODE"], "InvalidConfiguration");
    }
    // A bad command line is a configuration error too.
    let run = Gate::bare().arg("--job=dts-1").with_reports().run();
    assert_eq!(run.code, 2);
    let (json, _, _) = check_all(&run);
    assert_eq!(json["configuration_errors"][0]["variable"], "command line");
}

#[test]
fn several_jobs_get_a_case_each() {
    let mut server = Server::new();
    let _a = answer_on(&mut server, "dts-aaa1", &pass(), 1);
    let _b = answer_on(&mut server, "dts-bbb2", &not_passed("no privilege"), 1);
    let run = Gate::against(&server.url())
        .env("DTS_JOB_ID", "dts-aaa1, dts-bbb2")
        .env("DTS_START_MIGRATION", "true")
        .with_reports()
        .outside_github()
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    let (json, junit, env) = check_all(&run);
    let jobs = json["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        (jobs[0]["id"].as_str(), jobs[0]["result"].as_str()),
        (Some("dts-aaa1"), Some("passed"))
    );
    assert_eq!(jobs[1]["result"], "not-passed");
    assert_eq!(jobs[1]["message"], "no privilege");
    for job in jobs {
        assert_eq!(
            job["migration"],
            json!({"requested": true, "started": false, "request_id": null, "error": null})
        );
    }
    assert_eq!(json["migration_started"], false);
    assert_eq!((junit.cases, junit.failures, junit.errors), (2, 1, 0));
    assert!(
        junit.xml.contains("name=\"check dts-aaa1\" time=")
            && junit.xml.contains("name=\"check dts-bbb2\"")
    );
    assert_eq!(env["DTS_GATE_RESULT"], "not-passed");
    assert_eq!(env["DTS_GATE_MIGRATION_STARTED"], "false");
}

#[test]
fn a_started_migration_is_in_the_json() {
    let mut server = Server::new();
    let _m = server
        .mock("POST", "/")
        .match_header("x-tc-action", "DescribeMigrateCheckJob")
        .with_body(pass())
        .create();
    let _s = server
        .mock("POST", "/")
        .match_header("x-tc-action", "StartMigrateJob")
        .with_body(acknowledged("start-1"))
        .create();
    let run = Gate::against(&server.url())
        .env("DTS_START_MIGRATION", "true")
        .with_reports()
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let (json, _, env) = check_all(&run);
    assert_eq!(
        json["jobs"][0]["migration"],
        json!({"requested": true, "started": true, "request_id": "start-1", "error": null})
    );
    assert_eq!(json["migration_started"], true);
    assert_eq!(env["DTS_GATE_MIGRATION_STARTED"], "true");
}

/// A check item with one log line, as these reports show it.
fn item1(name: &str, result: &str, reason: &str) -> Item {
    item(name, result, reason).logs(1)
}

/// The gate, asking for every report, against a 2021-12-06 service answering `check`.
fn run_2021(check: Check) -> Run {
    let mut server = Server::new();
    let _m = reply(&mut server, &check.request_id("req-21").body());
    Gate::against(&server.url())
        .env("DTS_API_VERSION", "2021-12-06")
        .with_reports()
        .run()
}

#[test]
fn a_2021_check_gets_a_case_per_step() {
    let steps = [
        step(0, "ConnectDBCheck", "pass").named("Connection"),
        step(1, "SrcPrivilegeCheck", "failed")
            .named("Source privileges")
            .items([
                item1("REPLICATION CLIENT", "failed", HOSTILE),
                item1("grants", "warning", "wide grants"),
            ]),
        step(2, "OptimizeCheck", "failed")
            .named("Optimisation")
            .skipped()
            .items([item1("keys", "failed", "no primary key")]),
        step(3, "VersionCheck", "warning")
            .named("Versions")
            .items([item1("minor", "warning", "older minor version")]),
        step(4, "DstEmptyCheck", "failed").named(HOSTILE),
        step(5, "BinlogCheck", "blocked").named("Binlog"),
        // A repeated label must still make a unique test case.
        step(6, "BinlogCheck", "notStarted").named("Binlog"),
    ];
    let run = run_2021(check("success", "checkNotPass").brief("brief").steps(steps));
    assert_eq!(run.code, 1, "{run:?}");
    let (json, junit, env) = check_all(&run);
    assert_eq!(json["api_version"], "2021-12-06");
    let job = &json["jobs"][0];
    assert_eq!(job["check_flag"], "checkNotPass");
    let steps = job["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 7);
    assert_eq!(steps[1]["id"], "SrcPrivilegeCheck");
    assert_eq!(steps[1]["no"], 1);
    assert_eq!(steps[1]["items"][0]["failure_reason"], HOSTILE);
    assert_eq!(
        steps[1]["items"][0]["help_doc"][0],
        "https://cloud.tencent.com/document/product/571/58685"
    );
    assert_eq!(
        steps[1]["items"][0]["error_log"],
        json!(["REPLICATION CLIENT: log 1"])
    );
    assert_eq!(steps[2]["skipped"], true);
    assert_eq!(steps[4]["name"], HOSTILE);
    // Job + 7 steps; the job and two failed steps fail; the user-skipped, blocked and
    // not-started steps are skipped.
    assert_eq!(
        (junit.cases, junit.failures, junit.errors, junit.skipped),
        (8, 3, 0, 3)
    );
    let xml = &junit.xml;
    assert!(xml.contains(&format!(
        "name=\"{JOB_ID} / Source privileges (SrcPrivilegeCheck)\" time=\"0.000\">\n      <failure message=\"check step Source privileges (SrcPrivilegeCheck) failed\" type=\"CheckStepFailed\">REPLICATION CLIENT:\ntable &lt;x&gt;"
    )), "{xml}");
    assert!(xml.contains("Solution: fix REPLICATION CLIENT\nHelp: https://cloud.tencent.com/document/product/571/58685\nLog:\nREPLICATION CLIENT: log 1</failure>"));
    assert!(xml.contains("<skipped>failed, but skipped by the user (SkipCheckItem)</skipped>"));
    assert!(xml.contains("<skipped>step status blocked: not run</skipped>"));
    assert!(xml.contains(&format!("name=\"{JOB_ID} / Binlog (BinlogCheck) #2\"")));
    // A hostile step name is one line in the test name.
    assert!(xml.contains(&format!("name=\"{JOB_ID} / table &lt;x&gt; &amp; &quot;y&quot; &apos;z&apos; ]]&gt; &lt;![CDATA[ &lt;/failure&gt; red nul")));
    // The passing warning step passes, and its warning is in system-out.
    assert!(xml.contains(&format!(
        "name=\"{JOB_ID} / Versions (VersionCheck)\" time=\"0.000\"/>"
    )));
    assert!(
        xml.contains(
            "warning: dts-1kl0iy0v / Versions (VersionCheck) › minor: older minor version"
        )
    );
    assert_eq!(
        env["DTS_GATE_FAILED_STEPS"],
        "SrcPrivilegeCheck,DstEmptyCheck"
    );
    assert_eq!(env["DTS_GATE_WARNING_STEPS"], "OptimizeCheck,VersionCheck");
}

#[test]
fn a_passing_2021_check_is_valid_against_both_schemas_as_is() {
    let steps = [
        step(0, "ConnectDBCheck", "pass").named("Connection"),
        step(1, "VersionCheck", "warning")
            .named("Versions")
            .items([item1("minor", "warning", "old")]),
    ];
    let run = run_2021(check("success", "checkPass").brief("ok").steps(steps));
    assert_eq!(run.code, 0, "{run:?}");
    let (_, junit, _) = check_all(&run);
    assert_eq!((junit.cases, junit.failures, junit.skipped), (3, 0, 0));
    xmllint(&junit.xml, WINDYROAD_XSD).unwrap();
}

#[test]
fn the_demo_writes_reports() {
    let run = Gate::bare()
        .arg("--demo=fail")
        .env("DTS_API_VERSION", "2021-12-06")
        .env("DTS_POLL_INTERVAL", "100ms")
        .with_reports()
        .outside_github()
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    let (json, junit, env) = check_all(&run);
    assert_eq!(json["jobs"][0]["steps"].as_array().unwrap().len(), 6);
    assert!(junit.failures >= 2);
    assert_eq!(env["DTS_GATE_FAILED_STEPS"], "SrcPrivilegeCheck");
    // Each report says plainly that it is the demo's.
    assert_eq!(json["demo"], true);
    assert_eq!(env["DTS_GATE_DEMO"], "true");
    let xml = run.reports.junit.as_deref().unwrap();
    assert!(
        xml.contains("<property name=\"dts-gate.demo\" value=\"true\"/>"),
        "{xml}"
    );
    assert!(xml.contains("demo run: simulated answers, nothing was sent to Tencent Cloud"));
}

#[test]
fn a_real_run_is_no_demo() {
    let mut server = Server::new();
    let _m = reply(&mut server, &pass());
    let run = Gate::against(&server.url()).with_reports().run();
    let (json, _, env) = check_all(&run);
    assert_eq!(json["demo"], false);
    assert_eq!(env["DTS_GATE_DEMO"], "false");
    assert!(!run.reports.junit.as_deref().unwrap().contains("demo"));
}

#[test]
fn an_unwritable_report_is_a_warning_and_keeps_the_exit_code() {
    let mut server = Server::new();
    let _m = reply(&mut server, &pass());
    // A path below a regular file can never be created.
    let blocker = std::env::temp_dir().join(format!("dts-gate-blocker-{}", std::process::id()));
    std::fs::write(&blocker, "").unwrap();
    let path = blocker.join("report.json");
    let path = path.to_str().unwrap();
    let run = Gate::against(&server.url())
        .env("DTS_REPORT_JSON", path)
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let warnings = run.commands_named("warning");
    assert_eq!(warnings.len(), 1, "{run:?}");
    assert_eq!(warnings[0].properties[0].1, "JSON report not written");
    assert!(
        warnings[0]
            .data
            .contains(&format!("could not write DTS_REPORT_JSON ({path})"))
    );
    let run = Gate::against(&server.url())
        .env("DTS_REPORT_JUNIT", path)
        .outside_github()
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("warning: JUnit report not written: could not write DTS_REPORT_JUNIT"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_file(&blocker);
    assert!(!Path::new(path).exists());
}

#[test]
fn a_report_path_that_is_a_symlink_is_replaced_not_followed() {
    let mut server = Server::new();
    let _m = reply(&mut server, &pass());
    let dir = std::env::temp_dir().join(format!(
        "dts-gate-symlink-{}-{}",
        std::process::id(),
        dts_gate::report::os_random()
    ));
    std::fs::create_dir_all(dir.join("reports")).unwrap();
    let target = dir.join("precious.txt");
    std::fs::write(&target, "not yours\n").unwrap();
    let link = dir.join("reports/report.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let run = Gate::against(&server.url())
        .env("DTS_REPORT_JSON", link.to_str().unwrap())
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.commands_named("warning").is_empty(), "{run:?}");
    // The link's target is untouched; the link became the report itself.
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not yours\n");
    assert!(
        !std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    check_json(&std::fs::read_to_string(&link).unwrap(), 0);
    // Nothing else was left beside it.
    assert_eq!(std::fs::read_dir(dir.join("reports")).unwrap().count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_schema_check_itself_can_fail() {
    // Guards the guard: a document the tools would misread is rejected by both schemas.
    let bad = "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"x\"><testcase/></testsuite></testsuites>\n";
    assert!(xmllint(bad, JENKINS_XSD).is_err());
    assert!(xmllint(bad, WINDYROAD_XSD).is_err());
    let not_xml = "<testsuites>\u{1b}</testsuites>";
    assert!(xmllint(not_xml, JENKINS_XSD).is_err());
}
