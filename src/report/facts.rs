//! The facts of a run, computed once from its [`Outcome`]: the aggregate scalars (what the step
//! outputs, the dotenv report and the top of the JSON report say), each job's error code,
//! message, request id and verdict, and [`JobJson`], the one JSON shape of a job (the `jobs`
//! output and the JSON report's `jobs`). Renderers read these; none of them re-derives a fact.
//!
//! Adding an output: add the fact here, show it in the renderer of each medium that has it
//! (`outputs`, `dotenv`, `json`, ...), and document it in README.md.

use std::time::Duration;

use serde::Serialize;

use super::annotations::Notice;
use super::text::sanitize;
use super::verdict::{self, Verdict};
use crate::api::{ApiVersion, CheckAnswer, CheckFlag, CheckStep, JobKind};
use crate::config::Config;
use crate::duration;
use crate::hints::Surface;
use crate::outcome::{JobOutcome, JobReport, Outcome, Start, check_flag_meaning, exit_code};

/// What the final report is about.
#[derive(Debug, Clone)]
pub struct RunSummary<'a> {
    /// How the user configures the gate: hints name settings the way the user sets them.
    pub surface: Surface,
    pub region: &'a str,
    pub api: ApiVersion,
    pub timeout: Duration,
    pub outcome: &'a Outcome,
    /// Requests sent, of every kind.
    pub polls: u32,
    pub elapsed: Duration,
}

impl<'a> RunSummary<'a> {
    /// The summary of a run of `config` that ended in `outcome`.
    pub fn of_config(
        config: &'a Config,
        outcome: &'a Outcome,
        polls: u32,
        elapsed: Duration,
    ) -> RunSummary<'a> {
        RunSummary {
            surface: config.surface,
            region: &config.region,
            api: config.api_version,
            timeout: config.timeout,
            outcome,
            polls,
            elapsed,
        }
    }
}

/// Everything the renderers show about a run.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    pub run: &'a RunSummary<'a>,
    pub scalars: Scalars,
    pub exit_code: u8,
    /// Why the run did not pass: the job's own verdict for one job, a tally for several.
    pub verdict: Option<Verdict>,
    /// One per job, in the order given.
    pub jobs: Vec<JobFacts<'a>>,
    /// The warnings raised while waiting, in order (the writer collects them).
    pub polling_warnings: Vec<Notice>,
    /// A `--demo` run: simulated answers, nothing sent to Tencent Cloud.
    pub demo: bool,
}

/// The aggregate, one value each: `passed` and `result` cover all jobs, the rest come from the
/// job that decided the result (the first with the most severe outcome).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalars {
    pub passed: bool,
    pub result: &'static str,
    pub status: String,
    pub check_flag: String,
    /// The last progress as the answer gave it.
    pub progress: String,
    pub error_code: String,
    pub error_message: String,
    pub request_id: String,
    pub polls: u32,
    pub elapsed_seconds: u64,
    /// Step ids, comma-separated.
    pub failed_steps: String,
    pub warning_steps: String,
    /// Failed steps the user skipped: passed over, never silently.
    pub skipped_steps: String,
    pub migration_started: bool,
}

/// Everything the renderers show about one job.
#[derive(Debug, Clone)]
pub struct JobFacts<'a> {
    pub job: &'a JobReport,
    pub answer: Option<&'a CheckAnswer>,
    /// The refused start's, else the check's (`Timeout`, `Cancelled`, the API error's code).
    pub error_code: String,
    pub message: String,
    /// The `RequestId` worth quoting to support.
    pub request_id: String,
    /// Why this job did not pass; `None` when it did.
    pub verdict: Option<Verdict>,
}

impl<'a> RunFacts<'a> {
    pub fn of(run: &'a RunSummary<'a>) -> RunFacts<'a> {
        let jobs: Vec<JobFacts> = run
            .outcome
            .jobs()
            .iter()
            .map(|job| JobFacts::of(job, run))
            .collect();
        let deciding = run
            .outcome
            .deciding_job()
            .and_then(|d| jobs.iter().find(|j| std::ptr::eq(j.job, d)));
        let answer = deciding.and_then(|j| j.answer);
        let field = |f: fn(&CheckAnswer) -> String| answer.map(f).unwrap_or_default();
        let (error_code, error_message) = match (run.outcome, deciding) {
            (Outcome::InvalidConfig(errors), _) => (
                "InvalidConfiguration".to_string(),
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            (_, Some(job)) => (job.error_code.clone(), job.message.clone()),
            (_, None) => ("NoJobs".to_string(), "no job was checked".to_string()),
        };
        let scalars = Scalars {
            passed: run.outcome.passed(),
            result: run.outcome.result(),
            status: field(|a| a.status.clone()),
            check_flag: field(|a| {
                a.check_flag
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            }),
            progress: field(|a| a.progress.clone().unwrap_or_default()),
            error_code,
            error_message,
            request_id: deciding.map(|j| j.request_id.clone()).unwrap_or_default(),
            polls: run.polls,
            elapsed_seconds: run.elapsed.as_secs(),
            failed_steps: field(|a| step_ids(a.failed_steps())),
            warning_steps: field(|a| step_ids(a.warning_steps())),
            skipped_steps: field(|a| step_ids(a.skipped_failures())),
            migration_started: run.outcome.migration_started(),
        };
        let verdict = verdict::run_verdict(run, &jobs);
        RunFacts {
            run,
            scalars,
            exit_code: exit_code(run.outcome),
            verdict,
            jobs,
            polling_warnings: Vec::new(),
            demo: false,
        }
    }

    /// A rejected configuration never chose an API version or a region.
    pub fn configured(&self) -> bool {
        matches!(self.run.outcome, Outcome::Jobs(_))
    }

    /// The `jobs` output and the JSON report's jobs (without their steps).
    pub fn jobs_json(&self) -> Vec<JobJson> {
        self.jobs.iter().map(JobFacts::json).collect()
    }
}

impl<'a> JobFacts<'a> {
    fn of(job: &'a JobReport, run: &RunSummary) -> JobFacts<'a> {
        let (error_code, message) = job_error(job, run);
        JobFacts {
            job,
            answer: job.outcome.last_answer(),
            error_code,
            message,
            request_id: request_id(job),
            verdict: verdict::job_verdict(job, run),
        }
    }

    pub fn id(&self) -> &'a str {
        &self.job.job_id
    }

    pub fn json(&self) -> JobJson {
        let answer = self.answer;
        JobJson {
            id: self.job.job_id.clone(),
            result: self.job.result(),
            status: answer.map(|a| a.status.clone()),
            check_flag: answer
                .and_then(|a| a.check_flag.as_ref())
                .map(ToString::to_string),
            progress: answer.and_then(CheckAnswer::progress_percent),
            error_code: self.error_code.clone(),
            message: self.message.clone(),
            request_id: self.request_id.clone(),
            polls: self.job.polls,
            failed_steps: answer
                .map(|a| step_ids(a.failed_steps()))
                .unwrap_or_default(),
            migration_started: matches!(self.job.start, Start::Started { .. }),
            start_request_id: match &self.job.start {
                Start::Started { request_id } => request_id.clone(),
                _ => String::new(),
            },
            migration: Migration::of(&self.job.start),
        }
    }
}

/// One job as JSON: an element of the `jobs` output and, with its `steps`, of the JSON
/// report's `jobs` (README, "Outputs" and "JSON report").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobJson {
    pub id: String,
    pub result: &'static str,
    /// The last `Status`; `None` when no answer came.
    pub status: Option<String>,
    /// The last `CheckFlag` as a string in both API versions.
    pub check_flag: Option<String>,
    /// A whole percent; `None` when the service gave none or something else.
    pub progress: Option<u32>,
    pub error_code: String,
    pub message: String,
    pub request_id: String,
    pub polls: u32,
    /// Step ids, comma-separated.
    pub failed_steps: String,
    pub migration_started: bool,
    /// The `StartMigrateJob` (`StartSyncJob`) request id when it started, else empty.
    pub start_request_id: String,
    pub migration: Migration,
}

/// What became of a job's `StartMigrateJob` (a sync job's `StartSyncJob`: the field names
/// stay, a stable interface).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migration {
    pub requested: bool,
    pub started: bool,
    pub request_id: Option<String>,
    pub error: Option<MigrationError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationError {
    pub code: String,
    pub message: String,
}

impl Migration {
    fn of(start: &Start) -> Migration {
        let (requested, started, request_id, error) = match start {
            Start::NotRequested => (false, false, None, None),
            Start::Withheld => (true, false, None, None),
            Start::Started { request_id } => (true, true, Some(request_id.clone()), None),
            Start::Refused(e) => (
                true,
                false,
                e.request_id().filter(|r| !r.is_empty()).map(str::to_string),
                Some(MigrationError {
                    code: e.code(),
                    message: e.message(),
                }),
            ),
            Start::Cancelled { signal } => (
                true,
                false,
                None,
                Some(MigrationError {
                    code: "Cancelled".to_string(),
                    message: format!("cancelled by signal {signal} before the start"),
                }),
            ),
        };
        Migration {
            requested,
            started,
            request_id,
            error,
        }
    }
}

/// What the flag of a check is called in prose: a migration check's `CheckFlag`; a sync check
/// has none, and its job's own `DescribeSyncJobs` `Status` stands in for it.
pub fn flag_name(api: ApiVersion) -> &'static str {
    match api.kind() {
        JobKind::Migration => "CheckFlag",
        JobKind::Sync => "sync job Status",
    }
}

/// [`flag_name`] as a table header.
pub fn flag_header(api: ApiVersion) -> &'static str {
    match api.kind() {
        JobKind::Migration => "Check flag",
        JobKind::Sync => "Sync job status",
    }
}

/// `CheckFlag 1 (passed)`-style text: the flag and what it means, or `none`.
pub fn flag_text(flag: Option<&CheckFlag>) -> String {
    match flag {
        Some(f) => format!("{f} ({})", check_flag_meaning(f)),
        None => "none".to_string(),
    }
}

/// `100%`, with `(n/m steps)` when the answer lists steps; `?` when there is no progress.
pub fn progress_text(answer: &CheckAnswer) -> String {
    match steps_text(answer) {
        Some(steps) => format!("{} {steps}", percent_text(answer)),
        None => percent_text(answer),
    }
}

/// `100%`, the progress as given when it is no number, `?` without one.
pub fn percent_text(answer: &CheckAnswer) -> String {
    match answer.progress.as_deref() {
        Some(p) if p.parse::<u32>().is_ok() => format!("{p}%"),
        Some(p) => sanitize(p),
        None => "?".to_string(),
    }
}

/// `(n/m steps)` when the answer lists steps.
pub fn steps_text(answer: &CheckAnswer) -> Option<String> {
    (!answer.steps.is_empty()).then(|| {
        let done = answer.steps.iter().filter(|s| s.is_finished()).count();
        format!("({done}/{} steps)", answer.steps.len())
    })
}

fn step_ids<'a>(steps: impl Iterator<Item = &'a CheckStep>) -> String {
    steps
        .map(|s| s.step_id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub(super) fn signal_name(signal: i32) -> &'static str {
    match signal {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

/// A job's error code and message: the refused start's, else the check's.
fn job_error(job: &JobReport, run: &RunSummary) -> (String, String) {
    let timeout = run.timeout;
    match &job.start {
        Start::Refused(error) => return (error.code(), error.message()),
        Start::Cancelled { signal } => {
            return (
                "Cancelled".to_string(),
                format!(
                    "the gate was stopped ({}) before the {} was started",
                    signal_name(*signal),
                    run.api.kind().noun()
                ),
            );
        }
        _ => {}
    }
    match &job.outcome {
        JobOutcome::NotPassed(a) if let Some(found) = verdict::findings(a) => (
            a.error_code.map(|c| c.to_string()).unwrap_or_default(),
            found,
        ),
        JobOutcome::Passed(a) | JobOutcome::NotPassed(a) => (
            a.error_code.map(|c| c.to_string()).unwrap_or_default(),
            a.error_message.clone(),
        ),
        JobOutcome::TimedOut { .. } => (
            "Timeout".to_string(),
            format!(
                "the check was still running when the timeout ({}) passed",
                duration::format(timeout)
            ),
        ),
        JobOutcome::Failed { error, .. } => (error.code(), error.message()),
        JobOutcome::NotWaitedFor { .. } => (
            "NotWaitedFor".to_string(),
            "not waited for: another job had already made a pass impossible".to_string(),
        ),
        JobOutcome::Cancelled { signal, .. } => (
            "Cancelled".to_string(),
            format!(
                "the gate was stopped ({}) while waiting for the check",
                signal_name(*signal)
            ),
        ),
    }
}

/// The `RequestId` worth quoting to support: the failing request's, else the last answer's.
fn request_id(job: &JobReport) -> String {
    let from_error = match (&job.start, &job.outcome) {
        (Start::Refused(error), _) | (_, JobOutcome::Failed { error, .. }) => {
            error.request_id().filter(|r| !r.is_empty())
        }
        _ => None,
    };
    from_error
        .map(str::to_string)
        .or_else(|| job.outcome.last_answer().map(|a| a.request_id.clone()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::report::fixtures::*;

    #[test]
    fn the_deciding_job_gives_the_scalars() {
        let outcome = Outcome::Jobs(vec![
            report(
                "dts-a",
                JobOutcome::Passed(answer("finished", Some(1), "ok")),
            ),
            report(
                "dts-b",
                JobOutcome::NotPassed(answer("finished", Some(0), "no privilege")),
            ),
        ]);
        let run = run_of(&outcome);
        let facts = RunFacts::of(&run);
        assert_eq!(facts.scalars.result, "not-passed");
        assert_eq!(facts.scalars.check_flag, "0");
        assert_eq!(facts.scalars.error_message, "no privilege");
        assert_eq!(facts.exit_code, 1);
        assert!(facts.jobs[0].verdict.is_none() && facts.jobs[1].verdict.is_some());
        assert!(
            facts
                .verdict
                .unwrap()
                .title
                .starts_with("DTS checks: 1 of 2")
        );
    }

    #[test]
    fn a_job_has_one_json_shape() {
        let outcome = Outcome::Jobs(vec![JobReport {
            start: Start::Refused(ApiError::Service {
                code: "FailedOperation".into(),
                message: "conflict".into(),
                request_id: "req-start".into(),
            }),
            ..report(JOB, JobOutcome::Passed(answer("finished", Some(1), "ok")))
        }]);
        let run = run_of(&outcome);
        let json = serde_json::to_value(RunFacts::of(&run).jobs_json()).unwrap();
        assert_eq!(
            json,
            serde_json::json!([{
                "id": JOB,
                "result": "error",
                "status": "finished",
                "check_flag": "1",
                "progress": 100,
                "error_code": "FailedOperation",
                "message": "conflict",
                "request_id": "req-start",
                "polls": 3,
                "failed_steps": "",
                "migration_started": false,
                "start_request_id": "",
                "migration": {
                    "requested": true,
                    "started": false,
                    "request_id": "req-start",
                    "error": {"code": "FailedOperation", "message": "conflict"}
                }
            }])
        );
    }
}
