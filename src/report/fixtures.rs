//! Runs and answers for the report's unit tests.

use std::time::Duration;

use super::facts::RunSummary;
use super::log::{Line, Stream};
use crate::api::{ApiVersion, CheckAnswer, CheckFlag, CheckItem, CheckStep};
use crate::outcome::{JobOutcome, JobReport, Outcome, Start};

pub const JOB: &str = "dts-1kl0iy0v";

pub const HOSTILE: &str = "table missing\n::set-output name=passed::true\r\n%0A::error::x, a: b %25 ##[set-output name=passed;]true\u{1b}[31m\u{202e}";

pub fn report(job_id: &str, outcome: JobOutcome) -> JobReport {
    JobReport {
        job_id: job_id.into(),
        outcome,
        polls: 3,
        start: Start::NotRequested,
    }
}

pub fn single(outcome: JobOutcome) -> Outcome {
    Outcome::Jobs(vec![report(JOB, outcome)])
}

pub fn answer(status: &str, flag: Option<i64>, msg: &str) -> CheckAnswer {
    CheckAnswer {
        api: ApiVersion::V2018,
        status: status.into(),
        check_flag: flag.map(CheckFlag::Code),
        progress: Some("100".into()),
        error_code: Some(if flag == Some(1) { 0 } else { -1 }),
        error_message: msg.into(),
        request_id: "req-1".into(),
        deprecated_warning: None,
        steps: Vec::new(),
    }
}

pub fn item(name: &str, result: &str) -> CheckItem {
    CheckItem {
        name: name.into(),
        result: result.into(),
        failure_reason: format!("{name} is wrong"),
        solution: format!("fix {name}"),
        help_doc: vec!["https://cloud.tencent.com/document/product/571/58700".into()],
        error_log: (1..=7).map(|i| format!("log line {i}")).collect(),
        ..CheckItem::default()
    }
}

pub fn step(id: &str, status: &str, items: Vec<CheckItem>) -> CheckStep {
    CheckStep {
        step_id: id.into(),
        step_name: format!("{id} name"),
        status: status.into(),
        items,
        ..CheckStep::default()
    }
}

pub fn answer_2021(status: &str, flag: &str, steps: Vec<CheckStep>) -> CheckAnswer {
    CheckAnswer {
        api: ApiVersion::V2021,
        status: status.into(),
        check_flag: (!flag.is_empty()).then(|| CheckFlag::Name(flag.into())),
        progress: crate::api::step_progress(&steps),
        error_code: None,
        error_message: "brief".into(),
        request_id: "req-21".into(),
        deprecated_warning: None,
        steps,
    }
}

/// A finished sync check (`DescribeCheckSyncJobResult`) whose job's `DescribeSyncJobs` status is
/// `job_status`.
pub fn answer_sync(status: &str, job_status: &str, steps: Vec<CheckStep>) -> CheckAnswer {
    CheckAnswer {
        api: ApiVersion::Sync,
        check_flag: (!job_status.is_empty()).then(|| CheckFlag::Name(job_status.into())),
        error_message: String::new(),
        request_id: "req-sync".into(),
        ..answer_2021(status, "", steps)
    }
}

pub fn run_of(outcome: &Outcome) -> RunSummary<'_> {
    RunSummary {
        surface: crate::hints::Surface::CommandLine,
        region: "ap-guangzhou",
        api: outcome
            .jobs()
            .first()
            .and_then(|j| j.outcome.last_answer())
            .map_or(ApiVersion::V2018, |a| a.api),
        timeout: Duration::from_secs(1800),
        outcome,
        polls: 3,
        elapsed: Duration::from_millis(12_400),
    }
}

/// The text the lines put on one stream, one line each.
pub fn text_on(stream: Stream, lines: &[Line]) -> String {
    lines
        .iter()
        .filter(|l| l.stream == stream)
        .map(|l| format!("{}\n", l.text))
        .collect()
}

/// A 2021 check that did not pass: two failed steps (one with three items, two failed), a
/// warning step, and a failed step the user skipped.
pub fn not_passed_2021_steps() -> Vec<CheckStep> {
    vec![
        step("ConnectDBCheck", "pass", vec![]),
        step(
            "SrcPrivilegeCheck",
            "failed",
            vec![
                item("REPLICATION CLIENT", "failed"),
                item("SELECT", "failed"),
                item("EVENT", "warning"),
            ],
        ),
        step("DstEmptyCheck", "failed", vec![]),
        step(
            "BinlogParamCheck",
            "warning",
            vec![item("binlog_row_image", "warning")],
        ),
        CheckStep {
            has_skipped: true,
            ..step(
                "OptimizeCheck",
                "failed",
                vec![item("skipped one", "warning")],
            )
        },
    ]
}

/// A fixed clock (2026-11-18T11:06:40Z), a counting random source and host `test-host`.
pub fn fixed_surroundings() -> super::Surroundings {
    let mut n = 0u128;
    super::Surroundings {
        now: Box::new(|| time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap()),
        random: Box::new(move || {
            n += 1;
            n
        }),
        hostname: Some("test-host".into()),
    }
}

/// A 2021 check that did not pass, with the steps of [`not_passed_2021_steps`].
pub fn not_passed_2021() -> Outcome {
    single(JobOutcome::NotPassed(answer_2021(
        "success",
        "checkNotPass",
        not_passed_2021_steps(),
    )))
}

/// A 2021 check whose one failed step has 14 failed items: past GitHub's annotation cap.
pub fn fourteen_failed_items() -> Outcome {
    let items = (0..14)
        .map(|i| item(&format!("item{i}"), "failed"))
        .collect();
    single(JobOutcome::NotPassed(answer_2021(
        "success",
        "checkNotPass",
        vec![step("SrcPrivilegeCheck", "failed", items)],
    )))
}

/// A 2021 check that passed with one warning item.
pub fn passed_2021_with_a_warning() -> Outcome {
    single(JobOutcome::Passed(answer_2021(
        "success",
        "checkPass",
        vec![step(
            "SrcPrivilegeCheck",
            "warning",
            vec![item("grants", "warning")],
        )],
    )))
}

/// A 2021 check task that failed to run.
pub fn task_failed_2021() -> Outcome {
    single(JobOutcome::NotPassed(CheckAnswer {
        check_flag: None,
        ..answer_2021("failed", "", vec![])
    }))
}
