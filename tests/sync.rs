//! Data sync jobs (`sync-…`), the real binary against a loopback fake of the 2021-12-06 sync
//! actions: the check (`DescribeCheckSyncJobResult`, then the job's own `DescribeSyncJobs`
//! status), `CreateCheckSyncJob`, `StartSyncJob`, the ready stage, and the configuration
//! errors that must stop a run before anything is sent.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use common::http::{Reply, Request, Responder};
use common::*;
use serde_json::Value;

const SYNC: &str = "sync-werwfs23";
const A: &str = "sync-aaa1";
const B: &str = "sync-bbb2";

const CHECK: &str = "DescribeCheckSyncJobResult";
const JOBS: &str = "DescribeSyncJobs";
const CREATE: &str = "CreateCheckSyncJob";
const START: &str = "StartSyncJob";

/// What the fake answers, per action and job: replies in order, the last one repeating.
#[derive(Default, Clone)]
struct Script {
    replies: HashMap<(&'static str, String), Vec<String>>,
    /// The check answers once `CreateCheckSyncJob` was sent for the job.
    after_create: HashMap<String, Vec<String>>,
    /// What `StartSyncJob` answers instead of its acknowledgement.
    start_refusal: Option<String>,
}

impl Script {
    fn check(mut self, job: &str, replies: Vec<String>) -> Script {
        self.replies.insert((CHECK, job.to_string()), replies);
        self
    }

    fn jobs(mut self, job: &str, replies: Vec<String>) -> Script {
        self.replies.insert((JOBS, job.to_string()), replies);
        self
    }

    fn after_create(mut self, job: &str, replies: Vec<String>) -> Script {
        self.after_create.insert(job.to_string(), replies);
        self
    }

    fn refuse_start(mut self, answer: String) -> Script {
        self.start_refusal = Some(answer);
        self
    }

    /// A job whose check passes at the first poll.
    fn passing(self, job: &str) -> Script {
        self.check(job, vec![pass_check()])
            .jobs(job, vec![job_is(job, "CheckPass")])
    }
}

/// A fake DTS that routes on `X-TC-Action` and the body's `JobId`, checks every request is a
/// signed 2021-12-06 call, and records each as `(action, body)`.
struct Fake {
    responder: Responder,
}

impl Fake {
    fn new(script: Script) -> Fake {
        let counters: Mutex<HashMap<String, usize>> = Mutex::new(HashMap::new());
        let created: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
        let responder = Responder::start(move |r: &Request| {
            let action = r.action();
            let body = r.body_text();
            if !r.is_signed_2021() {
                return Reply::json(&service_error("InvalidParameter", "not a signed 2021 call"));
            }
            let job = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["JobId"].as_str().map(str::to_string))
                .unwrap_or_default();
            let pick = |key: String, list: &Vec<String>| {
                let mut counters = counters.lock().unwrap();
                let at = counters.entry(key).or_default();
                let reply = list[(*at).min(list.len() - 1)].clone();
                *at += 1;
                Reply::json(&reply)
            };
            match action.as_str() {
                CREATE => {
                    created.lock().unwrap().insert(job.clone());
                    Reply::json(&acknowledged(&format!("create-{job}")))
                }
                START => Reply::json(
                    &script
                        .start_refusal
                        .clone()
                        .unwrap_or_else(|| acknowledged(&format!("start-{job}"))),
                ),
                CHECK
                    if created.lock().unwrap().contains(&job)
                        && script.after_create.contains_key(&job) =>
                {
                    pick(format!("created {job}"), &script.after_create[&job])
                }
                CHECK | JOBS => match script
                    .replies
                    .get(&(if action == CHECK { CHECK } else { JOBS }, job.clone()))
                {
                    Some(list) => pick(format!("{action} {job}"), list),
                    None => Reply::json(&service_error(
                        "InternalError.Unscripted",
                        &format!("no {action} answer for {job}"),
                    )),
                },
                other => Reply::json(&service_error(
                    "InvalidAction",
                    &format!("the fake does not know {other}"),
                )),
            }
        });
        Fake { responder }
    }

    /// The gate on `jobs` against this fake, with a short timeout.
    fn gate(&self, jobs: &str) -> Gate {
        Gate::against(&self.responder.url())
            .env("DTS_JOB_ID", jobs)
            .env("DTS_TIMEOUT", "5s")
    }

    fn requests(&self) -> Vec<(String, String)> {
        self.responder.calls()
    }

    fn actions(&self) -> Vec<String> {
        self.requests().into_iter().map(|(a, _)| a).collect()
    }
}

/// `(action, body)` of a call about `job`, as the fake records it.
fn call(action: &str, job: &str) -> (String, String) {
    (action.to_string(), job_body(job))
}

fn passing_steps() -> Vec<SyncStep> {
    vec![
        sync_step(1, "ConnectDBCheck", "finished"),
        sync_step(2, "VersionCheck", "finished"),
        sync_step(3, "OptimizeCheck", "skipped"),
    ]
}

fn pass_check() -> String {
    sync_check("success").steps(passing_steps()).body()
}

fn job_is(job: &str, status: &str) -> String {
    sync_jobs([sync_job(job, status)])
}

/// Neither the API keys nor any endpoint secret `DescribeSyncJobs` echoes are anywhere a person
/// or a runner can read.
fn assert_no_sync_secrets(run: &Run) {
    run.assert_no_secrets();
    let reports = [&run.reports.json, &run.reports.junit, &run.reports.dotenv];
    for text in [&run.stdout, &run.stderr, &run.output_raw, &run.summary]
        .into_iter()
        .chain(reports.into_iter().flatten())
    {
        for secret in [
            SYNC_SRC_PASSWORD,
            SYNC_DST_PASSWORD,
            SYNC_TMP_SECRET_KEY,
            SYNC_TMP_TOKEN,
        ] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
    }
}

// ---- the check -------------------------------------------------------------------------

#[test]
fn a_sync_check_passes_on_success_with_finished_steps_and_check_pass() {
    let running = sync_check("running").steps([
        sync_step(1, "ConnectDBCheck", "finished"),
        sync_step(2, "VersionCheck", "running"),
        sync_step(3, "OptimizeCheck", "notStarted"),
    ]);
    let fake = Fake::new(
        Script::default()
            .check(
                SYNC,
                vec![
                    sync_check("notStarted").body(),
                    running.body(),
                    pass_check(),
                ],
            )
            .jobs(SYNC, vec![job_is(SYNC, "CheckPass")]),
    );
    let run = fake.gate(SYNC).with_reports().run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("result"), "passed");
    assert_eq!(run.output("status"), "success");
    assert_eq!(run.output("check-flag"), "CheckPass");
    assert_eq!(run.output("failed-steps"), "");
    // The job's status is read only once the check finished, in the same poll.
    assert_eq!(
        fake.requests(),
        [
            call(CHECK, SYNC),
            call(CHECK, SYNC),
            call(CHECK, SYNC),
            call(JOBS, SYNC)
        ]
    );
    run.assert_stdout_has(&["DescribeCheckSyncJobResult"]);
    assert!(run.commands_named("error").is_empty(), "{}", run.stdout);
    assert!(
        run.reports
            .junit
            .as_deref()
            .unwrap()
            .contains("ConnectDBCheck"),
        "{:?}",
        run.reports.junit
    );
    assert_no_sync_secrets(&run);
}

#[test]
fn only_finished_and_skipped_steps_pass_a_successful_check() {
    // The service says success and the job CheckPass, but a step that did not finish (or
    // failed) means the check did not get through: never a pass.
    let cases = [
        ("finished", 0),
        ("skipped", 0),
        ("failed", 1),
        ("running", 1),
        ("paused", 1),
        ("notStarted", 1),
    ];
    let fakes: Vec<Fake> = cases
        .iter()
        .map(|(status, _)| {
            let check = sync_check("success").steps([
                sync_step(1, "ConnectDBCheck", "finished"),
                sync_step(2, "DstEmptyCheck", status),
            ]);
            Fake::new(
                Script::default()
                    .check(SYNC, vec![check.body()])
                    .jobs(SYNC, vec![job_is(SYNC, "CheckPass")]),
            )
        })
        .collect();
    let runs = run_together(fakes.iter().map(|f| f.gate(SYNC)));
    for (((status, code), run), fake) in cases.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, *code, "step {status}: {run:?}");
        assert_eq!(
            run.output("passed"),
            (*code == 0).to_string(),
            "step {status}"
        );
        assert_eq!(
            fake.requests(),
            [call(CHECK, SYNC), call(JOBS, SYNC)],
            "step {status}: one poll decides"
        );
        if *code != 0 {
            assert!(!run.commands_named("error").is_empty(), "step {status}");
        }
        // A step that did not get through is named as the reason, in the annotation and in
        // error-message: the service's own flag (CheckPass) says nothing of it.
        if matches!(*status, "running" | "paused" | "notStarted") {
            let error = run.first_error();
            let reason = format!("step DstEmptyCheck step (DstEmptyCheck) is {status}");
            assert!(error.contains(&reason), "step {status}: {error}");
            assert!(
                run.output("error-message").contains(&reason),
                "step {status}: {}",
                run.output("error-message")
            );
        }
    }
    assert_eq!(runs[2].output("failed-steps"), "DstEmptyCheck");
    // No step at all is not knowing what was checked: not a pass either.
    let fake = Fake::new(
        Script::default()
            .check(SYNC, vec![sync_check("success").body()])
            .jobs(SYNC, vec![job_is(SYNC, "CheckPass")]),
    );
    let run = fake.gate(SYNC).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.first_error().contains("lists no step"),
        "{}",
        run.first_error()
    );
}

#[test]
fn the_jobs_own_status_decides_a_successful_check() {
    let cases = [("CheckPass", 0), ("CheckNotPass", 1), ("Running", 1)];
    let fakes: Vec<Fake> = cases
        .iter()
        .map(|(status, _)| {
            Fake::new(
                Script::default()
                    .check(SYNC, vec![pass_check()])
                    .jobs(SYNC, vec![job_is(SYNC, status)]),
            )
        })
        .collect();
    let runs = run_together(fakes.iter().map(|f| f.gate(SYNC)));
    for (((status, code), run), fake) in cases.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, *code, "job {status}: {run:?}");
        assert_eq!(run.output("check-flag"), *status, "job {status}");
        assert_eq!(run.output("status"), "success", "job {status}");
        assert_eq!(fake.requests(), [call(CHECK, SYNC), call(JOBS, SYNC)]);
    }
    assert_eq!(runs[1].output("result"), "not-passed");
    // A job still Checking lags its finished check: poll again, and pass once CheckPass.
    let fake = Fake::new(Script::default().check(SYNC, vec![pass_check()]).jobs(
        SYNC,
        vec![job_is(SYNC, "Checking"), job_is(SYNC, "CheckPass")],
    ));
    let run = fake.gate(SYNC).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("check-flag"), "CheckPass");
    assert_eq!(
        fake.requests(),
        [
            call(CHECK, SYNC),
            call(JOBS, SYNC),
            call(CHECK, SYNC),
            call(JOBS, SYNC)
        ]
    );
}

#[test]
fn a_failed_check_fails_with_or_without_failed_steps() {
    let with_steps = sync_check("failed").steps([
        sync_step(1, "ConnectDBCheck", "finished"),
        sync_step(2, "DstEmptyCheck", "failed")
            .errors([sync_tip("DstEmptyCheck", "db1.t1 exists in the target")]),
    ]);
    let fakes = [
        Fake::new(
            Script::default()
                .check(SYNC, vec![sync_check("failed").body()])
                .jobs(SYNC, vec![job_is(SYNC, "CheckNotPass")]),
        ),
        Fake::new(
            Script::default()
                .check(SYNC, vec![with_steps.body()])
                .jobs(SYNC, vec![job_is(SYNC, "CheckNotPass")]),
        ),
    ];
    let runs = run_together(fakes.iter().map(|f| f.gate(SYNC)));
    for (run, fake) in runs.iter().zip(&fakes) {
        assert_eq!(run.code, 1, "{run:?}");
        assert_eq!(run.output("status"), "failed");
        assert_eq!(run.output("passed"), "false");
        assert_eq!(fake.requests(), [call(CHECK, SYNC), call(JOBS, SYNC)]);
    }
    assert_eq!(runs[1].output("failed-steps"), "DstEmptyCheck");
    assert_eq!(runs[1].output("check-flag"), "CheckNotPass");
}

#[test]
fn unknown_statuses_warn_and_keep_polling_unfinished_ones_time_out() {
    let fake = Fake::new(
        Script::default()
            .check(SYNC, vec![sync_check("queued").body(), pass_check()])
            .jobs(SYNC, vec![job_is(SYNC, "CheckPass")]),
    );
    let run = fake.gate(SYNC).run();
    assert_eq!(run.code, 0, "{run:?}");
    let warnings = run.commands_named("warning");
    assert!(
        warnings.iter().any(|w| w.data.contains("queued")),
        "{warnings:?}"
    );
    // An unknown status is not finished: the job's status is not read for it.
    assert_eq!(
        fake.requests(),
        [call(CHECK, SYNC), call(CHECK, SYNC), call(JOBS, SYNC)]
    );
    let forever = ["notStarted", "running", "queued"];
    let fakes: Vec<Fake> = forever
        .iter()
        .map(|status| Fake::new(Script::default().check(SYNC, vec![sync_check(status).body()])))
        .collect();
    let runs = run_together(fakes.iter().map(|f| f.gate(SYNC).env("DTS_TIMEOUT", "1s")));
    for ((status, run), fake) in forever.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, 4, "{status}: {run:?}");
        assert_eq!(run.output("result"), "timed-out", "{status}");
        assert_eq!(run.output("passed"), "false", "{status}");
        assert!(fake.actions().len() > 2, "{status}: kept polling");
        assert!(
            fake.actions().iter().all(|a| a == CHECK),
            "{status}: {:?}",
            fake.actions()
        );
    }
}

#[test]
fn api_errors_of_either_action_exit_3() {
    let fakes = [
        // The check action refused.
        Fake::new(Script::default().check(SYNC, vec![signature_failure()])),
        // The job's status unreadable: a finished check without it is no verdict.
        Fake::new(
            Script::default()
                .check(SYNC, vec![pass_check()])
                .jobs(SYNC, vec![signature_failure()]),
        ),
        Fake::new(Script::default().check(
            SYNC,
            vec![service_error(
                "ResourceNotFound.JobNotExist",
                "the job does not exist",
            )],
        )),
    ];
    let runs = run_together(fakes.iter().map(|f| f.gate(SYNC)));
    for (run, fake) in runs.iter().zip(&fakes) {
        assert_eq!(run.code, 3, "{run:?}");
        assert_eq!(run.output("result"), "error");
        assert_eq!(run.output("passed"), "false");
        assert!(!run.commands_named("error").is_empty());
        assert!(fake.requests().len() <= 2, "{:?}", fake.requests());
    }
    assert_eq!(runs[0].output("error-code"), "AuthFailure.SignatureFailure");
    assert_eq!(fakes[1].requests(), [call(CHECK, SYNC), call(JOBS, SYNC)]);
    assert!(
        runs[2].stdout.contains("sync-werwfs23") && runs[2].stdout.contains("sync job"),
        "{}",
        runs[2].stdout
    );
}

#[test]
fn an_error_entry_shows_its_message_solution_and_help_link_everywhere() {
    let check = sync_check("success").steps([
        sync_step(1, "ConnectDBCheck", "finished"),
        sync_step(2, "DstEmptyCheck", "failed").errors([sync_tip(
            "DstEmptyCheck.TableExists",
            "table db1.t1 already exists in the target",
        )
        .solution("drop db1.t1 in the target or rename it")
        .help_doc("https://cloud.tencent.com/document/product/571/61639")]),
        sync_step(3, "DstSpaceCheck", "finished"),
    ]);
    let fake = Fake::new(
        Script::default()
            .check(SYNC, vec![check.body()])
            .jobs(SYNC, vec![job_is(SYNC, "CheckNotPass")]),
    );
    let run = fake.gate(SYNC).with_reports().run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("failed-steps"), "DstEmptyCheck");
    assert_eq!(run.output("check-flag"), "CheckNotPass");
    let errors = run.commands_named("error");
    let annotation = errors
        .iter()
        .find(|e| e.data.contains("table db1.t1 already exists in the target"))
        .unwrap_or_else(|| panic!("no annotation names the error: {errors:?}"));
    for text in [
        "drop db1.t1 in the target or rename it",
        "https://cloud.tencent.com/document/product/571/61639",
    ] {
        assert!(
            annotation.data.contains(text),
            "{text}: {}",
            annotation.data
        );
    }
    assert!(
        run.summary
            .contains("table db1.t1 already exists in the target"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("DstEmptyCheck"), "{}", run.summary);
    let junit = run.reports.junit.as_deref().unwrap();
    assert!(junit.contains("<failure"), "{junit}");
    assert!(
        junit.contains("table db1.t1 already exists in the target"),
        "{junit}"
    );
    let json = run.reports.json.as_deref().unwrap();
    assert!(json.contains("\"passed\": false"), "{json}");
    assert!(json.contains("DstEmptyCheck.TableExists"), "{json}");
    assert_no_sync_secrets(&run);
}

#[test]
fn warning_entries_are_warnings_unless_dts_fail_on_warning() {
    let check = sync_check("success").steps([
        sync_step(1, "ConnectDBCheck", "finished"),
        sync_step(2, "WarningParamCheck", "finished").warnings([sync_tip(
            "Warn: WarningParamCheck",
            "tables without a primary key may get duplicate rows",
        )]),
    ]);
    let script = Script::default()
        .check(SYNC, vec![check.body()])
        .jobs(SYNC, vec![job_is(SYNC, "CheckPass")]);
    let (lenient, strict) = (Fake::new(script.clone()), Fake::new(script));
    let runs = run_together([
        lenient.gate(SYNC),
        strict.gate(SYNC).env("DTS_FAIL_ON_WARNING", "true"),
    ]);
    let run = &runs[0];
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.commands_named("error").is_empty(), "{}", run.stdout);
    let warnings = run.commands_named("warning");
    assert!(
        warnings.iter().any(|w| w
            .data
            .contains("tables without a primary key may get duplicate rows")),
        "{warnings:?}"
    );
    assert_eq!(run.output("failed-steps"), "");
    let run = &runs[1];
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(strict.requests(), [call(CHECK, SYNC), call(JOBS, SYNC)]);
}

#[test]
fn several_sync_jobs_pass_only_together() {
    let both = Fake::new(Script::default().passing(A).passing(B));
    let one_fails = Fake::new(
        Script::default()
            .passing(A)
            .check(B, vec![pass_check()])
            .jobs(B, vec![job_is(B, "CheckNotPass")]),
    );
    let jobs = format!("{A},{B}");
    let runs = run_together([both.gate(&jobs), one_fails.gate(&jobs)]);
    assert_eq!(runs[0].code, 0, "{:?}", runs[0]);
    assert_eq!(runs[1].code, 1, "{:?}", runs[1]);
    for fake in [&both, &one_fails] {
        let mut seen = fake.requests();
        seen.sort();
        assert_eq!(
            seen,
            [call(CHECK, A), call(CHECK, B), call(JOBS, A), call(JOBS, B)]
        );
    }
    let jobs: Value = serde_json::from_str(runs[1].output("jobs")).unwrap();
    assert_eq!(jobs[0]["id"], A, "{jobs}");
    assert_eq!(jobs[1]["id"], B, "{jobs}");
    assert_eq!(jobs[1]["check_flag"], "CheckNotPass", "{jobs}");
}

// ---- DTS_CREATE_CHECK and DTS_START_SYNC -----------------------------------------------

#[test]
fn a_created_check_is_sent_before_polling_and_the_old_result_is_not_taken() {
    // The old check passed; after the create the service still answers that result once,
    // then the new check runs and fails.
    let new_fail = sync_check("success").steps([
        sync_step(1, "ConnectDBCheck", "finished"),
        sync_step(2, "DstEmptyCheck", "failed")
            .errors([sync_tip("DstEmptyCheck", "db1.t1 now exists in the target")]),
    ]);
    let fake = Fake::new(
        Script::default()
            .check(SYNC, vec![pass_check()])
            .after_create(
                SYNC,
                vec![
                    pass_check(),
                    sync_check("running").steps(passing_steps()).body(),
                    new_fail.body(),
                ],
            )
            .jobs(
                SYNC,
                vec![
                    job_is(SYNC, "CheckPass"),
                    job_is(SYNC, "CheckPass"),
                    job_is(SYNC, "CheckNotPass"),
                ],
            ),
    );
    let run = fake.gate(SYNC).env("DTS_CREATE_CHECK", "true").run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("failed-steps"), "DstEmptyCheck");
    run.assert_stdout_has(&[
        "created a new check for sync-werwfs23 (CreateCheckSyncJob, RequestId create-sync-werwfs23)",
        "ignoring a finished result",
    ]);
    assert_eq!(
        fake.requests(),
        [
            // The prior result, read before the create.
            call(CHECK, SYNC),
            call(JOBS, SYNC),
            call(CREATE, SYNC),
            // The stale pass, ignored.
            call(CHECK, SYNC),
            call(JOBS, SYNC),
            call(CHECK, SYNC),
            call(CHECK, SYNC),
            call(JOBS, SYNC),
        ]
    );
}

#[test]
fn a_stale_pass_that_outlives_the_grace_period_is_never_a_pass() {
    let fake = Fake::new(Script::default().passing(SYNC));
    let run = fake
        .gate(SYNC)
        .env("DTS_CREATE_CHECK", "true")
        .env("DTS_CREATE_GRACE", "500ms")
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("error-code"), "CreatedCheckNotSeen");
    assert!(
        run.stdout.contains("ignoring a finished result"),
        "{}",
        run.stdout
    );
    assert_eq!(fake.actions()[..3], [CHECK, JOBS, CREATE]);
    assert_eq!(fake.actions().iter().filter(|a| *a == CREATE).count(), 1);
}

#[test]
fn start_sync_starts_every_job_only_once_all_passed() {
    let fake = Fake::new(Script::default().passing(A).passing(B));
    let run = fake
        .gate(&format!("{A},{B}"))
        .env("DTS_START_SYNC", "true")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("migration-started"), "true");
    run.assert_stdout_has(&[
        "started the sync job sync-aaa1 (StartSyncJob, RequestId start-sync-aaa1)",
        "started the sync job sync-bbb2 (StartSyncJob, RequestId start-sync-bbb2)",
    ]);
    let seen = fake.requests();
    assert_eq!(seen.len(), 6, "{seen:?}");
    // Both checks are read first; the starts come last, one per job.
    assert_eq!(seen[4..], [call(START, A), call(START, B)]);
    assert!(seen[..4].iter().all(|(a, _)| a == CHECK || a == JOBS));

    let failing = Fake::new(
        Script::default()
            .passing(A)
            .check(B, vec![pass_check()])
            .jobs(B, vec![job_is(B, "CheckNotPass")]),
    );
    let run = failing
        .gate(&format!("{A},{B}"))
        .env("DTS_START_SYNC", "true")
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("migration-started"), "false");
    run.assert_stdout_has(&["not starting any sync job: not every check passed"]);
    assert!(!failing.actions().iter().any(|a| a == START));
}

// ---- the ready stage ---------------------------------------------------------------------

fn ready_fake(replies: Vec<String>) -> Fake {
    Fake::new(Script::default().jobs(SYNC, replies))
}

fn running_job() -> String {
    job_is(SYNC, "Running")
}

#[test]
fn ready_passes_on_running_in_the_last_step() {
    let fake = ready_fake(vec![running_job()]);
    let run = fake.gate(SYNC).arg("ready").with_reports().run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("stage"), "ready");
    assert_eq!(run.output("status"), "Running");
    assert_eq!(fake.requests(), [call(JOBS, SYNC)]);
    assert_no_sync_secrets(&run);
    // DTS_STAGE says the same.
    let fake = ready_fake(vec![running_job()]);
    let run = fake.gate(SYNC).env("DTS_STAGE", "ready").run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(fake.requests(), [call(JOBS, SYNC)]);
}

#[test]
fn every_waiting_ready_status_keeps_polling_until_running() {
    let mut cases: Vec<(String, String)> = [
        "UnInitialized",
        "Initialized",
        "Checking",
        "CheckPass",
        "ReadyRunning",
        "Resuming",
    ]
    .iter()
    .map(|s| (s.to_string(), job_is(SYNC, s)))
    .collect();
    // Running its full import (step 3 of 4): the lag means nothing yet.
    cases.push((
        "Running at step 3".into(),
        sync_jobs([sync_job(SYNC, "Running").step_now(Some(3)).steps(&[
            ("schema-init", "finished"),
            ("dumper", "finished"),
            ("loader", "running"),
            ("sinker", "notStarted"),
        ])]),
    ));
    let fakes: Vec<Fake> = cases
        .iter()
        .map(|(_, body)| ready_fake(vec![body.clone(), running_job()]))
        .collect();
    let runs = run_together(fakes.iter().map(|f| f.gate(SYNC).arg("ready")));
    for (((status, _), run), fake) in cases.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, 0, "{status}: {run:?}");
        assert_eq!(
            fake.requests(),
            [call(JOBS, SYNC), call(JOBS, SYNC)],
            "{status}"
        );
        assert!(
            run.commands_named("warning").is_empty(),
            "{status}: {}",
            run.stdout
        );
    }
}

#[test]
fn every_failing_ready_status_and_trade_status_fails_at_once() {
    let mut cases: Vec<(String, String)> = [
        "CheckNotPass",
        "Pausing",
        "Paused",
        "Stopping",
        "Stopped",
        "ResumableErr",
        "Failed",
        "Released",
        "Resetting",
    ]
    .iter()
    .map(|s| (s.to_string(), job_is(SYNC, s)))
    .collect();
    for trade in ["Isolating", "Isolated", "Offlining", "Offlined"] {
        cases.push((
            format!("Running/{trade}"),
            sync_jobs([sync_job(SYNC, "Running").trade(trade)]),
        ));
    }
    let fakes: Vec<Fake> = cases
        .iter()
        .map(|(_, body)| ready_fake(vec![body.clone(), running_job()]))
        .collect();
    let runs = run_together(
        fakes
            .iter()
            .map(|f| f.gate(SYNC).arg("ready").with_reports()),
    );
    for (((status, _), run), fake) in cases.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, 1, "{status}: {run:?}");
        assert_eq!(run.output("result"), "not-passed", "{status}");
        assert_eq!(run.output("passed"), "false", "{status}");
        assert_eq!(fake.requests(), [call(JOBS, SYNC)], "{status}: not at once");
        assert!(!run.commands_named("error").is_empty(), "{status}");
        assert_no_sync_secrets(run);
    }
}

#[test]
fn unknown_ready_statuses_warn_and_never_pass() {
    let statuses = ["Unknown", "Teleporting"];
    let fakes: Vec<Fake> = statuses
        .iter()
        .map(|s| ready_fake(vec![job_is(SYNC, s), running_job()]))
        .collect();
    let runs = run_together(fakes.iter().map(|f| f.gate(SYNC).arg("ready")));
    for ((status, run), fake) in statuses.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, 0, "{status}: {run:?}");
        let warnings = run.commands_named("warning");
        assert_eq!(warnings.len(), 1, "{status}: {warnings:?}");
        assert!(warnings[0].data.contains(status), "{:?}", warnings[0]);
        assert!(
            warnings[0].data.contains("DescribeSyncJobs"),
            "{:?}",
            warnings[0]
        );
        assert_eq!(fake.requests(), [call(JOBS, SYNC), call(JOBS, SYNC)]);
    }
    let fakes: Vec<Fake> = statuses
        .iter()
        .map(|s| ready_fake(vec![job_is(SYNC, s)]))
        .collect();
    let runs = run_together(
        fakes
            .iter()
            .map(|f| f.gate(SYNC).arg("ready").env("DTS_TIMEOUT", "1s")),
    );
    for ((status, run), fake) in statuses.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, 4, "{status}: {run:?}");
        assert_eq!(run.output("passed"), "false");
        // Warned once, however often polled.
        assert_eq!(run.commands_named("warning").len(), 1, "{status}");
        assert!(fake.requests().len() > 2, "{status}");
    }
}

#[test]
fn ready_needs_the_last_step() {
    let last_running_no_step_now = sync_jobs([sync_job(SYNC, "Running").step_now(None)]);
    let not_last_no_step_now = sync_jobs([sync_job(SYNC, "Running").step_now(None).steps(&[
        ("schema-init", "finished"),
        ("dumper", "running"),
        ("loader", "notStarted"),
        ("sinker", "notStarted"),
    ])]);
    let no_steps = sync_jobs([sync_job(SYNC, "Running").step_now(None).steps(&[])]);
    let step_now_past_steps = sync_jobs([sync_job(SYNC, "Running").step_now(Some(5))]);
    let cases = [
        ("no StepNow, last step running", last_running_no_step_now, 0),
        (
            "no StepNow, an earlier step running",
            not_last_no_step_now,
            4,
        ),
        ("no steps", no_steps, 4),
        ("StepNow past the steps", step_now_past_steps, 4),
    ];
    let fakes: Vec<Fake> = cases
        .iter()
        .map(|(_, body, _)| ready_fake(vec![body.clone()]))
        .collect();
    let runs = run_together(
        fakes
            .iter()
            .map(|f| f.gate(SYNC).arg("ready").env("DTS_TIMEOUT", "1s")),
    );
    for (((what, _, code), run), fake) in cases.iter().zip(&runs).zip(&fakes) {
        assert_eq!(run.code, *code, "{what}: {run:?}");
        if *code == 4 {
            assert!(fake.requests().len() > 2, "{what}: kept polling");
        }
    }
}

#[test]
fn ready_lag_limits_and_unknown_lag() {
    let lag = |seconds, mb| sync_jobs([sync_job(SYNC, "Running").lag(seconds, mb)]);
    let cases = [
        ("within", lag(5, 1), "DTS_MAX_LAG", "30s", 0),
        ("over", lag(90, 0), "DTS_MAX_LAG", "30s", 4),
        ("seconds unknown", lag(-1, 0), "DTS_MAX_LAG", "30s", 4),
        ("MB within", lag(0, 2), "DTS_MAX_LAG_MB", "10", 0),
        ("MB over", lag(0, 50), "DTS_MAX_LAG_MB", "10", 4),
        ("MB unknown", lag(0, -1), "DTS_MAX_LAG_MB", "10", 4),
    ];
    let fakes: Vec<Fake> = cases
        .iter()
        .map(|(_, body, ..)| ready_fake(vec![body.clone()]))
        .collect();
    let runs = run_together(fakes.iter().zip(&cases).map(|(f, (_, _, var, limit, _))| {
        f.gate(SYNC)
            .arg("ready")
            .env(var, limit)
            .env("DTS_LAG_SETTLE", "0s")
            .env("DTS_TIMEOUT", "1s")
    }));
    for ((what, _, _, _, code), run) in cases.iter().zip(&runs) {
        assert_eq!(run.code, *code, "{what}: {run:?}");
    }
    assert_eq!(runs[0].output("lag-seconds"), "5");
    assert_eq!(runs[0].output("lag-mb"), "1");
    assert_eq!(runs[2].output("lag-seconds"), "");
    // Without a limit the lag does not matter, even unknown.
    let fake = ready_fake(vec![lag(-1, -1)]);
    let run = fake.gate(SYNC).arg("ready").run();
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn a_failed_job_shows_its_err_info_but_never_its_passwords() {
    let failed = sync_jobs([sync_job(SYNC, "Failed").err_info(
        "BinlogPurged",
        "the source binlog was purged",
        "restart the sync job",
    )]);
    let fake = ready_fake(vec![failed]);
    let run = fake.gate(SYNC).arg("ready").with_reports().run();
    assert_eq!(run.code, 1, "{run:?}");
    let error = run.first_error();
    assert!(error.contains("the source binlog was purged"), "{error}");
    assert!(error.contains("restart the sync job"), "{error}");
    assert_eq!(run.output("status"), "Failed");
    assert_no_sync_secrets(&run);
}

// ---- the job missing from, or twice in, JobList --------------------------------------------

#[test]
fn a_job_missing_from_job_list_is_not_found_and_twice_is_malformed() {
    let missing = sync_jobs([sync_job("sync-other1", "Running")]);
    let empty = sync_jobs([]);
    let twice = sync_jobs([sync_job(SYNC, "Running"), sync_job(SYNC, "Running")]);
    let mut item: Value = sync_job(SYNC, "Running").into();
    item["Status"] = serde_json::json!(7);
    let malformed =
        serde_json::json!({"Response": {"JobList": [item], "RequestId": "req-bad"}}).to_string();
    let cases = [
        ("ready, another job only", missing.clone(), true),
        ("ready, empty list", empty, true),
        ("ready, twice", twice.clone(), true),
        ("check, another job only", missing, false),
        ("check, twice", twice, false),
        // A value of the wrong type beside the echoed passwords: an error that quotes none.
        ("ready, Status not a string", malformed.clone(), true),
        ("check, Status not a string", malformed, false),
    ];
    let fakes: Vec<Fake> = cases
        .iter()
        .map(|(_, body, _)| {
            Fake::new(
                Script::default()
                    .check(SYNC, vec![pass_check()])
                    .jobs(SYNC, vec![body.clone()]),
            )
        })
        .collect();
    let runs = run_together(fakes.iter().zip(&cases).map(|(f, (_, _, ready))| {
        let gate = f.gate(SYNC).with_reports();
        if *ready { gate.arg("ready") } else { gate }
    }));
    for ((what, _, _), run) in cases.iter().zip(&runs) {
        assert_eq!(run.code, 3, "{what}: {run:?}");
        assert_eq!(run.output("passed"), "false", "{what}");
        assert_no_sync_secrets(run);
    }
    assert_eq!(runs[0].output("error-code"), "ResourceNotFound.JobNotExist");
    assert_eq!(runs[3].output("error-code"), "ResourceNotFound.JobNotExist");
    assert!(
        runs[0].first_error().contains(SYNC),
        "{}",
        runs[0].first_error()
    );
    for run in [&runs[2], &runs[4]] {
        assert!(
            run.first_error().contains("ambiguous"),
            "{}",
            run.first_error()
        );
    }
    // A missing job is not retried as if the service were busy.
    assert_eq!(fakes[0].requests(), [call(JOBS, SYNC)]);
    assert_eq!(fakes[3].requests(), [call(CHECK, SYNC), call(JOBS, SYNC)]);
}

// ---- configuration errors ------------------------------------------------------------------

#[test]
fn sync_configuration_mistakes_exit_2_before_any_request() {
    // What is wrong, the variables set, the arguments, and the variable the error must name.
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [&'a str], &'a str);
    let cases: Vec<Case> = vec![
        (
            "mixed ids",
            vec![("DTS_JOB_ID", "sync-aaa1,dts-bbb2")],
            &[],
            "DTS_JOB_ID",
        ),
        (
            "unknown kind",
            vec![("DTS_JOB_KIND", "replica")],
            &[],
            "DTS_JOB_KIND",
        ),
        (
            "sync kind, migration id",
            vec![("DTS_JOB_KIND", "sync"), ("DTS_JOB_ID", "dts-bbb2")],
            &[],
            "DTS_JOB_KIND",
        ),
        (
            "migration kind, sync id",
            vec![("DTS_JOB_KIND", "migration")],
            &[],
            "DTS_JOB_KIND",
        ),
        (
            "start migration of sync jobs",
            vec![("DTS_START_MIGRATION", "true")],
            &[],
            "DTS_START_MIGRATION",
        ),
        (
            "start sync of migrations",
            vec![("DTS_START_SYNC", "true"), ("DTS_JOB_ID", "dts-bbb2")],
            &[],
            "DTS_START_SYNC",
        ),
        (
            "2018 API",
            vec![("DTS_API_VERSION", "2018-03-30")],
            &[],
            "DTS_API_VERSION",
        ),
        (
            "2018 API, ready",
            vec![("DTS_API_VERSION", "2018-03-30")],
            &["ready"],
            "DTS_API_VERSION",
        ),
        ("compare stage", vec![], &["compare"], "DTS_STAGE"),
        ("complete stage", vec![], &["complete"], "DTS_STAGE"),
        (
            "compare via DTS_STAGE",
            vec![("DTS_STAGE", "compare")],
            &[],
            "DTS_STAGE",
        ),
        (
            "complete via DTS_STAGE",
            vec![("DTS_STAGE", "complete")],
            &[],
            "DTS_STAGE",
        ),
    ];
    let fake = Fake::new(Script::default().passing(SYNC));
    let runs = run_together(cases.iter().map(|(_, vars, args, _)| {
        let mut gate = fake.gate(SYNC);
        for (k, v) in vars {
            gate = gate.env(k, v);
        }
        for a in *args {
            gate = gate.arg(a);
        }
        gate
    }));
    for ((what, _, _, variable), run) in cases.iter().zip(&runs) {
        assert_eq!(run.code, 2, "{what}: {run:?}");
        assert_eq!(run.output("result"), "error", "{what}");
        let named = run.commands_named("error").iter().any(|e| {
            e.data.contains(variable) || e.properties.iter().any(|(_, v)| v.contains(variable))
        });
        assert!(named, "{what}: no error names {variable}:\n{}", run.stdout);
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    // The explicit kind accepts its own ids.
    let ok = Fake::new(Script::default().passing(SYNC));
    let run = ok.gate(SYNC).env("DTS_JOB_KIND", "sync").run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(ok.requests(), [call(CHECK, SYNC), call(JOBS, SYNC)]);
}

#[test]
fn a_finished_step_listing_an_error_is_a_failed_step() {
    // The service may say a step finished and still list an error in it: that error must be
    // reported as the failed step it is, not as a bare "not passed" without a reason.
    let check = sync_check("success").steps([
        sync_step(1, "ConnectDBCheck", "finished"),
        sync_step(2, "DstEmptyCheck", "finished").errors([sync_tip(
            "DstEmptyCheck.TableExists",
            "table db1.t1 exists in the target",
        )]),
    ]);
    let fake = Fake::new(
        Script::default()
            .check(SYNC, vec![check.body()])
            .jobs(SYNC, vec![job_is(SYNC, "CheckPass")]),
    );
    let run = fake.gate(SYNC).with_reports().run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("failed-steps"), "DstEmptyCheck");
    assert!(
        run.commands_named("error")
            .iter()
            .any(|e| e.data.contains("table db1.t1 exists in the target")
                && e.data.contains("fix DstEmptyCheck.TableExists")),
        "{}",
        run.stdout
    );
    let junit = run.reports.junit.as_deref().unwrap();
    assert!(
        junit.contains("table db1.t1 exists in the target"),
        "{junit}"
    );
    assert_eq!(fake.requests(), [call(CHECK, SYNC), call(JOBS, SYNC)]);
}

#[test]
fn a_throttled_describe_sync_jobs_is_retried_never_a_verdict() {
    // The job's status is half the check's verdict: a throttled read of it is retried (the
    // whole poll again), neither an error nor a pass.
    let throttled = service_error("RequestLimitExceeded", "too many requests");
    let check = Fake::new(
        Script::default()
            .check(SYNC, vec![pass_check()])
            .jobs(SYNC, vec![throttled.clone(), job_is(SYNC, "CheckPass")]),
    );
    let ready = ready_fake(vec![throttled, running_job()]);
    let runs = run_together([check.gate(SYNC), ready.gate(SYNC).arg("ready")]);
    assert_eq!(runs[0].code, 0, "{:?}", runs[0]);
    assert_eq!(
        check.requests(),
        [
            call(CHECK, SYNC),
            call(JOBS, SYNC),
            call(CHECK, SYNC),
            call(JOBS, SYNC)
        ]
    );
    assert_eq!(runs[1].code, 0, "{:?}", runs[1]);
    assert_eq!(ready.requests(), [call(JOBS, SYNC), call(JOBS, SYNC)]);
    for run in &runs {
        run.assert_stdout_has(&["RequestLimitExceeded"]);
    }
}

#[test]
fn several_sync_jobs_are_ready_only_together() {
    let fake = Fake::new(
        Script::default()
            .jobs(A, vec![job_is(A, "Running")])
            .jobs(B, vec![job_is(B, "Initialized"), job_is(B, "Running")]),
    );
    let run = fake.gate(&format!("{A},{B}")).arg("ready").run();
    assert_eq!(run.code, 0, "{run:?}");
    // A, then B until ready, then A once more: still ready once B got there.
    assert_eq!(
        fake.requests(),
        [call(JOBS, A), call(JOBS, B), call(JOBS, B), call(JOBS, A)]
    );
    let failing = Fake::new(
        Script::default()
            .jobs(A, vec![job_is(A, "Running")])
            .jobs(B, vec![job_is(B, "Paused")]),
    );
    let run = failing.gate(&format!("{A},{B}")).arg("ready").run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(failing.requests(), [call(JOBS, A), call(JOBS, B)]);
}

#[test]
fn ready_reports_the_step_and_lag_it_waited_through() {
    // At the full import (step 3) the job is Running but not ready; the log names the step,
    // and the outputs are the reading that passed: the incremental step and its lag.
    let at3 = sync_jobs([sync_job(SYNC, "Running")
        .step_now(Some(3))
        .lag(12, 3)
        .steps(&[
            ("schema-init", "finished"),
            ("dumper", "finished"),
            ("loader", "running"),
            ("sinker", "notStarted"),
        ])]);
    let fake = ready_fake(vec![at3, sync_jobs([sync_job(SYNC, "Running").lag(2, 1)])]);
    let run = fake.gate(SYNC).arg("ready").with_reports().run();
    assert_eq!(run.code, 0, "{run:?}");
    run.assert_stdout_has(&[
        "sync-werwfs23: Running, step loader, lag 12s / 3 MB",
        "sync-werwfs23: Running, step sinker, lag 2s / 1 MB",
    ]);
    assert_eq!(run.output("step"), "sinker step");
    assert_eq!(run.output("lag-seconds"), "2");
    assert_eq!(run.output("lag-mb"), "1");
    assert_eq!(run.output("polls"), "2");
    let json: Value = serde_json::from_str(run.reports.json.as_deref().unwrap()).unwrap();
    assert_eq!(json["jobs"][0]["trade_status"], "Normal");
    assert_eq!(json["requests"], 2);
    assert_eq!(fake.requests(), [call(JOBS, SYNC), call(JOBS, SYNC)]);
    assert_no_sync_secrets(&run);
}

#[test]
fn a_refused_start_sync_job_exits_3_and_says_so() {
    let fake = Fake::new(Script::default().passing(SYNC).refuse_start(service_error(
        "FailedOperation.StatusInConflict",
        "the job is not in a state that can be started",
    )));
    let run = fake.gate(SYNC).env("DTS_START_SYNC", "true").run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("migration-started"), "false");
    let errors = run.commands_named("error");
    assert!(
        errors
            .iter()
            .any(|e| e.data.contains("FailedOperation.StatusInConflict")),
        "{errors:?}"
    );
    // Refused for a reason that will not change: asked once, not retried.
    assert_eq!(
        fake.requests(),
        [call(CHECK, SYNC), call(JOBS, SYNC), call(START, SYNC)]
    );
}

// ---- cancellation ----------------------------------------------------------------------

#[test]
fn a_cancelled_sync_check_starts_nothing() {
    let fake = Fake::new(Script::default().check(
        SYNC,
        vec![sync_check("running").steps(passing_steps()).body()],
    ));
    let mut running = fake
        .gate(SYNC)
        .env("DTS_START_SYNC", "true")
        .env("DTS_POLL_INTERVAL", "10s")
        .env("DTS_TIMEOUT", "1m")
        .spawn();
    // The first answer's progress line, before the 10 s wait for the next poll.
    running.wait_for_line(|line| line.contains("] running"));
    running.signal("INT");
    let run = running.wait();
    assert_eq!(run.code, 130, "{run:?}");
    assert_eq!(run.output("result"), "cancelled");
    assert_eq!(run.output("migration-started"), "false");
    assert_eq!(fake.actions(), [CHECK]);
}

#[test]
fn a_cancellation_while_the_job_status_is_read_ends_at_once() {
    // The check finished; the poll's second request, DescribeSyncJobs, never answers.
    let check = pass_check();
    let silent = Responder::start(move |r: &Request| match r.header("x-tc-action") {
        Some(CHECK) => Reply::json(&check),
        _ => Reply::Silence,
    });
    let mut running = Gate::against(&silent.url())
        .env("DTS_JOB_ID", SYNC)
        .env("DTS_START_SYNC", "true")
        .env("DTS_TIMEOUT", "1m")
        .spawn();
    running.wait_for_start();
    silent.wait_for_requests(2, std::time::Duration::from_secs(20));
    let sent = std::time::Instant::now();
    running.signal("TERM");
    let run = running.wait();
    assert!(
        sent.elapsed() < std::time::Duration::from_secs(1),
        "stopped {:?} after SIGTERM",
        sent.elapsed()
    );
    assert_eq!(run.code, 143, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    let actions: Vec<_> = silent.calls().into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, [CHECK, JOBS]);
}

#[test]
fn a_cancelled_ready_stage_exits_130() {
    let fake = ready_fake(vec![sync_jobs([
        sync_job(SYNC, "Running").step_now(Some(2))
    ])]);
    let mut running = fake
        .gate(SYNC)
        .arg("ready")
        .env("DTS_POLL_INTERVAL", "10s")
        .env("DTS_TIMEOUT", "1m")
        .spawn();
    // The first reading's line (not the opening line, which names the status it waits for).
    running.wait_for_line(|line| line.contains(&format!("{SYNC}: Running")));
    running.signal("INT");
    let run = running.wait();
    assert_eq!(run.code, 130, "{run:?}");
    assert_eq!(run.output("result"), "cancelled");
    assert_eq!(fake.actions(), [JOBS]);
}
