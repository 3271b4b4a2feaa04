//! The freshness rule for `DTS_CREATE_CHECK`: after the gate creates a check, it must never
//! accept the result of the check that existed before, even though the service may keep
//! returning that old `finished` answer for a moment after the create call.
//!
//! The gate reads the job's answer just before creating the check (the *prior*), then accepts
//! a finished answer only when one of these holds:
//! 1. since the create call it has seen the check unfinished (`starting`, `running`, …): an old
//!    result never goes back to running, so what finishes next is the new check;
//! 2. the finished answer differs from the prior one (another flag, message or step list):
//!    it is a newer result;
//! 3. the prior read showed no finished result at all: there is nothing stale to confuse;
//! 4. the grace period (`DTS_CREATE_GRACE`) has passed since the create call: the service has
//!    long replaced the old result, so an identical answer is the new check finishing the same.
//!
//! Until then a finished answer is ignored (and said so in the log), and the gate keeps polling.

use std::time::Duration;

use crate::api::CheckAnswer;
use crate::outcome::{Decision, decide};

/// What the job's answer looked like just before the gate created its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prior {
    /// No finished result: unavailable, not started, or a check still running.
    NoResult,
    /// A finished result, reduced to what distinguishes one result from another.
    Finished(Fingerprint),
    /// The read failed; assume the worst.
    Unknown,
}

/// The parts of a finished answer that tell two results apart (never the `RequestId`, which
/// changes with every read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

pub fn fingerprint(answer: &CheckAnswer) -> Fingerprint {
    let steps: Vec<String> = answer
        .steps
        .iter()
        .map(|s| {
            let items: Vec<String> = s
                .items
                .iter()
                .map(|i| format!("{}={}:{}", i.name, i.result, i.failure_reason))
                .collect();
            format!("{}={}[{}]", s.step_id, s.status, items.join(","))
        })
        .collect();
    Fingerprint(format!(
        "{}|{:?}|{:?}|{:?}|{}|{}",
        answer.status,
        answer.check_flag,
        answer.error_code,
        answer.progress,
        answer.error_message,
        steps.join(";")
    ))
}

impl Prior {
    /// The prior of a job from its answer just before the create call.
    pub fn from_answer(answer: Option<&CheckAnswer>) -> Prior {
        match answer {
            None => Prior::Unknown,
            Some(a) if decide(a) == Decision::KeepPolling => Prior::NoResult,
            Some(a) => Prior::Finished(fingerprint(a)),
        }
    }
}

/// Tracks one job's evidence that what it reads is the check the gate created.
#[derive(Debug, Clone)]
pub struct Freshness {
    prior: Prior,
    created_at: Duration,
    grace: Duration,
    seen_unfinished: bool,
}

impl Freshness {
    /// `created_at` is the gate's elapsed time when the create call returned.
    pub fn new(prior: Prior, created_at: Duration, grace: Duration) -> Freshness {
        Freshness {
            prior,
            created_at,
            grace,
            seen_unfinished: false,
        }
    }

    /// Whether `answer`, read at `elapsed`, may be taken as the result of the gate's check.
    /// Unfinished answers are always admitted (they only keep the gate polling) and count as
    /// evidence for rule 1.
    pub fn admits(&mut self, answer: &CheckAnswer, elapsed: Duration) -> bool {
        if decide(answer) == Decision::KeepPolling {
            self.seen_unfinished = true;
            return true;
        }
        self.seen_unfinished
            || match &self.prior {
                Prior::NoResult => true,
                Prior::Finished(before) => *before != fingerprint(answer),
                Prior::Unknown => false,
            }
            || elapsed.saturating_sub(self.created_at) >= self.grace
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiVersion, CheckFlag};

    fn answer(status: &str, flag: Option<i64>, message: &str) -> CheckAnswer {
        CheckAnswer {
            api: ApiVersion::V2018,
            status: status.into(),
            check_flag: flag.map(CheckFlag::Code),
            progress: Some("100".into()),
            error_code: Some(0),
            error_message: message.into(),
            request_id: format!("{status}-{message}"),
            deprecated_warning: None,
            steps: Vec::new(),
        }
    }

    const GRACE: Duration = Duration::from_secs(30);
    const T0: Duration = Duration::from_secs(5);

    fn after(secs: u64) -> Duration {
        T0 + Duration::from_secs(secs)
    }

    #[test]
    fn the_old_result_is_refused_until_the_check_is_seen_running() {
        let old = answer("finished", Some(1), "ok");
        let mut f = Freshness::new(Prior::from_answer(Some(&old)), T0, GRACE);
        // The same answer, even with another RequestId, is stale.
        let mut again = old.clone();
        again.request_id = "other".into();
        assert!(!f.admits(&again, after(1)));
        assert!(!f.admits(&old, after(2)));
        assert!(f.admits(&answer("running", Some(3), ""), after(3)));
        assert!(f.admits(&old, after(4)));
    }

    #[test]
    fn a_different_finished_result_is_newer() {
        let old = answer("finished", Some(1), "ok");
        let mut f = Freshness::new(Prior::from_answer(Some(&old)), T0, GRACE);
        assert!(f.admits(&answer("finished", Some(0), "table missing"), after(1)));
    }

    #[test]
    fn an_identical_result_is_accepted_after_the_grace_period() {
        let old = answer("finished", Some(1), "ok");
        let mut f = Freshness::new(Prior::from_answer(Some(&old)), T0, GRACE);
        assert!(!f.admits(&old, after(29)));
        assert!(f.admits(&old, after(30)));
    }

    #[test]
    fn no_prior_result_means_nothing_stale() {
        let prior = Prior::from_answer(Some(&answer("unavailable", Some(3), "")));
        assert_eq!(prior, Prior::NoResult);
        let mut f = Freshness::new(prior, T0, GRACE);
        assert!(f.admits(&answer("finished", Some(1), "ok"), after(0)));
    }

    #[test]
    fn an_unknown_prior_waits_for_evidence() {
        let mut f = Freshness::new(Prior::from_answer(None), T0, GRACE);
        assert!(!f.admits(&answer("finished", Some(1), "ok"), after(1)));
        assert!(!f.admits(&answer("finished", Some(0), "x"), after(2)));
        assert!(f.admits(&answer("finished", Some(1), "ok"), after(31)));
    }

    #[test]
    fn fingerprints_ignore_request_ids_but_see_steps() {
        let a = answer("finished", Some(1), "ok");
        let mut b = a.clone();
        b.request_id = "zzz".into();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.steps.push(crate::api::CheckStep {
            step_id: "VersionCheck".into(),
            status: "pass".into(),
            ..Default::default()
        });
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
