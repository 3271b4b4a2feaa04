//! The wait. Time comes in through [`Clock`] and [`Sleeper`], requests through closures, so
//! tests drive hours of polling in microseconds and never touch the network.
//!
//! - Rounds: every job still waiting is polled once per round, requests spaced by the request
//!   budget ([`crate::pace`]: 10 per second by default, half the API's limit, halved on each
//!   throttling answer and won back slowly), and the next round starts a poll interval after
//!   each job's last answer. With many jobs a round takes longer than the interval: each job's
//!   interval stretches, the rate never exceeds the budget.
//! - Deadline: every job still waiting gets a last poll at the deadline itself (a check that
//!   finishes just before the timeout is still seen), and no request's time budget runs past
//!   [`FINAL_POLL_GRACE`] after the deadline.
//! - Retries: transient errors back off exponentially with jitter, inside the deadline.

use std::collections::HashSet;
use std::time::Duration;

use crate::api::{ApiError, CheckAnswer, MAX_REQUEST_TIME};
use crate::fresh::{FAST_POLL, Freshness, Judgement};
use crate::outcome::{Decision, JobOutcome, decide};
use crate::pace::{DEFAULT_BUDGET, Pace};

/// How long the last requests may run past the deadline; the gate ends by then.
pub const FINAL_POLL_GRACE: Duration = Duration::from_secs(2);
/// `unavailable` (2021: `notStarted`) this long suggests no check was ever created for the job.
pub const UNAVAILABLE_WARNING_AFTER: Duration = Duration::from_secs(60);
/// Retries back off exponentially up to this (or the poll interval, if longer).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);
/// A run that has never reached the service gives up after its host failed to resolve or
/// refused connections for this long: a mistyped endpoint should not wait out the timeout.
pub const UNREACHABLE_GIVE_UP: Duration = Duration::from_secs(60);

/// Time since the gate started.
pub trait Clock {
    fn elapsed(&self) -> Duration;
}

/// Waiting between polls.
pub trait Sleeper {
    fn sleep(&mut self, duration: Duration);
}

/// When to poll and when to give up.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub interval: Duration,
    pub timeout: Duration,
    /// Seeds the retry jitter; any value works, a random one spreads retries of parallel runs.
    pub jitter_seed: u64,
}

/// Something worth telling the user while waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Answer {
        job: &'a str,
        answer: &'a CheckAnswer,
        poll: u32,
        elapsed: Duration,
    },
    Retrying {
        job: &'a str,
        error: &'a ApiError,
        attempt: u32,
        delay: Duration,
        elapsed: Duration,
    },
    /// A finished answer that may be the previous check's result was ignored.
    Stale { job: &'a str, elapsed: Duration },
    /// The job has shown no check at all (`status`) for `waited`: perhaps none was created.
    NoCheckYet {
        job: &'a str,
        status: &'a str,
        waited: Duration,
        /// The action that would create one (`CreateMigrateCheckJob`, `CreateCheckSyncJob`).
        create_action: &'static str,
    },
    Warning {
        job: &'a str,
        title: &'static str,
        message: String,
    },
}

/// One job to wait for, with the freshness rule when the gate created its check.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub freshness: Option<Freshness>,
}

/// How the wait for one job ended, and how many times it was polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited {
    pub job_id: String,
    pub outcome: JobOutcome,
    pub polls: u32,
}

/// Tells whether the run was cancelled, and by which signal.
pub type Cancelled<'a> = &'a dyn Fn() -> Option<i32>;

/// Paces, times and retries every request of a run against one deadline.
pub struct Poller<'a, C: Clock + ?Sized, S: Sleeper + ?Sized> {
    clock: &'a C,
    sleeper: &'a mut S,
    schedule: Schedule,
    last_request_at: Option<Duration>,
    jitter: Jitter,
    requests: u32,
    cancelled: Option<Cancelled<'a>>,
    /// Stop waiting for the other jobs once one cannot pass.
    fail_fast: bool,
    /// A pass with warnings (`DTS_FAIL_ON_WARNING`) does not pass.
    fail_on_warning: bool,
    /// How far apart requests are, slowed by throttling answers.
    pace: Pace,
}

impl<'a, C: Clock + ?Sized, S: Sleeper + ?Sized> Poller<'a, C, S> {
    pub fn new(clock: &'a C, sleeper: &'a mut S, schedule: Schedule) -> Self {
        Poller {
            clock,
            sleeper,
            schedule,
            last_request_at: None,
            jitter: Jitter(schedule.jitter_seed | 1),
            requests: 0,
            cancelled: None,
            fail_fast: false,
            fail_on_warning: false,
            pace: Pace::new(DEFAULT_BUDGET),
        }
    }

    /// A check that passed with warnings (warning steps or items, skipped failures) counts as
    /// not passed.
    pub fn with_fail_on_warning(mut self, fail_on_warning: bool) -> Self {
        self.fail_on_warning = fail_on_warning;
        self
    }

    /// Sends at most `budget` requests per second, fewer while the service throttles.
    pub fn with_request_budget(mut self, budget: f64) -> Self {
        self.pace = Pace::new(budget);
        self
    }

    /// The pace now: its rate and the throttling answers seen.
    pub fn pace(&self) -> &Pace {
        &self.pace
    }

    /// Once a job did not pass (or failed), stops waiting for the others: the run cannot
    /// pass any more. They end as [`JobOutcome::NotWaitedFor`] with their last answer.
    pub fn with_fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// Stops sending and waiting as soon as `cancelled` returns a signal.
    pub fn with_cancellation(mut self, cancelled: Cancelled<'a>) -> Self {
        self.cancelled = Some(cancelled);
        self
    }

    /// The signal that cancelled the run, if any.
    pub fn cancelled(&self) -> Option<i32> {
        self.cancelled.and_then(|f| f())
    }

    pub fn elapsed(&self) -> Duration {
        self.clock.elapsed()
    }

    /// Requests sent so far, of every kind.
    pub fn requests(&self) -> u32 {
        self.requests
    }

    /// The time budget of a request sent now, or `None` once no request may be sent.
    fn budget(&self) -> Option<Duration> {
        let end = self.schedule.timeout.saturating_add(FINAL_POLL_GRACE);
        let left = end.saturating_sub(self.clock.elapsed());
        (!left.is_zero()).then(|| left.min(MAX_REQUEST_TIME))
    }

    /// Spaces requests out and counts them; returns the request's budget, or `None` when no
    /// request may be sent any more (deadline or cancellation).
    fn before_request(&mut self) -> Option<Duration> {
        if let Some(last) = self.last_request_at {
            let since = self.clock.elapsed().saturating_sub(last);
            let spacing = self.pace.spacing();
            if since < spacing {
                self.sleeper.sleep(spacing - since);
            }
        }
        if self.cancelled().is_some() {
            return None;
        }
        let budget = self.budget()?;
        self.last_request_at = Some(self.clock.elapsed());
        self.requests += 1;
        Some(budget)
    }

    fn past_deadline(&self) -> bool {
        self.clock.elapsed() >= self.schedule.timeout
    }

    /// One call (create a check, start a migration) retried while `retryable` says so and the
    /// deadline allows.
    pub fn call_with_retries<T>(
        &mut self,
        job: &str,
        mut call: impl FnMut(Duration) -> Result<T, ApiError>,
        retryable: impl Fn(&ApiError) -> bool,
        mut observe: impl FnMut(Event),
    ) -> Result<T, ApiError> {
        let mut attempt = 0;
        loop {
            let Some(budget) = self.before_request() else {
                return Err(ApiError::Transport {
                    detail: "the deadline passed before the request could be sent".into(),
                });
            };
            let reply = call(budget);
            self.pace
                .after_reply(matches!(&reply, Err(e) if e.is_throttling()));
            let error = match reply {
                Ok(value) => return Ok(value),
                Err(e) if !retryable(&e) || self.past_deadline() || self.cancelled().is_some() => {
                    return Err(e);
                }
                Err(e) => e,
            };
            attempt += 1;
            // The log says when the next attempt really comes: never past the deadline.
            let left = self.schedule.timeout.saturating_sub(self.clock.elapsed());
            let delay =
                retry_delay(attempt, self.schedule.interval, self.jitter.next_unit()).min(left);
            observe(Event::Retrying {
                job,
                error: &error,
                attempt,
                delay,
                elapsed: self.clock.elapsed(),
            });
            self.sleeper.sleep(delay);
        }
    }

    /// Polls every job (through `probe`, which gets the job id and the request's time budget)
    /// until each has finished, failed permanently, or the deadline passed. `observe` sees
    /// every answer, retry and warning.
    pub fn wait_all<P, O>(&mut self, jobs: Vec<Job>, mut probe: P, mut observe: O) -> Vec<Waited>
    where
        P: FnMut(&str, Duration) -> Result<CheckAnswer, ApiError>,
        O: FnMut(Event),
    {
        let start = self.clock.elapsed();
        let mut states: Vec<JobState> = jobs
            .into_iter()
            .map(|job| JobState::new(job, start))
            .collect();
        loop {
            for state in states.iter_mut().filter(|s| s.outcome.is_none()) {
                if state.next_at > self.clock.elapsed() {
                    continue;
                }
                let Some(budget) = self.before_request() else {
                    break;
                };
                state.polls += 1;
                let reply = probe(&state.job.id, budget);
                self.pace
                    .after_reply(matches!(&reply, Err(e) if e.is_throttling()));
                if self.cancelled().is_some() {
                    // The reply of an interrupted request means nothing.
                    break;
                }
                state.handle(reply, self, &mut observe);
                if self.fail_fast && state.cannot_pass() {
                    break;
                }
            }
            if let Some(signal) = self.cancelled() {
                for state in states.iter_mut().filter(|s| s.outcome.is_none()) {
                    state.outcome = Some(JobOutcome::Cancelled {
                        signal,
                        last: state.last.take(),
                    });
                }
                break;
            }
            if self.fail_fast && states.iter().any(JobState::cannot_pass) {
                for state in states.iter_mut().filter(|s| s.outcome.is_none()) {
                    state.outcome = Some(JobOutcome::NotWaitedFor {
                        last: state.last.take(),
                    });
                }
                break;
            }
            let pending = states.iter().filter(|s| s.outcome.is_none());
            let Some(next) = pending.map(|s| s.next_at).min() else {
                break;
            };
            if self.past_deadline() || self.budget().is_none() {
                break;
            }
            let now = self.clock.elapsed();
            if next > now {
                self.sleeper.sleep(next - now);
            }
        }
        states.into_iter().map(JobState::finish).collect()
    }
}

/// What a wait for something other than a check (a later stage) is told and asked: what each
/// answer means, and every event worth reporting.
pub trait Watch<T> {
    /// What `answer` means; a [`Decision::KeepPolling`] polls again after the interval.
    fn judge(&mut self, job: &str, answer: &T, elapsed: Duration) -> Decision;
    fn event(&mut self, event: &Event);
}

/// How a wait through [`Poller::poll_until`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Polled<T> {
    /// An answer that decided (passed or not passed).
    Decided {
        decision: Decision,
        answer: T,
    },
    /// The deadline passed while still waiting.
    TimedOut {
        last: Option<T>,
        last_error: Option<ApiError>,
    },
    /// A permanent error, or only errors until the deadline.
    Failed {
        error: ApiError,
        last: Option<T>,
    },
    Cancelled {
        signal: i32,
        last: Option<T>,
    },
}

impl<'a, C: Clock + ?Sized, S: Sleeper + ?Sized> Poller<'a, C, S> {
    /// Polls one job through `probe` until `watch` decides, with the same pacing, request
    /// budget, retries (transient errors, with backoff), deadline (a last poll at it) and
    /// cancellation as [`Poller::wait_all`]. Returns how it ended and the answers received.
    pub fn poll_until<T>(
        &mut self,
        job: &str,
        mut probe: impl FnMut(Duration) -> Result<T, ApiError>,
        watch: &mut dyn Watch<T>,
    ) -> (Polled<T>, u32) {
        let mut last: Option<T> = None;
        let mut answers = 0;
        // As in `wait_all`: an endpoint never reached is given up after UNREACHABLE_GIVE_UP.
        let clock = self.clock;
        let reached = std::cell::Cell::new(false);
        let unreachable_since = std::cell::Cell::new(None::<Duration>);
        let mut probe = |budget| {
            let reply = probe(budget);
            match &reply {
                Err(ApiError::Unreachable { .. }) => {
                    if unreachable_since.get().is_none() {
                        unreachable_since.set(Some(clock.elapsed()));
                    }
                }
                _ => reached.set(true),
            }
            reply
        };
        let retryable = |error: &ApiError| {
            let given_up = matches!(error, ApiError::Unreachable { .. })
                && !reached.get()
                && unreachable_since.get().is_some_and(|since| {
                    clock.elapsed().saturating_sub(since) >= UNREACHABLE_GIVE_UP
                });
            error.is_transient() && !given_up
        };
        loop {
            if let Some(signal) = self.cancelled() {
                return (Polled::Cancelled { signal, last }, answers);
            }
            let reply =
                self.call_with_retries(job, &mut probe, retryable, |event| watch.event(&event));
            if let Some(signal) = self.cancelled() {
                return (Polled::Cancelled { signal, last }, answers);
            }
            match reply {
                Ok(answer) => {
                    answers += 1;
                    match watch.judge(job, &answer, self.elapsed()) {
                        Decision::KeepPolling => last = Some(answer),
                        decision => return (Polled::Decided { decision, answer }, answers),
                    }
                }
                Err(error) if error.is_transient() && last.is_some() => {
                    return (
                        Polled::TimedOut {
                            last,
                            last_error: Some(error),
                        },
                        answers,
                    );
                }
                Err(error) => return (Polled::Failed { error, last }, answers),
            }
            if self.past_deadline() {
                return (
                    Polled::TimedOut {
                        last,
                        last_error: None,
                    },
                    answers,
                );
            }
            let left = self.schedule.timeout.saturating_sub(self.clock.elapsed());
            self.sleeper.sleep(self.schedule.interval.min(left));
        }
    }
}

/// Everything the wait remembers about one job.
struct JobState {
    job: Job,
    polls: u32,
    next_at: Duration,
    outcome: Option<JobOutcome>,
    last: Option<CheckAnswer>,
    last_error: Option<ApiError>,
    failed_attempts: u32,
    warned_statuses: HashSet<String>,
    warned_deprecated: bool,
    warned_contradiction: bool,
    not_started_since: Option<Duration>,
    warned_not_started: bool,
    reported_stale: bool,
    /// Something at the endpoint answered at least once (any reply but "unreachable").
    reached_service: bool,
    /// Since when every attempt found the endpoint unreachable.
    unreachable_since: Option<Duration>,
}

impl JobState {
    /// This job's outcome already rules out a pass of the run.
    fn cannot_pass(&self) -> bool {
        matches!(
            self.outcome,
            Some(JobOutcome::NotPassed(_) | JobOutcome::Failed { .. })
        )
    }

    fn new(job: Job, start: Duration) -> JobState {
        JobState {
            job,
            polls: 0,
            next_at: start,
            outcome: None,
            last: None,
            last_error: None,
            failed_attempts: 0,
            warned_statuses: HashSet::new(),
            warned_deprecated: false,
            warned_contradiction: false,
            not_started_since: None,
            warned_not_started: false,
            reported_stale: false,
            reached_service: false,
            unreachable_since: None,
        }
    }

    /// Folds one reply into the state: a verdict, or when to poll next.
    fn handle<C: Clock + ?Sized, S: Sleeper + ?Sized>(
        &mut self,
        reply: Result<CheckAnswer, ApiError>,
        poller: &mut Poller<C, S>,
        observe: &mut impl FnMut(Event),
    ) {
        let elapsed = poller.clock.elapsed();
        let job_id = self.job.id.clone();
        let job = job_id.as_str();
        match &reply {
            Err(ApiError::Unreachable { .. }) => {}
            _ => {
                self.reached_service = true;
                self.unreachable_since = None;
            }
        }
        let delay = match reply {
            Ok(answer) => {
                observe(Event::Answer {
                    job,
                    answer: &answer,
                    poll: self.polls,
                    elapsed,
                });
                self.warn_about(&answer, elapsed, observe);
                self.failed_attempts = 0;
                self.last_error = None;
                let judgement = match &mut self.job.freshness {
                    Some(f) => f.judge(&answer, elapsed),
                    None => Judgement::Fresh,
                };
                if judgement == Judgement::NeverAppeared {
                    let since_created = self
                        .job
                        .freshness
                        .as_ref()
                        .map_or(elapsed, |f| f.since_created(elapsed));
                    self.outcome = Some(JobOutcome::Failed {
                        error: ApiError::CheckNeverAppeared {
                            detail: format!(
                                "the service still showed the previous passed result (RequestId {}) {}s after the gate created a new check, and never the new check itself; the previous result is not this check's",
                                answer.request_id,
                                since_created.as_secs()
                            ),
                        },
                        last: Some(answer),
                    });
                    return;
                }
                let fresh = judgement == Judgement::Fresh;
                match decide(&answer) {
                    Decision::Passed
                        if fresh && poller.fail_on_warning && answer.has_warnings() =>
                    {
                        self.outcome = Some(JobOutcome::NotPassed(answer));
                        return;
                    }
                    Decision::Passed if fresh => {
                        self.outcome = Some(JobOutcome::Passed(answer));
                        return;
                    }
                    Decision::NotPassed if fresh => {
                        self.outcome = Some(JobOutcome::NotPassed(answer));
                        return;
                    }
                    Decision::Passed | Decision::NotPassed if !self.reported_stale => {
                        self.reported_stale = true;
                        observe(Event::Stale { job, elapsed });
                    }
                    _ => {}
                }
                self.last = Some(answer);
                // Until the new check is seen, poll fast enough to catch it running.
                match &self.job.freshness {
                    Some(f) if !f.confirmed() => poller.schedule.interval.min(FAST_POLL),
                    _ => poller.schedule.interval,
                }
            }
            Err(error) if !error.is_transient() => {
                self.outcome = Some(JobOutcome::Failed {
                    error,
                    last: self.last.take(),
                });
                return;
            }
            Err(ApiError::Unreachable { detail }) if !self.reached_service => {
                let since = *self.unreachable_since.get_or_insert(elapsed);
                let error = ApiError::Unreachable {
                    detail: format!(
                        "{detail}; the endpoint has not been reached in {}s, so the gate gave up before the timeout",
                        (elapsed - since).as_secs()
                    ),
                };
                if elapsed - since >= UNREACHABLE_GIVE_UP {
                    self.outcome = Some(JobOutcome::Failed { error, last: None });
                    return;
                }
                self.retry_after(ApiError::Unreachable { detail }, elapsed, poller, observe)
            }
            Err(error) => self.retry_after(error, elapsed, poller, observe),
        };
        let now = poller.clock.elapsed();
        self.next_at = now
            .saturating_add(delay)
            .min(poller.schedule.timeout.max(now));
    }

    /// Counts a transient failure and says when the next attempt is due.
    fn retry_after<C: Clock + ?Sized, S: Sleeper + ?Sized>(
        &mut self,
        error: ApiError,
        elapsed: Duration,
        poller: &mut Poller<C, S>,
        observe: &mut impl FnMut(Event),
    ) -> Duration {
        self.failed_attempts += 1;
        // The next attempt comes at the deadline at the latest (the final poll), and the log
        // says so rather than a delay that will never be waited.
        let left = poller.schedule.timeout.saturating_sub(elapsed);
        let delay = retry_delay(
            self.failed_attempts,
            poller.schedule.interval,
            poller.jitter.next_unit(),
        )
        .min(left);
        // At the deadline there is no retry to announce: the verdict reports the error.
        if !left.is_zero() {
            observe(Event::Retrying {
                job: &self.job.id,
                error: &error,
                attempt: self.failed_attempts,
                delay,
                elapsed,
            });
        }
        self.last_error = Some(error);
        delay
    }

    fn warn_about(
        &mut self,
        answer: &CheckAnswer,
        elapsed: Duration,
        observe: &mut impl FnMut(Event),
    ) {
        let job_id = self.job.id.clone();
        let job = job_id.as_str();
        if let Some(text) = &answer.deprecated_warning
            && !self.warned_deprecated
        {
            self.warned_deprecated = true;
            observe(Event::Warning {
                job,
                title: "DTS API deprecation",
                message: text.clone(),
            });
        }
        if !answer
            .api
            .known_statuses()
            .contains(&answer.status.as_str())
            && self.warned_statuses.insert(answer.status.clone())
        {
            observe(Event::Warning {
                job,
                title: "Unknown DTS check status",
                message: format!(
                    "the service reported Status {:?}, which this gate does not know; it keeps polling and will not treat it as a pass",
                    answer.status
                ),
            });
        }
        if decide(answer) == Decision::Passed
            && !self.warned_contradiction
            && answer.steps.iter().any(|step| step.is_failed())
        {
            self.warned_contradiction = true;
            let failed: Vec<String> = answer
                .steps
                .iter()
                .filter(|step| step.is_failed())
                .map(|step| step.label())
                .collect();
            observe(Event::Warning {
                job,
                title: "Contradictory DTS answer",
                message: format!(
                    "the service reports the check passed (checkPass) yet lists failed steps the user did not skip: {}; check the job in the DTS console before starting the migration",
                    failed.join(", ")
                ),
            });
        }
        if answer.status == answer.api.not_started_status() {
            let since = *self.not_started_since.get_or_insert(elapsed);
            if !self.warned_not_started && elapsed - since >= UNAVAILABLE_WARNING_AFTER {
                self.warned_not_started = true;
                observe(Event::NoCheckYet {
                    job,
                    status: &answer.status,
                    waited: elapsed - since,
                    create_action: answer.api.create_check_action(),
                });
            }
        } else {
            self.not_started_since = None;
        }
    }

    /// The job's outcome; a job still waiting at the deadline timed out (or, with no valid
    /// answer at all, failed).
    fn finish(self) -> Waited {
        let outcome = match (self.outcome, self.last, self.last_error) {
            (Some(outcome), _, _) => outcome,
            (None, Some(last), last_error) => JobOutcome::TimedOut { last, last_error },
            (None, None, Some(error)) => JobOutcome::Failed { error, last: None },
            (None, None, None) => JobOutcome::Failed {
                error: ApiError::Transport {
                    detail: "the deadline passed before this job could be polled".into(),
                },
                last: None,
            },
        };
        Waited {
            job_id: self.job.id,
            outcome,
            polls: self.polls,
        }
    }
}

/// Exponential backoff with "equal jitter": half the nominal delay is fixed, half random, so
/// retries never bunch up yet never come sooner than half the nominal delay.
pub fn retry_delay(attempt: u32, interval: Duration, jitter_unit: f64) -> Duration {
    let cap = MAX_RETRY_DELAY.max(interval);
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(16));
    let nominal = interval.saturating_mul(factor).min(cap);
    let half = nominal / 2;
    half + half.mul_f64(jitter_unit.clamp(0.0, 1.0))
}

/// A tiny xorshift generator: jitter needs spread, not cryptographic quality.
struct Jitter(u64);

impl Jitter {
    fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Time for tests of anything that waits: it only moves when someone sleeps or a request
/// "takes time", so no test ever waits.
#[cfg(test)]
pub(crate) mod fake {
    use std::cell::Cell;
    use std::rc::Rc;
    use std::time::Duration;

    use super::{Clock, Sleeper};

    /// Clones share one clock.
    #[derive(Clone, Default)]
    pub(crate) struct FakeTime(Rc<Cell<Duration>>);

    impl FakeTime {
        pub(crate) fn advance(&self, d: Duration) {
            self.0.set(self.0.get() + d);
        }
    }

    impl Clock for FakeTime {
        fn elapsed(&self) -> Duration {
            self.0.get()
        }
    }

    impl Sleeper for FakeTime {
        fn sleep(&mut self, duration: Duration) {
            self.advance(duration);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeTime;
    use super::*;
    use crate::api::{ApiVersion, CheckFlag};
    use crate::fresh::Prior;
    use std::cell::RefCell;
    use std::collections::{HashMap, VecDeque};

    fn answer(status: &str, flag: Option<i64>) -> CheckAnswer {
        CheckAnswer {
            api: ApiVersion::V2018,
            status: status.into(),
            check_flag: flag.map(CheckFlag::Code),
            progress: Some("50".into()),
            error_code: Some(0),
            error_message: String::new(),
            request_id: format!("req-{status}"),
            deprecated_warning: None,
            steps: Vec::new(),
        }
    }

    fn transient() -> ApiError {
        ApiError::HttpStatus {
            status: 503,
            request_id: None,
        }
    }

    fn schedule(interval_ms: u64, timeout_s: u64) -> Schedule {
        Schedule {
            interval: Duration::from_millis(interval_ms),
            timeout: Duration::from_secs(timeout_s),
            jitter_seed: 7,
        }
    }

    type Script = Vec<Result<CheckAnswer, ApiError>>;
    /// Every request of a scripted run: which job, when, with what time budget.
    type Requests = Vec<(String, Duration, Duration)>;

    /// Runs the loop over scripted replies per job (the last one repeats), each taking
    /// `latency`; returns the results, the events and every request as (job, time, budget).
    fn run_jobs(
        scripts: Vec<(&str, Script)>,
        freshness: Option<Freshness>,
        schedule: Schedule,
        latency: Duration,
    ) -> (Vec<Waited>, Vec<String>, Requests) {
        run_jobs_with(scripts, freshness, schedule, latency, false)
    }

    /// [`run_jobs`], failing fast when `fail_fast`.
    fn run_jobs_with(
        scripts: Vec<(&str, Script)>,
        freshness: Option<Freshness>,
        schedule: Schedule,
        latency: Duration,
        fail_fast: bool,
    ) -> (Vec<Waited>, Vec<String>, Requests) {
        let time = FakeTime::default();
        let mut sleeper = time.clone();
        let scripts: RefCell<HashMap<String, VecDeque<_>>> = RefCell::new(
            scripts
                .iter()
                .map(|(id, s)| (id.to_string(), s.clone().into()))
                .collect(),
        );
        let jobs = scripts_order(&scripts.borrow(), freshness);
        let mut requests = Vec::new();
        let mut events = Vec::new();
        let probe_time = time.clone();
        let probe = |job: &str, budget: Duration| {
            requests.push((job.to_string(), probe_time.elapsed(), budget));
            probe_time.advance(latency.min(budget));
            let mut all = scripts.borrow_mut();
            let script = all.get_mut(job).unwrap();
            if script.len() > 1 {
                script.pop_front().unwrap()
            } else {
                script.front().cloned().unwrap()
            }
        };
        let mut poller = Poller::new(&time, &mut sleeper, schedule).with_fail_fast(fail_fast);
        let waited = poller.wait_all(jobs, probe, |e| {
            events.push(match e {
                Event::Answer { job, answer, .. } => format!("{job} answer {}", answer.status),
                Event::Retrying { job, attempt, .. } => format!("{job} retry {attempt}"),
                Event::Stale { job, .. } => format!("{job} stale"),
                Event::Warning { job, title, .. } => format!("{job} warning {title}"),
                Event::NoCheckYet { job, .. } => format!("{job} warning No DTS check yet"),
            })
        });
        (waited, events, requests)
    }

    fn scripts_order(
        scripts: &HashMap<String, VecDeque<Result<CheckAnswer, ApiError>>>,
        freshness: Option<Freshness>,
    ) -> Vec<Job> {
        let mut ids: Vec<&String> = scripts.keys().collect();
        ids.sort();
        ids.into_iter()
            .map(|id| Job {
                id: id.clone(),
                freshness: freshness.clone(),
            })
            .collect()
    }

    fn one_job(
        script: Script,
        schedule: Schedule,
        latency: Duration,
    ) -> (Waited, Vec<String>, Vec<Duration>) {
        let (mut waited, events, requests) =
            run_jobs(vec![("dts-a", script)], None, schedule, latency);
        let events = events
            .into_iter()
            .map(|e| e.replacen("dts-a ", "", 1))
            .collect();
        (
            waited.remove(0),
            events,
            requests.into_iter().map(|r| r.2).collect(),
        )
    }

    #[test]
    fn passes_after_the_check_finishes() {
        let (w, events, _) = one_job(
            vec![
                Ok(answer("starting", Some(3))),
                Ok(answer("running", Some(3))),
                Ok(answer("finished", Some(1))),
            ],
            schedule(5000, 600),
            Duration::ZERO,
        );
        assert!(matches!(w.outcome, JobOutcome::Passed(ref a) if a.request_id == "req-finished"));
        assert_eq!(w.polls, 3);
        assert_eq!(
            events,
            ["answer starting", "answer running", "answer finished"]
        );
    }

    #[test]
    fn a_finished_check_that_did_not_pass_fails_at_once() {
        for flag in [0, 3, 2] {
            let (w, _, _) = one_job(
                vec![Ok(answer("finished", Some(flag)))],
                schedule(5000, 600),
                Duration::ZERO,
            );
            assert!(matches!(w.outcome, JobOutcome::NotPassed(_)), "{flag}");
            assert_eq!(w.polls, 1);
        }
    }

    #[test]
    fn times_out_with_a_final_poll_at_the_deadline() {
        let (_, _, requests) = run_jobs(
            vec![("dts-a", vec![Ok(answer("running", Some(3)))])],
            None,
            schedule(4000, 10),
            Duration::ZERO,
        );
        let times: Vec<u64> = requests.iter().map(|r| r.1.as_secs()).collect();
        // Polls at 0, 4, 8 and the deadline, 10.
        assert_eq!(times, [0, 4, 8, 10]);
        assert_eq!(requests.last().unwrap().2, FINAL_POLL_GRACE);
        let (w, _, _) = one_job(
            vec![Ok(answer("running", Some(3)))],
            schedule(4000, 10),
            Duration::ZERO,
        );
        assert!(
            matches!(w.outcome, JobOutcome::TimedOut { ref last, last_error: None } if last.status == "running")
        );
    }

    #[test]
    fn no_request_outlives_the_deadline_by_more_than_the_grace() {
        // Every request hangs until its budget runs out.
        let (_, _, requests) = run_jobs(
            vec![
                (
                    "dts-a",
                    vec![Err(ApiError::Transport {
                        detail: "timed out".into(),
                    })],
                ),
                (
                    "dts-b",
                    vec![Err(ApiError::Transport {
                        detail: "timed out".into(),
                    })],
                ),
            ],
            None,
            schedule(1000, 45),
            Duration::from_secs(3600),
        );
        let deadline = Duration::from_secs(45) + FINAL_POLL_GRACE;
        for (_, at, budget) in &requests {
            assert!(
                *at + *budget <= deadline,
                "request at {at:?} with budget {budget:?}"
            );
            assert!(*budget <= MAX_REQUEST_TIME);
        }
    }

    #[test]
    fn a_pass_that_lists_a_failed_step_is_reported_as_contradictory() {
        let mut pass = answer("success", None);
        pass.api = ApiVersion::V2021;
        pass.check_flag = Some(CheckFlag::Name("checkPass".into()));
        pass.steps = vec![crate::api::CheckStep {
            step_id: "SrcPrivilegeCheck".into(),
            status: "failed".into(),
            ..Default::default()
        }];
        let (waited, events, _) = one_job(vec![Ok(pass)], schedule(1000, 60), Duration::ZERO);
        assert!(matches!(waited.outcome, JobOutcome::Passed(_)));
        assert_eq!(
            events
                .iter()
                .filter(|e| *e == "warning Contradictory DTS answer")
                .count(),
            1,
            "{events:?}"
        );
    }

    fn fail_fast_run(
        scripts: Vec<(&str, Script)>,
        fail_fast: bool,
    ) -> (Vec<Waited>, Vec<String>, Requests) {
        run_jobs_with(
            scripts,
            None,
            schedule(1000, 1800),
            Duration::ZERO,
            fail_fast,
        )
    }

    #[test]
    fn once_a_job_cannot_pass_the_others_are_not_waited_for() {
        let missing = ApiError::Service {
            code: "ResourceNotFound.JobNotExist".into(),
            message: "no such job".into(),
            request_id: "r".into(),
        };
        for failing in [Err(missing), Ok(answer("finished", Some(0)))] {
            // dts-a is polled first (running), then dts-b cannot pass.
            let (waited, _, requests) = fail_fast_run(
                vec![
                    ("dts-a", vec![Ok(answer("running", None))]),
                    ("dts-b", vec![failing.clone()]),
                ],
                true,
            );
            assert_eq!(
                waited[0].outcome,
                JobOutcome::NotWaitedFor {
                    last: Some(answer("running", None))
                }
            );
            assert!(!matches!(
                waited[1].outcome,
                JobOutcome::NotWaitedFor { .. }
            ));
            // One round, not thirty minutes of polling the running job.
            assert_eq!(requests.len(), 2, "{requests:?}");
            // A job that cannot pass first stops the round before the others are asked.
            let (waited, _, requests) = fail_fast_run(
                vec![
                    ("dts-a", vec![failing.clone()]),
                    ("dts-b", vec![Ok(answer("running", None))]),
                ],
                true,
            );
            assert_eq!(waited[1].outcome, JobOutcome::NotWaitedFor { last: None });
            assert_eq!(requests.len(), 1, "{requests:?}");
        }
    }

    #[test]
    fn without_fail_fast_every_job_is_waited_for() {
        let (waited, _, requests) = fail_fast_run(
            vec![
                ("dts-a", vec![Ok(answer("finished", Some(0)))]),
                (
                    "dts-b",
                    vec![Ok(answer("running", None)), Ok(answer("finished", Some(1)))],
                ),
            ],
            false,
        );
        assert!(matches!(waited[0].outcome, JobOutcome::NotPassed(_)));
        assert!(matches!(waited[1].outcome, JobOutcome::Passed(_)));
        assert_eq!(requests.len(), 3);
    }

    #[test]
    fn a_passing_job_does_not_stop_the_wait_for_the_others() {
        let (waited, _, _) = fail_fast_run(
            vec![
                ("dts-a", vec![Ok(answer("finished", Some(1)))]),
                (
                    "dts-b",
                    vec![Ok(answer("running", None)), Ok(answer("finished", Some(1)))],
                ),
            ],
            true,
        );
        assert!(
            waited
                .iter()
                .all(|w| matches!(w.outcome, JobOutcome::Passed(_)))
        );
    }

    #[test]
    fn a_retry_never_announces_a_delay_past_the_deadline() {
        let time = FakeTime::default();
        let mut sleeper = time.clone();
        let probe_time = time.clone();
        let mut announced = Vec::new();
        let mut poller = Poller::new(&time, &mut sleeper, schedule(5000, 12));
        poller.wait_all(
            vec![Job {
                id: "dts-a".into(),
                freshness: None,
            }],
            |_, _| {
                probe_time.advance(Duration::from_millis(10));
                Err(transient())
            },
            |e| {
                if let Event::Retrying { delay, elapsed, .. } = e {
                    announced.push((elapsed, delay));
                }
            },
        );
        assert!(announced.len() >= 2, "{announced:?}");
        for (at, delay) in &announced {
            assert!(*at < Duration::from_secs(12), "a retry announced at {at:?}");
            assert!(
                *at + *delay <= Duration::from_secs(12),
                "at {at:?} the log promised a retry in {delay:?}, past the 12 s deadline"
            );
        }
    }

    fn throttled() -> ApiError {
        ApiError::Service {
            code: "RequestLimitExceeded.RequestLimitExceededError".into(),
            message: "too many requests".into(),
            request_id: "r".into(),
        }
    }

    #[test]
    fn throttling_slows_every_request_and_never_fails_the_job() {
        let running = || Ok(answer("running", None));
        let mut script_a = vec![Err(throttled()), Err(throttled())];
        script_a.extend(std::iter::repeat_n(running(), 5));
        script_a.push(Ok(answer("finished", Some(1))));
        let (waited, _, requests) = run_jobs(
            vec![
                ("dts-a", script_a),
                (
                    "dts-b",
                    vec![running(), running(), Ok(answer("finished", Some(1)))],
                ),
            ],
            None,
            schedule(100, 600),
            Duration::ZERO,
        );
        assert!(
            waited
                .iter()
                .all(|w| matches!(w.outcome, JobOutcome::Passed(_)))
        );
        let gaps: Vec<Duration> = requests.windows(2).map(|p| p[1].1 - p[0].1).collect();
        // At 10/s requests are 100 ms apart. The first throttle halves the rate (200 ms), the
        // second (dts-a's next request, after one of dts-b's) again; answers win it back.
        assert!(gaps[0] >= Duration::from_millis(200), "{gaps:?}");
        assert!(gaps[2] >= Duration::from_millis(380), "{gaps:?}");
        assert!(gaps.last().unwrap() < &gaps[2], "{gaps:?}");
    }

    #[test]
    fn the_request_budget_spaces_requests_whatever_the_number_of_jobs() {
        let time = FakeTime::default();
        let mut sleeper = time.clone();
        let probe_time = time.clone();
        let mut at = Vec::new();
        let jobs: Vec<Job> = (0..20)
            .map(|i| Job {
                id: format!("dts-{i}"),
                freshness: None,
            })
            .collect();
        let mut poller =
            Poller::new(&time, &mut sleeper, schedule(1000, 10)).with_request_budget(4.0);
        poller.wait_all(
            jobs,
            |_, _| {
                at.push(probe_time.elapsed());
                Ok(answer("running", None))
            },
            |_| {},
        );
        for pair in at.windows(2) {
            assert!(pair[1] - pair[0] >= Duration::from_millis(250), "{pair:?}");
        }
        // 20 jobs at 4 per second: a round takes 5 s, so each job's interval stretched to 5 s.
        assert!(at.len() <= 4 * 10 + 20, "{} requests in 10 s", at.len());
    }

    #[test]
    fn a_pass_with_warnings_fails_only_when_asked() {
        let mut warned = answer("success", None);
        warned.api = ApiVersion::V2021;
        warned.check_flag = Some(CheckFlag::Name("checkPass".into()));
        warned.steps = vec![crate::api::CheckStep {
            step_id: "BinlogParamCheck".into(),
            status: "warning".into(),
            ..Default::default()
        }];
        let run = |fail_on_warning: bool| {
            let time = FakeTime::default();
            let mut sleeper = time.clone();
            let mut poller = Poller::new(&time, &mut sleeper, schedule(1000, 60))
                .with_fail_on_warning(fail_on_warning);
            let jobs = vec![Job {
                id: "dts-a".into(),
                freshness: None,
            }];
            poller
                .wait_all(jobs, |_, _| Ok(warned.clone()), |_| {})
                .remove(0)
        };
        assert!(matches!(run(false).outcome, JobOutcome::Passed(_)));
        assert!(matches!(run(true).outcome, JobOutcome::NotPassed(_)));
        // A clean pass passes either way.
        let mut clean = warned.clone();
        clean.steps[0].status = "pass".into();
        assert!(!clean.has_warnings());
        assert!(warned.has_warnings());
    }

    fn unreachable() -> ApiError {
        ApiError::Unreachable {
            detail: "failed to lookup address information: Name or service not known".into(),
        }
    }

    #[test]
    fn an_endpoint_never_reached_is_given_up_after_a_minute_not_the_timeout() {
        let (waited, _, requests) = one_job(
            vec![Err(unreachable())],
            schedule(5000, 1800),
            Duration::from_millis(20),
        );
        let JobOutcome::Failed { error, last: None } = &waited.outcome else {
            panic!("expected a failure, got {:?}", waited.outcome);
        };
        assert!(matches!(error, ApiError::Unreachable { .. }), "{error:?}");
        assert!(
            error.message().contains("gave up before the timeout"),
            "{error}"
        );
        // Retried for a minute (with backoff), not for the 30-minute timeout.
        assert!(requests.len() >= 4, "{} attempts", requests.len());
        assert!(requests.len() <= 10, "{} attempts", requests.len());
    }

    #[test]
    fn once_the_service_answered_an_unreachable_endpoint_is_retried_until_the_deadline() {
        let mut script = vec![Ok(answer("running", None))];
        script.extend(std::iter::repeat_n(Err(unreachable()), 40));
        script.push(Ok(answer("finished", Some(1))));
        let (waited, _, _) = one_job(script, schedule(1000, 1800), Duration::from_millis(20));
        assert!(
            matches!(waited.outcome, JobOutcome::Passed(_)),
            "{:?}",
            waited.outcome
        );
    }

    #[test]
    fn other_network_errors_keep_being_retried_until_the_deadline() {
        let reset = ApiError::Transport {
            detail: "connection reset".into(),
        };
        let (waited, _, _) = one_job(vec![Err(reset)], schedule(1000, 300), Duration::ZERO);
        assert!(
            matches!(
                &waited.outcome,
                JobOutcome::Failed {
                    error: ApiError::Transport { .. },
                    ..
                }
            ),
            "{:?}",
            waited.outcome
        );
    }

    #[test]
    fn transient_errors_are_retried_then_the_check_passes() {
        let (w, events, _) = one_job(
            vec![
                Err(transient()),
                Err(ApiError::Service {
                    code: "RequestLimitExceeded".into(),
                    message: "slow down".into(),
                    request_id: "r".into(),
                }),
                Ok(answer("finished", Some(1))),
            ],
            schedule(1000, 600),
            Duration::ZERO,
        );
        assert!(matches!(w.outcome, JobOutcome::Passed(_)));
        assert_eq!(w.polls, 3);
        assert_eq!(events, ["retry 1", "retry 2", "answer finished"]);
    }

    #[test]
    fn permanent_errors_stop_at_once() {
        let (w, _, _) = one_job(
            vec![
                Ok(answer("running", Some(3))),
                Err(ApiError::Service {
                    code: "AuthFailure.SignatureFailure".into(),
                    message: "bad".into(),
                    request_id: "r".into(),
                }),
                Ok(answer("finished", Some(1))),
            ],
            schedule(1000, 600),
            Duration::ZERO,
        );
        assert_eq!(w.polls, 2);
        assert!(matches!(
            w.outcome,
            JobOutcome::Failed { ref error, last: Some(_) } if error.code() == "AuthFailure.SignatureFailure"
        ));
    }

    #[test]
    fn only_errors_until_the_deadline_is_a_failure_not_a_timeout() {
        let (w, _, _) = one_job(vec![Err(transient())], schedule(1000, 20), Duration::ZERO);
        assert!(
            matches!(w.outcome, JobOutcome::Failed { ref error, last: None } if *error == transient())
        );
    }

    #[test]
    fn errors_after_a_running_answer_end_as_a_timeout_that_remembers_the_error() {
        let (w, _, _) = one_job(
            vec![Ok(answer("running", Some(3))), Err(transient())],
            schedule(1000, 20),
            Duration::ZERO,
        );
        assert!(matches!(
            w.outcome,
            JobOutcome::TimedOut {
                last_error: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn unknown_statuses_keep_polling_and_warn_once() {
        let (w, events, _) = one_job(
            vec![
                Ok(answer("paused", Some(1))),
                Ok(answer("paused", Some(1))),
                Ok(answer("finished", Some(0))),
            ],
            schedule(1000, 600),
            Duration::ZERO,
        );
        assert!(matches!(w.outcome, JobOutcome::NotPassed(_)));
        let warnings = events.iter().filter(|e| e.starts_with("warning")).count();
        assert_eq!(warnings, 1, "{events:?}");
    }

    #[test]
    fn a_long_unavailable_status_warns_once() {
        let (w, events, _) = one_job(
            vec![Ok(answer("unavailable", Some(3)))],
            schedule(5000, 180),
            Duration::ZERO,
        );
        assert!(matches!(w.outcome, JobOutcome::TimedOut { .. }));
        let warnings: Vec<_> = events.iter().filter(|e| e.starts_with("warning")).collect();
        assert_eq!(warnings, ["warning No DTS check yet"]);
    }

    #[test]
    fn deprecation_warning_is_shown_once() {
        let mut a = answer("running", Some(3));
        a.deprecated_warning = Some("moving on".into());
        let (_, events, _) = one_job(
            vec![Ok(a.clone()), Ok(a), Ok(answer("finished", Some(1)))],
            schedule(1000, 600),
            Duration::ZERO,
        );
        let warnings = events.iter().filter(|e| e.starts_with("warning")).count();
        assert_eq!(warnings, 1);
    }

    #[test]
    fn every_job_is_polled_each_round_with_requests_spaced_out() {
        let running = || Ok(answer("running", Some(3)));
        let (waited, _, requests) = run_jobs(
            vec![
                ("dts-a", vec![running(), Ok(answer("finished", Some(1)))]),
                (
                    "dts-b",
                    vec![running(), running(), Ok(answer("finished", Some(0)))],
                ),
                ("dts-c", vec![Ok(answer("finished", Some(1)))]),
            ],
            None,
            schedule(1000, 600),
            Duration::ZERO,
        );
        let results: Vec<&str> = waited.iter().map(|w| w.outcome.result()).collect();
        assert_eq!(results, ["passed", "not-passed", "passed"]);
        let order: Vec<&str> = requests.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            order,
            ["dts-a", "dts-b", "dts-c", "dts-a", "dts-b", "dts-b"]
        );
        for pair in requests.windows(2) {
            assert!(
                pair[1].1 - pair[0].1 >= Duration::from_millis(100),
                "{pair:?}"
            );
        }
    }

    #[test]
    fn many_jobs_stay_far_below_the_rate_limit() {
        let scripts = (0..50)
            .map(|i| (format!("dts-{i:02}"), vec![Ok(answer("running", Some(3)))]))
            .collect::<Vec<_>>();
        let (_, _, requests) = run_jobs(
            scripts
                .iter()
                .map(|(id, s)| (id.as_str(), s.clone()))
                .collect(),
            None,
            schedule(100, 30),
            Duration::ZERO,
        );
        // No one-second window holds more than 10 requests (the API allows 20).
        for (i, r) in requests.iter().enumerate() {
            let in_window = requests[i..]
                .iter()
                .take_while(|q| q.1 < r.1 + Duration::from_secs(1))
                .count();
            assert!(
                in_window <= 10,
                "{in_window} requests in the second after {:?}",
                r.1
            );
        }
    }

    /// The freshness rule of a check created at time zero over a job that showed `prior`.
    fn created_after(prior: &CheckAnswer, grace_secs: u64) -> Freshness {
        Freshness::new(
            Prior::from_answer(Some(prior)),
            Duration::ZERO,
            Duration::from_secs(grace_secs),
        )
    }

    #[test]
    fn a_stale_result_after_a_create_is_not_accepted() {
        let old_pass = answer("finished", Some(1));
        let freshness = created_after(&old_pass, 30);
        let (waited, events, _) = run_jobs(
            vec![(
                "dts-a",
                vec![
                    Ok(old_pass.clone()),
                    Ok(old_pass.clone()),
                    Ok(old_pass),
                    Ok(answer("running", Some(3))),
                    Ok(answer("finished", Some(0))),
                ],
            )],
            Some(freshness),
            schedule(1000, 600),
            Duration::ZERO,
        );
        assert!(
            matches!(waited[0].outcome, JobOutcome::NotPassed(_)),
            "{waited:?}"
        );
        assert_eq!(waited[0].polls, 5);
        assert_eq!(events.iter().filter(|e| e.ends_with("stale")).count(), 1);
    }

    #[test]
    fn until_the_new_check_is_seen_the_gate_polls_every_second_then_gives_up() {
        let old_pass = answer("finished", Some(1));
        let freshness = created_after(&old_pass, 10);
        let (waited, _, requests) = run_jobs(
            vec![("dts-a", vec![Ok(old_pass)])],
            Some(freshness),
            schedule(30_000, 1800),
            Duration::ZERO,
        );
        let JobOutcome::Failed { error, last } = &waited[0].outcome else {
            panic!("expected an error, got {:?}", waited[0].outcome);
        };
        assert_eq!(error.code(), "CreatedCheckNotSeen");
        assert!(last.is_some());
        // Once a second for the ten seconds of grace, not once per 30 s interval.
        let times: Vec<u64> = requests.iter().map(|r| r.1.as_secs()).collect();
        assert_eq!(times, (0..=10).collect::<Vec<_>>());
    }

    #[test]
    fn a_created_check_never_seen_is_timed_from_its_create_call() {
        // The check is created 20 s into the run (after other jobs' creates, say).
        let time = FakeTime::default();
        time.advance(Duration::from_secs(20));
        let mut sleeper = time.clone();
        let old_pass = answer("finished", Some(1));
        let freshness = Freshness::new(
            Prior::from_answer(Some(&old_pass)),
            Duration::from_secs(20),
            Duration::from_secs(10),
        );
        let mut poller = Poller::new(&time, &mut sleeper, schedule(1000, 600));
        let waited = poller.wait_all(
            vec![Job {
                id: "dts-a".into(),
                freshness: Some(freshness),
            }],
            |_, _| Ok(old_pass.clone()),
            |_| {},
        );
        let JobOutcome::Failed { error, .. } = &waited[0].outcome else {
            panic!("expected an error, got {:?}", waited[0].outcome);
        };
        assert!(
            error
                .message()
                .contains(" 10s after the gate created a new check"),
            "{error}"
        );
    }

    #[test]
    fn once_the_new_check_is_seen_the_normal_interval_applies() {
        let old_pass = answer("finished", Some(1));
        let freshness = created_after(&old_pass, 10);
        let (waited, _, requests) = run_jobs(
            vec![(
                "dts-a",
                vec![
                    Ok(old_pass),
                    Ok(answer("running", None)),
                    Ok(answer("running", None)),
                    Ok(answer("finished", Some(1))),
                ],
            )],
            Some(freshness),
            schedule(5_000, 1800),
            Duration::ZERO,
        );
        assert!(matches!(waited[0].outcome, JobOutcome::Passed(_)));
        let times: Vec<u64> = requests.iter().map(|r| r.1.as_secs()).collect();
        assert_eq!(times, [0, 1, 6, 11]);
    }

    #[test]
    fn an_endlessly_stale_result_times_out_rather_than_passes() {
        let old_pass = answer("finished", Some(1));
        let freshness = Freshness::new(Prior::Unknown, Duration::ZERO, Duration::from_secs(3600));
        let (waited, _, _) = run_jobs(
            vec![("dts-a", vec![Ok(old_pass)])],
            Some(freshness),
            schedule(1000, 20),
            Duration::ZERO,
        );
        assert!(matches!(waited[0].outcome, JobOutcome::TimedOut { .. }));
    }

    #[test]
    fn cancellation_stops_the_wait_and_keeps_finished_jobs() {
        let time = FakeTime::default();
        let mut sleeper = time.clone();
        let signal_at = Duration::from_secs(3);
        let clock = time.clone();
        let cancelled = move || (clock.elapsed() >= signal_at).then_some(2);
        let mut poller =
            Poller::new(&time, &mut sleeper, schedule(1000, 600)).with_cancellation(&cancelled);
        let mut requests = 0;
        let waited = poller.wait_all(
            vec![
                Job {
                    id: "dts-a".into(),
                    freshness: None,
                },
                Job {
                    id: "dts-b".into(),
                    freshness: None,
                },
            ],
            |job, _| {
                requests += 1;
                Ok(if job == "dts-a" {
                    answer("finished", Some(1))
                } else {
                    answer("running", Some(3))
                })
            },
            |_| {},
        );
        assert!(matches!(waited[0].outcome, JobOutcome::Passed(_)));
        assert!(matches!(
            waited[1].outcome,
            JobOutcome::Cancelled { signal: 2, last: Some(ref a) } if a.status == "running"
        ));
        // Nothing is sent once the signal arrived.
        assert!(
            time.elapsed() < signal_at + Duration::from_secs(2),
            "{:?}",
            time.elapsed()
        );
        assert!(requests <= 6, "{requests} requests");
        let result: Result<(), ApiError> =
            poller.call_with_retries("dts-b", |_| Ok(()), |_| true, |_| {});
        assert!(result.is_err(), "no call may start after a cancellation");
    }

    #[test]
    fn retries_of_calls_stop_at_permanent_errors_and_the_deadline() {
        let time = FakeTime::default();
        let mut sleeper = time.clone();
        let mut poller = Poller::new(&time, &mut sleeper, schedule(1000, 10));
        let mut calls = 0;
        let result: Result<(), ApiError> = poller.call_with_retries(
            "dts-a",
            |_| {
                calls += 1;
                Err(transient())
            },
            ApiError::is_transient,
            |_| {},
        );
        assert!(result.is_err());
        assert!(calls > 3);
        assert!(time.elapsed() <= Duration::from_secs(10) + FINAL_POLL_GRACE);
        let mut calls = 0;
        let result: Result<(), ApiError> = poller.call_with_retries(
            "dts-a",
            |_| {
                calls += 1;
                Err(transient())
            },
            |_| false,
            |_| {},
        );
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }

    #[test]
    fn retry_delays_grow_and_stay_bounded() {
        let interval = Duration::from_secs(1);
        assert_eq!(retry_delay(1, interval, 0.0), Duration::from_millis(500));
        assert_eq!(retry_delay(1, interval, 1.0), Duration::from_secs(1));
        assert_eq!(retry_delay(3, interval, 1.0), Duration::from_secs(4));
        assert_eq!(retry_delay(50, interval, 1.0), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(50, interval, 0.0), MAX_RETRY_DELAY / 2);
        // A poll interval above the cap is itself the cap.
        let long = Duration::from_secs(60);
        assert_eq!(retry_delay(9, long, 1.0), long);
    }

    #[test]
    fn jitter_stays_in_the_unit_interval() {
        let mut j = Jitter(12345);
        for _ in 0..10_000 {
            let u = j.next_unit();
            assert!((0.0..1.0).contains(&u));
        }
    }
}
