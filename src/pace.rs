//! How fast the gate may send: a request budget (requests per second, for the account's 20 per
//! second per action, shared with every other tool and gate on the same sub-account) and the
//! rate the gate allows itself within it. Throttling answers halve the rate; each answered
//! request wins a little back (additive increase, multiplicative decrease), so several gates
//! sharing an account settle below the limit instead of retrying in lockstep.

use std::time::Duration;

/// The service allows 20 requests per second per action, region and sub-account.
pub const SERVICE_LIMIT: f64 = 20.0;
/// Half the service's limit, leaving room for other tools: today's spacing of 100 ms.
pub const DEFAULT_BUDGET: f64 = 10.0;
/// However often it is throttled, the gate keeps polling at least this often.
pub const MIN_RATE: f64 = 0.2;
/// What one answered request wins back, as a share of the budget: from half the budget back
/// to all of it in a hundred answers, so gates sharing an account probe for headroom slowly
/// and settle instead of throttling each other again at once.
const INCREASE_SHARE: f64 = 1.0 / 200.0;

/// The current sending rate within a budget.
#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    budget: f64,
    rate: f64,
    throttled: u32,
}

impl Pace {
    /// A pace that starts at the whole `budget` (requests per second).
    pub fn new(budget: f64) -> Pace {
        let budget = budget.clamp(MIN_RATE, SERVICE_LIMIT);
        Pace {
            budget,
            rate: budget,
            throttled: 0,
        }
    }

    /// The least time between two requests at the current rate.
    pub fn spacing(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.rate)
    }

    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Throttling answers seen so far.
    pub fn throttled(&self) -> u32 {
        self.throttled
    }

    /// Folds in one reply: `throttled` when the service answered `RequestLimitExceeded`.
    pub fn after_reply(&mut self, throttled: bool) {
        if throttled {
            self.throttled += 1;
            self.rate = (self.rate / 2.0).max(MIN_RATE);
        } else {
            self.rate = (self.rate + self.budget * INCREASE_SHARE).min(self.budget);
        }
    }
}

/// How often each of `jobs` is really polled when every job is due each `interval` and the
/// requests may not exceed `budget` per second: the interval, or longer.
pub fn effective_interval(jobs: usize, interval: Duration, budget: f64) -> Duration {
    let round = Duration::from_secs_f64(jobs as f64 / budget.clamp(MIN_RATE, SERVICE_LIMIT));
    interval.max(round)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_halves_the_rate_and_answers_win_it_back_slowly() {
        let mut pace = Pace::new(10.0);
        assert_eq!(pace.spacing(), Duration::from_millis(100));
        pace.after_reply(true);
        assert_eq!(pace.rate(), 5.0);
        pace.after_reply(true);
        assert_eq!(pace.rate(), 2.5);
        assert_eq!(pace.throttled(), 2);
        for _ in 0..50 {
            pace.after_reply(false);
        }
        assert!((pace.rate() - 5.0).abs() < 1e-9, "{}", pace.rate());
        for _ in 0..500 {
            pace.after_reply(false);
        }
        assert_eq!(pace.rate(), 10.0, "never above the budget");
    }

    #[test]
    fn the_rate_stays_between_the_floor_and_the_service_limit() {
        let mut pace = Pace::new(100.0);
        assert_eq!(pace.rate(), SERVICE_LIMIT);
        for _ in 0..50 {
            pace.after_reply(true);
        }
        assert_eq!(pace.rate(), MIN_RATE);
        assert_eq!(pace.spacing(), Duration::from_secs(5));
    }

    #[test]
    fn many_jobs_stretch_the_interval_rather_than_the_rate() {
        let second = Duration::from_secs(1);
        assert_eq!(effective_interval(5, second, 10.0), second);
        assert_eq!(
            effective_interval(100, second, 10.0),
            Duration::from_secs(10)
        );
        assert_eq!(
            effective_interval(40, Duration::from_secs(5), 4.0),
            Duration::from_secs(10)
        );
    }
}
