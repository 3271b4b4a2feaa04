//! One run of the gate: optionally create fresh checks, wait for every job, optionally start
//! the migrations, report. The decisions live in `poll`, `fresh` and `outcome`; this module
//! connects them to the real clock, the client and the reporter.

use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::api::{ApiError, ApiVersion, CheckAnswer, Client, job_body, skew};
use crate::cancel::CancellableSleeper;
pub use crate::cancel::Cancellation;
use crate::config::{Config, ConfigError};
use crate::duration;
use crate::fresh::{Freshness, Prior};
use crate::outcome::{JobOutcome, JobReport, Outcome, Start};
use crate::poll::{Clock, Event, Job, Poller, Schedule, Sleeper, Waited};
use crate::report::{self, Reporter, RunSummary};

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

/// Seconds since the Unix epoch, for `X-TC-Timestamp`.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn describe_jobs(ids: &[String]) -> String {
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
/// after, when asked) and reports the result. `cancellation` stops it early.
pub fn run<W: Write, E: Write>(
    config: &Config,
    reporter: &mut Reporter<W, E>,
    cancellation: &Cancellation,
) -> Outcome {
    reporter.info(&format!(
        "dts-gate {}: waiting for {} (API {}, region {}, endpoint {}; timeout {}, polling every {})",
        env!("CARGO_PKG_VERSION"),
        describe_jobs(&config.job_ids),
        config.api_version.as_str(),
        config.region,
        config.endpoint.host,
        duration::format(config.timeout),
        duration::format(config.poll_interval),
    ));
    reporter.label_jobs(config.job_ids.len() > 1);
    let client = config.client();
    let clock = SystemClock::start();
    let mut sleeper = CancellableSleeper::new(cancellation);
    let schedule = Schedule {
        interval: config.poll_interval,
        timeout: config.timeout,
        jitter_seed: report::os_random() as u64,
    };
    let cancelled = || cancellation.signal();
    let mut poller = Poller::new(&clock, &mut sleeper, schedule).with_cancellation(&cancelled);
    // The request closures and the event closure both report; never at the same moment.
    let reporter = RefCell::new(reporter);
    let call = Caller {
        client: &client,
        config,
        cancellation,
        reporter: &reporter,
    };

    let mut jobs = Vec::new();
    let mut not_created = Vec::new();
    for id in &config.job_ids {
        if !config.create_check {
            jobs.push(Job {
                id: id.clone(),
                freshness: None,
            });
            continue;
        }
        match create_check(&call, id, &mut poller) {
            Ok(freshness) => jobs.push(Job {
                id: id.clone(),
                freshness: Some(freshness),
            }),
            Err(error) => not_created.push(Waited {
                job_id: id.clone(),
                outcome: match cancellation.signal() {
                    Some(signal) => JobOutcome::Cancelled { signal, last: None },
                    None => JobOutcome::Failed { error, last: None },
                },
                polls: 0,
            }),
        }
    }

    let mut waited = poller.wait_all(
        jobs,
        |job, budget| call.describe(job, budget),
        |event| reporter.borrow_mut().event(&event),
    );
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
    if config.start_migration {
        requests += start_migrations(&call, &clock, &mut reports);
    }
    let outcome = Outcome::Jobs(reports);
    reporter.borrow_mut().finish(&RunSummary {
        region: &config.region,
        api: config.api_version,
        timeout: config.timeout,
        outcome: &outcome,
        polls: requests,
        elapsed: clock.elapsed(),
    });
    outcome
}

/// Sends the run's requests: interruptible by a cancellation, and saying so when the service
/// reveals that the runner's clock is off.
struct Caller<'a, W: Write, E: Write> {
    client: &'a Client,
    config: &'a Config,
    cancellation: &'a Cancellation,
    reporter: &'a RefCell<&'a mut Reporter<W, E>>,
}

impl<W: Write, E: Write> Caller<'_, W, E> {
    fn send<T: Send + 'static>(
        &self,
        request: impl FnOnce(Client, ApiVersion) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let before = self.client.clock_offset();
        let client = self.client.clone();
        let api = self.config.api_version;
        let reply = self
            .cancellation
            .interruptible(move || request(client, api));
        let after = self.client.clock_offset();
        if after != before {
            self.reporter.borrow_mut().warning(
                "Runner clock is off",
                &format!(
                    "the DTS service refused the request's timestamp (AuthFailure.SignatureExpire); its Date header shows the runner's clock is {} the service's. The request was signed again with the service's time, and later ones are too. Fix the runner's clock (NTP).",
                    skew::describe_offset(after)
                ),
            );
        }
        reply
    }

    fn describe(&self, job: &str, budget: Duration) -> Result<CheckAnswer, ApiError> {
        let job = job.to_string();
        self.send(move |client, api| client.describe_check(api, &job, unix_now(), budget))
    }

    fn create(&self, job: &str, budget: Duration) -> Result<String, ApiError> {
        let job = job.to_string();
        self.send(move |client, api| client.create_check(api, &job, unix_now(), budget))
    }

    fn start(&self, job: &str, budget: Duration) -> Result<String, ApiError> {
        let job = job.to_string();
        self.send(move |client, api| client.start_migration(api, &job, unix_now(), budget))
    }

    fn event(&self, event: &Event) {
        self.reporter.borrow_mut().event(event);
    }

    fn info(&self, line: &str) {
        self.reporter.borrow_mut().info(line);
    }
}

/// Reads the job's current result (the prior), then creates a new check. Returns the
/// freshness rule that keeps the prior result from being taken for the new one.
fn create_check<W: Write, E: Write, C: Clock, S: Sleeper>(
    call: &Caller<W, E>,
    job: &str,
    poller: &mut Poller<C, S>,
) -> Result<Freshness, ApiError> {
    // One attempt: if it fails, the prior is unknown and the rule assumes the worst.
    let before = poller
        .call_with_retries(
            job,
            |budget| call.describe(job, budget),
            |_| false,
            |event| call.event(&event),
        )
        .ok();
    let request_id = poller.call_with_retries(
        job,
        |budget| call.create(job, budget),
        ApiError::is_transient,
        |event| call.event(&event),
    )?;
    call.info(&format!(
        "created a new check for {job} (CreateMigrateCheckJob, RequestId {}); only its result counts",
        report::sanitize(&request_id)
    ));
    Ok(Freshness::new(
        Prior::from_answer(before.as_ref()),
        poller.elapsed(),
        call.config.create_grace,
    ))
}

/// Only throttling is known to leave a start unexecuted; any other failure may have started
/// the migration, so it is never retried.
fn start_is_retryable(error: &ApiError) -> bool {
    matches!(error, ApiError::Service { code, .. } if code.starts_with("RequestLimitExceeded"))
}

/// Starts every job's migration, but only when every job passed, and never after a
/// cancellation. Returns the requests sent.
fn start_migrations<W: Write, E: Write>(
    call: &Caller<W, E>,
    clock: &SystemClock,
    reports: &mut [JobReport],
) -> u32 {
    if !reports
        .iter()
        .all(|r| matches!(r.outcome, JobOutcome::Passed(_)))
    {
        for r in reports.iter_mut() {
            r.start = Start::Withheld;
        }
        call.info("not starting any migration: not every check passed");
        return 0;
    }
    let schedule = Schedule {
        interval: call.config.poll_interval,
        timeout: clock.elapsed() + START_ALLOWANCE,
        jitter_seed: report::os_random() as u64,
    };
    let mut sleeper = CancellableSleeper::new(call.cancellation);
    let cancelled = || call.cancellation.signal();
    let mut poller = Poller::new(clock, &mut sleeper, schedule).with_cancellation(&cancelled);
    for r in reports.iter_mut() {
        if let Some(signal) = call.cancellation.signal() {
            r.start = Start::Cancelled { signal };
            continue;
        }
        let job = r.job_id.as_str();
        let started = poller.call_with_retries(
            job,
            |budget| call.start(job, budget),
            start_is_retryable,
            |event| call.event(&event),
        );
        r.start = match (started, call.cancellation.signal()) {
            (Ok(request_id), _) => {
                call.info(&format!(
                    "started the migration of {job} (StartMigrateJob, RequestId {})",
                    report::sanitize(&request_id)
                ));
                Start::Started { request_id }
            }
            (Err(error), None) => Start::Refused(error),
            // Interrupted mid-request: whether the service started it is unknown.
            (Err(_), Some(_)) => Start::Refused(ApiError::Transport {
                detail: "the gate was cancelled while StartMigrateJob was in flight".into(),
            }),
        };
    }
    poller.requests()
}

/// Reports an invalid configuration (every problem, one line each) without sending anything.
pub fn reject<W: Write, E: Write>(
    errors: Vec<ConfigError>,
    reporter: &mut Reporter<W, E>,
) -> Outcome {
    let outcome = Outcome::InvalidConfig(errors);
    reporter.finish(&RunSummary {
        region: "",
        api: ApiVersion::V2018,
        timeout: Duration::ZERO,
        outcome: &outcome,
        polls: 0,
        elapsed: Duration::ZERO,
    });
    outcome
}

/// One request the gate would send, for `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCall {
    pub action: &'static str,
    pub version: &'static str,
    pub url: String,
    pub body: String,
    pub when: &'static str,
}

/// Every call a run with `config` would make, in order; no secrets involved.
pub fn plan(config: &Config) -> Vec<PlannedCall> {
    let api = config.api_version;
    let call = |action, job: &str, when| PlannedCall {
        action,
        version: api.as_str(),
        url: config.endpoint.url.clone(),
        body: String::from_utf8(job_body(job)).expect("JSON is UTF-8"),
        when,
    };
    let mut calls = Vec::new();
    for job in &config.job_ids {
        if config.create_check {
            calls.push(call(
                api.describe_check_action(),
                job,
                "once, to remember the previous result",
            ));
            calls.push(call(api.create_check_action(), job, "once"));
        }
    }
    for job in &config.job_ids {
        calls.push(call(
            api.describe_check_action(),
            job,
            "every poll interval until the check finishes or the timeout passes",
        ));
    }
    if config.start_migration {
        for job in &config.job_ids {
            calls.push(call(
                api.start_action(),
                job,
                "once, only if every job's check passed",
            ));
        }
    }
    calls
}

/// Prints the plan of a run without sending anything.
pub fn dry_run<W: Write, E: Write>(config: &Config, reporter: &mut Reporter<W, E>) {
    reporter.info(&format!(
        "dts-gate {} dry run: nothing is sent. Region {}, timeout {}, polling every {}; requests are signed with TC3-HMAC-SHA256 by key {}…",
        env!("CARGO_PKG_VERSION"),
        config.region,
        duration::format(config.timeout),
        duration::format(config.poll_interval),
        config.credentials.secret_id.chars().take(8).collect::<String>(),
    ));
    for (i, call) in plan(config).iter().enumerate() {
        reporter.info(&format!(
            "{:>3}. POST {} X-TC-Action: {} X-TC-Version: {} body {} ({})",
            i + 1,
            call.url,
            call.action,
            call.version,
            call.body,
            call.when
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &[(&str, &str)]) -> Config {
        let mut vars: Vec<(String, String)> = [
            ("DTS_JOB_ID", "dts-aaa1,dts-bbb2"),
            ("TENCENTCLOUD_SECRET_ID", "AKIDplan"),
            ("TENCENTCLOUD_SECRET_KEY", "plan-secret"),
            ("TENCENTCLOUD_REGION", "ap-shanghai-fsi"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        vars.dedup_by(|a, b| a.0 == b.0);
        Config::from_vars(vars).unwrap()
    }

    #[test]
    fn plans_only_the_describe_calls_by_default() {
        let calls = plan(&config(&[]));
        let actions: Vec<_> = calls.iter().map(|c| (c.action, c.body.as_str())).collect();
        assert_eq!(
            actions,
            [
                ("DescribeMigrateCheckJob", r#"{"JobId":"dts-aaa1"}"#),
                ("DescribeMigrateCheckJob", r#"{"JobId":"dts-bbb2"}"#)
            ]
        );
        assert_eq!(
            calls[0].url,
            "https://dts.ap-shanghai-fsi.tencentcloudapi.com/"
        );
        assert_eq!(calls[0].version, "2018-03-30");
    }

    #[test]
    fn plans_create_and_start_calls() {
        let calls = plan(&config(&[
            ("DTS_CREATE_CHECK", "true"),
            ("DTS_START_MIGRATION", "true"),
            ("DTS_API_VERSION", "2021-12-06"),
        ]));
        let actions: Vec<_> = calls.iter().map(|c| c.action).collect();
        assert_eq!(
            actions,
            [
                "DescribeMigrationCheckJob",
                "CreateMigrateCheckJob",
                "DescribeMigrationCheckJob",
                "CreateMigrateCheckJob",
                "DescribeMigrationCheckJob",
                "DescribeMigrationCheckJob",
                "StartMigrateJob",
                "StartMigrateJob"
            ]
        );
        assert!(calls.iter().all(|c| c.version == "2021-12-06"));
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
}
