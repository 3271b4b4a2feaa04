//! The stages of a migration the gate can wait for, and the pure rules of the later ones:
//! what a `DescribeMigrationDetail` status means for `ready` and `complete`, when a lag is
//! within its limit, and when it has held there long enough (the settle rule). Fail closed:
//! an unknown status, a missing or `-1` lag is never a pass.

use std::time::Duration;

use crate::api::{ApiError, MigrationDetail};

/// Which moment of the migration a run gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stage {
    /// The pre-check (today's behaviour, the default).
    #[default]
    Check,
    /// The migration has caught up and can be cut over (`readyComplete`).
    Ready,
    /// `CompleteMigrateJob` on a ready job, then wait for `success`.
    Complete,
}

impl Stage {
    pub const NAMES: &'static str = "check, ready or complete";

    pub fn parse(text: &str) -> Option<Stage> {
        match text {
            "check" => Some(Stage::Check),
            "ready" => Some(Stage::Ready),
            "complete" => Some(Stage::Complete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Check => "check",
            Stage::Ready => "ready",
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
        for stage in [Stage::Check, Stage::Ready, Stage::Complete] {
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
        }
        assert_eq!(Stage::parse("Ready"), None);
        assert_eq!(Stage::parse("compare"), None);
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
}
