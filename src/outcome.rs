//! The verdict: what an answer means, how a run ended, and which exit code that is.
//! Pure and small on purpose: this is the part that must never let a bad migration through.

use crate::api::{ApiError, ApiVersion, CheckAnswer, CheckFlag};
use crate::config::ConfigError;

/// What one answer means for the wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    KeepPolling,
    Passed,
    NotPassed,
}

/// 2018-03-30: pass only on `Status` `finished` with `CheckFlag` `1`; any other flag of a
/// finished check, documented (`0` not passed, `3` not checked) or not, is a failure.
///
/// 2021-12-06: pass only on `Status` `success` with `CheckFlag` `checkPass`. `checkNotPass`
/// fails; `Status` `failed` (the check task itself failed to run) fails; `success` with any
/// other flag fails. `notStarted` and `running` keep polling.
pub fn decide(answer: &CheckAnswer) -> Decision {
    let flag = answer.check_flag.as_ref();
    match answer.api {
        ApiVersion::V2018 => match (answer.status.as_str(), flag) {
            ("finished", Some(CheckFlag::Code(1))) => Decision::Passed,
            ("finished", _) => Decision::NotPassed,
            _ => Decision::KeepPolling,
        },
        ApiVersion::V2021 => match (answer.status.as_str(), flag) {
            ("success", Some(CheckFlag::Name(name))) if name == "checkPass" => Decision::Passed,
            ("success" | "failed", _) => Decision::NotPassed,
            (_, Some(CheckFlag::Name(name))) if name == "checkNotPass" => Decision::NotPassed,
            _ => Decision::KeepPolling,
        },
    }
}

/// The meaning of a `CheckFlag`, as the service and its SDKs define it (not the English
/// 2018 reference, which has 0 and 1 swapped).
pub fn check_flag_meaning(flag: &CheckFlag) -> &'static str {
    match flag {
        CheckFlag::Code(1) => "passed",
        CheckFlag::Code(0) => "not passed",
        CheckFlag::Code(3) => "not checked",
        CheckFlag::Name(name) if name == "checkPass" => "passed",
        CheckFlag::Name(name) if name == "checkNotPass" => "not passed",
        _ => "undocumented value",
    }
}

/// The 2021 check task itself failed to run: no verdict on the job, but not a pass either.
pub fn is_task_failure(answer: &CheckAnswer) -> bool {
    answer.api == ApiVersion::V2021 && answer.status == "failed"
}

/// How a run of the gate ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The service reported a finished check that passed.
    Passed(CheckAnswer),
    /// The service reported a finished check that did not pass.
    NotPassed(CheckAnswer),
    /// The deadline passed while the check was still going (`last` is its last answer).
    TimedOut {
        last: CheckAnswer,
        last_error: Option<ApiError>,
    },
    /// A permanent API error, or no valid answer at all before the deadline.
    Failed {
        error: ApiError,
        last: Option<CheckAnswer>,
    },
    /// The configuration is invalid; nothing was sent.
    InvalidConfig(Vec<ConfigError>),
}

/// The process exit code of each outcome; GitHub only sees zero or not, scripts see why.
pub fn exit_code(outcome: &Outcome) -> u8 {
    match outcome {
        Outcome::Passed(_) => 0,
        Outcome::NotPassed(_) => 1,
        Outcome::InvalidConfig(_) => 2,
        Outcome::Failed { .. } => 3,
        Outcome::TimedOut { .. } => 4,
    }
}

impl Outcome {
    /// The `result` output.
    pub fn result(&self) -> &'static str {
        match self {
            Outcome::Passed(_) => "passed",
            Outcome::NotPassed(_) => "not-passed",
            Outcome::TimedOut { .. } => "timed-out",
            Outcome::Failed { .. } | Outcome::InvalidConfig(_) => "error",
        }
    }

    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed(_))
    }

    /// The last check answer the service gave, if any.
    pub fn last_answer(&self) -> Option<&CheckAnswer> {
        match self {
            Outcome::Passed(a) | Outcome::NotPassed(a) => Some(a),
            Outcome::TimedOut { last, .. } => Some(last),
            Outcome::Failed { last, .. } => last.as_ref(),
            Outcome::InvalidConfig(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: &str, flag: Option<i64>) -> CheckAnswer {
        CheckAnswer {
            api: ApiVersion::V2018,
            status: status.into(),
            check_flag: flag.map(CheckFlag::Code),
            progress: None,
            error_code: None,
            error_message: String::new(),
            request_id: "r".into(),
            deprecated_warning: None,
            steps: Vec::new(),
        }
    }

    fn answer_2021(status: &str, flag: Option<&str>) -> CheckAnswer {
        CheckAnswer {
            api: ApiVersion::V2021,
            check_flag: flag.map(|f| CheckFlag::Name(f.into())),
            ..answer(status, None)
        }
    }

    #[test]
    fn only_success_with_check_pass_passes_in_2021() {
        assert_eq!(
            decide(&answer_2021("success", Some("checkPass"))),
            Decision::Passed
        );
        for (status, flag) in [
            ("success", Some("checkNotPass")),
            ("success", None),
            ("success", Some("checkpass")),
            ("success", Some("1")),
            ("failed", Some("checkPass")),
            ("failed", None),
            ("running", Some("checkNotPass")),
            ("notStarted", Some("checkNotPass")),
        ] {
            assert_eq!(
                decide(&answer_2021(status, flag)),
                Decision::NotPassed,
                "{status} {flag:?}"
            );
        }
        for (status, flag) in [
            ("running", None),
            ("notStarted", None),
            ("running", Some("checkPass")),
            ("finished", Some("checkPass")),
            ("paused", None),
        ] {
            assert_eq!(
                decide(&answer_2021(status, flag)),
                Decision::KeepPolling,
                "{status} {flag:?}"
            );
        }
        // A 2018-style answer never passes as 2021, and the other way round.
        let mut crossed = answer("finished", Some(1));
        crossed.api = ApiVersion::V2021;
        assert_ne!(decide(&crossed), Decision::Passed);
        let mut crossed = answer_2021("success", Some("checkPass"));
        crossed.api = ApiVersion::V2018;
        assert_ne!(decide(&crossed), Decision::Passed);
        assert!(is_task_failure(&answer_2021("failed", None)));
        assert!(!is_task_failure(&answer("failed", None)));
    }

    #[test]
    fn only_finished_with_flag_one_passes() {
        assert_eq!(decide(&answer("finished", Some(1))), Decision::Passed);
        for flag in [Some(0), Some(3), Some(2), Some(-1), Some(11), None] {
            assert_eq!(
                decide(&answer("finished", flag)),
                Decision::NotPassed,
                "{flag:?}"
            );
        }
        for status in ["running", "starting", "unavailable", "Finished", "done", ""] {
            assert_eq!(
                decide(&answer(status, Some(1))),
                Decision::KeepPolling,
                "{status}"
            );
        }
    }

    #[test]
    fn flag_meanings_follow_the_service() {
        assert_eq!(check_flag_meaning(&CheckFlag::Code(1)), "passed");
        assert_eq!(check_flag_meaning(&CheckFlag::Code(0)), "not passed");
        assert_eq!(check_flag_meaning(&CheckFlag::Code(3)), "not checked");
        assert_eq!(
            check_flag_meaning(&CheckFlag::Code(2)),
            "undocumented value"
        );
        let name = |n: &str| CheckFlag::Name(n.into());
        assert_eq!(check_flag_meaning(&name("checkPass")), "passed");
        assert_eq!(check_flag_meaning(&name("checkNotPass")), "not passed");
        assert_eq!(check_flag_meaning(&name("1")), "undocumented value");
    }

    #[test]
    fn exit_codes_and_results() {
        let err = ApiError::Transport {
            detail: "refused".into(),
        };
        let cases = [
            (Outcome::Passed(answer("finished", Some(1))), 0, "passed"),
            (
                Outcome::NotPassed(answer("finished", Some(0))),
                1,
                "not-passed",
            ),
            (Outcome::InvalidConfig(vec![]), 2, "error"),
            (
                Outcome::Failed {
                    error: err.clone(),
                    last: None,
                },
                3,
                "error",
            ),
            (
                Outcome::TimedOut {
                    last: answer("running", Some(3)),
                    last_error: Some(err),
                },
                4,
                "timed-out",
            ),
        ];
        for (outcome, code, result) in cases {
            assert_eq!(exit_code(&outcome), code, "{outcome:?}");
            assert_eq!(outcome.result(), result);
            assert_eq!(outcome.passed(), code == 0);
        }
    }
}
