//! The whole migration start: fresh checks (and the stale-result race), several jobs at once,
//! starting the migrations on a pass, and the dry run. The real binary against mockito.

mod common;

use std::time::Duration;

use common::*;
use mockito::{Mock, Server, ServerGuard};
use serde_json::Value;

/// Answers `action` for `job` with `body`, `times` times.
fn on(server: &mut ServerGuard, action: &str, job: &str, body: &str, times: usize) -> Mock {
    server
        .mock("POST", "/")
        .match_header("x-tc-action", action)
        .match_header("x-tc-version", "2018-03-30")
        .match_body(job_body(job).as_str())
        .with_header("content-type", "application/json")
        .with_body(body)
        .expect(times)
        .create()
}

fn describe(server: &mut ServerGuard, job: &str, body: &str, times: usize) -> Mock {
    on(server, "DescribeMigrateCheckJob", job, body, times)
}

/// The service refusing an action in the job's current state.
fn in_conflict(message: &str) -> String {
    service_error("FailedOperation.StatusInConflict", message)
}

fn jobs_output(run: &Run) -> Vec<Value> {
    serde_json::from_str::<Value>(run.output("jobs"))
        .expect("jobs is JSON")
        .as_array()
        .expect("jobs is an array")
        .clone()
}

#[test]
fn a_fresh_check_never_takes_the_previous_result_even_while_it_is_still_returned() {
    let mut server = Server::new();
    let old_pass = pass();
    // The read before the create, then three more stale answers after it.
    let stale = describe(&mut server, JOB_ID, &old_pass, 4);
    let create = on(
        &mut server,
        "CreateMigrateCheckJob",
        JOB_ID,
        &acknowledged("create-1"),
        1,
    );
    let checking = describe(&mut server, JOB_ID, &running("40"), 1);
    let new_fail = describe(
        &mut server,
        JOB_ID,
        &not_passed("the target table now exists"),
        1,
    );
    let run = Gate::against(&server.url())
        .env("DTS_CREATE_CHECK", "true")
        .run();
    for m in [&stale, &create, &checking, &new_fail] {
        m.assert();
    }
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("error-message"), "the target table now exists");
    assert!(run.stdout.contains(
        "created a new check for dts-1kl0iy0v (CreateMigrateCheckJob, RequestId create-1)"
    ));
    assert_eq!(
        run.stdout.matches("ignoring a finished result").count(),
        1,
        "{}",
        run.stdout
    );
    // prior read + create + 3 stale + running + finished
    assert_eq!(run.output("polls"), "7");
}

#[test]
fn an_identical_pass_that_outlives_the_grace_period_is_an_error_never_a_pass() {
    let mut server = Server::new();
    let _same = describe(&mut server, JOB_ID, &pass(), 1);
    let _create = on(
        &mut server,
        "CreateMigrateCheckJob",
        JOB_ID,
        &acknowledged("c"),
        1,
    );
    let run = Gate::against(&server.url())
        .env("DTS_CREATE_CHECK", "true")
        .env("DTS_CREATE_GRACE", "2s")
        // A slow interval: right after the create the gate still polls about once a second.
        .env("DTS_POLL_INTERVAL", "10s")
        .env("DTS_TIMEOUT", "5m")
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("error-code"), "CreatedCheckNotSeen");
    assert!(
        run.output("error-message")
            .contains("still showed the previous passed result"),
        "{run:?}"
    );
    assert!(run.stdout.contains("ignoring a finished result"));
    // Ended at the grace period, not at the timeout, polling about once a second meanwhile.
    assert!(run.wall >= Duration::from_secs(2), "{:?}", run.wall);
    assert!(run.wall < Duration::from_secs(8), "{:?}", run.wall);
    let polls: u32 = run.output("polls").parse().unwrap();
    assert!(
        polls >= 4,
        "{polls} requests: prior read, create and fast polls"
    );
}

#[test]
fn an_identical_failure_after_the_grace_period_still_fails_the_gate() {
    let mut server = Server::new();
    let _same = describe(&mut server, JOB_ID, &not_passed("table missing"), 1);
    let _create = on(
        &mut server,
        "CreateMigrateCheckJob",
        JOB_ID,
        &acknowledged("c"),
        1,
    );
    let run = Gate::against(&server.url())
        .env("DTS_CREATE_CHECK", "true")
        .env("DTS_CREATE_GRACE", "500ms")
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("error-message"), "table missing");
}

#[test]
fn a_refused_create_fails_the_job_without_polling_on() {
    let mut server = Server::new();
    let prior = describe(&mut server, JOB_ID, &pass(), 1);
    let create = on(
        &mut server,
        "CreateMigrateCheckJob",
        JOB_ID,
        &in_conflict("a check is already running"),
        1,
    );
    let run = Gate::against(&server.url())
        .env("DTS_CREATE_CHECK", "true")
        .run();
    prior.assert();
    create.assert();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("error-code"), "FailedOperation.StatusInConflict");
    assert_eq!(run.output("passed"), "false");
}

#[test]
fn several_jobs_pass_only_if_every_job_passes() {
    let mut server = Server::new();
    let _a = describe(&mut server, "dts-aaa1", &pass(), 1);
    let _b1 = describe(&mut server, "dts-bbb2", &running("50"), 1);
    let _b2 = describe(&mut server, "dts-bbb2", &not_passed("no privilege"), 1);
    let _c = describe(&mut server, "dts-ccc3", &pass(), 1);
    let run = Gate::against(&server.url())
        .env("DTS_JOB_ID", "dts-aaa1, dts-bbb2\ndts-ccc3,dts-aaa1")
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "not-passed");
    // The scalars describe the job that decided the verdict.
    assert_eq!(run.output("error-message"), "no privilege");
    let jobs = jobs_output(&run);
    let summary: Vec<(&str, &str)> = jobs
        .iter()
        .map(|j| (j["id"].as_str().unwrap(), j["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("dts-aaa1", "passed"),
            ("dts-bbb2", "not-passed"),
            ("dts-ccc3", "passed")
        ]
    );
    assert_eq!(jobs[1]["check_flag"], "0");
    assert_eq!(jobs[1]["message"], "no privilege");
    assert_eq!(jobs[1]["progress"], 100);
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].properties[0].1, "DTS check not passed: dts-bbb2");
    assert!(run.stdout.contains("dts-bbb2: [") && run.stdout.contains("dts-aaa1: ["));
    for job in ["dts-aaa1", "dts-bbb2", "dts-ccc3"] {
        assert!(
            run.summary.contains(&format!("| {job} |")),
            "{job} row missing:\n{}",
            run.summary
        );
    }
    assert!(
        run.summary
            .starts_with("### ❌ DTS checks did not pass: 3 jobs")
    );
}

#[test]
fn the_most_severe_outcome_sets_the_exit_code() {
    let mut server = Server::new();
    let _a = describe(&mut server, "dts-aaa1", &running("10"), 1);
    let _b = describe(
        &mut server,
        "dts-bbb2",
        &service_error("UnauthorizedOperation.NotEnoughPrivileges", "no"),
        1,
    );
    let _c = describe(&mut server, "dts-ccc3", &not_passed("x"), 1);
    let run = Gate::against(&server.url())
        .env("DTS_JOB_ID", "dts-aaa1 dts-bbb2 dts-ccc3")
        .env("DTS_TIMEOUT", "1")
        .env("DTS_FAIL_FAST", "false")
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("result"), "error");
    assert_eq!(
        run.output("error-code"),
        "UnauthorizedOperation.NotEnoughPrivileges"
    );
    let results: Vec<String> = jobs_output(&run)
        .iter()
        .map(|j| j["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(results, ["timed-out", "error", "not-passed"]);
}

#[test]
fn one_job_that_cannot_pass_ends_the_run_at_once_not_at_the_timeout() {
    let mut server = Server::new();
    let _missing = describe(
        &mut server,
        "dts-aaa1",
        &service_error("ResourceNotFound.JobNotExist", "no such job"),
        1,
    );
    let _running = describe(&mut server, "dts-bbb2", &running("40"), 1);
    let run = Gate::against(&server.url())
        .env("DTS_JOB_ID", "dts-bbb2 dts-aaa1")
        .env("DTS_TIMEOUT", "30m")
        .with_reports()
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.wall < Duration::from_secs(10), "{:?}", run.wall);
    let jobs = jobs_output(&run);
    assert_eq!(jobs[0]["id"], "dts-bbb2");
    assert_eq!(jobs[0]["result"], "not-waited-for");
    // Its last known state is kept.
    assert_eq!(jobs[0]["status"], "running");
    assert_eq!(jobs[0]["progress"], 40);
    assert_eq!(jobs[1]["result"], "error");
    let errors = run.commands_named("error");
    assert!(
        errors.iter().any(|e| e
            .data
            .contains("set DTS_FAIL_FAST=false to wait for every job")),
        "{errors:?}"
    );
    let junit = run.reports.junit.as_deref().expect("JUnit report");
    assert!(junit.contains("<skipped>not waited for"), "{junit}");
}

#[test]
fn every_passing_job_is_started_and_reported() {
    let mut server = Server::new();
    let _a = describe(&mut server, "dts-aaa1", &pass(), 1);
    let _b = describe(&mut server, "dts-bbb2", &pass(), 1);
    let start_a = on(
        &mut server,
        "StartMigrateJob",
        "dts-aaa1",
        &acknowledged("start-a"),
        1,
    );
    let start_b = on(
        &mut server,
        "StartMigrateJob",
        "dts-bbb2",
        &acknowledged("start-b"),
        1,
    );
    let run = Gate::against(&server.url())
        .env("DTS_JOB_ID", "dts-aaa1,dts-bbb2")
        .env("DTS_START_MIGRATION", "true")
        .run();
    start_a.assert();
    start_b.assert();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("migration-started"), "true");
    assert!(
        run.stdout
            .contains("started the migration of dts-aaa1 (StartMigrateJob, RequestId start-a)")
    );
    let jobs = jobs_output(&run);
    assert_eq!(jobs[1]["migration_started"], true);
    assert_eq!(jobs[1]["start_request_id"], "start-b");
    assert!(run.summary.contains("started \\(start-a\\)"));
}

#[test]
fn nothing_is_started_unless_every_job_passed() {
    let mut server = Server::new();
    let _a = describe(&mut server, "dts-aaa1", &pass(), 1);
    let _b = describe(&mut server, "dts-bbb2", &not_passed("bad"), 1);
    let start = server
        .mock("POST", "/")
        .match_header("x-tc-action", "StartMigrateJob")
        .expect(0)
        .create();
    let run = Gate::against(&server.url())
        .env("DTS_JOB_ID", "dts-aaa1,dts-bbb2")
        .env("DTS_START_MIGRATION", "true")
        .run();
    start.assert();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("migration-started"), "false");
    assert!(run.stdout.contains("not starting any migration"));
}

#[test]
fn a_refused_start_exits_3() {
    let mut server = Server::new();
    let _a = describe(&mut server, JOB_ID, &pass(), 1);
    let start = on(
        &mut server,
        "StartMigrateJob",
        JOB_ID,
        &in_conflict("job status is not checkPass"),
        1,
    );
    let run = Gate::against(&server.url())
        .env("DTS_START_MIGRATION", "true")
        .run();
    start.assert(); // refused once: never retried
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "error");
    assert_eq!(run.output("migration-started"), "false");
    assert_eq!(run.output("error-code"), "FailedOperation.StatusInConflict");
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].properties[0].1,
        "StartMigrateJob failed: dts-1kl0iy0v"
    );
    assert!(errors[0].data.contains("job status is not checkPass"));
}

#[test]
fn the_2021_api_creates_and_starts_with_its_own_version() {
    let mut server = Server::new();
    let prior = server
        .mock("POST", "/")
        .match_header("x-tc-action", "DescribeMigrationCheckJob")
        .match_header("x-tc-version", "2021-12-06")
        .with_body(r#"{"Response":{"Status":"notStarted","RequestId":"p"}}"#)
        .expect(1)
        .create();
    let create = server
        .mock("POST", "/")
        .match_header("x-tc-action", "CreateMigrateCheckJob")
        .match_header("x-tc-version", "2021-12-06")
        .with_body(acknowledged("c21"))
        .expect(1)
        .create();
    let pass = server
        .mock("POST", "/")
        .match_header("x-tc-action", "DescribeMigrationCheckJob")
        .match_header("x-tc-version", "2021-12-06")
        .with_body(r#"{"Response":{"Status":"success","CheckFlag":"checkPass","RequestId":"d"}}"#)
        .expect(1)
        .create();
    let start = server
        .mock("POST", "/")
        .match_header("x-tc-action", "StartMigrateJob")
        .match_header("x-tc-version", "2021-12-06")
        .with_body(acknowledged("s21"))
        .expect(1)
        .create();
    let run = Gate::against(&server.url())
        .env("DTS_API_VERSION", "2021-12-06")
        .env("DTS_CREATE_CHECK", "true")
        .env("DTS_START_MIGRATION", "true")
        .run();
    for m in [&prior, &create, &pass, &start] {
        m.assert();
    }
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("migration-started"), "true");
}

#[test]
fn a_dry_run_prints_every_call_and_sends_nothing() {
    let mut server = Server::new();
    let nothing = server.mock("POST", "/").expect(0).create();
    let run = Gate::against(&server.url())
        .env("DTS_JOB_ID", "dts-aaa1,dts-bbb2")
        .env("DTS_CREATE_CHECK", "true")
        .env("DTS_START_MIGRATION", "true")
        .env("TENCENTCLOUD_TOKEN", TOKEN)
        .arg("--dry-run")
        .run();
    nothing.assert();
    assert_eq!(run.code, 0, "{run:?}");
    let calls: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.contains(". POST "))
        .collect();
    assert_eq!(calls.len(), 8, "{}", run.stdout);
    assert!(calls[1].contains("X-TC-Action: CreateMigrateCheckJob X-TC-Version: 2018-03-30"));
    assert!(calls[1].contains(r#"body {"JobId":"dts-aaa1"}"#));
    assert!(calls[0].contains(&server.url()));
    assert!(calls[7].contains("StartMigrateJob") && calls[7].contains("dts-bbb2"));
    // It says it checked nothing: never a pass.
    assert_eq!(run.output("result"), "dry-run");
    assert_eq!(run.output("passed"), "false");
    assert!(run.summary.contains("dry run: nothing was sent or checked"));
    run.assert_no_secrets();
    // Inherited through DTS_DRY_RUN, the same plan exits 2: a pipeline must not go on as if a
    // check had passed.
    let inherited = Gate::against(&server.url())
        .env("DTS_DRY_RUN", "true")
        .with_reports()
        .run();
    assert_eq!(inherited.code, 2, "{inherited:?}");
    assert_eq!(inherited.output("result"), "dry-run");
    assert!(
        inherited.commands_named("warning")[0].data.contains(
            "DTS_DRY_RUN=true asked for a dry run, so nothing was sent and the gate exits 2"
        ),
        "{inherited:?}"
    );
    let json: Value = serde_json::from_str(inherited.reports.json.as_deref().unwrap()).unwrap();
    assert_eq!(json["passed"], false);
    assert_eq!(json["verdict"], "dry-run");
    // An invalid configuration is still exit 2.
    let run = Gate::against(&server.url())
        .env("DTS_DRY_RUN", "true")
        .env("DTS_TIMEOUT", "never")
        .run();
    assert_eq!(run.code, 2);
    nothing.assert();
}
