//! The stages of a migration the gate can wait for, and the pure rules of the later ones:
//! what a `DescribeMigrationDetail` status means for `ready` and `complete`, when a lag is
//! within its limit, and when it has held there long enough (the settle rule). Fail closed:
//! an unknown status, a missing or `-1` lag is never a pass.

use std::time::Duration;

use crate::api::{ApiError, CompareReport, CompareTask, JobKind, MigrationDetail};

/// Which moment of the migration a run gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// The pre-check (today's behaviour, the default).
    #[default]
    Check,
    /// The migration has caught up and can be cut over (`readyComplete`).
    Ready,
    /// The data-consistency check: a compare task that succeeded with `Conclusion` `same`.
    Compare,
    /// `CompleteMigrateJob` on a ready job, then wait for `success`.
    Complete,
}

impl Stage {
    pub const NAMES: &'static str = "check, ready, compare or complete";

    pub fn parse(text: &str) -> Option<Stage> {
        match text {
            "check" => Some(Stage::Check),
            "ready" => Some(Stage::Ready),
            "compare" => Some(Stage::Compare),
            "complete" => Some(Stage::Complete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Check => "check",
            Stage::Ready => "ready",
            Stage::Compare => "compare",
            Stage::Complete => "complete",
        }
    }
}

/// `CompleteMigrateJob`'s `CompleteMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompleteMode {
    /// Completes once the lag is zero (the service's default).
    #[default]
    WaitForSync,
    /// Completes at once, whatever the lag: only when asked for explicitly.
    Immediately,
}

impl CompleteMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CompleteMode::WaitForSync => "waitForSync",
            CompleteMode::Immediately => "immediately",
        }
    }
}

/// The lag the `ready` stage (and `complete`, right before completing) accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LagLimit {
    /// `DTS_MAX_LAG`: `SecondsBehindMaster` at most this.
    pub max_seconds: Option<u64>,
    /// `DTS_MAX_LAG_MB`: `MasterSlaveDistance` at most this.
    pub max_mb: Option<u64>,
    /// `DTS_LAG_SETTLE`: how long the lag must hold within the limits.
    pub settle: Duration,
}

pub const DEFAULT_LAG_SETTLE: Duration = Duration::from_secs(30);

impl LagLimit {
    pub fn is_set(&self) -> bool {
        self.max_seconds.is_some() || self.max_mb.is_some()
    }

    /// Whether the answer's lags are within every limit set. A limit whose reading is missing
    /// or `-1` is unknown, never within.
    pub fn reading(&self, detail: &MigrationDetail) -> Lag {
        let checks = [
            (self.max_seconds, detail.seconds_behind),
            (self.max_mb, detail.distance_mb),
        ];
        let mut within = true;
        for (limit, value) in checks {
            match (limit, value) {
                (None, _) => {}
                (Some(_), None) => return Lag::Unknown,
                (Some(limit), Some(value)) => within &= value <= limit,
            }
        }
        if within { Lag::Within } else { Lag::Over }
    }
}

/// One lag reading against the limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lag {
    Within,
    Over,
    Unknown,
}

/// The settle rule: `since` is when the lag was first seen within the limits in the current
/// unbroken run of readings (`None`: not within). Returns the new `since` and whether the
/// lag has now held for `settle`. A reading that is over or unknown starts again from zero.
pub fn settle(
    since: Option<Duration>,
    now: Duration,
    lag: Lag,
    settle: Duration,
) -> (Option<Duration>, bool) {
    if lag != Lag::Within {
        return (None, false);
    }
    let since = since.unwrap_or(now).min(now);
    (Some(since), now - since >= settle)
}

/// What a `DescribeMigrationDetail` status means while waiting for `ready`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The stage's own pass status.
    Reached,
    /// Documented as on the way: keep polling.
    Waiting,
    /// Documented as a state the job will not leave by itself: fail now.
    Failed,
    /// Not documented: keep polling with a warning, never a pass.
    Unknown,
}

/// The `ready` stage: `readyComplete` is ready; an isolated or offlined job, or a failed,
/// stopped, paused or cancelled one, will not get there.
pub fn ready_reading(detail: &MigrationDetail) -> Reading {
    if detail.is_out_of_service() {
        return Reading::Failed;
    }
    if detail.kind == JobKind::Sync {
        return sync_ready_reading(detail);
    }
    match detail.status.as_str() {
        "readyComplete" => Reading::Reached,
        "created" | "checking" | "checkPass" | "readyRun" | "running" | "resuming" | "pausing" => {
            Reading::Waiting
        }
        "failed" | "error" | "resumableErr" | "manualPaused" | "stopping" | "canceled"
        | "checkNotPass" | "completing" | "success" => Reading::Failed,
        _ => Reading::Unknown,
    }
}

/// A sync job (`DescribeSyncJobs` `Status`) is ready when `Running`. On the way: not yet
/// configured, checked or started, or resuming. A job paused, stopped, failed, released or
/// reset, or on its way there, will not run by itself. `Unknown` is the service's own word for
/// not knowing: never ready.
///
/// A sync job is `Running` from its first step on (structure, full export, full import), with
/// a lag that means nothing yet: it is ready only once running its last step, the incremental
/// sync. No step list is not knowing which step: not ready.
fn sync_ready_reading(detail: &MigrationDetail) -> Reading {
    match detail.status.as_str() {
        "Running" if detail.in_last_step() => Reading::Reached,
        "Running" => Reading::Waiting,
        "UnInitialized" | "Initialized" | "Checking" | "CheckPass" | "ReadyRunning"
        | "Resuming" => Reading::Waiting,
        "CheckNotPass" | "Pausing" | "Paused" | "Stopping" | "Stopped" | "ResumableErr"
        | "Failed" | "Released" | "Resetting" => Reading::Failed,
        _ => Reading::Unknown,
    }
}

/// After `CompleteMigrateJob`: `success` is done; `completing` (and the ready state it
/// leaves) are on the way; a failed, stopped or isolated job is not.
pub fn complete_reading(detail: &MigrationDetail) -> Reading {
    if detail.is_out_of_service() {
        return Reading::Failed;
    }
    match detail.status.as_str() {
        "success" => Reading::Reached,
        "completing" | "readyComplete" | "running" => Reading::Waiting,
        "failed" | "error" | "resumableErr" | "manualPaused" | "stopping" | "canceled" => {
            Reading::Failed
        }
        _ => Reading::Unknown,
    }
}

/// How one job's later stage ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageResult {
    /// The stage's own pass: ready (within the lag, settled), or completed.
    Passed,
    /// The job reached a state that rules the pass out; `why` says which.
    NotPassed {
        why: String,
    },
    /// `complete` refused to complete a job that is not ready (nothing was sent).
    Refused {
        why: String,
    },
    TimedOut {
        last_error: Option<ApiError>,
    },
    Failed(ApiError),
    Cancelled {
        signal: i32,
    },
}

/// One job's story in a later stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageJob {
    pub job_id: String,
    pub result: StageResult,
    pub last: Option<MigrationDetail>,
    pub polls: u32,
    /// `CompleteMigrateJob`'s `RequestId`, once sent.
    pub completed_by: Option<String>,
    /// The `compare` stage's task and report.
    pub compare: Option<CompareStory>,
}

/// `CompareOptions.Method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompareMethod {
    /// Every row (the service's default).
    #[default]
    DataCheck,
    /// A sample of the rows (`SampleRate`).
    SampleDataCheck,
    /// Row counts only.
    RowsCount,
}

impl CompareMethod {
    pub const NAMES: &'static str = "dataCheck, sampleDataCheck or rowsCount";

    pub fn parse(text: &str) -> Option<CompareMethod> {
        match text {
            "dataCheck" => Some(CompareMethod::DataCheck),
            "sampleDataCheck" => Some(CompareMethod::SampleDataCheck),
            "rowsCount" => Some(CompareMethod::RowsCount),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CompareMethod::DataCheck => "dataCheck",
            CompareMethod::SampleDataCheck => "sampleDataCheck",
            CompareMethod::RowsCount => "rowsCount",
        }
    }
}

/// The `compare` stage's settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompareSettings {
    /// `DTS_COMPARE_TASK_ID`: gate this existing task instead of creating one.
    pub task_id: Option<String>,
    /// `DTS_COMPARE_METHOD`.
    pub method: CompareMethod,
    /// `DTS_COMPARE_SAMPLE_RATE` (1 to 100).
    pub sample_rate: Option<u32>,
    /// `DTS_COMPARE_THREADS` (1 to 8).
    pub threads: Option<u32>,
    /// `DTS_FAIL_ON_SKIPPED_TABLES`: a skipped table fails instead of warning.
    pub fail_on_skipped: bool,
}

/// One job's compare task, as far as the gate got with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompareStory {
    pub task_id: String,
    /// The gate created (and started) the task; only then does it stop it on an early end.
    pub created: bool,
    /// The task's last state (`DescribeCompareTasks`).
    pub task: Option<CompareTask>,
    /// `DescribeCompareReport`, once the task finished.
    pub report: Option<CompareReport>,
    /// `StopCompare` on an early end: its `RequestId`, or why it could not be stopped.
    pub stopped: Option<Result<String, String>>,
    /// Skipped tables fail (`DTS_FAIL_ON_SKIPPED_TABLES`).
    pub fail_on_skipped: bool,
}

/// What a `DescribeCompareTasks` item's `Status` means while waiting for the task to finish.
pub fn compare_reading(task: &CompareTask) -> Reading {
    match task.status.as_str() {
        "success" => Reading::Reached,
        "created" | "readyRun" | "running" => Reading::Waiting,
        "failed" | "canceled" | "stopping" => Reading::Failed,
        _ => Reading::Unknown,
    }
}

/// The `compare` verdict on a finished task: `Ok(warnings)` only when the task and its report
/// (`Abstract.Status`) succeeded, the conclusion is `same` (in the task and the report) with no
/// different table or row (both counted as zero); `Err(why)` otherwise. Skipped tables are warnings, or the failure when
/// `fail_on_skipped`. Anything missing or unknown fails.
pub fn compare_verdict(
    task: &CompareTask,
    report: &CompareReport,
    fail_on_skipped: bool,
) -> Result<Vec<String>, String> {
    if task.status != "success" {
        return Err(format!("the compare task ended {}", quoted(&task.status)));
    }
    if report.status != "success" {
        return Err(format!(
            "the compare report's Status is {}",
            quoted(&report.status)
        ));
    }
    let conclusion = if report.conclusion.is_empty() {
        task.conclusion.as_str()
    } else {
        report.conclusion.as_str()
    };
    if !task.conclusion.is_empty() && task.conclusion != conclusion {
        return Err(format!(
            "contradictory conclusions: DescribeCompareTasks says {}, DescribeCompareReport {}",
            task.conclusion, conclusion
        ));
    }
    let skipped = report
        .skipped_tables
        .unwrap_or(0)
        .max(report.skipped_total.unwrap_or(0))
        .max(report.skipped.len() as i64);
    let skipped_text = if skipped > 0 {
        let names: Vec<String> = report
            .skipped
            .iter()
            .map(|s| {
                if s.reason.is_empty() {
                    s.table_name()
                } else {
                    format!("{} ({})", s.table_name(), s.reason)
                }
            })
            .collect();
        format!(
            "{skipped} table{} not compared{}{}",
            if skipped == 1 { "" } else { "s" },
            if names.is_empty() { "" } else { ": " },
            names.join(", ")
        )
    } else {
        String::new()
    };
    match conclusion {
        "same" => {}
        "different" => {
            let tables = report
                .different_tables
                .unwrap_or(0)
                .max(count_tables(report) as i64);
            let rows = report
                .different_rows
                .map(|r| format!(", {r} row{}", if r == 1 { "" } else { "s" }))
                .unwrap_or_default();
            return Err(format!(
                "the data differs: {tables} table{} different{rows}",
                if tables == 1 { "" } else { "s" }
            ));
        }
        "skipAll" => {
            return Err(
                "nothing was compared: Conclusion skipAll (every table was skipped)".into(),
            );
        }
        "" => return Err("the compare task finished without a Conclusion".into()),
        other => return Err(format!("unknown Conclusion {}", quoted(other))),
    }
    match (report.different_tables, report.different_rows) {
        (Some(0), Some(0)) if report.differences.is_empty() => {}
        (Some(t), Some(r)) if t > 0 || r > 0 || !report.differences.is_empty() => {
            return Err(format!(
                "contradictory report: Conclusion same, but {t} different tables and {r} different rows"
            ));
        }
        (Some(_), Some(_)) => {
            return Err(
                "contradictory report: Conclusion same, but it lists different chunks".into(),
            );
        }
        _ => {
            return Err(
                "the compare report does not say how many tables and rows differ (DifferentTables, DifferentRows)"
                    .into(),
            );
        }
    }
    if skipped > 0 {
        if fail_on_skipped {
            return Err(skipped_text);
        }
        return Ok(vec![skipped_text]);
    }
    Ok(Vec::new())
}

/// The distinct tables the report lists as different.
pub fn count_tables(report: &CompareReport) -> usize {
    let mut names: Vec<String> = report.differences.iter().map(|d| d.table_name()).collect();
    names.sort();
    names.dedup();
    names.len()
}

fn quoted(text: &str) -> String {
    if text.is_empty() {
        "(nothing)".to_string()
    } else {
        format!("{text:?}")
    }
}

/// Ranked for the aggregate, as for checks: cancelled over error over timeout over not passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StageSeverity {
    Passed,
    NotPassed,
    TimedOut,
    Error,
    Cancelled,
}

impl StageJob {
    pub fn severity(&self) -> StageSeverity {
        match self.result {
            StageResult::Passed => StageSeverity::Passed,
            StageResult::NotPassed { .. } | StageResult::Refused { .. } => StageSeverity::NotPassed,
            StageResult::TimedOut { .. } => StageSeverity::TimedOut,
            StageResult::Failed(_) => StageSeverity::Error,
            StageResult::Cancelled { .. } => StageSeverity::Cancelled,
        }
    }

    pub fn result(&self) -> &'static str {
        match self.result {
            StageResult::Passed => "passed",
            StageResult::NotPassed { .. } => "not-passed",
            StageResult::Refused { .. } => "refused",
            StageResult::TimedOut { .. } => "timed-out",
            StageResult::Failed(_) => "error",
            StageResult::Cancelled { .. } => "cancelled",
        }
    }
}

/// A later stage's run: one story per job, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRun {
    pub stage: Stage,
    pub jobs: Vec<StageJob>,
}

impl StageRun {
    /// The most severe; no job at all is an error, never a pass.
    pub fn severity(&self) -> StageSeverity {
        self.jobs
            .iter()
            .map(StageJob::severity)
            .max()
            .unwrap_or(StageSeverity::Error)
    }

    pub fn passed(&self) -> bool {
        !self.jobs.is_empty() && self.severity() == StageSeverity::Passed
    }

    /// The job the scalar outputs describe: the first with the most severe outcome.
    pub fn deciding(&self) -> Option<&StageJob> {
        let worst = self.severity();
        self.jobs.iter().find(|j| j.severity() == worst)
    }

    pub fn exit_code(&self) -> u8 {
        match self.severity() {
            StageSeverity::Passed => 0,
            StageSeverity::NotPassed => 1,
            StageSeverity::Error => 3,
            StageSeverity::TimedOut => 4,
            StageSeverity::Cancelled => {
                let signal = self
                    .jobs
                    .iter()
                    .find_map(|j| match j.result {
                        StageResult::Cancelled { signal } => Some(signal),
                        _ => None,
                    })
                    .unwrap_or(15);
                u8::try_from(128 + signal).unwrap_or(143)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(status: &str, seconds: Option<u64>, mb: Option<u64>) -> MigrationDetail {
        MigrationDetail {
            status: status.into(),
            trade_status: "normal".into(),
            seconds_behind: seconds,
            distance_mb: mb,
            ..MigrationDetail::default()
        }
    }

    #[test]
    fn stages_parse_and_default_to_check() {
        assert_eq!(Stage::default(), Stage::Check);
        for stage in [Stage::Check, Stage::Ready, Stage::Compare, Stage::Complete] {
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
        }
        assert_eq!(Stage::parse("Ready"), None);
        assert_eq!(Stage::parse("compare"), Some(Stage::Compare));
        assert_eq!(Stage::parse("Compare"), None);
    }

    fn sync_job(status: &str, trade: &str, step_now: Option<i64>, last: &str) -> MigrationDetail {
        use crate::api::MigrationStep;
        let step = |id: &str, status: &str| MigrationStep {
            id: id.into(),
            status: status.into(),
            ..MigrationStep::default()
        };
        MigrationDetail {
            kind: JobKind::Sync,
            status: status.into(),
            trade_status: trade.into(),
            step_now,
            steps: vec![
                step("schema-init", "finished"),
                step("dumper", "finished"),
                step("loader", "finished"),
                step("sinker", last),
            ],
            ..MigrationDetail::default()
        }
    }

    #[test]
    fn a_sync_job_is_ready_only_running_its_last_step() {
        assert_eq!(
            ready_reading(&sync_job("Running", "Normal", Some(4), "running")),
            Reading::Reached
        );
        assert_eq!(
            ready_reading(&sync_job("Running", "Normal", None, "running")),
            Reading::Reached
        );
        // Still exporting or importing the full data: its lag means nothing yet.
        assert_eq!(
            ready_reading(&sync_job("Running", "Normal", Some(2), "notStarted")),
            Reading::Waiting
        );
        assert_eq!(
            ready_reading(&sync_job("Running", "Normal", None, "notStarted")),
            Reading::Waiting
        );
        let mut no_steps = sync_job("Running", "Normal", Some(4), "running");
        no_steps.steps.clear();
        assert_eq!(ready_reading(&no_steps), Reading::Waiting);
        for status in [
            "UnInitialized",
            "Initialized",
            "Checking",
            "CheckPass",
            "ReadyRunning",
            "Resuming",
        ] {
            assert_eq!(
                ready_reading(&sync_job(status, "Normal", Some(4), "running")),
                Reading::Waiting,
                "{status}"
            );
        }
        for status in [
            "CheckNotPass",
            "Pausing",
            "Paused",
            "Stopping",
            "Stopped",
            "ResumableErr",
            "Failed",
            "Released",
            "Resetting",
        ] {
            assert_eq!(
                ready_reading(&sync_job(status, "Normal", Some(4), "running")),
                Reading::Failed,
                "{status}"
            );
        }
        for trade in ["Isolating", "Isolated", "Offlining", "Offlined"] {
            assert_eq!(
                ready_reading(&sync_job("Running", trade, Some(4), "running")),
                Reading::Failed,
                "{trade}"
            );
        }
        // A migration's status means nothing for a sync job, and the reverse.
        for status in ["Unknown", "running", "readyComplete", ""] {
            assert_eq!(
                ready_reading(&sync_job(status, "Normal", Some(4), "running")),
                Reading::Unknown,
                "{status}"
            );
        }
        assert_eq!(
            ready_reading(&detail("Running", Some(0), Some(0))),
            Reading::Unknown
        );
    }

    #[test]
    fn only_ready_complete_is_ready_and_unknown_never_is() {
        assert_eq!(
            ready_reading(&detail("readyComplete", None, None)),
            Reading::Reached
        );
        for s in [
            "created",
            "checking",
            "checkPass",
            "readyRun",
            "running",
            "resuming",
            "pausing",
        ] {
            assert_eq!(
                ready_reading(&detail(s, None, None)),
                Reading::Waiting,
                "{s}"
            );
        }
        for s in [
            "failed",
            "error",
            "resumableErr",
            "manualPaused",
            "stopping",
            "canceled",
        ] {
            assert_eq!(
                ready_reading(&detail(s, None, None)),
                Reading::Failed,
                "{s}"
            );
        }
        assert_eq!(ready_reading(&detail("", None, None)), Reading::Unknown);
        assert_eq!(
            ready_reading(&detail("ReadyComplete", None, None)),
            Reading::Unknown
        );
        for trade in ["isolated", "offlined", "isolating", "offlining"] {
            let mut d = detail("readyComplete", Some(0), Some(0));
            d.trade_status = trade.into();
            assert_eq!(ready_reading(&d), Reading::Failed, "{trade}");
        }
    }

    #[test]
    fn completion_passes_only_on_success() {
        assert_eq!(
            complete_reading(&detail("success", None, None)),
            Reading::Reached
        );
        assert_eq!(
            complete_reading(&detail("completing", None, None)),
            Reading::Waiting
        );
        assert_eq!(
            complete_reading(&detail("failed", None, None)),
            Reading::Failed
        );
        assert_eq!(
            complete_reading(&detail("weird", None, None)),
            Reading::Unknown
        );
    }

    #[test]
    fn a_lag_of_minus_one_or_missing_is_unknown_never_within() {
        let limit = LagLimit {
            max_seconds: Some(30),
            max_mb: Some(10),
            settle: Duration::ZERO,
        };
        assert_eq!(limit.reading(&detail("x", Some(30), Some(10))), Lag::Within);
        assert_eq!(limit.reading(&detail("x", Some(31), Some(0))), Lag::Over);
        assert_eq!(limit.reading(&detail("x", Some(0), Some(11))), Lag::Over);
        // The decoder turns -1 into None.
        assert_eq!(limit.reading(&detail("x", None, Some(0))), Lag::Unknown);
        assert_eq!(limit.reading(&detail("x", Some(0), None)), Lag::Unknown);
        let seconds_only = LagLimit {
            max_mb: None,
            ..limit
        };
        assert_eq!(
            seconds_only.reading(&detail("x", Some(3), None)),
            Lag::Within
        );
        assert!(!LagLimit::default().is_set());
    }

    #[test]
    fn the_lag_must_hold_for_the_settle_time_and_any_break_restarts_it() {
        let s = |secs| Duration::from_secs(secs);
        let settle_for = s(30);
        let (since, ok) = settle(None, s(10), Lag::Within, settle_for);
        assert_eq!((since, ok), (Some(s(10)), false));
        let (since, ok) = settle(since, s(39), Lag::Within, settle_for);
        assert_eq!((since, ok), (Some(s(10)), false));
        let (since, ok) = settle(since, s(40), Lag::Within, settle_for);
        assert_eq!((since, ok), (Some(s(10)), true));
        // Over, or unknown, starts again.
        assert_eq!(settle(since, s(41), Lag::Over, settle_for), (None, false));
        assert_eq!(
            settle(since, s(41), Lag::Unknown, settle_for),
            (None, false)
        );
        // No settle time: one reading within is enough.
        assert_eq!(
            settle(None, s(5), Lag::Within, Duration::ZERO),
            (Some(s(5)), true)
        );
    }

    #[test]
    fn the_aggregate_is_never_a_pass_without_jobs() {
        let run = StageRun {
            stage: Stage::Ready,
            jobs: Vec::new(),
        };
        assert!(!run.passed());
        assert_eq!(run.exit_code(), 3);
        let job = |result| StageJob {
            job_id: "dts-1".into(),
            result,
            last: None,
            polls: 1,
            completed_by: None,
            compare: None,
        };
        let run = StageRun {
            stage: Stage::Ready,
            jobs: vec![
                job(StageResult::Passed),
                job(StageResult::Refused { why: "x".into() }),
            ],
        };
        assert_eq!(run.exit_code(), 1);
        assert_eq!(run.deciding().unwrap().result(), "refused");
        let timed_out = StageRun {
            stage: Stage::Ready,
            jobs: vec![job(StageResult::TimedOut { last_error: None })],
        };
        assert_eq!(timed_out.exit_code(), 4);
    }

    fn task(status: &str, conclusion: &str) -> CompareTask {
        CompareTask {
            task_id: "dts-1-cmp-1".into(),
            status: status.into(),
            conclusion: conclusion.into(),
            listed: true,
            ..CompareTask::default()
        }
    }

    fn report(conclusion: &str, tables: Option<i64>, rows: Option<i64>) -> CompareReport {
        CompareReport {
            conclusion: conclusion.into(),
            status: "success".into(),
            different_tables: tables,
            different_rows: rows,
            ..CompareReport::default()
        }
    }

    #[test]
    fn compare_passes_only_on_a_successful_task_that_found_the_same_data() {
        let same = report("same", Some(0), Some(0));
        assert_eq!(
            compare_verdict(&task("success", "same"), &same, false),
            Ok(vec![])
        );
        // The task list may leave the conclusion out; the report's counts.
        assert_eq!(
            compare_verdict(&task("success", ""), &same, true),
            Ok(vec![])
        );
        // Missing counts are unknown, never zero.
        for (t, r) in [(None, Some(0)), (Some(0), None), (None, None)] {
            assert!(
                compare_verdict(&task("success", "same"), &report("same", t, r), false).is_err()
            );
        }
        // Same, yet rows differ: contradictory.
        let why = compare_verdict(
            &task("success", "same"),
            &report("same", Some(0), Some(2)),
            false,
        )
        .unwrap_err();
        assert!(why.contains("contradictory"), "{why}");
        let why = compare_verdict(&task("success", "different"), &same, false).unwrap_err();
        assert!(why.contains("contradictory"), "{why}");
    }

    #[test]
    fn different_skip_all_unknown_and_unfinished_tasks_never_pass() {
        let mut different = report("different", Some(2), Some(5));
        different.differences = vec![crate::api::Difference {
            db: "shop".into(),
            table: "orders".into(),
            ..crate::api::Difference::default()
        }];
        let why = compare_verdict(&task("success", "different"), &different, false).unwrap_err();
        assert_eq!(why, "the data differs: 2 tables different, 5 rows");
        let why = compare_verdict(
            &task("success", "skipAll"),
            &report("skipAll", Some(0), Some(0)),
            false,
        )
        .unwrap_err();
        assert!(why.contains("skipAll"), "{why}");
        for conclusion in ["", "Same", "mostly"] {
            assert!(
                compare_verdict(
                    &task("success", ""),
                    &report(conclusion, Some(0), Some(0)),
                    false
                )
                .is_err(),
                "{conclusion}"
            );
        }
        let same = report("same", Some(0), Some(0));
        for status in ["failed", "canceled", "running", ""] {
            assert!(
                compare_verdict(&task(status, "same"), &same, false).is_err(),
                "{status}"
            );
        }
        let mut failed = same.clone();
        failed.status = "failed".into();
        assert!(compare_verdict(&task("success", "same"), &failed, false).is_err());
        // A report that does not say it succeeded is not a pass either.
        failed.status = String::new();
        assert!(compare_verdict(&task("success", "same"), &failed, false).is_err());
    }

    #[test]
    fn skipped_tables_warn_by_default_and_fail_when_asked_with_their_reason() {
        let mut skipped = report("same", Some(0), Some(0));
        skipped.skipped_tables = Some(1);
        skipped.skipped = vec![crate::api::Skipped {
            db: "shop".into(),
            table: "logs".into(),
            reason: "no primary key".into(),
            ..crate::api::Skipped::default()
        }];
        let warnings = compare_verdict(&task("success", "same"), &skipped, false).unwrap();
        assert_eq!(
            warnings,
            ["1 table not compared: shop.logs (no primary key)"]
        );
        let why = compare_verdict(&task("success", "same"), &skipped, true).unwrap_err();
        assert_eq!(why, "1 table not compared: shop.logs (no primary key)");
    }

    #[test]
    fn compare_task_statuses() {
        assert_eq!(compare_reading(&task("success", "")), Reading::Reached);
        for s in ["created", "readyRun", "running"] {
            assert_eq!(compare_reading(&task(s, "")), Reading::Waiting, "{s}");
        }
        for s in ["failed", "canceled", "stopping"] {
            assert_eq!(compare_reading(&task(s, "")), Reading::Failed, "{s}");
        }
        for s in ["", "Success", "done"] {
            assert_eq!(compare_reading(&task(s, "")), Reading::Unknown, "{s}");
        }
    }

    mod compare_properties {
        use proptest::prelude::*;

        use super::*;

        fn words() -> impl Strategy<Value = String> {
            prop::sample::select(vec![
                "",
                "same",
                "different",
                "skipAll",
                "Same",
                "success",
                "failed",
                "running",
                "canceled",
                "weird",
            ])
            .prop_map(str::to_string)
        }

        proptest! {
            /// Whatever the two answers say, the verdict is a pass only on a successful task
            /// and report, one conclusion `same`, both counts known and zero, and no skipped
            /// table when skipped tables fail.
            #[test]
            fn compare_passes_only_on_a_well_formed_same(
                status in words(),
                report_status in words(),
                task_conclusion in words(),
                report_conclusion in words(),
                tables in prop::option::of(0i64..3),
                rows in prop::option::of(0i64..3),
                skipped in 0i64..2,
                fail_on_skipped in any::<bool>(),
            ) {
                let task = CompareTask {
                    status: status.clone(),
                    conclusion: task_conclusion.clone(),
                    listed: true,
                    ..CompareTask::default()
                };
                let report = CompareReport {
                    status: report_status.clone(),
                    conclusion: report_conclusion.clone(),
                    different_tables: tables,
                    different_rows: rows,
                    skipped_tables: Some(skipped),
                    ..CompareReport::default()
                };
                let conclusion = if report_conclusion.is_empty() {
                    &task_conclusion
                } else {
                    &report_conclusion
                };
                let expected = status == "success"
                    && report_status == "success"
                    && (task_conclusion.is_empty() || task_conclusion == *conclusion)
                    && conclusion == "same"
                    && tables == Some(0)
                    && rows == Some(0)
                    && (skipped == 0 || !fail_on_skipped);
                let verdict = compare_verdict(&task, &report, fail_on_skipped);
                prop_assert_eq!(verdict.is_ok(), expected, "{:?}", verdict);
            }
        }
    }
}
