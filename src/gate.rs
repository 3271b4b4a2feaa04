//! One run of the gate: optionally create fresh checks, wait for every job, optionally start
//! the migrations, report. The decisions live in `poll`, `fresh` and `outcome`; this module
//! orders them. It talks to DTS only through the [`Dts`] seam and to time only through
//! [`Clock`] and [`Sleeper`], so the whole order of a run is unit-tested with fakes;
//! [`run`] plugs in the real client, clock and cancellable sleeper.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::api::{ApiError, ApiVersion, JobKind, skew};
use crate::cancel::CancellableSleeper;
pub use crate::cancel::Cancellation;
use crate::config::{Config, ConfigError};
use crate::credentials::FetchError;
use crate::dts::{Dts, LiveDts};
use crate::duration;
use crate::fresh::{Freshness, Prior};
use crate::hints::{Setting, Surface};
use crate::outcome::{JobOutcome, JobReport, Outcome, Start};
use crate::pace;
use crate::poll::{Cancelled, Clock, Event, Job, Poller, Schedule, Sleeper, Waited};
use crate::report::stage::StageFacts;
use crate::report::{self, Reporter, RunSummary};
use crate::stage::Stage;
use crate::stage_gate;

/// Starting the migrations gets its own time, so checks that pass just before the timeout
/// can still be acted on.
pub const START_ALLOWANCE: Duration = Duration::from_secs(60);

/// Monotonic time since the gate started: immune to the wall clock being adjusted.
pub struct SystemClock {
    start: Instant,
}

impl SystemClock {
    pub fn start() -> SystemClock {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

fn describe_jobs(ids: &[String], stage: Stage, api: ApiVersion) -> String {
    match (stage, api) {
        (Stage::Check, ApiVersion::Sync) => {
            return format!(
                "the data sync check of {} (DescribeCheckSyncJobResult Status success, then DescribeSyncJobs Status CheckPass)",
                ids.join(", ")
            );
        }
        (Stage::Ready, ApiVersion::Sync) => {
            return format!(
                "the sync job {} to be running its incremental sync (DescribeSyncJobs Status Running, last step)",
                ids.join(", ")
            );
        }
        (Stage::Check, _) => {}
        (Stage::Ready, _) => {
            return format!(
                "the migration of {} to be ready to complete (DescribeMigrationDetail Status readyComplete)",
                ids.join(", ")
            );
        }
        (Stage::Compare, _) => {
            return format!(
                "the data-consistency check of {} (a compare task: DescribeCompareTasks Status success, then DescribeCompareReport Conclusion same)",
                ids.join(", ")
            );
        }
        (Stage::Complete, _) => {
            return format!(
                "the completion of the migration of {} (CompleteMigrateJob on readyComplete, then DescribeMigrationDetail Status success)",
                ids.join(", ")
            );
        }
    }
    match ids {
        [one] => format!("the DTS check of {one}"),
        many => format!(
            "the DTS checks of {} jobs ({})",
            many.len(),
            many.join(", ")
        ),
    }
}

/// Waits for the checks of `config.job_ids` (creating them first, starting the migrations
/// after, when asked) against the real service, and reports the result. `cancellation`
/// stops it early.
pub fn run<W: Write, E: Write>(
    config: &Config,
    reporter: &mut Reporter<W, E>,
    cancellation: &Cancellation,
) -> Outcome {
    reporter.info(&format!(
        "dts-gate {}: waiting for {} (API {}, region {}, endpoint {}{}; timeout {}, polling every {})",
        env!("CARGO_PKG_VERSION"),
        describe_jobs(&config.job_ids, config.stage, config.api_version),
        config.api_version.as_str(),
        config.region,
        config.endpoint.host,
        config
            .proxy
            .as_ref()
            .map(|p| format!(" through the proxy {} from {}", p.host, p.variable))
            .unwrap_or_default(),
        duration::format(config.timeout),
        duration::format(config.poll_interval),
    ));
    reporter.label_jobs(config.job_ids.len() > 1);
    for warning in &config.warnings {
        reporter.warning("Check the configuration", warning);
    }
    if let Some(account) = config.credentials.account_id() {
        reporter.mask(&account);
    }
    reporter.info(&format!("credentials: {}", config.credentials.describe()));
    let clock = SystemClock::start();
    let dts = LiveDts::new(
        config.client(),
        config.api_version,
        cancellation.clone(),
        config.keyring(),
    );
    // Fetched before the first request: a source that cannot give any ends the run here. A
    // transient failure is left to the wait, which retries every request until the deadline.
    let resolved = dts.resolve();
    for secret in dts.new_secrets() {
        reporter.mask(&secret);
    }
    match resolved {
        Ok(()) => {}
        Err(FetchError::NothingFound(errors)) => return reject(errors, config.surface, reporter),
        Err(FetchError::Failed(error)) if !error.is_transient() => {
            return no_credentials(config, error, clock.elapsed(), reporter);
        }
        Err(FetchError::Failed(error)) => reporter.warning(
            "Credentials not fetched yet",
            &format!("{error}; the gate tries again with every request until the timeout"),
        ),
    }
    let mut sleeper = CancellableSleeper::new(cancellation);
    let cancelled = || cancellation.signal();
    let mut seams = Seams {
        dts: &dts,
        clock: &clock,
        sleeper: &mut sleeper,
        cancelled: &cancelled,
        jitter_seed: report::os_random() as u64,
    };
    if config.stage != Stage::Check {
        let (run, requests) = stage_gate::gate_stage(config, &mut seams, reporter);
        reporter.finish_stage(&StageFacts {
            run: &run,
            elapsed: clock.elapsed(),
            requests,
        });
        return Outcome::Stage(run);
    }
    let (reports, requests) = gate_jobs(config, &mut seams, reporter);
    let outcome = Outcome::Jobs(reports);
    reporter.finish(&RunSummary::of_config(
        config,
        &outcome,
        requests,
        clock.elapsed(),
    ));
    outcome
}

/// Ends a run whose credential source refused to give credentials: every job failed with that
/// error (exit 3), nothing was sent to DTS.
fn no_credentials<W: Write, E: Write>(
    config: &Config,
    error: ApiError,
    elapsed: Duration,
    reporter: &mut Reporter<W, E>,
) -> Outcome {
    let start = if config.start_jobs {
        Start::Withheld
    } else {
        Start::NotRequested
    };
    let outcome = Outcome::Jobs(
        config
            .job_ids
            .iter()
            .map(|id| JobReport {
                job_id: id.clone(),
                outcome: JobOutcome::Failed {
                    error: error.clone(),
                    last: None,
                },
                polls: 0,
                start: start.clone(),
            })
            .collect(),
    );
    reporter.finish(&RunSummary {
        surface: config.surface,
        region: &config.region,
        api: config.api_version,
        timeout: config.timeout,
        outcome: &outcome,
        polls: 0,
        elapsed,
    });
    outcome
}

/// Everything a run reaches outside itself: the service, time, and the runner's signals.
pub struct Seams<'a> {
    pub dts: &'a dyn Dts,
    pub clock: &'a dyn Clock,
    pub sleeper: &'a mut dyn Sleeper,
    pub cancelled: Cancelled<'a>,
    /// Seeds the retry jitter; a random one spreads the retries of parallel runs.
    pub jitter_seed: u64,
}

/// Creates the checks (when asked), waits for every job, starts the migrations (when asked
/// and every job passed). Returns one report per job, in the order given, and the number of
/// requests sent.
pub fn gate_jobs<W: Write, E: Write>(
    config: &Config,
    seams: &mut Seams,
    reporter: &mut Reporter<W, E>,
) -> (Vec<JobReport>, u32) {
    let dts = seams.dts;
    let cancelled = seams.cancelled;
    let schedule = Schedule {
        interval: config.poll_interval,
        timeout: config.timeout,
        jitter_seed: seams.jitter_seed,
    };
    let mut poller = Poller::new(seams.clock, &mut *seams.sleeper, schedule)
        .with_cancellation(cancelled)
        .with_fail_fast(config.fail_fast)
        .with_fail_on_warning(config.fail_on_warning)
        .with_request_budget(config.max_request_rate);
    let stretched = pace::effective_interval(
        config.job_ids.len(),
        config.poll_interval,
        config.max_request_rate,
    );
    if stretched > config.poll_interval {
        reporter.info(&format!(
            "{} jobs every {} would need more than the request budget of {}/s ({}): each job is polled about every {} instead",
            config.job_ids.len(),
            duration::format(config.poll_interval),
            config.max_request_rate,
            config.surface.name(Setting::MaxRequestRate),
            duration::format(Duration::from_secs(stretched.as_secs_f64().ceil() as u64)),
        ));
    }
    let mut skew = SkewWatch::new(dts);

    let mut jobs = Vec::new();
    let mut not_created = Vec::new();
    for id in &config.job_ids {
        if config.fail_fast && !not_created.is_empty() {
            // A check that could not be created already rules out a pass.
            jobs.push(Job {
                id: id.clone(),
                freshness: None,
            });
            continue;
        }
        if !config.create_check {
            jobs.push(Job {
                id: id.clone(),
                freshness: None,
            });
            continue;
        }
        match create_check(
            dts,
            config.api_version,
            id,
            config.create_grace,
            &mut poller,
            &mut skew,
            reporter,
        ) {
            Ok(freshness) => jobs.push(Job {
                id: id.clone(),
                freshness: Some(freshness),
            }),
            Err(error) => not_created.push(Waited {
                job_id: id.clone(),
                outcome: match cancelled() {
                    Some(signal) => JobOutcome::Cancelled { signal, last: None },
                    None => JobOutcome::Failed { error, last: None },
                },
                polls: 0,
            }),
        }
    }

    let mut waited = if config.fail_fast && !not_created.is_empty() {
        jobs.into_iter()
            .map(|job| Waited {
                job_id: job.id,
                outcome: JobOutcome::NotWaitedFor { last: None },
                polls: 0,
            })
            .collect()
    } else {
        poller.wait_all(
            jobs,
            |job, budget| dts.describe_check(job, budget),
            |event| skew.report(&event, reporter),
        )
    };
    // A request whose reply raised no event (a permanent error) may still have taught the
    // client the service's time.
    skew.check(reporter);
    waited.extend(not_created);
    let mut requests = poller.requests();

    // Back into the order the user gave.
    waited.sort_by_key(|w| config.job_ids.iter().position(|id| *id == w.job_id));
    let mut reports: Vec<JobReport> = waited
        .into_iter()
        .map(|w| JobReport {
            job_id: w.job_id,
            outcome: w.outcome,
            polls: w.polls,
            start: Start::NotRequested,
        })
        .collect();
    if config.start_jobs {
        let schedule = Schedule {
            interval: config.poll_interval,
            timeout: seams.clock.elapsed().saturating_add(START_ALLOWANCE),
            jitter_seed: seams.jitter_seed.rotate_left(17),
        };
        let mut poller = Poller::new(seams.clock, &mut *seams.sleeper, schedule)
            .with_cancellation(cancelled)
            .with_request_budget(config.max_request_rate);
        start_jobs(
            dts,
            config.api_version,
            &mut poller,
            &mut skew,
            &mut reports,
            reporter,
        );
        requests += poller.requests();
    }
    (reports, requests)
}

/// Reports each event of the wait, and says once when the service reveals (through a refused
/// timestamp) that the runner's clock is off.
struct SkewWatch<'a> {
    dts: &'a dyn Dts,
    known_offset: i64,
}

impl<'a> SkewWatch<'a> {
    fn new(dts: &'a dyn Dts) -> SkewWatch<'a> {
        SkewWatch {
            dts,
            known_offset: dts.clock_offset(),
        }
    }

    fn report<W: Write, E: Write>(&mut self, event: &Event, reporter: &mut Reporter<W, E>) {
        self.check(reporter);
        reporter.event(event);
    }

    fn check<W: Write, E: Write>(&mut self, reporter: &mut Reporter<W, E>) {
        // Credentials refreshed during the request are masked before anything else is printed.
        for secret in self.dts.new_secrets() {
            reporter.mask(&secret);
        }
        let offset = self.dts.clock_offset();
        if offset == self.known_offset {
            return;
        }
        self.known_offset = offset;
        reporter.warning(
            "Runner clock is off",
            &format!(
                "the DTS service refused the request's timestamp (AuthFailure.SignatureExpire); its Date header shows the runner's clock is {} the service's. The request was signed again with the service's time, and later ones are too. Fix the runner's clock (NTP).",
                skew::describe_offset(offset)
            ),
        );
    }
}

/// Reads the job's current result (the prior), then creates a new check. Returns the
/// freshness rule that keeps the prior result from being taken for the new one.
fn create_check<C: Clock + ?Sized, S: Sleeper + ?Sized, W: Write, E: Write>(
    dts: &dyn Dts,
    api: ApiVersion,
    job: &str,
    grace: Duration,
    poller: &mut Poller<C, S>,
    skew: &mut SkewWatch,
    reporter: &mut Reporter<W, E>,
) -> Result<Freshness, ApiError> {
    // One attempt: if it fails, the prior is unknown and the rule assumes the worst.
    let before = poller
        .call_with_retries(
            job,
            |budget| dts.describe_check(job, budget),
            |_| false,
            |event| skew.report(&event, reporter),
        )
        .ok();
    skew.check(reporter);
    let request_id = poller.call_with_retries(
        job,
        |budget| dts.create_check(job, budget),
        ApiError::is_transient,
        |event| skew.report(&event, reporter),
    );
    skew.check(reporter);
    let request_id = request_id?;
    reporter.info(&format!(
        "created a new check for {job} ({}, RequestId {}); only its result counts",
        api.create_check_action(),
        report::sanitize(&request_id)
    ));
    Ok(Freshness::new(
        Prior::from_answer(before.as_ref()),
        poller.elapsed(),
        grace,
    ))
}

/// Only throttling is known to leave a start unexecuted; any other failure may have started
/// the migration, so it is never retried.
fn start_is_retryable(error: &ApiError) -> bool {
    error.is_throttling()
}

/// Starts every job (its migration, or its sync), but only when every job passed, and never
/// after a cancellation.
fn start_jobs<C: Clock + ?Sized, S: Sleeper + ?Sized, W: Write, E: Write>(
    dts: &dyn Dts,
    api: ApiVersion,
    poller: &mut Poller<C, S>,
    skew: &mut SkewWatch,
    reports: &mut [JobReport],
    reporter: &mut Reporter<W, E>,
) {
    if !reports
        .iter()
        .all(|r| matches!(r.outcome, JobOutcome::Passed(_)))
    {
        for r in reports.iter_mut() {
            r.start = Start::Withheld;
        }
        reporter.info(&format!(
            "not starting any {}: not every check passed",
            api.kind().noun()
        ));
        return;
    }
    for r in reports.iter_mut() {
        if let Some(signal) = poller.cancelled() {
            r.start = Start::Cancelled { signal };
            continue;
        }
        let job = r.job_id.as_str();
        let started = poller.call_with_retries(
            job,
            |budget| dts.start_migration(job, budget),
            start_is_retryable,
            |event| skew.report(&event, reporter),
        );
        skew.check(reporter);
        r.start = match (started, poller.cancelled()) {
            (Ok(request_id), _) => {
                reporter.info(&format!(
                    "started {} {job} ({}, RequestId {})",
                    match api.kind() {
                        JobKind::Migration => "the migration of",
                        JobKind::Sync => "the sync job",
                    },
                    api.start_action(),
                    report::sanitize(&request_id)
                ));
                Start::Started { request_id }
            }
            (Err(error), None) => Start::Refused(error),
            // Interrupted mid-request: whether the service started it is unknown.
            (Err(_), Some(_)) => Start::Refused(ApiError::Transport {
                detail: format!(
                    "the gate was cancelled while {} was in flight",
                    api.start_action()
                ),
            }),
        };
    }
}

/// Reports an invalid configuration (every problem, one line each) without sending anything.
pub fn reject<W: Write, E: Write>(
    errors: Vec<ConfigError>,
    surface: Surface,
    reporter: &mut Reporter<W, E>,
) -> Outcome {
    let outcome = Outcome::InvalidConfig(errors);
    reporter.finish(&RunSummary {
        surface,
        region: "",
        api: ApiVersion::V2018,
        timeout: Duration::ZERO,
        outcome: &outcome,
        polls: 0,
        elapsed: Duration::ZERO,
    });
    outcome
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::{HashMap, VecDeque};

    use super::*;
    use crate::api::{CheckAnswer, CheckFlag, MigrationDetail};
    use crate::poll::fake::FakeTime;
    use crate::stage::{StageResult, StageRun};

    /// A DTS that answers from a script per job and records every call, in order.
    #[derive(Default)]
    struct ScriptedDts {
        answers: RefCell<HashMap<String, VecDeque<Result<CheckAnswer, ApiError>>>>,
        creates: RefCell<VecDeque<Result<String, ApiError>>>,
        calls: RefCell<Vec<String>>,
        offset: Cell<i64>,
        /// The offset the first request reveals, as a refused timestamp would.
        revealed_offset: Cell<Option<i64>>,
        /// Secrets each call "obtains", as a credential refresh would: one list per call.
        obtained: RefCell<VecDeque<Vec<String>>>,
        pending: RefCell<Vec<String>>,
        /// `DescribeMigrationDetail` answers per job; the last one stays.
        details: RefCell<HashMap<String, VecDeque<Result<MigrationDetail, ApiError>>>>,
        /// `DescribeCompareTasks` answers (every job); the last one stays.
        compare_tasks: RefCell<VecDeque<Result<crate::api::CompareTask, ApiError>>>,
        /// The `DescribeCompareReport` answer.
        compare_report: RefCell<Option<Result<crate::api::CompareReport, ApiError>>>,
        /// Moves the clock on each call, as a request takes time.
        time: FakeTime,
    }

    impl ScriptedDts {
        fn answers(self, job: &str, script: Vec<Result<CheckAnswer, ApiError>>) -> Self {
            self.answers
                .borrow_mut()
                .insert(job.to_string(), script.into());
            self
        }

        fn called(&self, action: &str, job: &str) {
            self.calls.borrow_mut().push(format!("{action} {job}"));
            if let Some(offset) = self.revealed_offset.take() {
                self.offset.set(offset);
            }
            if let Some(secrets) = self.obtained.borrow_mut().pop_front() {
                self.pending.borrow_mut().extend(secrets);
            }
            self.time.advance(Duration::from_millis(50));
        }

        fn details(self, job: &str, script: Vec<Result<MigrationDetail, ApiError>>) -> Self {
            self.details
                .borrow_mut()
                .insert(job.to_string(), script.into());
            self
        }

        fn calls(&self) -> Vec<String> {
            self.calls.borrow().clone()
        }

        fn compare(
            self,
            tasks: Vec<Result<crate::api::CompareTask, ApiError>>,
            report: Result<crate::api::CompareReport, ApiError>,
        ) -> Self {
            *self.compare_tasks.borrow_mut() = tasks.into();
            *self.compare_report.borrow_mut() = Some(report);
            self
        }
    }

    impl Dts for ScriptedDts {
        fn describe_check(&self, job: &str, _budget: Duration) -> Result<CheckAnswer, ApiError> {
            self.called("describe", job);
            let mut answers = self.answers.borrow_mut();
            let script = answers.get_mut(job).expect("a scripted job");
            // The last answer stays, as a finished check's result does.
            match script.len() {
                0 => panic!("no answer scripted for {job}"),
                1 => script[0].clone(),
                _ => script.pop_front().unwrap(),
            }
        }

        fn create_check(&self, job: &str, _budget: Duration) -> Result<String, ApiError> {
            self.called("create", job);
            self.creates
                .borrow_mut()
                .pop_front()
                .unwrap_or_else(|| Ok(format!("req-create-{job}")))
        }

        fn start_migration(&self, job: &str, _budget: Duration) -> Result<String, ApiError> {
            self.called("start", job);
            Ok(format!("req-start-{job}"))
        }

        fn describe_job(&self, job: &str, _budget: Duration) -> Result<MigrationDetail, ApiError> {
            self.called("detail", job);
            let mut details = self.details.borrow_mut();
            let script = details.get_mut(job).expect("a scripted job");
            match script.len() {
                0 => panic!("no detail scripted for {job}"),
                1 => script[0].clone(),
                _ => script.pop_front().unwrap(),
            }
        }

        fn complete_migration(
            &self,
            job: &str,
            mode: &str,
            _budget: Duration,
        ) -> Result<String, ApiError> {
            self.called(&format!("complete({mode})"), job);
            Ok(format!("req-complete-{job}"))
        }

        fn create_compare(
            &self,
            job: &str,
            options: &crate::api::CompareOptions,
            _budget: Duration,
        ) -> Result<String, ApiError> {
            self.called(&format!("create-compare({})", options.method), job);
            Ok(format!("{job}-cmp-1"))
        }

        fn start_compare(
            &self,
            job: &str,
            task: &str,
            _budget: Duration,
        ) -> Result<String, ApiError> {
            self.called(&format!("start-compare {task}"), job);
            Ok(format!("req-start-{task}"))
        }

        fn describe_compare(
            &self,
            job: &str,
            task: &str,
            _budget: Duration,
        ) -> Result<crate::api::CompareTask, ApiError> {
            self.called(&format!("describe-compare {task}"), job);
            let mut script = self.compare_tasks.borrow_mut();
            let reply = match script.len() {
                0 => panic!("no compare task scripted"),
                1 => script[0].clone(),
                _ => script.pop_front().unwrap(),
            };
            reply.map(|t| crate::api::CompareTask {
                task_id: task.to_string(),
                ..t
            })
        }

        fn compare_report(
            &self,
            job: &str,
            task: &str,
            _budget: Duration,
        ) -> Result<crate::api::CompareReport, ApiError> {
            self.called(&format!("compare-report {task}"), job);
            self.compare_report
                .borrow()
                .clone()
                .expect("a compare report scripted")
        }

        fn stop_compare(
            &self,
            job: &str,
            task: &str,
            _budget: Duration,
        ) -> Result<String, ApiError> {
            self.called(&format!("stop-compare {task}"), job);
            Ok(format!("req-stop-{task}"))
        }

        fn clock_offset(&self) -> i64 {
            self.offset.get()
        }

        fn new_secrets(&self) -> Vec<String> {
            std::mem::take(&mut *self.pending.borrow_mut())
        }
    }

    fn answer(status: &str, flag: Option<i64>) -> Result<CheckAnswer, ApiError> {
        Ok(CheckAnswer {
            api: ApiVersion::V2018,
            status: status.into(),
            check_flag: flag.map(CheckFlag::Code),
            progress: Some("50".into()),
            error_code: Some(0),
            error_message: String::new(),
            request_id: format!("req-{status}"),
            deprecated_warning: None,
            steps: Vec::new(),
        })
    }

    fn running() -> Result<CheckAnswer, ApiError> {
        answer("running", None)
    }

    fn passed() -> Result<CheckAnswer, ApiError> {
        answer("finished", Some(1))
    }

    fn not_passed() -> Result<CheckAnswer, ApiError> {
        answer("finished", Some(0))
    }

    fn config(extra: &[(&str, &str)]) -> Config {
        let vars: Vec<(String, String)> = [
            ("DTS_JOB_ID", "dts-aaa1,dts-bbb2"),
            ("TENCENTCLOUD_SECRET_ID", "AKIDgate"),
            ("TENCENTCLOUD_SECRET_KEY", "gate-secret"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
            ("DTS_POLL_INTERVAL", "1s"),
            ("DTS_TIMEOUT", "60s"),
        ]
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Config::from_vars(vars).unwrap()
    }

    /// What a run left: its reports, its request count, and its log.
    struct Ran {
        reports: Vec<JobReport>,
        requests: u32,
        log: String,
    }

    fn gate_with(config: &Config, dts: &ScriptedDts, cancelled: Cancelled) -> Ran {
        gate_on(None, config, dts, cancelled)
    }

    /// Runs `body` against the scripted `dts` and fake time, with a reporter writing to
    /// memory; returns what `body` returned and the log.
    fn with_seams<T>(
        github: Option<crate::config::GithubRunner>,
        dts: &ScriptedDts,
        cancelled: Cancelled,
        body: impl FnOnce(&mut Seams, &mut Reporter<&mut Vec<u8>, &mut Vec<u8>>) -> T,
    ) -> (T, String) {
        let mut sleeper = dts.time.clone();
        let mut seams = Seams {
            dts,
            clock: &dts.time,
            sleeper: &mut sleeper,
            cancelled,
            jitter_seed: 7,
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut reporter = Reporter::new(
            github,
            &mut out,
            &mut err,
            crate::report::fixtures::fixed_surroundings(),
        );
        let value = body(&mut seams, &mut reporter);
        drop(reporter);
        let log = String::from_utf8(out).unwrap() + &String::from_utf8(err).unwrap();
        (value, log)
    }

    fn gate_on(
        github: Option<crate::config::GithubRunner>,
        config: &Config,
        dts: &ScriptedDts,
        cancelled: Cancelled,
    ) -> Ran {
        let ((reports, requests), log) = with_seams(github, dts, cancelled, |seams, reporter| {
            gate_jobs(config, seams, reporter)
        });
        Ran {
            reports,
            requests,
            log,
        }
    }

    fn gate(config: &Config, dts: &ScriptedDts) -> Ran {
        gate_with(config, dts, &|| None)
    }

    fn starts(reports: &[JobReport]) -> Vec<&Start> {
        reports.iter().map(|r| &r.start).collect()
    }

    #[test]
    fn creates_every_check_before_waiting_and_starts_only_after_all_passed() {
        let config = config(&[
            ("DTS_CREATE_CHECK", "true"),
            ("DTS_START_MIGRATION", "true"),
        ]);
        let dts = ScriptedDts::default()
            // The prior read, the new check seen running, then its pass.
            .answers("dts-aaa1", vec![not_passed(), running(), passed()])
            .answers(
                "dts-bbb2",
                vec![not_passed(), running(), running(), passed()],
            );
        let ran = gate(&config, &dts);
        assert_eq!(
            dts.calls(),
            [
                "describe dts-aaa1",
                "create dts-aaa1",
                "describe dts-bbb2",
                "create dts-bbb2",
                "describe dts-aaa1",
                "describe dts-bbb2",
                "describe dts-aaa1",
                "describe dts-bbb2",
                "describe dts-bbb2",
                "start dts-aaa1",
                "start dts-bbb2",
            ]
        );
        assert_eq!(ran.requests, 11);
        assert!(
            ran.reports
                .iter()
                .all(|r| matches!(r.outcome, JobOutcome::Passed(_)))
        );
        assert_eq!(
            starts(&ran.reports),
            [
                &Start::Started {
                    request_id: "req-start-dts-aaa1".into()
                },
                &Start::Started {
                    request_id: "req-start-dts-bbb2".into()
                }
            ]
        );
        assert!(
            ran.log.contains("created a new check for dts-aaa1"),
            "{}",
            ran.log
        );
        assert!(
            ran.log.contains("started the migration of dts-bbb2"),
            "{}",
            ran.log
        );
    }

    #[test]
    fn one_check_that_did_not_pass_withholds_every_start() {
        let config = config(&[("DTS_START_MIGRATION", "true")]);
        let dts = ScriptedDts::default()
            .answers("dts-aaa1", vec![passed()])
            .answers("dts-bbb2", vec![running(), not_passed()]);
        let ran = gate(&config, &dts);
        assert!(
            !dts.calls().iter().any(|c| c.starts_with("start")),
            "{:?}",
            dts.calls()
        );
        assert_eq!(starts(&ran.reports), [&Start::Withheld, &Start::Withheld]);
        assert!(
            ran.log.contains("not starting any migration"),
            "{}",
            ran.log
        );
        // Reports keep the order the user gave, whatever finished first.
        let ids: Vec<_> = ran.reports.iter().map(|r| r.job_id.as_str()).collect();
        assert_eq!(ids, ["dts-aaa1", "dts-bbb2"]);
    }

    #[test]
    fn a_check_that_cannot_be_created_stops_the_run_unless_every_job_is_to_be_waited_for() {
        let missing = || ApiError::Service {
            code: "ResourceNotFound.JobNotExist".into(),
            message: "no such job".into(),
            request_id: "req-missing".into(),
        };
        // Fail fast (the default): nothing more is created or polled.
        let config_fast = config(&[("DTS_CREATE_CHECK", "true")]);
        let dts = ScriptedDts::default()
            .answers("dts-aaa1", vec![not_passed()])
            .answers("dts-bbb2", vec![not_passed(), running(), passed()]);
        dts.creates.borrow_mut().push_back(Err(missing()));
        let ran = gate(&config_fast, &dts);
        assert_eq!(dts.calls(), ["describe dts-aaa1", "create dts-aaa1"]);
        assert_eq!(
            ran.reports[1].outcome,
            JobOutcome::NotWaitedFor { last: None }
        );

        // Waiting for every job: the other job is still created and waited for.
        let config = config(&[
            ("DTS_CREATE_CHECK", "true"),
            ("DTS_START_MIGRATION", "true"),
            ("DTS_FAIL_FAST", "false"),
        ]);
        let dts = ScriptedDts::default()
            .answers("dts-aaa1", vec![not_passed()])
            .answers("dts-bbb2", vec![not_passed(), running(), passed()]);
        dts.creates.borrow_mut().push_back(Err(missing()));
        let ran = gate(&config, &dts);
        assert!(
            matches!(&ran.reports[0].outcome, JobOutcome::Failed { error, last: None } if error.code() == "ResourceNotFound.JobNotExist"),
            "{:?}",
            ran.reports[0]
        );
        assert_eq!(ran.reports[0].polls, 0);
        assert!(matches!(ran.reports[1].outcome, JobOutcome::Passed(_)));
        assert_eq!(starts(&ran.reports), [&Start::Withheld, &Start::Withheld]);
        // The failed job is not polled after its create failed.
        let after_create = dts.calls().into_iter().skip(2).collect::<Vec<_>>();
        assert!(
            !after_create.contains(&"describe dts-aaa1".to_string()),
            "{after_create:?}"
        );
    }

    #[test]
    fn nothing_is_sent_or_started_once_the_run_is_cancelled() {
        let config = config(&[("DTS_START_MIGRATION", "true")]);
        let dts = ScriptedDts::default()
            .answers("dts-aaa1", vec![passed()])
            .answers("dts-bbb2", vec![passed()]);
        let ran = gate_with(&config, &dts, &|| Some(2));
        assert!(dts.calls().is_empty(), "{:?}", dts.calls());
        assert_eq!(ran.requests, 0);
        assert!(
            ran.reports
                .iter()
                .all(|r| matches!(r.outcome, JobOutcome::Cancelled { signal: 2, .. }))
        );
        assert_eq!(
            starts(&ran.reports),
            [&Start::Withheld, &Start::Withheld],
            "a cancelled wait is not a pass"
        );
    }

    #[test]
    fn a_skewed_runner_clock_is_reported_once() {
        let config = config(&[("DTS_JOB_ID", "dts-aaa1")]);
        let dts = ScriptedDts::default().answers("dts-aaa1", vec![running(), running(), passed()]);
        // The first answer reveals a clock 10 minutes behind; later ones change nothing.
        dts.revealed_offset.set(Some(600));
        let ran = gate(&config, &dts);
        assert_eq!(
            ran.log.matches("Runner clock is off").count(),
            1,
            "{}",
            ran.log
        );
        assert!(ran.log.contains("10m behind"), "{}", ran.log);
        let quiet = ScriptedDts::default().answers("dts-aaa1", vec![passed()]);
        assert!(!gate(&config, &quiet).log.contains("clock"));
    }

    #[test]
    fn secrets_obtained_during_the_wait_are_masked_before_the_next_line() {
        let config = config(&[("DTS_JOB_ID", "dts-aaa1")]);
        let dts = ScriptedDts::default().answers("dts-aaa1", vec![running(), passed()]);
        dts.obtained.borrow_mut().extend([
            vec!["refreshed-key-0001".to_string()],
            vec![
                "refreshed-key-0002".to_string(),
                "refreshed-token-02".to_string(),
            ],
        ]);
        let ran = gate_on(Some(Default::default()), &config, &dts, &|| None);
        let lines: Vec<&str> = ran.log.lines().collect();
        let at = |text: &str| {
            lines
                .iter()
                .position(|l| l.contains(text))
                .unwrap_or_else(|| panic!("{text:?} missing from:\n{}", ran.log))
        };
        assert!(
            at("::add-mask::refreshed-key-0001") < at("running"),
            "{}",
            ran.log
        );
        assert!(
            at("::add-mask::refreshed-token-02") < at("finished"),
            "{}",
            ran.log
        );
        // Outside GitHub nothing is printed for them.
        let dts = ScriptedDts::default().answers("dts-aaa1", vec![passed()]);
        dts.obtained
            .borrow_mut()
            .push_back(vec!["refreshed-key-0003".into()]);
        assert!(!gate(&config, &dts).log.contains("refreshed-key"));
    }

    #[test]
    fn only_throttled_starts_are_retried() {
        let throttled = ApiError::Service {
            code: "RequestLimitExceeded".into(),
            message: String::new(),
            request_id: String::new(),
        };
        assert!(start_is_retryable(&throttled));
        for unknown in [
            ApiError::Transport {
                detail: "reset".into(),
            },
            ApiError::HttpStatus {
                status: 502,
                request_id: None,
            },
            ApiError::Service {
                code: "InternalError".into(),
                message: String::new(),
                request_id: String::new(),
            },
        ] {
            assert!(!start_is_retryable(&unknown), "{unknown:?}");
        }
    }

    fn detail(status: &str, seconds: Option<u64>) -> Result<MigrationDetail, ApiError> {
        Ok(MigrationDetail {
            status: status.into(),
            trade_status: "normal".into(),
            seconds_behind: seconds,
            distance_mb: seconds,
            request_id: format!("req-{status}"),
            ..MigrationDetail::default()
        })
    }

    fn stage(config: &Config, dts: &ScriptedDts, cancelled: Cancelled) -> (StageRun, String) {
        with_seams(None, dts, cancelled, |seams, reporter| {
            stage_gate::gate_stage(config, seams, reporter).0
        })
    }

    fn staged(stage: Stage, extra: &[(&str, &str)]) -> Config {
        let mut config = config(extra);
        config.stage = stage;
        config.api_version = ApiVersion::V2021;
        config
    }

    #[test]
    fn ready_polls_through_running_and_passes_on_ready_complete() {
        let config = staged(Stage::Ready, &[("DTS_JOB_ID", "dts-aaa1")]);
        let dts = ScriptedDts::default().details(
            "dts-aaa1",
            vec![
                detail("running", None),
                detail("weird", None),
                detail("readyComplete", None),
            ],
        );
        let (run, log) = stage(&config, &dts, &|| None);
        assert_eq!(run.jobs[0].result, StageResult::Passed);
        assert_eq!(run.jobs[0].polls, 3);
        assert!(log.contains("Unknown migration status"), "{log}");
        assert_eq!(dts.calls(), ["detail dts-aaa1"; 3]);
    }

    #[test]
    fn ready_waits_for_the_lag_to_settle_and_restarts_on_unknown() {
        let config = staged(
            Stage::Ready,
            &[
                ("DTS_JOB_ID", "dts-aaa1"),
                ("DTS_MAX_LAG", "10s"),
                ("DTS_LAG_SETTLE", "2s"),
            ],
        );
        // Over, within, unknown (-1: restarts), then within for 2 s at a 1 s interval.
        let dts = ScriptedDts::default().details(
            "dts-aaa1",
            vec![
                detail("readyComplete", Some(50)),
                detail("readyComplete", Some(5)),
                detail("readyComplete", None),
                detail("readyComplete", Some(5)),
                detail("readyComplete", Some(4)),
                detail("readyComplete", Some(3)),
                detail("readyComplete", Some(99)),
            ],
        );
        let (run, _) = stage(&config, &dts, &|| None);
        assert_eq!(run.jobs[0].result, StageResult::Passed);
        assert_eq!(run.jobs[0].polls, 6);
    }

    #[test]
    fn a_job_ready_early_is_read_again_once_every_job_is_ready() {
        let config = staged(Stage::Ready, &[]);
        // dts-aaa1 is ready at once, then fails while dts-bbb2 is still getting there.
        let dts = ScriptedDts::default()
            .details(
                "dts-aaa1",
                vec![detail("readyComplete", None), detail("failed", None)],
            )
            .details(
                "dts-bbb2",
                vec![detail("running", None), detail("readyComplete", None)],
            );
        let (run, _) = stage(&config, &dts, &|| None);
        assert!(
            matches!(&run.jobs[0].result, StageResult::NotPassed { why } if why.contains("no longer")),
            "{:?}",
            run.jobs[0]
        );
        assert_eq!(run.jobs[0].polls, 2);
        assert_eq!(run.jobs[1].result, StageResult::Passed);
        assert_eq!(run.exit_code(), 1);
        assert_eq!(
            dts.calls(),
            [
                "detail dts-aaa1",
                "detail dts-bbb2",
                "detail dts-bbb2",
                "detail dts-aaa1"
            ]
        );
        // Still ready: the run passes after one more reading of the first job.
        let dts = ScriptedDts::default()
            .details("dts-aaa1", vec![detail("readyComplete", None)])
            .details(
                "dts-bbb2",
                vec![detail("running", None), detail("readyComplete", None)],
            );
        let (run, _) = stage(&config, &dts, &|| None);
        assert!(run.passed(), "{:?}", run.jobs);
    }

    #[test]
    fn ready_fails_fast_and_times_out() {
        let config = staged(Stage::Ready, &[("DTS_TIMEOUT", "5s")]);
        let dts = ScriptedDts::default()
            .details(
                "dts-aaa1",
                vec![detail("running", None), detail("resumableErr", None)],
            )
            .details("dts-bbb2", vec![detail("running", None)]);
        let (run, _) = stage(&config, &dts, &|| None);
        assert!(matches!(run.jobs[0].result, StageResult::NotPassed { .. }));
        // Fail fast: the second job is not waited for.
        assert!(matches!(run.jobs[1].result, StageResult::NotPassed { .. }));
        assert_eq!(run.jobs[1].polls, 0);
        assert_eq!(run.exit_code(), 1);
        let dts = ScriptedDts::default()
            .details("dts-aaa1", vec![detail("running", None)])
            .details("dts-bbb2", vec![detail("running", None)]);
        let (run, _) = stage(&config, &dts, &|| None);
        assert!(matches!(run.jobs[0].result, StageResult::TimedOut { .. }));
        assert_eq!(run.exit_code(), 4);
    }

    #[test]
    fn complete_refuses_unless_every_job_is_ready_then_waits_for_success() {
        let config = staged(Stage::Complete, &[]);
        let dts = ScriptedDts::default()
            .details("dts-aaa1", vec![detail("readyComplete", Some(0))])
            .details("dts-bbb2", vec![detail("running", Some(0))]);
        let (run, _) = stage(&config, &dts, &|| None);
        assert!(matches!(run.jobs[0].result, StageResult::Refused { .. }));
        assert!(matches!(run.jobs[1].result, StageResult::Refused { .. }));
        assert!(!dts.calls().iter().any(|c| c.starts_with("complete")));

        let dts = ScriptedDts::default()
            .details(
                "dts-aaa1",
                vec![
                    detail("readyComplete", Some(0)),
                    detail("completing", None),
                    detail("success", None),
                ],
            )
            .details(
                "dts-bbb2",
                vec![detail("readyComplete", Some(0)), detail("success", None)],
            );
        let (run, _) = stage(&config, &dts, &|| None);
        assert!(run.passed(), "{run:?}");
        assert_eq!(
            run.jobs[0].completed_by.as_deref(),
            Some("req-complete-dts-aaa1")
        );
        assert_eq!(
            dts.calls(),
            [
                "detail dts-aaa1",
                "detail dts-bbb2",
                "complete(waitForSync) dts-aaa1",
                "detail dts-aaa1",
                "detail dts-aaa1",
                "complete(waitForSync) dts-bbb2",
                "detail dts-bbb2",
            ]
        );
    }

    #[test]
    fn complete_with_a_lag_limit_checks_the_lag_right_before() {
        let config = staged(
            Stage::Complete,
            &[("DTS_JOB_ID", "dts-aaa1"), ("DTS_MAX_LAG", "5s")],
        );
        let dts = ScriptedDts::default().details("dts-aaa1", vec![detail("readyComplete", None)]);
        let (run, _) = stage(&config, &dts, &|| None);
        let StageResult::Refused { why } = &run.jobs[0].result else {
            panic!("{run:?}");
        };
        assert!(why.contains("lag (unknown"), "{why}");
        assert_eq!(dts.calls(), ["detail dts-aaa1"]);
    }

    #[test]
    fn a_cancelled_stage_is_cancelled() {
        let config = staged(Stage::Ready, &[("DTS_JOB_ID", "dts-aaa1")]);
        let dts = ScriptedDts::default().details("dts-aaa1", vec![detail("running", None)]);
        let (run, _) = stage(&config, &dts, &|| Some(2));
        assert_eq!(run.jobs[0].result, StageResult::Cancelled { signal: 2 });
        assert_eq!(run.exit_code(), 130);
    }

    #[test]
    fn a_stage_gives_up_an_endpoint_never_reached_after_a_minute() {
        let config = staged(
            Stage::Ready,
            &[("DTS_JOB_ID", "dts-aaa1"), ("DTS_TIMEOUT", "30m")],
        );
        let unreachable = ApiError::Unreachable {
            detail: "failed to lookup address information".into(),
        };
        let dts = ScriptedDts::default().details("dts-aaa1", vec![Err(unreachable.clone())]);
        let (run, _) = stage(&config, &dts, &|| None);
        assert_eq!(run.jobs[0].result, StageResult::Failed(unreachable));
        let elapsed = dts.time.elapsed();
        assert!(
            elapsed >= crate::poll::UNREACHABLE_GIVE_UP && elapsed < Duration::from_secs(120),
            "{elapsed:?}"
        );
        assert_eq!(run.exit_code(), 3);
    }

    #[test]
    fn a_stage_retries_transient_errors_then_passes() {
        let config = staged(Stage::Ready, &[("DTS_JOB_ID", "dts-aaa1")]);
        let throttled = ApiError::Service {
            code: "RequestLimitExceeded.RequestLimitExceededError".into(),
            message: "slow down".into(),
            request_id: "r".into(),
        };
        let dts = ScriptedDts::default().details(
            "dts-aaa1",
            vec![
                Err(throttled),
                detail("running", None),
                detail("readyComplete", None),
            ],
        );
        let (run, log) = stage(&config, &dts, &|| None);
        assert_eq!(run.jobs[0].result, StageResult::Passed, "{log}");
        assert!(log.contains("retrying"), "{log}");
        // A permanent error stops at once.
        let denied = ApiError::Service {
            code: "UnauthorizedOperation.NotEnoughPrivileges".into(),
            message: "no".into(),
            request_id: "r".into(),
        };
        let dts = ScriptedDts::default().details("dts-aaa1", vec![Err(denied.clone())]);
        let (run, _) = stage(&config, &dts, &|| None);
        assert_eq!(run.jobs[0].result, StageResult::Failed(denied));
        assert_eq!(dts.calls().len(), 1);
    }

    fn compare_task(status: &str, conclusion: &str) -> Result<crate::api::CompareTask, ApiError> {
        Ok(crate::api::CompareTask {
            status: status.into(),
            conclusion: conclusion.into(),
            listed: true,
            request_id: format!("req-{status}"),
            ..crate::api::CompareTask::default()
        })
    }

    fn compare_report(
        conclusion: &str,
        tables: i64,
    ) -> Result<crate::api::CompareReport, ApiError> {
        Ok(crate::api::CompareReport {
            conclusion: conclusion.into(),
            status: "success".into(),
            different_tables: Some(tables),
            different_rows: Some(tables * 3),
            ..crate::api::CompareReport::default()
        })
    }

    #[test]
    fn compare_creates_starts_polls_then_reads_the_report() {
        let config = staged(
            Stage::Compare,
            &[
                ("DTS_JOB_ID", "dts-aaa1"),
                ("DTS_COMPARE_METHOD", "rowsCount"),
            ],
        );
        let dts = ScriptedDts::default().compare(
            vec![
                compare_task("created", ""),
                compare_task("running", ""),
                compare_task("weird", ""),
                compare_task("success", "same"),
            ],
            compare_report("same", 0),
        );
        let (run, log) = stage(&config, &dts, &|| None);
        assert_eq!(run.jobs[0].result, StageResult::Passed, "{log}");
        assert_eq!(run.jobs[0].polls, 4);
        assert!(log.contains("Unknown compare task status"), "{log}");
        let story = run.jobs[0].compare.as_ref().unwrap();
        assert!(story.created);
        assert_eq!(story.task_id, "dts-aaa1-cmp-1");
        assert_eq!(story.stopped, None);
        let mut expected = vec![
            "create-compare(rowsCount) dts-aaa1".to_string(),
            "start-compare dts-aaa1-cmp-1 dts-aaa1".to_string(),
        ];
        expected.extend(vec![
            "describe-compare dts-aaa1-cmp-1 dts-aaa1".to_string();
            4
        ]);
        expected.push("compare-report dts-aaa1-cmp-1 dts-aaa1".to_string());
        assert_eq!(dts.calls(), expected);
    }

    #[test]
    fn compare_gates_an_existing_task_without_creating_or_starting_one() {
        let config = staged(
            Stage::Compare,
            &[
                ("DTS_JOB_ID", "dts-aaa1"),
                ("DTS_COMPARE_TASK_ID", "dts-aaa1-cmp-given"),
            ],
        );
        let dts = ScriptedDts::default().compare(
            vec![compare_task("success", "different")],
            compare_report("different", 2),
        );
        let (run, _) = stage(&config, &dts, &|| None);
        let StageResult::NotPassed { why } = &run.jobs[0].result else {
            panic!("{run:?}");
        };
        assert!(why.contains("2 tables different"), "{why}");
        assert_eq!(
            dts.calls(),
            [
                "describe-compare dts-aaa1-cmp-given dts-aaa1",
                "compare-report dts-aaa1-cmp-given dts-aaa1"
            ]
        );
        assert!(!run.jobs[0].compare.as_ref().unwrap().created);
    }

    #[test]
    fn a_failed_or_canceled_task_fails_without_a_report() {
        for status in ["failed", "canceled"] {
            let config = staged(Stage::Compare, &[("DTS_JOB_ID", "dts-aaa1")]);
            let dts = ScriptedDts::default()
                .compare(vec![compare_task(status, "")], compare_report("same", 0));
            let (run, _) = stage(&config, &dts, &|| None);
            assert!(
                matches!(run.jobs[0].result, StageResult::NotPassed { .. }),
                "{status}"
            );
            assert!(!dts.calls().iter().any(|c| c.starts_with("compare-report")));
            // A task that ended by itself is not stopped.
            assert!(!dts.calls().iter().any(|c| c.starts_with("stop-compare")));
        }
    }

    #[test]
    fn a_created_task_is_stopped_on_timeout_and_on_cancellation() {
        let config = staged(
            Stage::Compare,
            &[("DTS_JOB_ID", "dts-aaa1"), ("DTS_TIMEOUT", "3s")],
        );
        let dts = ScriptedDts::default()
            .compare(vec![compare_task("running", "")], compare_report("same", 0));
        let (run, log) = stage(&config, &dts, &|| None);
        assert!(matches!(run.jobs[0].result, StageResult::TimedOut { .. }));
        assert_eq!(
            dts.calls().last().unwrap(),
            "stop-compare dts-aaa1-cmp-1 dts-aaa1"
        );
        let story = run.jobs[0].compare.as_ref().unwrap();
        assert_eq!(
            story.stopped,
            Some(Ok("req-stop-dts-aaa1-cmp-1".to_string()))
        );
        assert!(log.contains("Compare task stopped"), "{log}");

        let polls = Cell::new(0);
        let cancelled = || {
            polls.set(polls.get() + 1);
            (polls.get() > 6).then_some(15)
        };
        let config = staged(Stage::Compare, &[("DTS_JOB_ID", "dts-aaa1")]);
        let dts = ScriptedDts::default()
            .compare(vec![compare_task("running", "")], compare_report("same", 0));
        let (run, _) = stage(&config, &dts, &cancelled);
        assert_eq!(run.jobs[0].result, StageResult::Cancelled { signal: 15 });
        assert_eq!(
            dts.calls().last().unwrap(),
            "stop-compare dts-aaa1-cmp-1 dts-aaa1"
        );
        assert_eq!(run.exit_code(), 143);
    }

    #[test]
    fn a_task_the_user_gave_is_never_stopped() {
        let config = staged(
            Stage::Compare,
            &[
                ("DTS_JOB_ID", "dts-aaa1"),
                ("DTS_TIMEOUT", "3s"),
                ("DTS_COMPARE_TASK_ID", "dts-aaa1-cmp-given"),
            ],
        );
        let dts = ScriptedDts::default()
            .compare(vec![compare_task("running", "")], compare_report("same", 0));
        let (run, _) = stage(&config, &dts, &|| None);
        assert!(matches!(run.jobs[0].result, StageResult::TimedOut { .. }));
        assert!(!dts.calls().iter().any(|c| c.starts_with("stop-compare")));
        let (run, _) = stage(&config, &dts, &|| Some(2));
        assert_eq!(run.jobs[0].result, StageResult::Cancelled { signal: 2 });
        assert!(!dts.calls().iter().any(|c| c.starts_with("stop-compare")));
        assert_eq!(run.jobs[0].compare.as_ref().unwrap().stopped, None);
    }

    mod stage_properties {
        use proptest::prelude::*;

        use super::*;

        fn any_status() -> impl Strategy<Value = String> {
            prop_oneof![
                Just("readyComplete".to_string()),
                Just("running".to_string()),
                Just("failed".to_string()),
                Just("success".to_string()),
                Just("completing".to_string()),
                Just("pausing".to_string()),
                "[a-zA-Z]{0,12}",
            ]
        }

        fn any_detail() -> impl Strategy<Value = Result<MigrationDetail, ApiError>> {
            (
                any_status(),
                prop_oneof![
                    Just("normal"),
                    Just("isolated"),
                    Just("offlining"),
                    Just("")
                ],
                proptest::option::of(0u64..100),
                proptest::option::of(0u64..100),
                any::<bool>(),
            )
                .prop_map(|(status, trade, seconds, mb, error)| {
                    if error {
                        return Err(ApiError::Malformed {
                            detail: "garbage".into(),
                            request_id: None,
                        });
                    }
                    Ok(MigrationDetail {
                        status,
                        trade_status: trade.into(),
                        seconds_behind: seconds,
                        distance_mb: mb,
                        ..MigrationDetail::default()
                    })
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

            /// Whatever the service answers, `ready` passes only on a well-formed readyComplete
            /// of a job in service, within the lag limit when one is set.
            #[test]
            fn ready_passes_only_on_a_documented_pass(
                script in proptest::collection::vec(any_detail(), 1..12),
                limited in any::<bool>(),
            ) {
                let extra: &[(&str, &str)] = if limited {
                    &[("DTS_JOB_ID", "dts-aaa1"), ("DTS_MAX_LAG", "10s"), ("DTS_LAG_SETTLE", "0")]
                } else {
                    &[("DTS_JOB_ID", "dts-aaa1")]
                };
                let config = staged(Stage::Ready, extra);
                let dts = ScriptedDts::default().details("dts-aaa1", script);
                let (run, _) = stage(&config, &dts, &|| None);
                if run.passed() {
                    let last = run.jobs[0].last.as_ref().expect("a pass has its answer");
                    prop_assert_eq!(last.status.as_str(), "readyComplete");
                    prop_assert!(!last.is_out_of_service());
                    if limited {
                        prop_assert!(last.seconds_behind.is_some_and(|s| s <= 10));
                    }
                }
            }
        }
    }
}
