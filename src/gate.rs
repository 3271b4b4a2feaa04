//! One run of the gate: optionally create fresh checks, wait for every job, optionally start
//! the migrations, report. The decisions live in `poll`, `fresh` and `outcome`; this module
//! connects them to the real clock, the client and the reporter.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::api::{ApiError, ApiVersion, Client, job_body};
use crate::config::{Config, ConfigError};
use crate::duration;
use crate::fresh::{Freshness, Prior};
use crate::outcome::{JobOutcome, JobReport, Outcome, Start};
use crate::poll::{Clock, Job, Poller, Schedule, Sleeper, Waited};
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

/// Sleeps the current thread.
pub struct ThreadSleeper;

impl Sleeper for ThreadSleeper {
    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
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
/// after, when asked) and reports the result.
pub fn run<W: Write, E: Write>(config: &Config, reporter: &mut Reporter<W, E>) -> Outcome {
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
    let client = Client::new(config);
    let api = config.api_version;
    let clock = SystemClock::start();
    let mut sleeper = ThreadSleeper;
    let schedule = Schedule {
        interval: config.poll_interval,
        timeout: config.timeout,
        jitter_seed: report::os_random() as u64,
    };
    let mut poller = Poller::new(&clock, &mut sleeper, schedule);

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
        match create_check(&client, config, id, &mut poller, reporter) {
            Ok(freshness) => jobs.push(Job {
                id: id.clone(),
                freshness: Some(freshness),
            }),
            Err(error) => not_created.push(Waited {
                job_id: id.clone(),
                outcome: JobOutcome::Failed { error, last: None },
                polls: 0,
            }),
        }
    }

    let mut waited = poller.wait_all(
        jobs,
        |job, budget| client.describe_check(api, job, unix_now(), budget),
        |event| reporter.event(&event),
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
        requests += start_migrations(&client, config, &clock, &mut reports, reporter);
    }
    let outcome = Outcome::Jobs(reports);
    reporter.finish(&RunSummary {
        region: &config.region,
        api,
        timeout: config.timeout,
        outcome: &outcome,
        polls: requests,
        elapsed: clock.elapsed(),
    });
    outcome
}

/// Reads the job's current result (the prior), then creates a new check. Returns the
/// freshness rule that keeps the prior result from being taken for the new one.
fn create_check<W: Write, E: Write, C: Clock, S: Sleeper>(
    client: &Client,
    config: &Config,
    job: &str,
    poller: &mut Poller<C, S>,
    reporter: &mut Reporter<W, E>,
) -> Result<Freshness, ApiError> {
    let api = config.api_version;
    // One attempt: if it fails, the prior is unknown and the rule assumes the worst.
    let before = poller
        .call_with_retries(
            job,
            |budget| client.describe_check(api, job, unix_now(), budget),
            |_| false,
            |event| reporter.event(&event),
        )
        .ok();
    let request_id = poller.call_with_retries(
        job,
        |budget| client.create_check(api, job, unix_now(), budget),
        ApiError::is_transient,
        |event| reporter.event(&event),
    )?;
    reporter.info(&format!(
        "created a new check for {job} (CreateMigrateCheckJob, RequestId {}); only its result counts",
        report::sanitize(&request_id)
    ));
    Ok(Freshness::new(
        Prior::from_answer(before.as_ref()),
        poller.elapsed(),
        config.create_grace,
    ))
}

/// Only throttling is known to leave a start unexecuted; any other failure may have started
/// the migration, so it is never retried.
fn start_is_retryable(error: &ApiError) -> bool {
    matches!(error, ApiError::Service { code, .. } if code.starts_with("RequestLimitExceeded"))
}

/// Starts every job's migration, but only when every job passed. Returns the requests sent.
fn start_migrations<W: Write, E: Write>(
    client: &Client,
    config: &Config,
    clock: &SystemClock,
    reports: &mut [JobReport],
    reporter: &mut Reporter<W, E>,
) -> u32 {
    if !reports
        .iter()
        .all(|r| matches!(r.outcome, JobOutcome::Passed(_)))
    {
        for r in reports.iter_mut() {
            r.start = Start::Withheld;
        }
        reporter.info("not starting any migration: not every check passed");
        return 0;
    }
    let schedule = Schedule {
        interval: config.poll_interval,
        timeout: clock.elapsed() + START_ALLOWANCE,
        jitter_seed: report::os_random() as u64,
    };
    let mut sleeper = ThreadSleeper;
    let mut poller = Poller::new(clock, &mut sleeper, schedule);
    for r in reports.iter_mut() {
        let job = r.job_id.as_str();
        let started = poller.call_with_retries(
            job,
            |budget| client.start_migration(config.api_version, job, unix_now(), budget),
            start_is_retryable,
            |event| reporter.event(&event),
        );
        r.start = match started {
            Ok(request_id) => {
                reporter.info(&format!(
                    "started the migration of {job} (StartMigrateJob, RequestId {})",
                    report::sanitize(&request_id)
                ));
                Start::Started { request_id }
            }
            Err(error) => Start::Refused(error),
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
