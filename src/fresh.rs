//! The freshness rule for `DTS_CREATE_CHECK`: after the gate creates a check, it must never
//! accept the result of the check that existed before, even though the service may keep
//! returning that old `finished` answer for a while after the create call (the new check
//! queued, or slow to appear).
//!
//! The gate reads the job's answer just before creating the check (the *prior*). A finished
//! answer is the new check's result when:
//! 1. since the create call the gate has seen the check unfinished (`starting`, `running`, …):
//!    an old result never goes back to running, so what finishes next is the new check;
//! 2. it differs from the prior one (another flag, message or step list): a newer result;
//! 3. the prior read showed no finished result at all: there is nothing stale to confuse.
//!
//! Any other finished answer is the prior result, or may be: it is ignored (and said so in the
//! log) while the gate polls about once a second to catch the new check running. When the
//! grace period (`DTS_CREATE_GRACE`) ends with nothing else seen, the created check never
//! appeared: a *pass* identical to the prior one is then an error, never a pass, while a
//! not-passed result still fails the gate (failing closed costs nothing).

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

/// How soon to poll while the new check has not been seen: a check that runs for a few
/// seconds must still be caught running.
pub const FAST_POLL: Duration = Duration::from_secs(1);

/// What an answer read after the create call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// The new check's state or result: use it.
    Fresh,
    /// Possibly the previous check's result: ignore it and keep polling.
    Stale,
    /// The grace period is over and the service still shows only the previous passed result:
    /// the created check never appeared. An error, never a pass.
    NeverAppeared,
}

/// Tracks one job's evidence that what it reads is the check the gate created.
#[derive(Debug, Clone)]
pub struct Freshness {
    prior: Prior,
    created_at: Duration,
    grace: Duration,
    /// The new check has been seen (unfinished, or a result other than the prior one).
    confirmed: bool,
}

impl Freshness {
    /// `created_at` is the gate's elapsed time when the create call returned.
    pub fn new(prior: Prior, created_at: Duration, grace: Duration) -> Freshness {
        Freshness {
            confirmed: prior == Prior::NoResult,
            prior,
            created_at,
            grace,
        }
    }

    /// How long ago, at `elapsed`, the create call returned.
    pub fn since_created(&self, elapsed: Duration) -> Duration {
        elapsed.saturating_sub(self.created_at)
    }

    /// Whether the new check has been seen yet; until then the gate polls fast.
    pub fn confirmed(&self) -> bool {
        self.confirmed
    }

    /// What `answer`, read at `elapsed`, is. Unfinished answers are always fresh (they only
    /// keep the gate polling) and confirm the new check (rule 1).
    pub fn judge(&mut self, answer: &CheckAnswer, elapsed: Duration) -> Judgement {
        let decision = decide(answer);
        if decision == Decision::KeepPolling {
            self.confirmed = true;
            return Judgement::Fresh;
        }
        if !self.confirmed
            && let Prior::Finished(before) = &self.prior
            && *before != fingerprint(answer)
        {
            self.confirmed = true;
        }
        if self.confirmed {
            return Judgement::Fresh;
        }
        if self.since_created(elapsed) < self.grace {
            return Judgement::Stale;
        }
        match decision {
            Decision::NotPassed => Judgement::Fresh,
            _ => Judgement::NeverAppeared,
        }
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

    use Judgement::{Fresh, NeverAppeared, Stale};

    #[test]
    fn the_old_result_is_refused_until_the_check_is_seen_running() {
        let old = answer("finished", Some(1), "ok");
        let mut f = Freshness::new(Prior::from_answer(Some(&old)), T0, GRACE);
        assert!(!f.confirmed());
        // The same answer, even with another RequestId, is stale.
        let mut again = old.clone();
        again.request_id = "other".into();
        assert_eq!(f.judge(&again, after(1)), Stale);
        assert_eq!(f.judge(&old, after(2)), Stale);
        assert_eq!(f.judge(&answer("running", Some(3), ""), after(3)), Fresh);
        assert!(f.confirmed());
        assert_eq!(f.judge(&old, after(4)), Fresh);
    }

    #[test]
    fn a_different_finished_result_is_newer() {
        let old = answer("finished", Some(1), "ok");
        let mut f = Freshness::new(Prior::from_answer(Some(&old)), T0, GRACE);
        assert_eq!(
            f.judge(&answer("finished", Some(0), "table missing"), after(1)),
            Fresh
        );
        assert!(f.confirmed());
    }

    #[test]
    fn an_identical_pass_is_never_a_pass_without_the_new_check_seen() {
        let old = answer("finished", Some(1), "ok");
        let mut f = Freshness::new(Prior::from_answer(Some(&old)), T0, GRACE);
        assert_eq!(f.judge(&old, after(29)), Stale);
        assert_eq!(f.judge(&old, after(30)), NeverAppeared);
        assert_eq!(f.judge(&old, after(3000)), NeverAppeared);
    }

    #[test]
    fn an_identical_failure_after_the_grace_period_still_fails() {
        let old = answer("finished", Some(0), "table missing");
        let mut f = Freshness::new(Prior::from_answer(Some(&old)), T0, GRACE);
        assert_eq!(f.judge(&old, after(29)), Stale);
        assert_eq!(f.judge(&old, after(30)), Fresh);
    }

    #[test]
    fn no_prior_result_means_nothing_stale() {
        let prior = Prior::from_answer(Some(&answer("unavailable", Some(3), "")));
        assert_eq!(prior, Prior::NoResult);
        let mut f = Freshness::new(prior, T0, GRACE);
        assert!(f.confirmed());
        assert_eq!(f.judge(&answer("finished", Some(1), "ok"), after(0)), Fresh);
    }

    #[test]
    fn an_unknown_prior_waits_for_the_new_check_and_never_passes_without_it() {
        let mut f = Freshness::new(Prior::from_answer(None), T0, GRACE);
        assert_eq!(f.judge(&answer("finished", Some(1), "ok"), after(1)), Stale);
        assert_eq!(f.judge(&answer("finished", Some(0), "x"), after(2)), Stale);
        assert_eq!(
            f.judge(&answer("finished", Some(1), "ok"), after(31)),
            NeverAppeared
        );
        assert_eq!(f.judge(&answer("finished", Some(0), "x"), after(32)), Fresh);
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
