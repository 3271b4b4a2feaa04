//! One run of a later stage (`ready`, `complete`) against the [`Dts`] seam: the order of the
//! requests, with the rules from [`crate::stage`] and the wait, retries, request budget,
//! deadline and cancellation of [`Poller::poll_until`]. Unit-tested with the scripted fake in
//! `gate.rs`.

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use crate::api::{ApiError, CompareOptions, CompareTask, JobKind, MigrationDetail};
use crate::config::Config;
use crate::dts::Dts;
use crate::duration;
use crate::hints::{Setting, Surface};
use crate::outcome::Decision;
use crate::poll::{Event, Polled, Poller, Schedule, Watch};
use crate::report::Reporter;
use crate::stage::{
    CompareStory, LagLimit, Reading, Stage, StageJob, StageResult, StageRun, compare_reading,
    compare_verdict, complete_reading, ready_reading, settle,
};

use crate::gate::Seams;

/// What the watch is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// Wait until ready (within the lag, settled).
    Ready,
    /// One reading right before completing: ready and within the lag now, or refuse.
    BeforeComplete,
    /// One reading once every job was ready: a job waited for earlier must still be, or the
    /// run does not pass on its stale readiness.
    StillReady,
    /// Wait until the completion succeeded.
    Completion,
}

struct StageWatch<'r, W: Write, E: Write> {
    reporter: &'r mut Reporter<W, E>,
    purpose: Purpose,
    lag: LagLimit,
    surface: Surface,
    since: Option<Duration>,
    warned: HashSet<String>,
    why: String,
}

impl<'r, W: Write, E: Write> StageWatch<'r, W, E> {
    fn new(reporter: &'r mut Reporter<W, E>, purpose: Purpose, config: &Config) -> Self {
        StageWatch {
            reporter,
            purpose,
            lag: config.lag,
            surface: config.surface,
            since: None,
            warned: HashSet::new(),
            why: String::new(),
        }
    }
}

/// Why a failing status fails, in words.
fn failure(detail: &MigrationDetail) -> String {
    let mut why = if detail.is_out_of_service() {
        format!("the job is {} (TradeInfo.TradeStatus)", detail.trade_status)
    } else {
        format!("Status {}", detail.status)
    };
    if !detail.brief_message.is_empty() {
        why.push_str(&format!(": {}", detail.brief_message));
    }
    why
}

fn progress_line(job: &str, detail: &MigrationDetail, elapsed: Duration) -> String {
    let step = detail
        .current_step()
        .map(|s| {
            let percent = s.percent.map(|p| format!(" {p}%")).unwrap_or_default();
            format!(", step {}{percent}", s.id)
        })
        .unwrap_or_default();
    let known =
        |v: Option<u64>, unit: &str| v.map_or("unknown".to_string(), |v| format!("{v}{unit}"));
    format!(
        "[{:>7.1}s] {job}: {}{step}, lag {} / {}",
        elapsed.as_secs_f64(),
        detail.status,
        known(detail.seconds_behind, "s"),
        known(detail.distance_mb, " MB"),
    )
}

impl<W: Write, E: Write> Watch<MigrationDetail> for StageWatch<'_, W, E> {
    fn judge(&mut self, job: &str, detail: &MigrationDetail, elapsed: Duration) -> Decision {
        self.reporter.info(&progress_line(job, detail, elapsed));
        let reading = match self.purpose {
            Purpose::Ready | Purpose::BeforeComplete | Purpose::StillReady => ready_reading(detail),
            Purpose::Completion => complete_reading(detail),
        };
        if reading != Reading::Reached {
            self.since = None;
        }
        match (reading, self.purpose) {
            (Reading::Reached, Purpose::Completion) => Decision::Passed,
            (Reading::Reached, _) if !self.lag.is_set() => Decision::Passed,
            (Reading::Reached, purpose) => {
                let lag = self.lag.reading(detail);
                // Right before completing, the lag must be within now (it settled in `ready`).
                let settle_for = if purpose == Purpose::Ready {
                    self.lag.settle
                } else {
                    Duration::ZERO
                };
                let (since, settled) = settle(self.since, elapsed, lag, settle_for);
                self.since = since;
                match (settled, purpose) {
                    (true, _) => Decision::Passed,
                    (false, Purpose::BeforeComplete) => {
                        self.why = format!(
                            "refusing to complete: the job is readyComplete but its lag ({}) is not within {}",
                            lag_text(detail),
                            limit_text(&self.lag, self.surface)
                        );
                        Decision::NotPassed
                    }
                    (false, Purpose::StillReady) => {
                        self.why = format!(
                            "was ready, but by the time every job was its lag ({}) is no longer within {}",
                            lag_text(detail),
                            limit_text(&self.lag, self.surface)
                        );
                        Decision::NotPassed
                    }
                    (false, _) => Decision::KeepPolling,
                }
            }
            (_, Purpose::StillReady) => {
                self.why = format!(
                    "was ready, but by the time every job was it is no longer: Status {}",
                    detail.status
                );
                Decision::NotPassed
            }
            (_, Purpose::BeforeComplete) => {
                self.why = format!(
                    "refusing to complete a job that is not ready: Status {} (only readyComplete can be completed)",
                    detail.status
                );
                Decision::NotPassed
            }
            (Reading::Failed, _) => {
                self.why = failure(detail);
                Decision::NotPassed
            }
            (Reading::Waiting, _) => Decision::KeepPolling,
            (Reading::Unknown, _) => {
                if self.warned.insert(detail.status.clone()) {
                    self.reporter.event(&Event::Warning {
                        job,
                        title: match detail.kind {
                            JobKind::Migration => "Unknown migration status",
                            JobKind::Sync => "Unknown sync job status",
                        },
                        message: format!(
                            "{} answered Status {:?}, which this version of dts-gate does not know (or the service itself does not); it keeps polling and never counts it as a pass",
                            detail.kind.describe_job_action(),
                            detail.status
                        ),
                    });
                }
                Decision::KeepPolling
            }
        }
    }

    fn event(&mut self, event: &Event) {
        self.reporter.event(event);
    }
}

fn lag_text(detail: &MigrationDetail) -> String {
    let known =
        |v: Option<u64>, unit: &str| v.map_or("unknown".to_string(), |v| format!("{v}{unit}"));
    format!(
        "{}, {}",
        known(detail.seconds_behind, "s"),
        known(detail.distance_mb, " MB")
    )
}

fn limit_text(lag: &LagLimit, surface: Surface) -> String {
    let mut parts = Vec::new();
    if let Some(s) = lag.max_seconds {
        let limit = duration::format(Duration::from_secs(s));
        parts.push(surface.assignment(Setting::MaxLag, &limit));
    }
    if let Some(mb) = lag.max_mb {
        parts.push(surface.assignment(Setting::MaxLagMb, &mb.to_string()));
    }
    parts.join(" and ")
}

/// One wait through the watch, as a job's result.
fn waited(
    job: &str,
    polled: (Polled<MigrationDetail>, u32),
    why: String,
    refused: bool,
) -> StageJob {
    let (polled, polls) = polled;
    let (result, last) = match polled {
        Polled::Decided {
            decision: Decision::Passed,
            answer,
        } => (StageResult::Passed, Some(answer)),
        Polled::Decided { answer, .. } if refused => (StageResult::Refused { why }, Some(answer)),
        Polled::Decided { answer, .. } => (StageResult::NotPassed { why }, Some(answer)),
        Polled::TimedOut { last, last_error } => (StageResult::TimedOut { last_error }, last),
        Polled::Failed { error, last } => (StageResult::Failed(error), last),
        Polled::Cancelled { signal, last } => (StageResult::Cancelled { signal }, last),
    };
    StageJob {
        job_id: job.to_string(),
        result,
        last,
        polls,
        completed_by: None,
        compare: None,
    }
}

/// Gates `config.stage` (ready, compare or complete) for every job; returns one story per job, in the
/// order given, and the number of requests sent.
pub fn gate_stage<W: Write, E: Write>(
    config: &Config,
    seams: &mut Seams,
    reporter: &mut Reporter<W, E>,
) -> (StageRun, u32) {
    let dts: &dyn Dts = seams.dts;
    let schedule = Schedule {
        interval: config.poll_interval,
        timeout: config.timeout,
        jitter_seed: seams.jitter_seed,
    };
    let mut poller = Poller::new(seams.clock, &mut *seams.sleeper, schedule)
        .with_cancellation(seams.cancelled)
        .with_request_budget(config.max_request_rate);
    let mut jobs: Vec<StageJob> = Vec::new();
    let not_waited = |id: &str| StageJob {
        job_id: id.to_string(),
        result: StageResult::NotPassed {
            why: format!(
                "not waited for: another job cannot pass ({})",
                config.surface.name(Setting::FailFast)
            ),
        },
        last: None,
        polls: 0,
        completed_by: None,
        compare: None,
    };
    match config.stage {
        Stage::Compare => {
            for id in &config.job_ids {
                if config.fail_fast && jobs.iter().any(|j| j.result != StageResult::Passed) {
                    jobs.push(not_waited(id));
                    continue;
                }
                jobs.push(compare_one(dts, config, &mut poller, id, reporter));
            }
        }
        Stage::Check | Stage::Ready => {
            for id in &config.job_ids {
                if config.fail_fast && jobs.iter().any(|j| j.result != StageResult::Passed) {
                    jobs.push(not_waited(id));
                    continue;
                }
                let mut watch = StageWatch::new(reporter, Purpose::Ready, config);
                let polled =
                    poller.poll_until(id, |budget| dts.describe_job(id, budget), &mut watch);
                let why = std::mem::take(&mut watch.why);
                jobs.push(waited(id, polled, why, false));
            }
            // The jobs were waited for one after another: the ones ready early are read once
            // more, so the run never passes on a readiness that has since gone.
            let confirm = jobs.len().saturating_sub(1);
            if jobs.iter().all(|j| j.result == StageResult::Passed) {
                for job in jobs.iter_mut().take(confirm) {
                    let id = job.job_id.clone();
                    let mut watch = StageWatch::new(reporter, Purpose::StillReady, config);
                    let polled =
                        poller.poll_until(&id, |budget| dts.describe_job(&id, budget), &mut watch);
                    let why = std::mem::take(&mut watch.why);
                    let polls = job.polls;
                    *job = waited(&id, polled, why, false);
                    job.polls += polls;
                }
            }
        }
        Stage::Complete => {
            // Every job must be ready before any is completed.
            for id in &config.job_ids {
                let mut watch = StageWatch::new(reporter, Purpose::BeforeComplete, config);
                let polled =
                    poller.poll_until(id, |budget| dts.describe_job(id, budget), &mut watch);
                let why = std::mem::take(&mut watch.why);
                jobs.push(waited(id, polled, why, true));
            }
            if jobs.iter().all(|j| j.result == StageResult::Passed) {
                for job in &mut jobs {
                    complete_one(dts, config, &mut poller, job, reporter);
                }
            } else {
                for job in &mut jobs {
                    if job.result == StageResult::Passed {
                        job.result = StageResult::Refused {
                            why: "not completed: another job is not ready, and no job is completed unless all are".into(),
                        };
                    }
                }
            }
        }
    }
    let requests = poller.requests();
    (
        StageRun {
            stage: config.stage,
            jobs,
        },
        requests,
    )
}

fn complete_one<
    W: Write,
    E: Write,
    C: crate::poll::Clock + ?Sized,
    S: crate::poll::Sleeper + ?Sized,
>(
    dts: &dyn Dts,
    config: &Config,
    poller: &mut Poller<C, S>,
    job: &mut StageJob,
    reporter: &mut Reporter<W, E>,
) {
    let id = job.job_id.clone();
    let mode = config.complete_mode.as_str();
    let sent = poller.call_with_retries(
        &id,
        |budget| dts.complete_migration(&id, mode, budget),
        |e| e.is_throttling(),
        |event| reporter.event(&event),
    );
    match sent {
        Ok(request_id) => {
            reporter.info(&format!(
                "{id}: CompleteMigrateJob ({mode}) accepted, request {request_id}; waiting for success"
            ));
            job.completed_by = Some(request_id);
        }
        Err(error) => {
            job.result = match poller.cancelled() {
                Some(signal) => StageResult::Cancelled { signal },
                None => StageResult::Failed(error),
            };
            return;
        }
    }
    let mut watch = StageWatch::new(reporter, Purpose::Completion, config);
    let polled = poller.poll_until(&id, |budget| dts.describe_job(&id, budget), &mut watch);
    let why = std::mem::take(&mut watch.why);
    let polls = job.polls;
    let completed_by = job.completed_by.take();
    *job = waited(&id, polled, why, false);
    job.polls += polls;
    job.completed_by = completed_by;
}

/// How long `StopCompare` may take when the gate stops early: sent after the deadline or a
/// cancellation, it must not hold the runner long.
pub const STOP_BUDGET: Duration = Duration::from_secs(5);

/// Waits for a compare task's `Status` to finish.
struct CompareWatch<'r, W: Write, E: Write> {
    reporter: &'r mut Reporter<W, E>,
    warned: HashSet<String>,
    why: String,
}

impl<W: Write, E: Write> Watch<CompareTask> for CompareWatch<'_, W, E> {
    fn judge(&mut self, job: &str, task: &CompareTask, elapsed: Duration) -> Decision {
        let percent = task.percent.map(|p| format!(" {p}%")).unwrap_or_default();
        self.reporter.info(&format!(
            "[{:>7.1}s] {job}: compare task {} {}{percent}",
            elapsed.as_secs_f64(),
            task.task_id,
            if task.listed {
                task.status.as_str()
            } else {
                "(not listed)"
            },
        ));
        match compare_reading(task) {
            Reading::Reached => Decision::Passed,
            Reading::Waiting => Decision::KeepPolling,
            Reading::Failed => {
                self.why = format!("the compare task {} is {}", task.task_id, task.status);
                if !task.message.is_empty() {
                    self.why.push_str(&format!(": {}", task.message));
                }
                Decision::NotPassed
            }
            Reading::Unknown => {
                let key = if task.listed {
                    task.status.clone()
                } else {
                    "\0not listed".to_string()
                };
                if self.warned.insert(key) {
                    let message = if task.listed {
                        format!(
                            "DescribeCompareTasks answered Status {:?}, which this version of dts-gate does not know; it keeps polling and never counts it as a pass",
                            task.status
                        )
                    } else {
                        format!(
                            "DescribeCompareTasks does not list the compare task {}; the gate keeps polling and never counts it as a pass",
                            task.task_id
                        )
                    };
                    self.reporter.event(&Event::Warning {
                        job,
                        title: "Unknown compare task status",
                        message,
                    });
                }
                Decision::KeepPolling
            }
        }
    }

    fn event(&mut self, event: &Event) {
        self.reporter.event(event);
    }
}

/// The `compare` stage for one job: create and start a task (unless one was given), wait for
/// it to finish, read its report and judge it. A task the gate created is stopped when the
/// wait ends early (timeout, cancellation, a permanent error); a task the user gave never is.
fn compare_one<
    W: Write,
    E: Write,
    C: crate::poll::Clock + ?Sized,
    S: crate::poll::Sleeper + ?Sized,
>(
    dts: &dyn Dts,
    config: &Config,
    poller: &mut Poller<C, S>,
    id: &str,
    reporter: &mut Reporter<W, E>,
) -> StageJob {
    let settings = &config.compare;
    let mut job = StageJob {
        job_id: id.to_string(),
        result: StageResult::Passed,
        last: None,
        polls: 0,
        completed_by: None,
        compare: None,
    };
    let ended = |poller: &Poller<C, S>, error: ApiError| match poller.cancelled() {
        Some(signal) => StageResult::Cancelled { signal },
        None => StageResult::Failed(error),
    };
    let mut story = CompareStory {
        fail_on_skipped: settings.fail_on_skipped,
        ..CompareStory::default()
    };
    match &settings.task_id {
        Some(task) => {
            story.task_id = task.clone();
            reporter.info(&format!("{id}: gating the existing compare task {task}"));
        }
        None => {
            let options = CompareOptions {
                method: settings.method.as_str().to_string(),
                sample_rate: settings.sample_rate,
                threads: settings.threads,
            };
            // Not idempotent: retried only when throttled (nothing was created then).
            let created = poller.call_with_retries(
                id,
                |budget| dts.create_compare(id, &options, budget),
                |e| e.is_throttling(),
                |event| reporter.event(&event),
            );
            match created {
                Ok(task) => {
                    reporter.info(&format!(
                        "{id}: created the compare task {task} ({}, every migrated object)",
                        options.method
                    ));
                    story.task_id = task;
                    story.created = true;
                }
                Err(error) => {
                    job.result = ended(poller, error);
                    return job;
                }
            }
            let task = story.task_id.clone();
            let started = poller.call_with_retries(
                id,
                |budget| dts.start_compare(id, &task, budget),
                |e| e.is_throttling(),
                |event| reporter.event(&event),
            );
            match started {
                Ok(request) => {
                    reporter.info(&format!(
                        "{id}: started the compare task {task} (request {request}); waiting for it to finish"
                    ));
                }
                Err(error) => {
                    job.result = ended(poller, error);
                    stop(dts, id, &mut story, reporter);
                    job.compare = Some(story);
                    return job;
                }
            }
        }
    }
    let task = story.task_id.clone();
    let mut watch = CompareWatch {
        reporter,
        warned: HashSet::new(),
        why: String::new(),
    };
    let (polled, polls) = poller.poll_until(
        id,
        |budget| dts.describe_compare(id, &task, budget),
        &mut watch,
    );
    let why = std::mem::take(&mut watch.why);
    job.polls = polls;
    let finished = match polled {
        Polled::Decided {
            decision: Decision::Passed,
            answer,
        } => answer,
        Polled::Decided { answer, .. } => {
            story.task = Some(answer);
            job.result = StageResult::NotPassed { why };
            job.compare = Some(story);
            return job;
        }
        Polled::TimedOut { last, last_error } => {
            story.task = last;
            job.result = StageResult::TimedOut { last_error };
            stop(dts, id, &mut story, reporter);
            job.compare = Some(story);
            return job;
        }
        Polled::Failed { error, last } => {
            story.task = last;
            job.result = StageResult::Failed(error);
            stop(dts, id, &mut story, reporter);
            job.compare = Some(story);
            return job;
        }
        Polled::Cancelled { signal, last } => {
            story.task = last;
            job.result = StageResult::Cancelled { signal };
            stop(dts, id, &mut story, reporter);
            job.compare = Some(story);
            return job;
        }
    };
    story.task = Some(finished.clone());
    let report = poller.call_with_retries(
        id,
        |budget| dts.compare_report(id, &task, budget),
        ApiError::is_transient,
        |event| reporter.event(&event),
    );
    match report {
        Ok(report) => {
            job.result = match compare_verdict(&finished, &report, settings.fail_on_skipped) {
                Ok(warnings) => {
                    for warning in warnings {
                        reporter.info(&format!(
                            "{id}: {warning}; a warning, not a failure ({} fails on them)",
                            config
                                .surface
                                .assignment(Setting::FailOnSkippedTables, "true")
                        ));
                    }
                    StageResult::Passed
                }
                Err(why) => StageResult::NotPassed { why },
            };
            story.report = Some(report);
        }
        Err(error) => job.result = ended(poller, error),
    }
    job.compare = Some(story);
    job
}

/// Stops a compare task the gate created, once, and says so; a task the user gave is left
/// alone.
fn stop<W: Write, E: Write>(
    dts: &dyn Dts,
    id: &str,
    story: &mut CompareStory,
    reporter: &mut Reporter<W, E>,
) {
    if !story.created {
        return;
    }
    let task = story.task_id.clone();
    match dts.stop_compare(id, &task, STOP_BUDGET) {
        Ok(request) => {
            reporter.warning(
                "Compare task stopped",
                &format!(
                    "{id}: the gate stopped early and stopped the compare task {task} it had created (StopCompare, request {request})"
                ),
            );
            story.stopped = Some(Ok(request));
        }
        Err(error) => {
            reporter.warning(
                "Compare task not stopped",
                &format!(
                    "{id}: the gate stopped early but could not stop the compare task {task} it had created ({error}); stop it in the DTS console"
                ),
            );
            story.stopped = Some(Err(error.to_string()));
        }
    }
}
