//! One run of the gate: wire the configuration, the client, the real clock and the reporter
//! together. The decisions live in `poll` and `outcome`; this module only connects them.

use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::api::{ApiVersion, Client};
use crate::config::{Config, ConfigError};
use crate::duration;
use crate::outcome::Outcome;
use crate::poll::{self, Clock, Schedule, Sleeper};
use crate::report::{self, Reporter, RunSummary};

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

/// Waits for the check of `config.job_id` and reports the result.
pub fn run<W: Write, E: Write>(config: &Config, reporter: &mut Reporter<W, E>) -> Outcome {
    reporter.info(&format!(
        "dts-gate {}: waiting for the DTS check of {} (API {}, region {}, endpoint {}; timeout {}, polling every {})",
        env!("CARGO_PKG_VERSION"),
        config.job_id,
        config.api_version.as_str(),
        config.region,
        config.endpoint.host,
        duration::format(config.timeout),
        duration::format(config.poll_interval),
    ));
    let client = Client::new(config);
    let clock = SystemClock::start();
    let schedule = Schedule {
        interval: config.poll_interval,
        timeout: config.timeout,
        jitter_seed: report::os_random() as u64,
    };
    let waited = poll::wait(
        |budget| client.describe_check(config.api_version, &config.job_id, unix_now(), budget),
        &clock,
        &mut ThreadSleeper,
        schedule,
        |event| reporter.event(&event),
    );
    reporter.finish(&RunSummary {
        job_id: &config.job_id,
        region: &config.region,
        api: config.api_version,
        timeout: config.timeout,
        outcome: &waited.outcome,
        polls: waited.polls,
        elapsed: waited.elapsed,
    });
    waited.outcome
}

/// Reports an invalid configuration (every problem, one line each) without sending anything.
pub fn reject<W: Write, E: Write>(
    errors: Vec<ConfigError>,
    reporter: &mut Reporter<W, E>,
) -> Outcome {
    let outcome = Outcome::InvalidConfig(errors);
    reporter.finish(&RunSummary {
        job_id: "",
        region: "",
        api: ApiVersion::V2018,
        timeout: Duration::ZERO,
        outcome: &outcome,
        polls: 0,
        elapsed: Duration::ZERO,
    });
    outcome
}
