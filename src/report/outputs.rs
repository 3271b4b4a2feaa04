//! The step outputs (`GITHUB_OUTPUT`): the aggregate scalars and the `jobs` JSON, each value cut
//! to a size GitHub takes, written in the runner's heredoc form with a fresh delimiter.

use super::facts::RunFacts;
use super::text::{fresh_delimiter, output_record, truncate};

/// One output value; GitHub allows 1 MB of outputs per job.
const MAX_OUTPUT_CHARS: usize = 64 * 1024;

/// What the `jobs` output leaves out, in this order, while it is too large (README, "Outputs"):
/// each step drops these fields from every job. `id` and `result` always stay.
pub const JOBS_DROP_ORDER: [&[&str]; 4] = [
    &["message"],
    &["migration"],
    &["failed_steps", "request_id", "start_request_id"],
    &[
        "status",
        "check_flag",
        "progress",
        "error_code",
        "polls",
        "migration_started",
    ],
];

/// The step outputs, in a fixed order. The scalars describe the aggregate: the job that
/// decided it (the first with the most severe outcome); `jobs` has every job.
pub fn outputs(facts: &RunFacts) -> Vec<(&'static str, String)> {
    let s = &facts.scalars;
    let jobs = jobs_output(facts, MAX_OUTPUT_CHARS);
    [
        ("passed", s.passed.to_string()),
        ("result", s.result.to_string()),
        ("status", s.status.clone()),
        ("check-flag", s.check_flag.clone()),
        ("progress", s.progress.clone()),
        ("error-code", s.error_code.clone()),
        ("error-message", s.error_message.clone()),
        ("request-id", s.request_id.clone()),
        ("polls", s.polls.to_string()),
        ("elapsed-seconds", s.elapsed_seconds.to_string()),
        ("failed-steps", s.failed_steps.clone()),
        ("warning-steps", s.warning_steps.clone()),
        ("skipped-steps", s.skipped_steps.clone()),
        ("jobs", jobs),
        ("migration-started", s.migration_started.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k, truncate(&v, MAX_OUTPUT_CHARS)))
    .collect()
}

/// The `jobs` output: always a whole JSON array of at most `max` characters. While it is too
/// large, fields are dropped from every job in [`JOBS_DROP_ORDER`]; never is a value cut. Should
/// even `id` and `result` not fit, the array holds the first jobs that do.
fn jobs_output(facts: &RunFacts, max: usize) -> String {
    let value = serde_json::to_value(facts.jobs_json()).expect("a job always serializes");
    let serde_json::Value::Array(mut jobs) = value else {
        unreachable!("a list of jobs is an array")
    };
    let size = |jobs: &[serde_json::Value]| serde_json::Value::from(jobs).to_string();
    let mut text = size(&jobs);
    for fields in JOBS_DROP_ORDER {
        if text.chars().count() <= max {
            return text;
        }
        for job in &mut jobs {
            if let Some(job) = job.as_object_mut() {
                for field in fields {
                    job.remove(*field);
                }
            }
        }
        text = size(&jobs);
    }
    while text.chars().count() > max && jobs.pop().is_some() {
        text = size(&jobs);
    }
    text
}

/// The whole `GITHUB_OUTPUT` text for `outputs`, each with its own fresh delimiter.
pub fn outputs_file_text(
    outputs: &[(&'static str, String)],
    mut random: impl FnMut() -> u128,
) -> String {
    outputs
        .iter()
        .map(|(name, value)| output_record(name, value, &fresh_delimiter(value, &mut random)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::api::{ApiError, CheckStep};
    use crate::config::ConfigError;
    use crate::outcome::{JobOutcome, Outcome};
    use crate::report::fixtures::*;
    use crate::runner::parse_output_file;

    fn output_map(outcome: &Outcome) -> HashMap<&'static str, String> {
        outputs(&RunFacts::of(&run_of(outcome)))
            .into_iter()
            .collect()
    }

    #[test]
    fn outputs_read_back_byte_for_byte() {
        let value = format!("{HOSTILE}\nghadelimiter_{:032x}\n", 1u128);
        let mut n = 0u128;
        let text = outputs_file_text(&[("error-message", value.clone())], || {
            n += 1;
            n
        });
        // The first candidate occurs in the value, so a second one was drawn.
        assert!(text.starts_with(&format!("error-message<<ghadelimiter_{:032x}\n", 2u128)));
        let parsed = parse_output_file(&text).unwrap();
        assert_eq!(parsed, [("error-message".to_string(), value)]);
    }

    #[test]
    fn outputs_of_a_pass() {
        let outcome = single(JobOutcome::Passed(answer("finished", Some(1), "ok")));
        let o = output_map(&outcome);
        assert_eq!(o["passed"], "true");
        assert_eq!(o["result"], "passed");
        assert_eq!(o["status"], "finished");
        assert_eq!(o["check-flag"], "1");
        assert_eq!(o["progress"], "100");
        assert_eq!(o["error-code"], "0");
        assert_eq!(o["error-message"], "ok");
        assert_eq!(o["request-id"], "req-1");
        assert_eq!(o["polls"], "3");
        assert_eq!(o["elapsed-seconds"], "12");
        assert_eq!(o["failed-steps"], "");
        assert_eq!(o["warning-steps"], "");
        assert_eq!(outputs(&RunFacts::of(&run_of(&outcome))).len(), 15);
        assert_eq!(o["migration-started"], "false");
        let jobs: serde_json::Value = serde_json::from_str(&o["jobs"]).unwrap();
        assert_eq!(jobs[0]["id"], JOB);
        assert_eq!(jobs[0]["result"], "passed");
        assert_eq!(jobs[0]["check_flag"], "1");
        assert_eq!(jobs[0]["progress"], 100);
    }

    #[test]
    fn outputs_of_failures() {
        let outcome = single(JobOutcome::NotPassed(answer(
            "finished",
            Some(0),
            "table does not exist",
        )));
        let o = output_map(&outcome);
        assert_eq!(
            (o["passed"].as_str(), o["result"].as_str()),
            ("false", "not-passed")
        );
        assert_eq!(
            (o["check-flag"].as_str(), o["error-code"].as_str()),
            ("0", "-1")
        );

        let outcome = single(JobOutcome::Failed {
            error: ApiError::Service {
                code: "AuthFailure.SignatureFailure".into(),
                message: "bad".into(),
                request_id: "req-err".into(),
            },
            last: None,
        });
        let o = output_map(&outcome);
        assert_eq!(o["result"], "error");
        assert_eq!(o["error-code"], "AuthFailure.SignatureFailure");
        assert_eq!(o["request-id"], "req-err");
        assert_eq!(o["status"], "");

        let outcome = Outcome::InvalidConfig(vec![ConfigError {
            variable: "DTS_JOB_ID",
            problem: "is not set".into(),
        }]);
        let o = output_map(&outcome);
        assert_eq!(o["error-code"], "InvalidConfiguration");
        assert_eq!(o["error-message"], "DTS_JOB_ID: is not set");

        let outcome = single(JobOutcome::TimedOut {
            last: answer("running", Some(3), ""),
            last_error: None,
        });
        let o = output_map(&outcome);
        assert_eq!(
            (o["result"].as_str(), o["error-code"].as_str()),
            ("timed-out", "Timeout")
        );
        assert!(o["error-message"].contains("30m"));
    }

    #[test]
    fn outputs_of_a_not_passed_2021_check_name_its_steps() {
        let outcome = not_passed_2021();
        let o = output_map(&outcome);
        assert_eq!(o["failed-steps"], "SrcPrivilegeCheck,DstEmptyCheck");
        assert_eq!(o["warning-steps"], "BinlogParamCheck,OptimizeCheck");
        assert_eq!(o["check-flag"], "checkNotPass");
        assert_eq!(o["status"], "success");
        assert_eq!(o["progress"], "100");
    }

    #[test]
    fn a_failed_check_task_did_not_pass() {
        let outcome = task_failed_2021();
        let o = output_map(&outcome);
        assert_eq!(o["result"], "not-passed");
        assert_eq!(o["status"], "failed");
    }

    #[test]
    fn the_jobs_output_is_always_whole_json() {
        // 30 jobs with long messages pass the limit: messages go first, never half a value.
        let long = "x\"é".repeat(1000);
        let jobs = (0..30)
            .map(|i| {
                report(
                    &format!("dts-{i:08}"),
                    JobOutcome::NotPassed(answer("finished", Some(0), &long)),
                )
            })
            .collect();
        let outcome = Outcome::Jobs(jobs);
        let o = output_map(&outcome);
        assert!(o["jobs"].chars().count() <= MAX_OUTPUT_CHARS);
        let jobs: serde_json::Value = serde_json::from_str(&o["jobs"]).unwrap();
        let jobs = jobs.as_array().unwrap();
        assert_eq!(jobs.len(), 30);
        assert!(jobs.iter().all(|j| j.get("message").is_none()));
        assert_eq!(jobs[29]["id"], "dts-00000029");
        assert_eq!(jobs[29]["result"], "not-passed");
        assert_eq!(jobs[29]["check_flag"], "0");
        // Smaller limits drop more, in order, and stay valid.
        let run = run_of(&outcome);
        let facts = RunFacts::of(&run);
        for max in [2000, 1200, 100, 1] {
            let text = jobs_output(&facts, max);
            assert!(text.chars().count() <= max.max(2), "{max}: {text}");
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(
                value
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|j| j.get("id").is_some())
            );
        }
        assert_eq!(jobs_output(&facts, 1), "[]");
        // Below the limit nothing is dropped.
        let small = output_map(&single(JobOutcome::NotPassed(answer(
            "finished",
            Some(0),
            &long,
        ))));
        let value: serde_json::Value = serde_json::from_str(&small["jobs"]).unwrap();
        assert_eq!(value[0]["message"], long);
    }

    #[test]
    fn step_ids_are_given_as_sent() {
        let bad_step = CheckStep {
            step_name: HOSTILE.into(),
            ..step("X\n::error::y", "failed", vec![item(HOSTILE, "failed")])
        };
        let outcome = single(JobOutcome::NotPassed(answer_2021(
            "success",
            "checkNotPass",
            vec![bad_step],
        )));
        let o = output_map(&outcome);
        assert_eq!(o["failed-steps"], "X\n::error::y");
        assert_eq!(o.len(), 15);
    }
}
