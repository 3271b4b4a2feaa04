//! The verdict: what an answer means, how a run ended, and which exit code that is.
//! Pure and small on purpose: this is the part that must never let a bad migration through.

use crate::api::{ApiError, ApiVersion, CheckAnswer, CheckFlag, StepStatus};
use crate::config::ConfigError;

/// What one answer means for the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    KeepPolling,
    Passed,
    NotPassed,
}

/// 2018-03-30: pass only on `Status` `finished` with `CheckFlag` `1`; any other flag of a
/// finished check, documented (`0` not passed, `3` not checked) or not, is a failure.
///
/// 2021-12-06: pass only on `Status` `success` with `CheckFlag` `checkPass`. `checkNotPass`
/// fails; `Status` `failed` (the check task itself failed to run) fails; `success` with any
/// other flag fails. `notStarted` and `running` keep polling.
///
/// Sync jobs: pass only on `Status` `success` with every step `finished` or `skipped` (at least
/// one listed, no error item) and the job's own `DescribeSyncJobs` status `CheckPass`. `failed`
/// fails; `success` with anything else fails, except a job still `Checking` (the job's status
/// lags the check's): that keeps polling.
pub fn decide(answer: &CheckAnswer) -> Decision {
    let flag = answer.check_flag.as_ref();
    match answer.api {
        ApiVersion::Sync => {
            let steps_passed = !answer.steps.is_empty()
                && answer.steps.iter().all(|s| {
                    matches!(s.status, StepStatus::Finished | StepStatus::Skipped)
                        && !s.items.iter().any(|i| i.is_failed())
                });
            match (answer.status.as_str(), flag) {
                ("success", Some(CheckFlag::Name(name))) if name == "CheckPass" && steps_passed => {
                    Decision::Passed
                }
                ("success", Some(CheckFlag::Name(name))) if name == "Checking" => {
                    Decision::KeepPolling
                }
                ("success" | "failed", _) => Decision::NotPassed,
                _ => Decision::KeepPolling,
            }
        }
        ApiVersion::V2018 => match (answer.status.as_str(), flag) {
            ("finished", Some(CheckFlag::Code(1))) => Decision::Passed,
            ("finished", _) => Decision::NotPassed,
            _ => Decision::KeepPolling,
        },
        ApiVersion::V2021 => match (answer.status.as_str(), flag) {
            ("success", Some(CheckFlag::Name(name))) if name == "checkPass" => Decision::Passed,
            ("success" | "failed", _) => Decision::NotPassed,
            (_, Some(CheckFlag::Name(name))) if name == "checkNotPass" => Decision::NotPassed,
            _ => Decision::KeepPolling,
        },
    }
}

/// Why a sync check that says `success` is still no pass on its own steps: none listed, or one
/// neither finished nor skipped (failed steps are reported as such). The service sends no
/// message then, so without this a refusal would read like a pass.
pub fn sync_shortfall(answer: &CheckAnswer) -> Option<String> {
    if answer.api != ApiVersion::Sync || answer.status != "success" {
        return None;
    }
    if answer.steps.is_empty() {
        return Some(
            "the check says success but lists no step, so nothing says what was checked".into(),
        );
    }
    let step = answer.steps.iter().find(|s| {
        !s.is_failed() && !matches!(s.status, StepStatus::Finished | StepStatus::Skipped)
    })?;
    Some(format!(
        "the check says success, but step {} is {}, neither finished nor skipped",
        step.label(),
        match step.status.as_str() {
            "" => "without a Status",
            text => text,
        }
    ))
}

/// The meaning of a `CheckFlag`, as the service and its SDKs define it (not the English
/// 2018 reference, which has 0 and 1 swapped).
pub fn check_flag_meaning(flag: &CheckFlag) -> &'static str {
    match flag {
        CheckFlag::Code(1) => "passed",
        CheckFlag::Code(0) => "not passed",
        CheckFlag::Code(3) => "not checked",
        CheckFlag::Name(name) if name == "checkPass" => "passed",
        CheckFlag::Name(name) if name == "checkNotPass" => "not passed",
        // A sync job's `DescribeSyncJobs` status stands in for the flag.
        CheckFlag::Name(name) if name == "CheckPass" => "passed",
        CheckFlag::Name(name) if name == "CheckNotPass" => "not passed",
        CheckFlag::Name(name) if name.starts_with(|c: char| c.is_ascii_uppercase()) => {
            "the sync job's status, not CheckPass"
        }
        _ => "undocumented value",
    }
}

/// How the wait for one job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The service reported a finished check that passed.
    Passed(CheckAnswer),
    /// The service reported a finished check that did not pass (or a 2021 check task failed).
    NotPassed(CheckAnswer),
    /// The deadline passed while the check was still going (`last` is its last answer).
    TimedOut {
        last: CheckAnswer,
        last_error: Option<ApiError>,
    },
    /// A permanent API error, or no valid answer at all before the deadline.
    Failed {
        error: ApiError,
        last: Option<CheckAnswer>,
    },
    /// The runner stopped the gate (SIGINT, SIGTERM) while it was still waiting.
    Cancelled {
        signal: i32,
        last: Option<CheckAnswer>,
    },
    /// The wait stopped before this job finished, because another job made a pass impossible
    /// (`DTS_FAIL_FAST`); `last` is what it showed then. Never a pass, never the deciding job.
    NotWaitedFor { last: Option<CheckAnswer> },
}

impl JobOutcome {
    /// The `result` output of this job.
    pub fn result(&self) -> &'static str {
        match self {
            JobOutcome::Passed(_) => "passed",
            JobOutcome::NotPassed(_) => "not-passed",
            JobOutcome::TimedOut { .. } => "timed-out",
            JobOutcome::Failed { .. } => "error",
            JobOutcome::Cancelled { .. } => "cancelled",
            JobOutcome::NotWaitedFor { .. } => "not-waited-for",
        }
    }

    /// The last check answer the service gave, if any.
    pub fn last_answer(&self) -> Option<&CheckAnswer> {
        match self {
            JobOutcome::Passed(a) | JobOutcome::NotPassed(a) => Some(a),
            JobOutcome::TimedOut { last, .. } => Some(last),
            JobOutcome::Failed { last, .. }
            | JobOutcome::Cancelled { last, .. }
            | JobOutcome::NotWaitedFor { last } => last.as_ref(),
        }
    }
}

/// What became of a job's `StartMigrateJob`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Starting was not asked for (`DTS_START_MIGRATION` unset).
    NotRequested,
    /// Asked for, but not every job passed, so nothing was started.
    Withheld,
    Started {
        request_id: String,
    },
    /// The service refused, or the call failed (the start may then be unknown).
    Refused(ApiError),
    /// The runner stopped the gate before this job's migration was started.
    Cancelled {
        signal: i32,
    },
}

/// One job's whole story: its check, the requests it took, and its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    pub job_id: String,
    pub outcome: JobOutcome,
    pub polls: u32,
    pub start: Start,
}

/// Outcomes ranked for the aggregate: a cancellation outranks everything (the run did not end
/// by itself), then an error, a timeout, a check that did not pass, and a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Passed,
    /// Only ever beside a job that did not pass, which then decides.
    NotWaitedFor,
    NotPassed,
    TimedOut,
    Error,
    Cancelled,
}

impl JobReport {
    pub fn severity(&self) -> Severity {
        match (&self.outcome, &self.start) {
            (JobOutcome::Cancelled { .. }, _) | (_, Start::Cancelled { .. }) => Severity::Cancelled,
            (_, Start::Refused(_)) | (JobOutcome::Failed { .. }, _) => Severity::Error,
            (JobOutcome::TimedOut { .. }, _) => Severity::TimedOut,
            (JobOutcome::NotPassed(_), _) => Severity::NotPassed,
            (JobOutcome::NotWaitedFor { .. }, _) => Severity::NotWaitedFor,
            (JobOutcome::Passed(_), _) => Severity::Passed,
        }
    }

    /// The `result` of this job, a refused start counting as an error.
    pub fn result(&self) -> &'static str {
        match self.start {
            Start::Refused(_) => "error",
            Start::Cancelled { .. } => "cancelled",
            _ => self.outcome.result(),
        }
    }

    /// The signal that stopped this job's wait or start, if one did.
    pub fn cancelled_by(&self) -> Option<i32> {
        match (&self.outcome, &self.start) {
            (JobOutcome::Cancelled { signal, .. }, _) | (_, Start::Cancelled { signal }) => {
                Some(*signal)
            }
            _ => None,
        }
    }
}

/// How a run of the gate ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every job was waited for; one report each, in the order given.
    Jobs(Vec<JobReport>),
    /// The configuration is invalid; nothing was sent.
    InvalidConfig(Vec<ConfigError>),
    /// Nothing was asked to be gated: help or the version was printed.
    NothingGated,
    /// A dry run printed its plan and checked nothing. It exits 0 only when a person asked for
    /// it on the command line: one inherited through `DTS_DRY_RUN` must not let a pipeline go
    /// on as if a check had passed.
    DryRun { from_command_line: bool },
    /// A later stage (`ready`, `complete`) ran; one story per job.
    Stage(crate::stage::StageRun),
}

/// The process exit code: the most severe outcome over all jobs. GitHub only sees zero or
/// not; scripts see why. A cancelled run exits as shells report a death by that signal
/// (130 for SIGINT, 143 for SIGTERM).
pub fn exit_code(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::InvalidConfig(_) => 2,
        Outcome::NothingGated => 0,
        Outcome::Stage(run) => run.exit_code(),
        Outcome::DryRun { from_command_line } => {
            if *from_command_line {
                0
            } else {
                2
            }
        }
        Outcome::Jobs(jobs) => match outcome.severity() {
            Severity::Passed => 0,
            Severity::NotWaitedFor | Severity::NotPassed => 1,
            Severity::Error => 3,
            Severity::TimedOut => 4,
            Severity::Cancelled => {
                let signal = jobs.iter().find_map(JobReport::cancelled_by).unwrap_or(15);
                u8::try_from(128 + signal).unwrap_or(143)
            }
        },
    }
}

impl Outcome {
    pub fn jobs(&self) -> &[JobReport] {
        match self {
            Outcome::Jobs(jobs) => jobs,
            Outcome::InvalidConfig(_)
            | Outcome::NothingGated
            | Outcome::DryRun { .. }
            | Outcome::Stage(_) => &[],
        }
    }

    /// The most severe outcome; an empty list of jobs is an error, never a pass.
    pub fn severity(&self) -> Severity {
        match self {
            // Never a pass: a pass needs a job whose check passed.
            Outcome::InvalidConfig(_) | Outcome::NothingGated | Outcome::DryRun { .. } => {
                Severity::Error
            }
            Outcome::Stage(run) => match run.severity() {
                crate::stage::StageSeverity::Passed => Severity::Passed,
                crate::stage::StageSeverity::NotPassed => Severity::NotPassed,
                crate::stage::StageSeverity::TimedOut => Severity::TimedOut,
                crate::stage::StageSeverity::Error => Severity::Error,
                crate::stage::StageSeverity::Cancelled => Severity::Cancelled,
            },
            Outcome::Jobs(jobs) => jobs
                .iter()
                .map(JobReport::severity)
                .max()
                .unwrap_or(Severity::Error),
        }
    }

    /// The aggregate `result` output.
    pub fn result(&self) -> &'static str {
        if let Outcome::DryRun { .. } = self {
            return "dry-run";
        }
        match self.severity() {
            Severity::Passed => "passed",
            Severity::NotWaitedFor => "not-waited-for",
            Severity::NotPassed => "not-passed",
            Severity::TimedOut => "timed-out",
            Severity::Error => "error",
            Severity::Cancelled => "cancelled",
        }
    }

    /// True only when every job's check passed (and there was at least one).
    pub fn passed(&self) -> bool {
        !self.jobs().is_empty() && self.severity() == Severity::Passed
    }

    /// The job the scalar outputs describe: the first with the most severe outcome.
    pub fn deciding_job(&self) -> Option<&JobReport> {
        let worst = self.severity();
        self.jobs().iter().find(|j| j.severity() == worst)
    }

    /// True only when every job's migration was started.
    pub fn migration_started(&self) -> bool {
        !self.jobs().is_empty()
            && self
                .jobs()
                .iter()
                .all(|j| matches!(j.start, Start::Started { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: &str, flag: Option<i64>) -> CheckAnswer {
        CheckAnswer {
            api: ApiVersion::V2018,
            status: status.into(),
            check_flag: flag.map(CheckFlag::Code),
            progress: None,
            error_code: None,
            error_message: String::new(),
            request_id: "r".into(),
            deprecated_warning: None,
            steps: Vec::new(),
        }
    }

    fn answer_2021(status: &str, flag: Option<&str>) -> CheckAnswer {
        CheckAnswer {
            api: ApiVersion::V2021,
            check_flag: flag.map(|f| CheckFlag::Name(f.into())),
            ..answer(status, None)
        }
    }

    fn sync_answer(status: &str, job: Option<&str>, steps: &[(&str, Option<&str>)]) -> CheckAnswer {
        use crate::api::{CheckItem, CheckStep, ItemResult};
        CheckAnswer {
            api: ApiVersion::Sync,
            check_flag: job.map(|f| CheckFlag::Name(f.into())),
            steps: steps
                .iter()
                .map(|(step, item)| CheckStep {
                    status: (*step).into(),
                    items: item
                        .map(|result| CheckItem {
                            result: ItemResult::parse(result),
                            ..CheckItem::default()
                        })
                        .into_iter()
                        .collect(),
                    ..CheckStep::default()
                })
                .collect(),
            ..answer(status, None)
        }
    }

    #[test]
    fn a_sync_check_passes_only_finished_with_every_step_through_and_the_job_at_check_pass() {
        let through = [
            ("finished", None),
            ("skipped", None),
            ("finished", Some("warning")),
        ];
        assert_eq!(
            decide(&sync_answer("success", Some("CheckPass"), &through)),
            Decision::Passed
        );
        for (status, job, steps) in [
            // The job itself does not say CheckPass.
            ("success", Some("CheckNotPass"), &through[..]),
            ("success", Some("Running"), &through[..]),
            ("success", Some("Unknown"), &through[..]),
            ("success", None, &through[..]),
            ("success", Some("checkPass"), &through[..]),
            // A step not through, or an error item in a finished one.
            (
                "success",
                Some("CheckPass"),
                &[("finished", None), ("failed", None)][..],
            ),
            (
                "success",
                Some("CheckPass"),
                &[("finished", None), ("running", None)][..],
            ),
            ("success", Some("CheckPass"), &[("paused", None)][..]),
            ("success", Some("CheckPass"), &[("notStarted", None)][..]),
            ("success", Some("CheckPass"), &[("pass", None)][..]),
            (
                "success",
                Some("CheckPass"),
                &[("finished", Some("failed"))][..],
            ),
            // No step listed is not knowing what was checked.
            ("success", Some("CheckPass"), &[][..]),
            ("failed", Some("CheckPass"), &through[..]),
            (
                "failed",
                Some("CheckNotPass"),
                &[("failed", Some("failed"))][..],
            ),
        ] {
            assert_eq!(
                decide(&sync_answer(status, job, steps)),
                Decision::NotPassed,
                "{status} {job:?} {steps:?}"
            );
        }
        // The job's status lags the check's: wait for it.
        assert_eq!(
            decide(&sync_answer("success", Some("Checking"), &through)),
            Decision::KeepPolling
        );
        for status in ["notStarted", "running", "Success", ""] {
            assert_eq!(
                decide(&sync_answer(status, Some("CheckPass"), &through)),
                Decision::KeepPolling,
                "{status}"
            );
        }
        assert_eq!(
            sync_shortfall(&sync_answer("success", Some("CheckPass"), &[])).as_deref(),
            Some("the check says success but lists no step, so nothing says what was checked")
        );
        let paused = sync_answer(
            "success",
            Some("CheckPass"),
            &[("finished", None), ("paused", None)],
        );
        assert!(
            sync_shortfall(&paused)
                .is_some_and(|why| why.ends_with("is paused, neither finished nor skipped")),
            "{:?}",
            sync_shortfall(&paused)
        );
        // A failed step, the task's own status and a pass need no explanation of this kind.
        assert_eq!(
            sync_shortfall(&sync_answer("success", Some("CheckPass"), &through)),
            None
        );
        assert_eq!(
            sync_shortfall(&sync_answer("failed", None, &[("running", None)])),
            None
        );
        assert_eq!(
            sync_shortfall(&sync_answer(
                "success",
                Some("CheckPass"),
                &[("finished", Some("failed"))]
            )),
            None
        );
        assert_eq!(
            check_flag_meaning(&CheckFlag::Name("CheckPass".into())),
            "passed"
        );
        assert_eq!(
            check_flag_meaning(&CheckFlag::Name("Running".into())),
            "the sync job's status, not CheckPass"
        );
    }

    #[test]
    fn only_success_with_check_pass_passes_in_2021() {
        assert_eq!(
            decide(&answer_2021("success", Some("checkPass"))),
            Decision::Passed
        );
        for (status, flag) in [
            ("success", Some("checkNotPass")),
            ("success", None),
            ("success", Some("checkpass")),
            ("success", Some("1")),
            ("failed", Some("checkPass")),
            ("failed", None),
            ("running", Some("checkNotPass")),
            ("notStarted", Some("checkNotPass")),
        ] {
            assert_eq!(
                decide(&answer_2021(status, flag)),
                Decision::NotPassed,
                "{status} {flag:?}"
            );
        }
        for (status, flag) in [
            ("running", None),
            ("notStarted", None),
            ("running", Some("checkPass")),
            ("finished", Some("checkPass")),
            ("paused", None),
        ] {
            assert_eq!(
                decide(&answer_2021(status, flag)),
                Decision::KeepPolling,
                "{status} {flag:?}"
            );
        }
        // A 2018-style answer never passes as 2021, and the other way round.
        let mut crossed = answer("finished", Some(1));
        crossed.api = ApiVersion::V2021;
        assert_ne!(decide(&crossed), Decision::Passed);
        let mut crossed = answer_2021("success", Some("checkPass"));
        crossed.api = ApiVersion::V2018;
        assert_ne!(decide(&crossed), Decision::Passed);
        assert!(answer_2021("failed", None).is_task_failure());
        assert!(!answer("failed", None).is_task_failure());
    }

    #[test]
    fn only_finished_with_flag_one_passes() {
        assert_eq!(decide(&answer("finished", Some(1))), Decision::Passed);
        for flag in [Some(0), Some(3), Some(2), Some(-1), Some(11), None] {
            assert_eq!(
                decide(&answer("finished", flag)),
                Decision::NotPassed,
                "{flag:?}"
            );
        }
        for status in ["running", "starting", "unavailable", "Finished", "done", ""] {
            assert_eq!(
                decide(&answer(status, Some(1))),
                Decision::KeepPolling,
                "{status}"
            );
        }
    }

    #[test]
    fn flag_meanings_follow_the_service() {
        assert_eq!(check_flag_meaning(&CheckFlag::Code(1)), "passed");
        assert_eq!(check_flag_meaning(&CheckFlag::Code(0)), "not passed");
        assert_eq!(check_flag_meaning(&CheckFlag::Code(3)), "not checked");
        assert_eq!(
            check_flag_meaning(&CheckFlag::Code(2)),
            "undocumented value"
        );
        let name = |n: &str| CheckFlag::Name(n.into());
        assert_eq!(check_flag_meaning(&name("checkPass")), "passed");
        assert_eq!(check_flag_meaning(&name("checkNotPass")), "not passed");
        assert_eq!(check_flag_meaning(&name("1")), "undocumented value");
    }

    fn report(outcome: JobOutcome, start: Start) -> JobReport {
        JobReport {
            job_id: "dts-1".into(),
            outcome,
            polls: 1,
            start,
        }
    }

    #[test]
    fn exit_codes_and_results_of_one_job() {
        let err = ApiError::Transport {
            detail: "refused".into(),
        };
        let cases = [
            (JobOutcome::Passed(answer("finished", Some(1))), 0, "passed"),
            (
                JobOutcome::NotPassed(answer("finished", Some(0))),
                1,
                "not-passed",
            ),
            (
                JobOutcome::Failed {
                    error: err.clone(),
                    last: None,
                },
                3,
                "error",
            ),
            (
                JobOutcome::TimedOut {
                    last: answer("running", Some(3)),
                    last_error: Some(err),
                },
                4,
                "timed-out",
            ),
        ];
        for (job, code, result) in cases {
            let outcome = Outcome::Jobs(vec![report(job, Start::NotRequested)]);
            assert_eq!(exit_code(&outcome), code, "{outcome:?}");
            assert_eq!(outcome.result(), result);
            assert_eq!(outcome.passed(), code == 0);
        }
        assert_eq!(exit_code(&Outcome::InvalidConfig(vec![])), 2);
        // No job at all is never a pass.
        assert_eq!(exit_code(&Outcome::Jobs(vec![])), 3);
        assert!(!Outcome::Jobs(vec![]).passed());
    }

    #[test]
    fn the_most_severe_job_decides() {
        let pass = || {
            report(
                JobOutcome::Passed(answer("finished", Some(1))),
                Start::NotRequested,
            )
        };
        let fail = || {
            report(
                JobOutcome::NotPassed(answer("finished", Some(0))),
                Start::NotRequested,
            )
        };
        let timeout = || {
            report(
                JobOutcome::TimedOut {
                    last: answer("running", None),
                    last_error: None,
                },
                Start::NotRequested,
            )
        };
        let error = || {
            report(
                JobOutcome::Failed {
                    error: ApiError::Transport { detail: "x".into() },
                    last: None,
                },
                Start::NotRequested,
            )
        };
        let cases = [
            (vec![pass(), pass()], 0),
            (vec![pass(), fail(), pass()], 1),
            (vec![fail(), timeout()], 4),
            (vec![timeout(), error(), fail()], 3),
            (vec![error(), pass()], 3),
        ];
        for (jobs, code) in cases {
            assert_eq!(exit_code(&Outcome::Jobs(jobs.clone())), code, "{jobs:?}");
        }
        let outcome = Outcome::Jobs(vec![pass(), fail(), timeout(), fail()]);
        assert_eq!(
            outcome.deciding_job().unwrap().outcome.result(),
            "timed-out"
        );
    }

    #[test]
    fn a_cancelled_run_exits_as_killed_by_its_signal() {
        let pass = report(
            JobOutcome::Passed(answer("finished", Some(1))),
            Start::NotRequested,
        );
        let cancelled = |signal| {
            report(
                JobOutcome::Cancelled {
                    signal,
                    last: Some(answer("running", Some(3))),
                },
                Start::NotRequested,
            )
        };
        let outcome = Outcome::Jobs(vec![pass.clone(), cancelled(2)]);
        assert_eq!(exit_code(&outcome), 130);
        assert_eq!(outcome.result(), "cancelled");
        assert!(!outcome.passed());
        assert_eq!(exit_code(&Outcome::Jobs(vec![cancelled(15)])), 143);
        // Every check passed, but the start was cut short: not a pass.
        let withheld = report(pass.outcome, Start::Cancelled { signal: 15 });
        let outcome = Outcome::Jobs(vec![withheld]);
        assert_eq!(exit_code(&outcome), 143);
        assert!(!outcome.passed() && !outcome.migration_started());
    }

    #[test]
    fn a_refused_start_is_an_error_and_stops_migration_started() {
        let passed = JobOutcome::Passed(answer("finished", Some(1)));
        let started = report(
            passed.clone(),
            Start::Started {
                request_id: "r".into(),
            },
        );
        let refused = report(
            passed,
            Start::Refused(ApiError::Service {
                code: "FailedOperation.StatusInConflict".into(),
                message: "job status conflict".into(),
                request_id: "r2".into(),
            }),
        );
        let all_started = Outcome::Jobs(vec![started.clone(), started.clone()]);
        assert_eq!(exit_code(&all_started), 0);
        assert!(all_started.migration_started());
        let partly = Outcome::Jobs(vec![started, refused]);
        assert_eq!(exit_code(&partly), 3);
        assert_eq!(partly.result(), "error");
        assert!(!partly.passed());
        assert!(!partly.migration_started());
        assert_eq!(partly.deciding_job().unwrap().result(), "error");
    }
}
