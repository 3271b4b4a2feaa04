//! The later stages (`ready`, `complete`, issue 13), the real binary against a loopback fake of
//! `DescribeMigrationDetail` and `CompleteMigrateJob` (API 2021-12-06).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::http::{Reply, Request, Responder};
use common::*;
use serde_json::json;

/// A `DescribeMigrationDetail` answer.
fn detail(status: &str, trade: &str, seconds: i64, mb: i64) -> String {
    json!({"Response": {
        "JobId": JOB_ID,
        "Status": status,
        "BriefMsg": "",
        "TradeInfo": {"TradeStatus": trade},
        "StepInfo": {
            "StepAll": 3, "StepNow": 3,
            "SecondsBehindMaster": seconds, "MasterSlaveDistance": mb,
            "StepInfo": [
                {"StepId": "StructureMigration", "StepName": "Structure", "Status": "success", "Percent": 100, "Errors": [], "Warnings": []},
                {"StepId": "FullDataMigration", "StepName": "Full data", "Status": "success", "Percent": 100, "Errors": [], "Warnings": []},
                {"StepId": "IncrementalMigration", "StepName": "Incremental", "Status": "running", "Percent": 87, "Errors": [], "Warnings": []}
            ]
        },
        "ErrorInfo": [],
        "RequestId": format!("req-{status}")
    }})
    .to_string()
}

fn failed_detail() -> String {
    json!({"Response": {
        "Status": "failed",
        "BriefMsg": "binlog lost",
        "TradeInfo": {"TradeStatus": "normal"},
        "StepInfo": {"StepNow": 1, "SecondsBehindMaster": -1, "MasterSlaveDistance": -1,
            "StepInfo": [{"StepId": "IncrementalMigration", "StepName": "Incremental", "Status": "failed", "Percent": 40,
                "Errors": [{"Code": "E.Step", "Message": "binlog purged on the source", "Solution": "keep binlogs longer", "HelpDoc": "https://cloud.tencent.com/document/product/571/58685"}],
                "Warnings": []}]},
        "ErrorInfo": [{"Code": "E.Job", "ErrorLog": "the source binlog was purged", "Solution": "restart the job", "HelpDoc": "https://cloud.tencent.com/document/product/571/58700"}],
        "RequestId": "req-failed"
    }})
    .to_string()
}

fn ready(seconds: i64) -> String {
    detail("readyComplete", "normal", seconds, 0)
}

/// A fake DTS: `DescribeMigrationDetail` answers `before` in order (the last repeating) until
/// `CompleteMigrateJob` arrives, then `after`. Every request is checked for the 2021 version
/// and a TC3 signature, and recorded.
struct Fake {
    responder: Responder,
}

impl Fake {
    fn new(before: Vec<String>, after: Vec<String>) -> Fake {
        let polls = AtomicUsize::new(0);
        let after_polls = AtomicUsize::new(0);
        let completed = std::sync::atomic::AtomicBool::new(false);
        let responder = Responder::start(move |r: &Request| {
            assert!(r.is_signed_2021(), "not a signed 2021-12-06 request");
            let action = r.action();
            let pick = |list: &Vec<String>, at: &AtomicUsize| {
                let i = at.fetch_add(1, Ordering::SeqCst);
                list[i.min(list.len() - 1)].clone()
            };
            match action.as_str() {
                "DescribeMigrationDetail" if completed.load(Ordering::SeqCst) => {
                    Reply::json(&pick(&after, &after_polls))
                }
                "DescribeMigrationDetail" => Reply::json(&pick(&before, &polls)),
                "CompleteMigrateJob" => {
                    completed.store(true, Ordering::SeqCst);
                    Reply::json(r#"{"Response": {"RequestId": "req-complete"}}"#)
                }
                other => panic!("unexpected action {other}"),
            }
        });
        Fake { responder }
    }

    fn gate(&self, stage: &str) -> Gate {
        Gate::against(&self.responder.url())
            .arg(stage)
            .env("DTS_TIMEOUT", "3s")
    }

    fn actions(&self) -> Vec<String> {
        self.responder.calls().into_iter().map(|(a, _)| a).collect()
    }

    fn body_of(&self, action: &str) -> Option<String> {
        self.responder
            .calls()
            .into_iter()
            .find(|(a, _)| a == action)
            .map(|(_, b)| b)
    }
}

#[test]
fn ready_passes_on_ready_complete_with_its_outputs() {
    let fake = Fake::new(vec![detail("running", "normal", 120, 40), ready(0)], vec![]);
    let run = fake.gate("ready").with_reports().run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("result"), "passed");
    assert_eq!(run.output("stage"), "ready");
    assert_eq!(run.output("status"), "readyComplete");
    assert_eq!(run.output("step"), "Incremental");
    assert_eq!(run.output("progress"), "87");
    assert_eq!(run.output("lag-seconds"), "0");
    assert_eq!(run.output("lag-mb"), "0");
    assert_eq!(fake.actions(), ["DescribeMigrationDetail"; 2]);
    assert!(
        run.reports
            .dotenv
            .as_ref()
            .unwrap()
            .contains("DTS_GATE_PASSED=true\n")
    );
    assert!(
        run.reports
            .json
            .as_ref()
            .unwrap()
            .contains("\"passed\": true")
    );
    assert!(
        run.summary.contains("ready stage passed"),
        "{}",
        run.summary
    );
    run.assert_no_secrets();
}

#[test]
fn the_stage_also_comes_from_dts_stage() {
    let fake = Fake::new(vec![ready(0)], vec![]);
    let run = Gate::against(&fake.responder.url())
        .env("DTS_STAGE", "ready")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("stage"), "ready");
}

#[test]
fn every_failing_ready_status_fails_at_once() {
    let cases: Vec<(&str, &str)> = vec![
        ("failed", "normal"),
        ("error", "normal"),
        ("resumableErr", "normal"),
        ("manualPaused", "normal"),
        ("stopping", "normal"),
        ("canceled", "normal"),
        ("readyComplete", "isolated"),
        ("readyComplete", "offlined"),
        ("running", "isolated"),
    ];
    let fakes: Vec<Fake> = cases
        .iter()
        .map(|(status, trade)| Fake::new(vec![detail(status, trade, 0, 0)], vec![]))
        .collect();
    let runs = run_together(fakes.iter().map(|f| f.gate("ready")));
    for ((status, trade), (run, fake)) in cases.iter().zip(runs.iter().zip(&fakes)) {
        assert_eq!(run.code, 1, "{status}/{trade}: {run:?}");
        assert_eq!(run.output("passed"), "false", "{status}/{trade}");
        assert_eq!(run.output("result"), "not-passed", "{status}/{trade}");
        assert_eq!(fake.actions().len(), 1, "{status}/{trade}: not at once");
        assert!(!run.commands_named("error").is_empty(), "{status}/{trade}");
    }
}

#[test]
fn every_waiting_ready_status_keeps_polling_until_ready() {
    let statuses = [
        "created",
        "checking",
        "checkPass",
        "readyRun",
        "running",
        "resuming",
        "pausing",
    ];
    let fakes: Vec<Fake> = statuses
        .iter()
        .map(|status| Fake::new(vec![detail(status, "normal", 0, 0), ready(0)], vec![]))
        .collect();
    let runs = run_together(fakes.iter().map(|f| f.gate("ready")));
    for ((status, run), fake) in statuses.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, 0, "{status}: {run:?}");
        assert_eq!(fake.actions().len(), 2, "{status}");
    }
}

#[test]
fn an_unknown_status_warns_keeps_polling_and_is_never_a_pass() {
    let fake = Fake::new(
        vec![detail("teleporting", "normal", 0, 0), ready(0)],
        vec![],
    );
    let run = fake.gate("ready").run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.commands_named("warning").len(), 1, "{}", run.stdout);
    let forever = Fake::new(vec![detail("teleporting", "normal", 0, 0)], vec![]);
    let run = forever.gate("ready").env("DTS_TIMEOUT", "1s").run();
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(run.output("result"), "timed-out");
    assert_eq!(run.output("passed"), "false");
}

#[test]
fn a_failed_status_carries_the_services_errors_and_solutions() {
    let fake = Fake::new(vec![failed_detail()], vec![]);
    let run = fake.gate("ready").with_reports().run();
    assert_eq!(run.code, 1, "{run:?}");
    let error = run.first_error();
    assert!(error.contains("Status failed: binlog lost"), "{error}");
    assert!(error.contains("the source binlog was purged"), "{error}");
    assert!(error.contains("Solution: restart the job"), "{error}");
    assert!(
        error.contains("https://cloud.tencent.com/document/product/571/58700"),
        "{error}"
    );
    assert!(error.contains("Solution: keep binlogs longer"), "{error}");
    assert_eq!(run.output("error-code"), "E.Job");
    assert_eq!(run.output("lag-seconds"), "");
    assert!(
        run.summary.contains("binlog purged on the source"),
        "{}",
        run.summary
    );
    let junit = run.reports.junit.as_ref().unwrap();
    assert!(junit.contains("<failure type=\"not-passed\""), "{junit}");
    assert!(
        run.reports
            .json
            .as_ref()
            .unwrap()
            .contains("\"passed\": false")
    );
}

#[test]
fn a_lag_of_minus_one_is_unknown_never_zero() {
    let fake = Fake::new(vec![ready(-1)], vec![]);
    let run = fake
        .gate("ready")
        .env("DTS_MAX_LAG", "30s")
        .env("DTS_TIMEOUT", "1s")
        .run();
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("lag-seconds"), "");
    // Without a lag limit, readyComplete is enough whatever the lag says.
    let run = fake.gate("ready").run();
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn the_lag_must_be_under_the_limit_and_hold_for_the_settle_time() {
    // Over, unknown (restarts the settle), then under for good.
    let fake = Fake::new(vec![ready(90), ready(5), ready(-1), ready(5)], vec![]);
    let run = fake
        .gate("ready")
        .env("DTS_MAX_LAG", "10s")
        .env("DTS_MAX_LAG_MB", "1")
        .env("DTS_LAG_SETTLE", "1s")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("lag-seconds"), "5");
    // Not at the first answer under the limit (the second), nor at the fourth: only once
    // it held for the settle time, polled every 100 ms.
    let polls = fake.actions().len();
    assert!(polls >= 6, "{polls} polls");
    // A data distance over its limit never passes.
    let far = Fake::new(vec![detail("readyComplete", "normal", 0, 50)], vec![]);
    let run = far
        .gate("ready")
        .env("DTS_MAX_LAG_MB", "10")
        .env("DTS_LAG_SETTLE", "0")
        .env("DTS_TIMEOUT", "1s")
        .run();
    assert_eq!(run.code, 4, "{run:?}");
}

#[test]
fn complete_refuses_a_job_that_is_not_ready() {
    let fake = Fake::new(vec![detail("running", "normal", 3, 0)], vec![]);
    let run = fake.gate("complete").with_reports().run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("result"), "refused");
    assert_eq!(run.output("passed"), "false");
    assert!(
        run.first_error()
            .contains("refusing to complete a job that is not ready")
    );
    assert_eq!(fake.actions(), ["DescribeMigrationDetail"]);
    // With a lag limit, a ready job over it is refused too.
    let lagging = Fake::new(vec![ready(60)], vec![]);
    let run = lagging.gate("complete").env("DTS_MAX_LAG", "10s").run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.first_error().contains("is not within DTS_MAX_LAG=10s"),
        "{}",
        run.first_error()
    );
    assert_eq!(lagging.actions(), ["DescribeMigrationDetail"]);
}

#[test]
fn complete_completes_a_ready_job_and_waits_for_success() {
    let fake = Fake::new(
        vec![ready(0)],
        vec![
            detail("completing", "normal", 0, 0),
            detail("success", "normal", 0, 0),
        ],
    );
    let run = fake.gate("complete").run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("status"), "success");
    assert_eq!(run.output("stage"), "complete");
    assert_eq!(
        fake.actions(),
        [
            "DescribeMigrationDetail",
            "CompleteMigrateJob",
            "DescribeMigrationDetail",
            "DescribeMigrationDetail"
        ]
    );
    let body = fake.body_of("CompleteMigrateJob").unwrap();
    assert_eq!(
        body,
        format!(r#"{{"CompleteMode":"waitForSync","JobId":"{JOB_ID}"}}"#)
    );
    let immediately = Fake::new(vec![ready(0)], vec![detail("success", "normal", 0, 0)]);
    let run = immediately
        .gate("complete")
        .env("DTS_COMPLETE_MODE", "immediately")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        immediately
            .body_of("CompleteMigrateJob")
            .unwrap()
            .contains("\"immediately\"")
    );
}

#[test]
fn a_completion_that_fails_fails() {
    let fake = Fake::new(
        vec![ready(0)],
        vec![detail("completing", "normal", 0, 0), failed_detail()],
    );
    let run = fake.gate("complete").run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("result"), "not-passed");
    assert!(run.first_error().contains("the source binlog was purged"));
}

#[test]
fn the_later_stages_refuse_the_2018_api_and_unknown_stages() {
    let run = Gate::against("http://127.0.0.1:9")
        .arg("ready")
        .env("DTS_API_VERSION", "2018-03-30")
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.first_error().contains("DTS_API_VERSION"),
        "{}",
        run.first_error()
    );
    let run = Gate::against("http://127.0.0.1:9").arg("cutover").run();
    assert_eq!(run.code, 2);
    assert!(
        run.first_error().contains("unknown stage"),
        "{}",
        run.first_error()
    );
    let run = Gate::against("http://127.0.0.1:9")
        .env("DTS_STAGE", "verify")
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.first_error().contains("DTS_STAGE"),
        "{}",
        run.first_error()
    );
}

#[test]
fn a_dry_run_prints_the_stages_calls() {
    let run = Gate::against("http://127.0.0.1:9")
        .arg("complete")
        .arg("--dry-run")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    run.assert_stdout_has(&[
        "X-TC-Action: DescribeMigrationDetail X-TC-Version: 2021-12-06",
        "X-TC-Action: CompleteMigrateJob X-TC-Version: 2021-12-06",
        "\"CompleteMode\":\"waitForSync\"",
    ]);
}

#[test]
fn the_demo_plays_the_later_stages_passing_and_failing() {
    let cases = [
        ("ready", "--demo", 0, "passed"),
        ("ready", "--demo=fail", 1, "not-passed"),
        ("complete", "--demo", 0, "passed"),
        ("complete", "--demo=fail", 1, "refused"),
    ];
    let runs = run_together(cases.iter().map(|(stage, demo, _, _)| {
        Gate::bare()
            .arg(stage)
            .arg(demo)
            .env("DTS_POLL_INTERVAL", "100ms")
    }));
    for ((stage, demo, code, result), run) in cases.iter().zip(&runs) {
        assert_eq!(run.code, *code, "{stage} {demo}: {run:?}");
        assert_eq!(run.output("result"), *result, "{stage} {demo}");
        assert_eq!(run.output("stage"), *stage, "{stage} {demo}");
    }
    assert!(
        runs[1].first_error().contains("binlog"),
        "{}",
        runs[1].first_error()
    );
}
