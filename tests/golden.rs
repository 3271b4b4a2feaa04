//! Golden files: the exact documents the real binary writes for a representative set of
//! outcomes, against the kit's loopback responder. Each case in `tests/golden/<case>/` holds
//! the job summary (`summary.md`), the JUnit report (`junit.xml`), the JSON report
//! (`report.json`, pretty-printed), the dotenv report (`report.env`) and the step outputs
//! (`outputs.txt`, the `GITHUB_OUTPUT` file). A change anywhere in a document fails here and
//! shows up in review as a diff of `tests/golden/`.
//!
//! Only what truly varies between runs is normalised before comparing (see [`normalise`]):
//! timestamps, durations and elapsed seconds, the responder's port, and the random heredoc
//! delimiter. The host name is pinned with `HOSTNAME` instead.
//!
//! To accept a change on purpose, rewrite the files and review the diff before committing it:
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test --locked --test golden
//! git diff tests/golden/
//! ```

mod common;

use std::path::PathBuf;

use common::http::{Reply, Responder};
use common::*;
use serde_json::Value;

const SDK_EXAMPLE: &str = include_str!("data/describe_migration_check_job_example.json");

/// The runner's host name in every case, so the JUnit `hostname` needs no normalising.
const HOSTNAME: &str = "golden-runner";

/// Runs `gate` (which must not yet ask for reports) and compares every document it wrote with
/// `tests/golden/<case>/`; `port` is the responder's, if any.
fn assert_golden(case: &str, gate: Gate, port: Option<u16>, code: i32) {
    let run = gate.env("HOSTNAME", HOSTNAME).with_reports().run();
    assert_eq!(run.code, code, "{case}: {run:?}");
    let reports = &run.reports;
    let documents = [
        ("summary.md", Some(run.summary.clone())),
        ("junit.xml", reports.junit.clone()),
        ("report.json", reports.json.as_deref().map(pretty_json)),
        ("report.env", reports.dotenv.clone()),
        ("outputs.txt", Some(run.output_raw.clone())),
    ];
    let mut failures = Vec::new();
    for (name, text) in documents {
        let text = text.unwrap_or_else(|| panic!("{case}: no {name}: {run:?}"));
        if let Err(diff) = compare(case, name, &normalise(&text, port), updating()) {
            failures.push(diff);
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended: UPDATE_GOLDEN=1 cargo test --locked --test golden, then review `git diff tests/golden/`.",
        failures.join("\n")
    );
}

/// The JSON report, pretty-printed with its fields sorted, so a diff shows the field.
fn pretty_json(text: &str) -> String {
    let value: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    serde_json::to_string_pretty(&value).unwrap() + "\n"
}

/// Replaces what varies from run to run with a fixed placeholder.
fn normalise(text: &str, port: Option<u16>) -> String {
    let mut text = text.to_string();
    if let Some(port) = port {
        text = text.replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
    }
    // JUnit: the start, and the measured durations of the suite and of each job's case (a
    // step's case has a fixed time, which stays).
    text = replace_after(&text, " timestamp=\"", "\"", "TIMESTAMP");
    text = text
        .split_inclusive('\n')
        .map(|line| {
            if line.contains("<testsuite ") || line.contains(" name=\"check ") {
                replace_after(line, " time=\"", "\"", "TIME")
            } else {
                line.to_string()
            }
        })
        .collect();
    // Elapsed time: the JSON report, the dotenv report, the outputs, the summary.
    text = replace_after(&text, "\"elapsed_seconds\": ", ",", "ELAPSED");
    text = replace_after(&text, "DTS_GATE_ELAPSED_SECONDS=", "\n", "ELAPSED");
    text = replace_after(&text, "| Elapsed | ", " |", "ELAPSED");
    text = replace_between(&text, " requests, ", "s.\n", "ELAPSED");
    // The heredoc delimiter of the outputs, then the elapsed seconds between two of them.
    text = replace_after(&text, "ghadelimiter_", "\n", "DELIMITER");
    let elapsed_output = "elapsed-seconds<<ghadelimiter_DELIMITER\n";
    replace_after(&text, elapsed_output, "\n", "ELAPSED")
}

/// Replaces the text after each `start` up to the next `end` with `with`.
fn replace_after(text: &str, start: &str, end: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(start) {
        let value = i + start.len();
        let Some(len) = rest[value..].find(end) else {
            break;
        };
        out.push_str(&rest[..value]);
        out.push_str(with);
        rest = &rest[value + len..];
    }
    out.push_str(rest);
    out
}

/// Like [`replace_after`], but only where what lies between is a number.
fn replace_between(text: &str, start: &str, end: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(start) {
        let value = i + start.len();
        match rest[value..].find(end) {
            Some(len) if rest[value..value + len].bytes().all(|b| b.is_ascii_digit()) => {
                out.push_str(&rest[..value]);
                out.push_str(with);
                rest = &rest[value + len..];
            }
            _ => {
                out.push_str(&rest[..value]);
                rest = &rest[value..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether to rewrite the golden files instead of comparing (`UPDATE_GOLDEN=1`).
fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// Compares `actual` with the golden file, or rewrites the file when `update`.
fn compare(case: &str, name: &str, actual: &str, update: bool) -> Result<(), String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(case)
        .join(name);
    let expected = std::fs::read_to_string(&path).ok();
    if expected.as_deref() == Some(actual) {
        return Ok(());
    }
    if update {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        #[allow(clippy::disallowed_macros)] // tells the person who asked for the rewrite
        {
            eprintln!("rewrote {}", path.display());
        }
        return Ok(());
    }
    let Some(expected) = expected else {
        return Err(format!(
            "{} is missing; it would be:\n{actual}",
            path.display()
        ));
    };
    Err(format!(
        "{} differs (- golden, + this run):\n{}",
        path.display(),
        line_diff(&expected, actual)
    ))
}

/// The changed lines with two lines of context, `-` from `old`, `+` from `new`.
fn line_diff(old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // Longest common subsequence, from the end.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(('-', a[i]));
            i += 1;
        } else {
            lines.push(('+', b[j]));
            j += 1;
        }
    }
    if old.ends_with('\n') != new.ends_with('\n') {
        lines.push(('!', "(the files differ in their final newline)"));
    }
    let near_change = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 3).min(lines.len());
        lines[lo..hi].iter().any(|(tag, _)| *tag != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (tag, line)) in lines.iter().enumerate() {
        if near_change(k) {
            if skipped {
                out.push_str("  ...\n");
                skipped = false;
            }
            out.push_str(&format!("{tag} {line}\n"));
        } else {
            skipped = true;
        }
    }
    out
}

#[test]
fn passed_2018() {
    let server = Responder::always(Reply::json(&pass()));
    let gate = Gate::against(&server.url());
    assert_golden("passed-2018", gate, Some(server.port()), 0);
}

#[test]
fn not_passed_2018_checkflag_0() {
    let message = "选择的库表不存在，请重新选择[存在输入参数table在源实例没有找到]";
    let server = Responder::script(vec![
        Reply::json(&running("50")),
        Reply::json(&not_passed(message)),
    ]);
    let gate = Gate::against(&server.url());
    assert_golden("not-passed-2018-checkflag-0", gate, Some(server.port()), 1);
}

#[test]
fn passed_2021_with_warnings() {
    let server = Responder::always(Reply::json(SDK_EXAMPLE));
    let gate = Gate::against(&server.url()).env("DTS_API_VERSION", "2021-12-06");
    assert_golden("passed-2021-with-warnings", gate, Some(server.port()), 0);
}

#[test]
fn not_passed_2021_with_failed_and_warning_items() {
    let steps = [
        step(0, "ConnectDBCheck", "pass").named("Connection"),
        step(1, "SrcPrivilegeCheck", "failed")
            .named("Source privileges")
            .items([
                item("REPLICATION CLIENT", "failed", "missing REPLICATION CLIENT"),
                item("grants", "warning", "wide grants"),
            ]),
        step(2, "OptimizeCheck", "failed")
            .named("Optimisation")
            .skipped()
            .items([item("keys", "failed", "no primary key")]),
        step(3, "BinlogParamCheck", "warning")
            .named("Binlog parameters")
            .items([item("binlog_row_image", "warning", "MINIMAL")]),
        step(4, "DstEmptyCheck", "failed")
            .named("Target is empty")
            .items([item("table t1", "failed", "t1 exists in the target")]),
        step(5, "VersionCheck", "notStarted").named("Versions"),
    ];
    let body = check("success", "checkNotPass").steps(steps).body();
    let server = Responder::always(Reply::json(&body));
    let gate = Gate::against(&server.url()).env("DTS_API_VERSION", "2021-12-06");
    assert_golden(
        "not-passed-2021-failed-and-warning-items",
        gate,
        Some(server.port()),
        1,
    );
}

#[test]
fn several_jobs_one_not_passed() {
    let server = Responder::start(|request| {
        let body = request.body_text();
        if body == job_body("dts-bbb2") {
            Reply::json(&not_passed("no privilege"))
        } else {
            Reply::json(&pass())
        }
    });
    let gate = Gate::against(&server.url()).env("DTS_JOB_ID", "dts-aaa1,dts-bbb2,dts-ccc3");
    assert_golden("several-jobs-one-not-passed", gate, Some(server.port()), 1);
}

#[test]
fn timed_out() {
    // Polls at the start and at the deadline, however slow the machine.
    let server = Responder::always(Reply::json(&running("50")));
    let gate = Gate::against(&server.url())
        .env("DTS_TIMEOUT", "1")
        .env("DTS_POLL_INTERVAL", "30s");
    assert_golden("timed-out", gate, Some(server.port()), 4);
}

#[test]
fn api_error() {
    let body = signature_failure();
    let server = Responder::always(Reply::json(&body));
    let gate = Gate::against(&server.url());
    assert_golden("api-error", gate, Some(server.port()), 3);
}

/// The sync job every sync case gates.
const SYNC_JOB: &str = "sync-bllmn8x9";

/// The service of a sync run, routed on `X-TC-Action` as DTS routes it: the check, the job's
/// status read once it finished, and the start; anything else is a test error the run reports.
fn sync_service(check: String, job: String, start: String) -> Responder {
    Responder::start(move |request| match request.header("X-TC-Action") {
        Some("DescribeCheckSyncJobResult") => Reply::json(&check),
        Some("DescribeSyncJobs") => Reply::json(&job),
        Some("StartSyncJob") => Reply::json(&start),
        other => Reply::json(&service_error(
            "InvalidAction",
            &format!("the golden sync service has no action {other:?}"),
        )),
    })
}

#[test]
fn passed_sync_with_a_warning() {
    let steps = [
        sync_step(1, "ConnectDBCheck", "finished").named("连接DB检查"),
        sync_step(2, "SrcPrivilegeCheck", "finished")
            .named("源实例权限检查")
            .warnings([sync_tip(
                "Warning: SrcPrivilegeCheck",
                "源端账号权限范围大于要求的账号权限范围，请按照最小化原则给与授权",
            )
            .solution("")]),
        sync_step(3, "DstEmptyCheck", "skipped").named("目标实例内容冲突检查"),
    ];
    let server = sync_service(
        sync_check("success").steps(steps).body(),
        sync_jobs([sync_job(SYNC_JOB, "CheckPass")]),
        acknowledged("req-unused"),
    );
    let gate = Gate::against(&server.url()).env("DTS_JOB_ID", SYNC_JOB);
    assert_golden("passed-sync-with-a-warning", gate, Some(server.port()), 0);
}

#[test]
fn not_passed_sync_with_an_error_item() {
    let steps = [
        sync_step(1, "ConnectDBCheck", "finished").named("连接DB检查"),
        sync_step(2, "DstEmptyCheck", "failed")
            .named("目标实例内容冲突检查")
            .errors([sync_tip(
                "DstEmptyCheck.TableExists",
                "target table shop.orders already exists",
            )
            .solution("drop shop.orders in the target or leave it out of the sync")
            .help_doc("https://cloud.tencent.com/document/product/571/58685")]),
    ];
    let server = sync_service(
        sync_check("failed").steps(steps).body(),
        sync_jobs([sync_job(SYNC_JOB, "CheckNotPass")]),
        acknowledged("req-unused"),
    );
    let gate = Gate::against(&server.url()).env("DTS_JOB_ID", SYNC_JOB);
    assert_golden(
        "not-passed-sync-with-an-error-item",
        gate,
        Some(server.port()),
        1,
    );
}

#[test]
fn sync_start_refused() {
    // The check passed, DTS_START_SYNC asked for the start, and StartSyncJob was refused.
    let steps = [sync_step(1, "ConnectDBCheck", "finished").named("连接DB检查")];
    let server = sync_service(
        sync_check("success").steps(steps).body(),
        sync_jobs([sync_job(SYNC_JOB, "CheckPass")]),
        service_error(
            "FailedOperation.NotAllowOperation",
            "the job's status does not allow this operation",
        ),
    );
    let gate = Gate::against(&server.url())
        .env("DTS_JOB_ID", SYNC_JOB)
        .env("DTS_START_SYNC", "true");
    assert_golden("sync-start-refused", gate, Some(server.port()), 3);
}

#[test]
fn configuration_error() {
    let gate = Gate::bare()
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env("TENCENTCLOUD_REGION", "ap-guangzhou")
        .env("DTS_TIMEOUT", "soon");
    assert_golden("configuration-error", gate, None, 2);
}

#[test]
fn the_golden_comparison_can_fail() {
    // Guards the guard: a changed line is reported with its neighbours, and normalising only
    // touches what varies.
    let diff = line_diff("a\nb\nc\nd\n", "a\nB\nc\nd\n");
    assert_eq!(diff, "  a\n- b\n+ B\n  c\n  d\n");
    let json = "{\n  \"elapsed_seconds\": 1.234,\n  \"polls\": 2\n}\n";
    assert_eq!(
        normalise(json, None),
        "{\n  \"elapsed_seconds\": ELAPSED,\n  \"polls\": 2\n}\n"
    );
    let summary = "Region r, API a, 12 requests, 3s.\n| Elapsed | 3s |\n| Polls | 12 |\n";
    assert_eq!(
        normalise(summary, Some(1)),
        "Region r, API a, 12 requests, ELAPSEDs.\n| Elapsed | ELAPSED |\n| Polls | 12 |\n"
    );
    let outputs = "polls<<ghadelimiter_0a1b\n2\nghadelimiter_0a1b\nelapsed-seconds<<ghadelimiter_9f\n1\nghadelimiter_9f\n";
    assert_eq!(
        normalise(outputs, None),
        "polls<<ghadelimiter_DELIMITER\n2\nghadelimiter_DELIMITER\nelapsed-seconds<<ghadelimiter_DELIMITER\nELAPSED\nghadelimiter_DELIMITER\n"
    );
    // A golden file that differs fails, whatever the difference.
    assert!(compare("passed-2018", "summary.md", "### ✅ but different\n", false).is_err());
}
