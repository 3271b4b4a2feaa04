//! The wait loop. Time comes in through [`Clock`] and [`Sleeper`], and the request through a
//! closure, so tests drive hours of polling in microseconds and never touch the network.
//!
//! Deadline rule: the last poll happens at the deadline itself (a check that finishes just
//! before the timeout is still seen), and each request's time budget ends at most
//! [`FINAL_POLL_GRACE`] after the deadline.

use std::collections::HashSet;
use std::time::Duration;

use crate::api::{ApiError, CheckAnswer, MAX_REQUEST_TIME};
use crate::outcome::{Decision, Outcome, decide};

/// How long the last request may run past the deadline; the gate ends by then.
pub const FINAL_POLL_GRACE: Duration = Duration::from_secs(2);
/// `unavailable` this long suggests no check was ever created for the job.
pub const UNAVAILABLE_WARNING_AFTER: Duration = Duration::from_secs(60);
/// Retries back off exponentially up to this (or the poll interval, if longer).
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(30);

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
    /// Seeds the retry jitter; any value works, a random one spreads retries of parallel jobs.
    pub jitter_seed: u64,
}

/// Something worth telling the user while waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<'a> {
    Answer {
        answer: &'a CheckAnswer,
        poll: u32,
        elapsed: Duration,
    },
    Retrying {
        error: &'a ApiError,
        attempt: u32,
        delay: Duration,
        elapsed: Duration,
    },
    Warning {
        title: &'static str,
        message: String,
    },
}

/// How the wait ended, and what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waited {
    pub outcome: Outcome,
    pub polls: u32,
    pub elapsed: Duration,
}

/// Polls `probe` (which gets the request's time budget) until the check finishes, a permanent
/// error occurs, or the timeout passes. `observe` sees every answer, retry and warning.
pub fn wait<P, C, S, O>(
    mut probe: P,
    clock: &C,
    sleeper: &mut S,
    schedule: Schedule,
    mut observe: O,
) -> Waited
where
    P: FnMut(Duration) -> Result<CheckAnswer, ApiError>,
    C: Clock + ?Sized,
    S: Sleeper + ?Sized,
    O: FnMut(Event),
{
    let mut jitter = Jitter(schedule.jitter_seed | 1);
    let mut polls = 0u32;
    let mut last: Option<CheckAnswer> = None;
    let mut last_error: Option<ApiError>;
    let mut failed_attempts = 0u32;
    let mut warned_statuses: HashSet<String> = HashSet::new();
    let mut warned_deprecated = false;
    let mut unavailable_since: Option<Duration> = None;
    let mut warned_unavailable = false;

    let finish = |outcome, polls| Waited {
        outcome,
        polls,
        elapsed: clock.elapsed(),
    };

    loop {
        let remaining = schedule.timeout.saturating_sub(clock.elapsed());
        let budget = (remaining + FINAL_POLL_GRACE).min(MAX_REQUEST_TIME);
        polls += 1;
        let delay = match probe(budget) {
            Ok(answer) => {
                let elapsed = clock.elapsed();
                observe(Event::Answer {
                    answer: &answer,
                    poll: polls,
                    elapsed,
                });
                if let Some(text) = &answer.deprecated_warning
                    && !warned_deprecated
                {
                    warned_deprecated = true;
                    observe(Event::Warning {
                        title: "DTS API deprecation",
                        message: text.clone(),
                    });
                }
                if !answer
                    .api
                    .known_statuses()
                    .contains(&answer.status.as_str())
                    && warned_statuses.insert(answer.status.clone())
                {
                    observe(Event::Warning {
                        title: "Unknown DTS check status",
                        message: format!(
                            "the service reported Status {:?}, which this gate does not know; it keeps polling and will not treat it as a pass",
                            answer.status
                        ),
                    });
                }
                if answer.status == answer.api.not_started_status() {
                    let since = *unavailable_since.get_or_insert(elapsed);
                    if !warned_unavailable && elapsed - since >= UNAVAILABLE_WARNING_AFTER {
                        warned_unavailable = true;
                        observe(Event::Warning {
                            title: "No DTS check yet",
                            message: format!(
                                "the check has been `{}` for {}s: no check may have been created for this job; run CreateMigrateCheckJob first",
                                answer.status,
                                (elapsed - since).as_secs()
                            ),
                        });
                    }
                } else {
                    unavailable_since = None;
                }
                failed_attempts = 0;
                last_error = None;
                match decide(&answer) {
                    Decision::Passed => return finish(Outcome::Passed(answer), polls),
                    Decision::NotPassed => return finish(Outcome::NotPassed(answer), polls),
                    Decision::KeepPolling => {}
                }
                last = Some(answer);
                schedule.interval
            }
            Err(error) if !error.is_transient() => {
                return finish(Outcome::Failed { error, last }, polls);
            }
            Err(error) => {
                failed_attempts += 1;
                let delay = retry_delay(failed_attempts, schedule.interval, jitter.next_unit());
                observe(Event::Retrying {
                    error: &error,
                    attempt: failed_attempts,
                    delay,
                    elapsed: clock.elapsed(),
                });
                last_error = Some(error);
                delay
            }
        };

        let elapsed = clock.elapsed();
        if elapsed >= schedule.timeout {
            let outcome = match (last, last_error) {
                (Some(last), last_error) => Outcome::TimedOut { last, last_error },
                (None, Some(error)) => Outcome::Failed { error, last: None },
                (None, None) => unreachable!("every poll yields an answer or an error"),
            };
            return finish(outcome, polls);
        }
        sleeper.sleep(delay.min(schedule.timeout - elapsed));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// A clock that only moves when someone sleeps or a request "takes time".
    #[derive(Clone, Default)]
    struct FakeTime(Rc<Cell<Duration>>);

    impl Clock for FakeTime {
        fn elapsed(&self) -> Duration {
            self.0.get()
        }
    }

    impl Sleeper for FakeTime {
        fn sleep(&mut self, duration: Duration) {
            self.0.set(self.0.get() + duration);
        }
    }

    fn answer(status: &str, flag: Option<i64>) -> CheckAnswer {
        CheckAnswer {
            api: crate::api::ApiVersion::V2018,
            steps: Vec::new(),
            status: status.into(),
            check_flag: flag.map(crate::api::CheckFlag::Code),
            progress: Some("50".into()),
            error_code: Some(0),
            error_message: String::new(),
            request_id: format!("req-{status}"),
            deprecated_warning: None,
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

    /// Runs the loop over scripted replies (the last one repeats), each taking `latency`.
    fn run_script(
        replies: Vec<Result<CheckAnswer, ApiError>>,
        schedule: Schedule,
        latency: Duration,
    ) -> (Waited, Vec<String>, Vec<Duration>) {
        let time = FakeTime::default();
        let mut sleeper = time.clone();
        let mut script: VecDeque<_> = replies.into();
        let mut budgets = Vec::new();
        let mut events = Vec::new();
        let probe_time = time.clone();
        let probe = |budget: Duration| {
            budgets.push(budget);
            probe_time.0.set(probe_time.0.get() + latency.min(budget));
            if script.len() > 1 {
                script.pop_front().unwrap()
            } else {
                script.front().cloned().unwrap()
            }
        };
        let waited = wait(probe, &time, &mut sleeper, schedule, |e| {
            events.push(match e {
                Event::Answer { answer, .. } => format!("answer {}", answer.status),
                Event::Retrying { attempt, .. } => format!("retry {attempt}"),
                Event::Warning { title, .. } => format!("warning {title}"),
            })
        });
        (waited, events, budgets)
    }

    #[test]
    fn passes_after_the_check_finishes() {
        let (w, events, _) = run_script(
            vec![
                Ok(answer("starting", Some(3))),
                Ok(answer("running", Some(3))),
                Ok(answer("finished", Some(1))),
            ],
            schedule(5000, 600),
            Duration::ZERO,
        );
        assert!(matches!(w.outcome, Outcome::Passed(ref a) if a.request_id == "req-finished"));
        assert_eq!(w.polls, 3);
        assert_eq!(w.elapsed, Duration::from_secs(10));
        assert_eq!(
            events,
            ["answer starting", "answer running", "answer finished"]
        );
    }

    #[test]
    fn a_finished_check_that_did_not_pass_fails_at_once() {
        for flag in [0, 3, 2] {
            let (w, _, _) = run_script(
                vec![Ok(answer("finished", Some(flag)))],
                schedule(5000, 600),
                Duration::ZERO,
            );
            assert!(matches!(w.outcome, Outcome::NotPassed(_)), "{flag}");
            assert_eq!(w.polls, 1);
        }
    }

    #[test]
    fn times_out_with_a_final_poll_at_the_deadline() {
        let (w, _, budgets) = run_script(
            vec![Ok(answer("running", Some(3)))],
            schedule(4000, 10),
            Duration::ZERO,
        );
        // Polls at 0, 4, 8 and the deadline, 10.
        assert_eq!(w.polls, 4);
        assert_eq!(w.elapsed, Duration::from_secs(10));
        assert!(
            matches!(w.outcome, Outcome::TimedOut { ref last, last_error: None } if last.status == "running")
        );
        assert_eq!(budgets.last(), Some(&FINAL_POLL_GRACE));
    }

    #[test]
    fn the_last_request_never_outlives_the_deadline_by_more_than_the_grace() {
        // Every request hangs until its budget runs out.
        let (w, _, budgets) = run_script(
            vec![Err(ApiError::Transport {
                detail: "timed out".into(),
            })],
            schedule(1000, 45),
            Duration::from_secs(3600),
        );
        assert!(
            w.elapsed <= Duration::from_secs(45) + FINAL_POLL_GRACE,
            "{:?}",
            w.elapsed
        );
        assert!(budgets.iter().all(|b| *b <= MAX_REQUEST_TIME));
        assert!(matches!(w.outcome, Outcome::Failed { last: None, .. }));
    }

    #[test]
    fn transient_errors_are_retried_then_the_check_passes() {
        let (w, events, _) = run_script(
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
        assert!(w.outcome.passed());
        assert_eq!(w.polls, 3);
        assert_eq!(events, ["retry 1", "retry 2", "answer finished"]);
    }

    #[test]
    fn permanent_errors_stop_at_once() {
        let (w, _, _) = run_script(
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
            Outcome::Failed { ref error, last: Some(_) } if error.code() == "AuthFailure.SignatureFailure"
        ));
    }

    #[test]
    fn only_errors_until_the_deadline_is_a_failure_not_a_timeout() {
        let (w, _, _) = run_script(vec![Err(transient())], schedule(1000, 20), Duration::ZERO);
        assert!(
            matches!(w.outcome, Outcome::Failed { ref error, last: None } if *error == transient())
        );
        assert_eq!(w.elapsed, Duration::from_secs(20));
    }

    #[test]
    fn errors_after_a_running_answer_end_as_a_timeout_that_remembers_the_error() {
        let (w, _, _) = run_script(
            vec![Ok(answer("running", Some(3))), Err(transient())],
            schedule(1000, 20),
            Duration::ZERO,
        );
        assert!(matches!(
            w.outcome,
            Outcome::TimedOut {
                last_error: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn unknown_statuses_keep_polling_and_warn_once() {
        let (w, events, _) = run_script(
            vec![
                Ok(answer("paused", Some(1))),
                Ok(answer("paused", Some(1))),
                Ok(answer("finished", Some(0))),
            ],
            schedule(1000, 600),
            Duration::ZERO,
        );
        assert!(matches!(w.outcome, Outcome::NotPassed(_)));
        let warnings = events.iter().filter(|e| e.starts_with("warning")).count();
        assert_eq!(warnings, 1, "{events:?}");
    }

    #[test]
    fn a_long_unavailable_status_warns_once() {
        let (w, events, _) = run_script(
            vec![Ok(answer("unavailable", Some(3)))],
            schedule(5000, 180),
            Duration::ZERO,
        );
        assert!(matches!(w.outcome, Outcome::TimedOut { .. }));
        let warnings: Vec<_> = events.iter().filter(|e| e.starts_with("warning")).collect();
        assert_eq!(warnings, ["warning No DTS check yet"]);
    }

    #[test]
    fn deprecation_warning_is_shown_once() {
        let mut a = answer("running", Some(3));
        a.deprecated_warning = Some("moving on".into());
        let (_, events, _) = run_script(
            vec![Ok(a.clone()), Ok(a), Ok(answer("finished", Some(1)))],
            schedule(1000, 600),
            Duration::ZERO,
        );
        let warnings = events.iter().filter(|e| e.starts_with("warning")).count();
        assert_eq!(warnings, 1);
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
