//! The real binary against mockito with `DTS_API_VERSION=2021-12-06` (DescribeMigrationCheckJob).

mod common;

use common::*;
use mockito::{Matcher, Mock, Server, ServerGuard};
use serde_json::json;

const SDK_EXAMPLE: &str = include_str!("data/describe_migration_check_job_example.json");

fn reply(server: &mut ServerGuard, body: &str, times: usize) -> Mock {
    server
        .mock("POST", "/")
        .match_header("x-tc-action", "DescribeMigrationCheckJob")
        .match_header("x-tc-version", "2021-12-06")
        .match_header("x-tc-region", "ap-guangzhou")
        .match_header(
            "authorization",
            Matcher::Regex(r"^TC3-HMAC-SHA256 Credential=\S+/dts/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$".into()),
        )
        .match_body(job_body(JOB_ID).as_str())
        .with_header("content-type", "application/json")
        .with_body(body)
        .expect(times)
        .create()
}

fn gate(server: &ServerGuard) -> Gate {
    Gate::against(&server.url()).env("DTS_API_VERSION", "2021-12-06")
}

#[test]
fn the_sdk_example_passes_with_its_warnings_reported() {
    let mut server = Server::new();
    let mock = reply(&mut server, SDK_EXAMPLE, 1);
    let run = gate(&server).run();
    mock.assert();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("status"), "success");
    assert_eq!(run.output("check-flag"), "checkPass");
    assert_eq!(run.output("progress"), "100");
    assert_eq!(run.output("failed-steps"), "");
    // The warning step and the failed-but-skipped step are warnings, not failures.
    assert_eq!(
        run.output("warning-steps"),
        "SrcPrivilegeCheck,OptimizeCheck"
    );
    assert!(run.commands_named("error").is_empty());
    assert_eq!(run.commands_named("warning").len(), 2, "{}", run.stdout);
    assert!(run.summary.contains("#### Check steps"));
    assert!(run.summary.contains("源实例权限检查"));
    // Each step is logged once as it finishes.
    assert_eq!(run.stdout.matches(" step ").count(), 13, "{}", run.stdout);
    run.assert_no_secrets();
}

#[test]
fn progress_follows_the_steps_until_the_check_finishes() {
    let mut server = Server::new();
    let steps = |done: u64| {
        (0..4).map(move |i| {
            let status = if i < done { "pass" } else { "notStarted" };
            step(i, &format!("Step{i}"), status)
        })
    };
    let mocks = [
        reply(&mut server, &check("notStarted", "").body(), 1),
        reply(&mut server, &check("running", "").steps(steps(1)).body(), 1),
        reply(&mut server, &check("running", "").steps(steps(3)).body(), 1),
        reply(
            &mut server,
            &check("success", "checkPass").steps(steps(4)).body(),
            1,
        ),
    ];
    let run = gate(&server).run();
    for m in &mocks {
        m.assert();
    }
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("25% (1/4 steps)"), "{}", run.stdout);
    assert!(run.stdout.contains("75% (3/4 steps)"));
    for i in 1..=4 {
        assert!(run.stdout.contains(&format!(
            "step {i}/4 Step{} step (Step{}): pass",
            i - 1,
            i - 1
        )));
    }
}

#[test]
fn a_not_passed_check_names_every_failed_and_warning_item() {
    let mut server = Server::new();
    let steps = [
        step(0, "ConnectDBCheck", "pass"),
        step(1, "SrcPrivilegeCheck", "failed").items([
            item("REPLICATION CLIENT", "failed", "missing REPLICATION CLIENT"),
            item("SELECT", "failed", "missing SELECT on db1"),
        ]),
        step(2, "DstEmptyCheck", "failed").items([item(
            "table t1",
            "failed",
            "t1 exists in the target",
        )]),
        step(3, "BinlogParamCheck", "warning").items([item(
            "binlog_row_image",
            "warning",
            "MINIMAL",
        )]),
    ];
    let body = check("success", "checkNotPass").steps(steps).body();
    let _mock = reply(&mut server, &body, 1);
    let run = gate(&server).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("result"), "not-passed");
    assert_eq!(run.output("check-flag"), "checkNotPass");
    assert_eq!(
        run.output("failed-steps"),
        "SrcPrivilegeCheck,DstEmptyCheck"
    );
    assert_eq!(run.output("warning-steps"), "BinlogParamCheck");
    let errors = run.commands_named("error");
    let titles: Vec<&str> = errors.iter().map(|e| e.properties[0].1.as_str()).collect();
    assert_eq!(
        titles,
        [
            "dts-1kl0iy0v: SrcPrivilegeCheck step (SrcPrivilegeCheck) › REPLICATION CLIENT",
            "dts-1kl0iy0v: SrcPrivilegeCheck step (SrcPrivilegeCheck) › SELECT",
            "dts-1kl0iy0v: DstEmptyCheck step (DstEmptyCheck) › table t1",
        ]
    );
    assert_eq!(
        errors[2].data,
        "t1 exists in the target\nSolution: fix table t1\nHelp: https://cloud.tencent.com/document/product/571/58685\nLog:\ntable t1: log 1\ntable t1: log 2"
    );
    let warnings = run.commands_named("warning");
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].properties[0].1.ends_with("› binlog_row_image"));
    assert!(run.stdout.contains("2 of 4 check steps failed"));
    assert!(run.summary.contains("[https\\://cloud.tencent.com/document/product/571/58685](<https://cloud.tencent.com/document/product/571/58685>)"));
    assert!(run.summary.contains("#### Failed check items"));
}

#[test]
fn more_than_ten_failed_items_are_capped_in_annotations_but_not_in_the_summary() {
    let mut server = Server::new();
    let items = (0..25).map(|i| item(&format!("tbl{i:02}"), "failed", "conflict"));
    let failed = step(0, "DstEmptyCheck", "failed").items(items);
    let body = check("success", "checkNotPass").steps([failed]).body();
    let _mock = reply(&mut server, &body, 1);
    let run = gate(&server).run();
    assert_eq!(run.code, 1);
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 10);
    assert_eq!(errors[9].properties[0].1, "More failed check items");
    assert!(errors[9].data.starts_with("16 more failed check items"));
    for i in 0..25 {
        assert!(run.summary.contains(&format!("tbl{i:02}**")), "tbl{i:02}");
    }
}

#[test]
fn a_failed_check_task_fails_as_a_task_failure() {
    let mut server = Server::new();
    let body = json!({"Response": {"Status": "failed", "CheckFlag": null, "BriefMsg": "internal check error", "StepInfo": null, "RequestId": "req-task"}});
    let _mock = reply(&mut server, &body.to_string(), 1);
    let run = gate(&server).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("status"), "failed");
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].properties[0].1,
        "DTS check task failed: dts-1kl0iy0v"
    );
    assert!(errors[0].data.contains("internal check error") && errors[0].data.contains("req-task"));
}

#[test]
fn check_pass_is_only_final_with_status_success() {
    let mut server = Server::new();
    let _m1 = reply(&mut server, &check("running", "checkPass").body(), 2);
    let _m2 = reply(&mut server, &check("success", "checkPass").body(), 1);
    let run = gate(&server).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("polls"), "3");
}

#[test]
fn job_not_found_suggests_the_other_api_version() {
    let mut server = Server::new();
    let _mock = reply(
        &mut server,
        &service_error("ResourceNotFound.ResourceNotFoundError", "job not found"),
        1,
    );
    let run = gate(&server).run();
    assert_eq!(run.code, 3);
    assert!(run.first_error().contains("DTS_API_VERSION=2018-03-30"));
}

#[test]
fn names_reasons_and_logs_cannot_inject() {
    let hostile = "evil\n::set-output name=passed::true\n::error::pwned %0A ##[warning]x";
    let mut server = Server::new();
    let body = json!({"Response": {"Status": "success", "CheckFlag": "checkNotPass", "BriefMsg": hostile,
        "StepInfo": [{"StepNo": 0, "StepId": hostile, "StepName": hostile, "StepStatus": "failed", "StepMessage": hostile,
            "HasSkipped": false, "DetailCheckItems": [{"CheckItemName": hostile, "CheckResult": "failed", "FailureReason": hostile,
            "Solution": hostile, "ErrorLog": [hostile, "::warning::log"], "HelpDoc": [hostile], "SkipInfo": hostile, "Description": hostile}]}],
        "RequestId": "r"}});
    let _mock = reply(&mut server, &body.to_string(), 1);
    let run = gate(&server).run();
    assert_eq!(run.code, 1);
    let commands = run.commands();
    assert_eq!(commands.len(), 1, "{commands:?}");
    // Intact but for the legacy command, broken up.
    let shown = dts_gate::report::annotation_text(hostile);
    assert!(shown.ends_with("## [warning]x"));
    assert!(commands[0].properties[0].1.contains(&shown));
    assert!(commands[0].data.contains(&shown));
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("failed-steps"), hostile);
    assert_eq!(run.outputs.as_ref().unwrap().len(), 15);
    let outside = gate(&server).outside_github().run();
    assert!(outside.commands().is_empty(), "{outside:?}");
}

#[test]
fn demo_plays_a_2021_check() {
    let run = Gate::bare()
        .arg("--demo")
        .env("DTS_API_VERSION", "2021-12-06")
        .env("DTS_POLL_INTERVAL", "100ms")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("check-flag"), "checkPass");
    assert_eq!(run.output("warning-steps"), "BinlogParamCheck");
    assert_eq!(run.stdout.matches(" step ").count(), 6);
    let run = Gate::bare()
        .arg("--demo=fail")
        .env("DTS_API_VERSION", "2021-12-06")
        .env("DTS_POLL_INTERVAL", "100ms")
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("failed-steps"), "SrcPrivilegeCheck");
    let error = &run.commands_named("error")[0];
    assert!(
        error.data.contains("REPLICATION CLIENT")
            && error.data.contains("Solution: ")
            && error.data.contains("Help: https://")
    );
}

#[test]
fn a_skipped_failed_step_passes_but_is_shown_and_fail_on_warning_fails_the_pass() {
    let mut server = Server::new();
    let _mock = reply(&mut server, SDK_EXAMPLE, 2);
    // By default the service's pass stands, and the skipped failure is said first.
    let run = gate(&server).run();
    assert_eq!(run.code, 0, "{run:?}");
    let skipped = run.output("skipped-steps").to_string();
    assert!(!skipped.is_empty(), "{run:?}");
    assert!(
        run.summary
            .contains("Failed check steps skipped by the user, not passed"),
        "{}",
        run.summary
    );
    // DTS_FAIL_ON_WARNING=true: the same answer does not pass.
    let run = gate(&server).env("DTS_FAIL_ON_WARNING", "true").run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "not-passed");
    let errors = run.commands_named("error");
    assert!(
        errors.iter().any(|e| e.properties[0]
            .1
            .starts_with("DTS check passed with warnings")
            && e.data.contains("DTS_FAIL_ON_WARNING=true fails them")),
        "{errors:?}"
    );
}
