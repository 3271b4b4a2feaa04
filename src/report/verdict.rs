//! The verdict prose: the one-paragraph reason a job (or the run) did not pass. Raw text; each
//! medium escapes it its own way. Computed once, in [`super::facts`].

use std::fmt::Write as _;

use super::facts::{JobFacts, RunSummary, flag_name, flag_text, progress_text, signal_name};
use super::log::count;
use crate::api::{ApiError, ApiVersion, CheckAnswer, CheckStep};
use crate::duration;
use crate::hints::{self, Surface};
use crate::outcome::{Decision, JobOutcome, JobReport, Severity, Start, decide};

/// A title and a paragraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub title: String,
    pub message: String,
}

impl Verdict {
    fn new(title: String, message: String) -> Verdict {
        Verdict { title, message }
    }
}

/// What to do about a check that did not pass, in the words of the job's kind: a sync job is
/// not a migration, and its check is re-run with another action.
fn do_not_start(api: ApiVersion) -> String {
    format!(
        "Do not start the {}: fix this, run {} again, then re-run the gate.",
        api.kind().noun(),
        api.create_check_action()
    )
}

/// The reason a job did not pass; `None` when it passed.
pub fn job_verdict(job: &JobReport, run: &RunSummary) -> Option<Verdict> {
    let id = &job.job_id;
    let noun = run.api.kind().noun();
    if let Start::Refused(error) = &job.start {
        let unsure = if matches!(error, ApiError::Service { .. }) {
            ""
        } else {
            &format!(
                " The request did not complete, so the {noun} may or may not have started: look at the job in the DTS console before trying again."
            )
        };
        return Some(Verdict::new(
            format!("{} failed: {id}", run.api.start_action()),
            format!(
                "the check passed but starting the {noun} failed: {}.{unsure}",
                api_error_message(error, run.api, run.surface)
            ),
        ));
    }
    if let Some(signal) = job.cancelled_by() {
        return Some(Verdict::new(
            format!("dts-gate cancelled: {id}"),
            format!(
                "the runner stopped the gate ({}) {}; nothing is known about this check's result, and no {noun} was started by the gate after the signal.",
                signal_name(signal),
                match job.start {
                    Start::Cancelled { .. } => format!("before the {noun} was started"),
                    _ => "while it was waiting for the check".to_string(),
                }
            ),
        ));
    }
    let (title, message) = match &job.outcome {
        JobOutcome::Passed(_) => return None,
        JobOutcome::Cancelled { .. } => unreachable!("handled above"),
        JobOutcome::NotWaitedFor { last } => (
            format!("DTS check not waited for: {id}"),
            format!(
                "the gate stopped waiting for this job{} because another job had already made a pass impossible; {}.",
                last.as_ref()
                    .map(|a| format!(" (last seen {}, {})", a.status, progress_text(a)))
                    .unwrap_or_default(),
                hints::wait_for_every_job(run.surface)
            ),
        ),
        JobOutcome::NotPassed(a) if a.is_task_failure() => (
            format!("DTS check task failed: {id}"),
            format!(
                "the check task itself failed to run (Status failed{}); this is not a verdict on the job. Run {} again; if it keeps failing, contact Tencent Cloud support with RequestId {}.",
                if a.error_message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", a.error_message)
                },
                run.api.create_check_action(),
                a.request_id
            ),
        ),
        // A pass the service reported, refused because it came with warnings.
        JobOutcome::NotPassed(a) if decide(a) == Decision::Passed => {
            let warned: Vec<String> = a.warning_steps().map(|s| s.label()).collect();
            (
                format!("DTS check passed with warnings: {id}"),
                format!(
                    "the service passed the check ({} {}), but with warnings{}, and {} fails them. {}",
                    flag_name(run.api),
                    flag_text(a.check_flag.as_ref()),
                    if warned.is_empty() {
                        String::new()
                    } else {
                        format!(" in {}", warned.join(", "))
                    },
                    hints::fail_on_warning(run.surface),
                    do_not_start(run.api)
                ),
            )
        }
        JobOutcome::NotPassed(a) => {
            let reason = if let Some(found) = findings(a) {
                found
            } else if a.error_message.is_empty() {
                "the service gave no message".to_string()
            } else {
                a.error_message.clone()
            };
            (
                format!("DTS check not passed: {id}"),
                format!(
                    "{} {}{}: {}. {}",
                    flag_name(run.api),
                    flag_text(a.check_flag.as_ref()),
                    a.error_code
                        .map(|c| format!(", ErrorCode {c}"))
                        .unwrap_or_default(),
                    reason.trim_end_matches('.'),
                    do_not_start(run.api)
                ),
            )
        }
        JobOutcome::TimedOut { last, last_error } => (
            format!("DTS check timed out: {id}"),
            format!(
                "{} when the timeout ({}) passed after {}{}; {}.",
                still(last),
                duration::format(run.timeout),
                count(job.polls, "poll"),
                last_error
                    .as_ref()
                    .map(|e| format!("; the last request failed: {e}"))
                    .unwrap_or_default(),
                hints::raise_timeout(run.surface),
            ),
        ),
        JobOutcome::Failed { error, .. } => (
            format!("DTS API error: {id}"),
            api_error_message(error, run.api, run.surface),
        ),
    };
    Some(Verdict::new(title, message))
}

/// What a check was still doing at the timeout: its status and progress, and for a sync check
/// that finished, the job status it was still waiting on.
fn still(last: &CheckAnswer) -> String {
    match &last.check_flag {
        Some(flag) if last.api == ApiVersion::Sync && !last.is_underway() => format!(
            "the check said {} ({}), but its sync job still said {flag}, not CheckPass (DescribeSyncJobs),",
            last.status,
            progress_text(last),
        ),
        _ => format!(
            "the check was still {} ({})",
            last.status,
            progress_text(last)
        ),
    }
}

/// What a check that did not pass found, when its answer lists failed steps: `2 of 6 check
/// steps failed: A (a), B (b); first reason: item: why`; for a sync check that says success, what
/// of its steps keeps it from passing. The service's own message of such an
/// answer (2021-12-06 `BriefMsg`) describes the task, often `success`, and is no reason.
pub fn findings(answer: &CheckAnswer) -> Option<String> {
    let Some(mut text) = failed_steps_text(answer) else {
        return crate::outcome::sync_shortfall(answer);
    };
    if let Some(reason) = first_reason(answer) {
        let _ = write!(text, "; first reason: {reason}");
    }
    Some(text)
}

/// `2 of 6 check steps failed: A (a), B (b)`, when a check that ran lists failed steps.
pub fn failed_steps_text(answer: &CheckAnswer) -> Option<String> {
    let failed: Vec<String> = answer.failed_steps().map(CheckStep::label).collect();
    if failed.is_empty() || answer.is_task_failure() {
        return None;
    }
    Some(format!(
        "{} of {} check steps failed: {}",
        failed.len(),
        answer.steps.len(),
        failed.join(", ")
    ))
}

/// The first failed item's reason (`name: reason`), else the first failed step's message.
pub fn first_reason(answer: &CheckAnswer) -> Option<String> {
    let item = answer
        .items()
        .filter(|(step, item)| step.is_failed() && item.is_failed())
        .find_map(|(step, item)| {
            let reason = [&item.failure_reason, &item.description]
                .into_iter()
                .find(|t| !t.trim().is_empty())?;
            Some(match step.own_name(item) {
                Some(name) => format!("{name}: {reason}"),
                None => reason.clone(),
            })
        });
    item.or_else(|| {
        answer
            .failed_steps()
            .map(|s| s.message.clone())
            .find(|m| !m.trim().is_empty())
    })
}

/// The reason the run did not pass: the job's own verdict for one job, a tally for several.
pub fn run_verdict(run: &RunSummary, jobs: &[JobFacts]) -> Option<Verdict> {
    match jobs {
        [] => None,
        [one] => one.verdict.clone(),
        _ if run.outcome.passed() => None,
        many => {
            let of_severity = |wanted: fn(Severity) -> bool| -> Vec<String> {
                many.iter()
                    .filter(|j| wanted(j.job.severity()))
                    .map(|j| format!("{} {}", j.id(), j.job.result()))
                    .collect()
            };
            let failing = of_severity(|s| s > Severity::NotWaitedFor);
            let not_waited = of_severity(|s| s == Severity::NotWaitedFor);
            let not_waited = match not_waited.len() {
                0 => String::new(),
                n => format!(
                    "; {n} not waited for, as the run could no longer pass: {}",
                    not_waited.join(", ")
                ),
            };
            Some(Verdict::new(
                format!(
                    "DTS checks: {} of {} jobs did not pass",
                    failing.len(),
                    many.len()
                ),
                format!(
                    "{}{not_waited}. Nothing was started unless every job passed; see each job's annotations and the job summary.",
                    failing.join(", ")
                ),
            ))
        }
    }
}

/// An API error for a person: the error, its request id and what to do about it.
fn api_error_message(error: &ApiError, api: ApiVersion, surface: Surface) -> String {
    let mut text = error.to_string();
    if let Some(id) = error.request_id().filter(|r| !r.is_empty()) {
        let _ = write!(text, " (RequestId {id})");
    }
    if let Some(hint) = hints::api_error(error, api, surface) {
        let _ = write!(text, "; {hint}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Outcome;
    use crate::report::facts::RunFacts;
    use crate::report::fixtures::*;

    #[test]
    fn a_refused_start_quotes_the_error_and_its_request_id() {
        let outcome = Outcome::Jobs(vec![JobReport {
            start: Start::Refused(ApiError::Transport {
                detail: "reset".into(),
            }),
            ..report(JOB, JobOutcome::Passed(answer("finished", Some(1), "ok")))
        }]);
        let run = run_of(&outcome);
        let v = RunFacts::of(&run).verdict.unwrap();
        assert_eq!(v.title, format!("StartMigrateJob failed: {JOB}"));
        assert!(v.message.contains("may or may not have started"), "{v:?}");
    }

    #[test]
    fn a_timed_out_sync_check_says_what_it_still_waited_on() {
        let timed_out = |last| {
            let outcome = Outcome::Jobs(vec![report(
                "sync-7x1a",
                JobOutcome::TimedOut {
                    last,
                    last_error: None,
                },
            )]);
            let run = run_of(&outcome);
            RunFacts::of(&run).verdict.unwrap().message
        };
        let steps = || vec![step("ConnectDBCheck", "finished", vec![])];
        let lagging = timed_out(answer_sync("success", "Checking", steps()));
        assert!(
            lagging.starts_with("the check said success (100% (1/1 steps)), but its sync job still said Checking, not CheckPass (DescribeSyncJobs), when the timeout"),
            "{lagging}"
        );
        let running = timed_out(answer_sync("running", "", steps()));
        assert!(
            running.starts_with("the check was still running ("),
            "{running}"
        );
    }

    #[test]
    fn a_refused_sync_start_names_start_sync_job_and_the_sync_job() {
        let outcome = Outcome::Jobs(vec![JobReport {
            start: Start::Refused(ApiError::Transport {
                detail: "reset".into(),
            }),
            ..report(
                "sync-7x1a",
                JobOutcome::Passed(answer_sync(
                    "success",
                    "CheckPass",
                    vec![step("ConnectDBCheck", "finished", vec![])],
                )),
            )
        }]);
        let run = run_of(&outcome);
        let v = RunFacts::of(&run).verdict.unwrap();
        assert_eq!(v.title, "StartSyncJob failed: sync-7x1a");
        assert!(
            v.message
                .starts_with("the check passed but starting the sync job failed: "),
            "{v:?}"
        );
        assert!(
            v.message
                .contains("so the sync job may or may not have started"),
            "{v:?}"
        );
        assert!(!v.message.contains("migration"), "{v:?}");
    }

    #[test]
    fn a_failed_sync_check_says_to_run_create_check_sync_job_again() {
        let steps = vec![
            step("ConnectDBCheck", "finished", vec![]),
            step(
                "SrcPrivilegeCheck",
                "failed",
                vec![item("REPLICATION CLIENT", "failed")],
            ),
        ];
        let outcome = single(JobOutcome::NotPassed(answer_sync(
            "failed",
            "CheckNotPass",
            steps,
        )));
        let run = run_of(&outcome);
        let v = RunFacts::of(&run).verdict.unwrap();
        assert!(
            v.message.ends_with(
                "Do not start the sync job: fix this, run CreateCheckSyncJob again, then re-run the gate."
            ),
            "{v:?}"
        );
        // The flag of a sync check is its job's own status.
        assert!(
            v.message.starts_with(
                "sync job Status CheckNotPass (not passed): 1 of 2 check steps failed"
            ),
            "{v:?}"
        );
    }

    #[test]
    fn a_failed_sync_check_task_says_to_run_create_check_sync_job_again() {
        // No failed step or item: the task itself failed, not the job.
        let outcome = single(JobOutcome::NotPassed(answer_sync(
            "failed",
            "CheckNotPass",
            vec![],
        )));
        let run = run_of(&outcome);
        let v = RunFacts::of(&run).verdict.unwrap();
        assert!(
            v.message.contains(". Run CreateCheckSyncJob again;"),
            "{v:?}"
        );
    }

    #[test]
    fn a_sync_gate_cancelled_before_the_start_says_no_sync_job_was_started() {
        let outcome = Outcome::Jobs(vec![JobReport {
            start: Start::Cancelled { signal: 15 },
            ..report(
                "sync-7x1a",
                JobOutcome::Passed(answer_sync("success", "CheckPass", vec![])),
            )
        }]);
        let run = run_of(&outcome);
        let facts = RunFacts::of(&run);
        let v = facts.verdict.clone().unwrap();
        assert!(
            v.message.contains(
                "(SIGTERM) before the sync job was started; nothing is known about this check's result, and no sync job was started"
            ),
            "{v:?}"
        );
        assert_eq!(
            facts.jobs[0].message,
            "the gate was stopped (SIGTERM) before the sync job was started"
        );
    }

    #[test]
    fn a_pass_has_no_verdict() {
        let outcome = single(JobOutcome::Passed(answer("finished", Some(1), "ok")));
        let run = run_of(&outcome);
        assert_eq!(RunFacts::of(&run).verdict, None);
    }
}
