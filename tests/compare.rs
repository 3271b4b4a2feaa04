//! The `compare` stage (issue 13), the real binary against a loopback fake of
//! `CreateCompareTask`, `StartCompare`, `DescribeCompareTasks`, `DescribeCompareReport` and
//! `StopCompare` (API 2021-12-06), routed on `X-TC-Action`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::http::{Reply, Request, Responder};
use common::*;
use serde_json::{Value, json};

const TASK: &str = "dts-1kl0iy0v-cmp-37skmii9";

/// A `DescribeCompareTasks` answer listing the task.
fn tasks(status: &str, conclusion: &str) -> String {
    json!({"Response": {"TotalCount": 1, "Items": [{
        "JobId": JOB_ID, "CompareTaskId": TASK, "TaskName": "dts-gate", "Status": status,
        "Conclusion": conclusion, "Method": "dataCheck", "Message": "",
        "CompareProcess": {"Status": "", "Percent": 50, "Message": "", "Steps": []},
        "Options": {"Method": "dataCheck", "SampleRate": 100, "ThreadCount": 1}}],
        "RequestId": format!("req-tasks-{status}")}})
    .to_string()
}

/// A `DescribeCompareReport` answer.
fn report(conclusion: &str, differences: Value, skipped: Value) -> String {
    let diff_tables = {
        let mut names: Vec<String> = differences
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{}.{}", d["Db"], d["Table"]))
            .collect();
        names.sort();
        names.dedup();
        names.len()
    };
    let skipped_count = skipped.as_array().unwrap().len();
    json!({"Response": {
        "Abstract": {"Conclusion": conclusion, "Status": "success", "TotalTables": 6,
            "CheckedTables": 6 - skipped_count, "DifferentTables": diff_tables,
            "DifferentRows": diff_tables * 4, "SkippedTables": skipped_count,
            "Options": {"Method": "dataCheck", "SampleRate": 100, "ThreadCount": 1, "Type": "builtin"}},
        "Detail": {
            "Difference": {"TotalCount": differences.as_array().unwrap().len(), "Items": differences},
            "Skipped": {"TotalCount": skipped_count, "Items": skipped},
            "DifferenceRow": {"Items": null, "TotalCount": 0}},
        "RequestId": "req-report"}})
    .to_string()
}

fn chunk(db: &str, table: &str, n: i64) -> Value {
    json!({"Db": db, "Schema": "", "Table": table, "Chunk": n, "IndexName": "PRIMARY",
        "LowerBoundary": format!("{}", n * 1000), "UpperBoundary": format!("{}", n * 1000 + 999),
        "SrcItem": "c0ffee", "DstItem": "deadbe", "CostTime": 12.5, "FinishedAt": "2024-12-20 19:07:20"})
}

fn skipped_table(db: &str, table: &str, reason: &str) -> Value {
    json!({"Db": db, "Schema": "", "Table": table, "Reason": reason})
}

/// A fake DTS compare: `DescribeCompareTasks` answers `polls` in order (the last repeating);
/// `DescribeCompareReport` answers `report`. Every request is checked for the 2021 version and
/// a TC3 signature, and recorded.
struct Fake {
    responder: Responder,
}

impl Fake {
    fn new(polls: Vec<String>, report: String) -> Fake {
        let at = AtomicUsize::new(0);
        let responder = Responder::start(move |r: &Request| {
            assert!(r.is_signed_2021(), "not a signed 2021-12-06 request");
            match r.action().as_str() {
                "CreateCompareTask" => Reply::json(
                    &json!({"Response": {"CompareTaskId": TASK, "RequestId": "req-create"}})
                        .to_string(),
                ),
                "StartCompare" => Reply::json(r#"{"Response": {"RequestId": "req-start"}}"#),
                "StopCompare" => Reply::json(r#"{"Response": {"RequestId": "req-stop"}}"#),
                "DescribeCompareTasks" => {
                    let i = at.fetch_add(1, Ordering::SeqCst);
                    Reply::json(&polls[i.min(polls.len() - 1)])
                }
                "DescribeCompareReport" => Reply::json(&report),
                other => panic!("unexpected action {other}"),
            }
        });
        Fake { responder }
    }

    fn gate(&self) -> Gate {
        Gate::against(&self.responder.url())
            .arg("compare")
            .env("DTS_TIMEOUT", "5s")
    }

    fn actions(&self) -> Vec<String> {
        self.responder.calls().into_iter().map(|(a, _)| a).collect()
    }

    fn body_of(&self, action: &str) -> Value {
        let body = self
            .responder
            .calls()
            .into_iter()
            .find(|(a, _)| a == action)
            .map(|(_, b)| b)
            .unwrap_or_else(|| panic!("no {action} sent"));
        serde_json::from_str(&body).unwrap()
    }
}

fn same() -> String {
    report("same", json!([]), json!([]))
}

#[test]
fn same_data_passes_after_creating_and_starting_a_task() {
    let fake = Fake::new(
        vec![
            tasks("created", ""),
            tasks("running", ""),
            tasks("success", "same"),
        ],
        same(),
    );
    let run = fake
        .gate()
        .env("DTS_COMPARE_METHOD", "sampleDataCheck")
        .env("DTS_COMPARE_SAMPLE_RATE", "20")
        .env("DTS_COMPARE_THREADS", "4")
        .with_reports()
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("stage"), "compare");
    assert_eq!(run.output("status"), "success");
    assert_eq!(run.output("conclusion"), "same");
    assert_eq!(run.output("compare-task-id"), TASK);
    assert_eq!(run.output("different-tables"), "0");
    assert_eq!(
        fake.actions(),
        [
            "CreateCompareTask",
            "StartCompare",
            "DescribeCompareTasks",
            "DescribeCompareTasks",
            "DescribeCompareTasks",
            "DescribeCompareReport"
        ]
    );
    assert_eq!(
        fake.body_of("CreateCompareTask"),
        json!({"JobId": JOB_ID, "TaskName": "dts-gate", "ObjectMode": "sameAsMigrate",
            "Options": {"Method": "sampleDataCheck", "SampleRate": 20, "ThreadCount": 4}})
    );
    assert_eq!(
        fake.body_of("StartCompare"),
        json!({"JobId": JOB_ID, "CompareTaskId": TASK})
    );
    assert_eq!(fake.body_of("DescribeCompareTasks")["CompareTaskId"], TASK);
    assert!(
        run.summary.contains("compare stage passed"),
        "{}",
        run.summary
    );
    let junit = run.reports.junit.as_ref().unwrap();
    assert!(!junit.contains("<failure"), "{junit}");
    assert!(junit.contains("6 other compared tables"), "{junit}");
    assert!(run.commands_named("error").is_empty(), "{}", run.stdout);
}

#[test]
fn an_existing_task_is_gated_without_creating_or_starting_one() {
    let fake = Fake::new(vec![tasks("success", "same")], same());
    let run = fake.gate().env("DTS_COMPARE_TASK_ID", TASK).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        fake.actions(),
        ["DescribeCompareTasks", "DescribeCompareReport"]
    );
}

#[test]
fn different_data_fails_with_each_table_annotated_summarised_and_a_junit_case() {
    let differences = json!([
        chunk("shop", "orders", 1),
        chunk("shop", "orders", 7),
        chunk("crm", "users", 2)
    ]);
    let fake = Fake::new(
        vec![tasks("running", ""), tasks("success", "different")],
        report("different", differences, json!([])),
    );
    let run = fake.gate().with_reports().run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "not-passed");
    assert_eq!(run.output("conclusion"), "different");
    assert_eq!(run.output("different-tables"), "2");
    assert!(run.output("error-message").contains("2 tables different"));
    let errors = run.commands_named("error");
    let titled = |table: &str| {
        errors
            .iter()
            .filter(|c| {
                c.properties
                    .iter()
                    .any(|(k, v)| k == "title" && v.contains(&format!("{table} differs")))
            })
            .count()
    };
    assert_eq!(titled("shop.orders"), 2, "{errors:?}");
    assert_eq!(titled("crm.users"), 1, "{errors:?}");
    assert!(
        errors.iter().any(|c| c.data
            == "database shop, table orders: chunk 7, index PRIMARY, from 7000 to 7999 (source c0ffee, target deadbe)"),
        "{errors:?}"
    );
    assert!(
        run.summary
            .contains("| shop |  | orders | 7 | PRIMARY | 7000 | 7999 | c0ffee | deadbe |"),
        "{}",
        run.summary
    );
    let junit = run.reports.junit.as_ref().unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 3, "{junit}");
    assert!(
        junit.contains("name=\"compare dts-1kl0iy0v shop.orders\""),
        "{junit}"
    );
    assert!(
        junit.contains("name=\"compare dts-1kl0iy0v crm.users\""),
        "{junit}"
    );
    assert!(junit.contains("4 other compared tables"), "{junit}");
    assert_eq!(junit.matches("<failure ").count(), 2, "{junit}");
    let json: Value = serde_json::from_str(run.reports.json.as_ref().unwrap()).unwrap();
    assert_eq!(
        json["jobs"][0]["compare"]["differences"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The task finished by itself: nothing to stop.
    assert!(!fake.actions().contains(&"StopCompare".to_string()));
}

#[test]
fn many_differences_are_capped_like_check_items() {
    let differences: Vec<Value> = (0..25)
        .map(|n| chunk("shop", &format!("t{n}"), n))
        .collect();
    let fake = Fake::new(
        vec![tasks("success", "different")],
        report("different", json!(differences), json!([])),
    );
    let run = fake.gate().run();
    assert_eq!(run.code, 1);
    let errors = run.commands_named("error");
    assert!(errors.len() <= 10, "{}", errors.len());
    assert!(
        errors
            .last()
            .unwrap()
            .data
            .contains("more failed check items"),
        "{errors:?}"
    );
    // The summary still lists every chunk.
    assert!(run.summary.contains("| shop |  | t24 |"), "{}", run.summary);
}

#[test]
fn skip_all_never_passes() {
    let fake = Fake::new(
        vec![tasks("success", "skipAll")],
        report("skipAll", json!([]), json!([])),
    );
    let run = fake.gate().with_reports().run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.output("error-message").contains("skipAll"), "{run:?}");
    let junit = run.reports.junit.as_ref().unwrap();
    assert!(junit.contains("<failure "), "{junit}");
}

#[test]
fn skipped_tables_are_warnings_by_default_with_their_reason() {
    let fake = Fake::new(
        vec![tasks("success", "same")],
        report(
            "same",
            json!([]),
            json!([skipped_table(
                "shop",
                "audit_log",
                "the table has no primary key"
            )]),
        ),
    );
    let run = fake.gate().with_reports().run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("skipped-tables"), "1");
    let warnings = run.commands_named("warning");
    assert!(
        warnings.iter().any(|c| c
            .properties
            .iter()
            .any(|(k, v)| k == "title" && v.contains("shop.audit_log not compared"))
            && c.data.contains("the table has no primary key")),
        "{warnings:?}"
    );
    assert!(
        run.summary.contains("Not compared (warnings)"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("the table has no primary key"));
    let junit = run.reports.junit.as_ref().unwrap();
    assert!(
        junit.contains("<skipped>not compared: the table has no primary key</skipped>"),
        "{junit}"
    );
}

#[test]
fn skipped_tables_fail_when_asked() {
    let fake = Fake::new(
        vec![tasks("success", "same")],
        report(
            "same",
            json!([]),
            json!([skipped_table(
                "shop",
                "audit_log",
                "the table has no primary key"
            )]),
        ),
    );
    let run = fake
        .gate()
        .env("DTS_FAIL_ON_SKIPPED_TABLES", "true")
        .with_reports()
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.output("error-message")
            .contains("shop.audit_log (the table has no primary key)"),
        "{run:?}"
    );
    assert!(
        run.commands_named("error")
            .iter()
            .any(|c| c.data.contains("the table has no primary key")),
        "{}",
        run.stdout
    );
    let junit = run.reports.junit.as_ref().unwrap();
    assert!(junit.contains("<failure type=\"skipped\""), "{junit}");
}

#[test]
fn a_failed_task_fails_without_reading_a_report() {
    let fake = Fake::new(vec![tasks("running", ""), tasks("failed", "")], same());
    let run = fake.gate().run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("status"), "failed");
    assert!(run.output("error-message").contains("is failed"), "{run:?}");
    assert!(
        !fake
            .actions()
            .contains(&"DescribeCompareReport".to_string())
    );
    assert!(!fake.actions().contains(&"StopCompare".to_string()));
}

#[test]
fn a_created_task_still_running_at_the_timeout_is_stopped_and_said_so() {
    let fake = Fake::new(vec![tasks("running", "")], same());
    let run = fake.gate().env("DTS_TIMEOUT", "1s").with_reports().run();
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(fake.actions().last().unwrap(), "StopCompare");
    assert_eq!(
        fake.body_of("StopCompare"),
        json!({"JobId": JOB_ID, "CompareTaskId": TASK})
    );
    assert!(
        run.commands_named("warning")
            .iter()
            .any(|c| c.data.contains("stopped the compare task") && c.data.contains("req-stop")),
        "{}",
        run.stdout
    );
    assert!(
        run.summary.contains("stopped the compare task"),
        "{}",
        run.summary
    );
    let json: Value = serde_json::from_str(run.reports.json.as_ref().unwrap()).unwrap();
    assert_eq!(json["jobs"][0]["compare"]["stopped"], true);
}

#[test]
fn a_created_task_is_stopped_on_cancellation() {
    let fake = Fake::new(vec![tasks("running", "")], same());
    let mut running = fake.gate().env("DTS_TIMEOUT", "60s").spawn();
    running.wait_for_line(|line| line.contains("compare task") && line.contains("running"));
    running.signal("TERM");
    let run = running.wait();
    assert_eq!(run.code, 143, "{run:?}");
    assert_eq!(fake.actions().last().unwrap(), "StopCompare");
    assert!(
        run.stdout.contains("stopped the compare task"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_task_the_user_gave_is_never_stopped() {
    let fake = Fake::new(vec![tasks("running", "")], same());
    let run = fake
        .gate()
        .env("DTS_COMPARE_TASK_ID", TASK)
        .env("DTS_TIMEOUT", "1s")
        .run();
    assert_eq!(run.code, 4, "{run:?}");
    assert!(!fake.actions().contains(&"StopCompare".to_string()));
}
