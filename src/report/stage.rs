//! The reports of a later stage (`ready`, `complete`): pure renderers of a [`StageRun`], minimal
//! beside the check's, in the same media. Only the stage's own pass is ever `passed`.

use std::time::Duration;

use serde_json::json;

use super::annotations::Notice;
use super::dotenv::safe_value;
use super::junit;
use super::text::markdown_text;
use crate::api::{MigrationDetail, Tip};
use crate::stage::{StageJob, StageResult, StageRun};

/// What the renderers read besides the run.
pub struct StageFacts<'a> {
    pub run: &'a StageRun,
    pub elapsed: Duration,
    pub requests: u32,
}

fn step(detail: Option<&MigrationDetail>) -> (String, String) {
    let step = detail.and_then(MigrationDetail::current_step);
    (
        step.map(|s| {
            if s.name.is_empty() {
                s.id.clone()
            } else {
                s.name.clone()
            }
        })
        .unwrap_or_default(),
        step.and_then(|s| s.percent)
            .map(|p| p.to_string())
            .unwrap_or_default(),
    )
}

fn lag(value: Option<u64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Why a job did not pass, one line.
pub fn reason(job: &StageJob, timeout_hint: &str) -> String {
    match &job.result {
        StageResult::Passed => String::new(),
        StageResult::NotPassed { why } | StageResult::Refused { why } => why.clone(),
        StageResult::TimedOut { last_error } => match last_error {
            Some(e) => format!("timed out {timeout_hint}; last error: {e}"),
            None => format!("timed out {timeout_hint}"),
        },
        StageResult::Failed(e) => e.to_string(),
        StageResult::Cancelled { signal } => {
            format!("cancelled by {}", super::facts::signal_name(*signal))
        }
    }
}

fn error_code(job: &StageJob) -> String {
    match &job.result {
        StageResult::Failed(e) => e.code(),
        StageResult::TimedOut { .. } => "Timeout".into(),
        StageResult::Refused { .. } => "NotReady".into(),
        StageResult::NotPassed { .. } => job
            .last
            .as_ref()
            .and_then(|d| d.errors.first())
            .map(|e| e.code.clone())
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "NotPassed".into()),
        StageResult::Cancelled { .. } => "Cancelled".into(),
        StageResult::Passed => String::new(),
    }
}

fn job_json(job: &StageJob) -> serde_json::Value {
    let detail = job.last.as_ref();
    let (step, progress) = step(detail);
    json!({
        "job_id": job.job_id,
        "passed": job.result == StageResult::Passed,
        "result": job.result(),
        "status": detail.map(|d| d.status.clone()).unwrap_or_default(),
        "trade_status": detail.map(|d| d.trade_status.clone()).unwrap_or_default(),
        "step": step,
        "progress": progress,
        "lag_seconds": detail.and_then(|d| d.seconds_behind),
        "lag_mb": detail.and_then(|d| d.distance_mb),
        "error_code": error_code(job),
        "error_message": reason(job, ""),
        "polls": job.polls,
        "complete_request_id": job.completed_by,
        "errors": detail.map(|d| d.errors.iter().map(tip_json).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

fn tip_json(tip: &Tip) -> serde_json::Value {
    json!({"code": tip.code, "message": tip.message, "solution": tip.solution, "help_doc": tip.help_doc})
}

/// The step outputs: the deciding job's scalars and every job as JSON.
pub fn outputs(facts: &StageFacts) -> Vec<(&'static str, String)> {
    let run = facts.run;
    let deciding = run.deciding();
    let detail = deciding.and_then(|j| j.last.as_ref());
    let (step, progress) = step(detail);
    vec![
        ("passed", run.passed().to_string()),
        (
            "result",
            deciding.map_or("error", StageJob::result).to_string(),
        ),
        ("stage", run.stage.as_str().to_string()),
        (
            "status",
            detail.map(|d| d.status.clone()).unwrap_or_default(),
        ),
        ("step", step),
        ("progress", progress),
        ("lag-seconds", lag(detail.and_then(|d| d.seconds_behind))),
        ("lag-mb", lag(detail.and_then(|d| d.distance_mb))),
        ("error-code", deciding.map(error_code).unwrap_or_default()),
        (
            "error-message",
            deciding.map(|j| reason(j, "")).unwrap_or_default(),
        ),
        (
            "request-id",
            detail.map(|d| d.request_id.clone()).unwrap_or_default(),
        ),
        (
            "polls",
            run.jobs.iter().map(|j| j.polls).sum::<u32>().to_string(),
        ),
        ("elapsed-seconds", facts.elapsed.as_secs().to_string()),
        ("jobs", jobs_output(run)),
    ]
}

/// The `jobs` output, whole JSON of at most [`MAX_JOBS_OUTPUT_CHARS`]: the service's errors
/// are dropped first, then everything but each job's id and result.
pub fn jobs_output(run: &StageRun) -> String {
    let mut jobs: Vec<serde_json::Value> = run.jobs.iter().map(job_json).collect();
    let text = serde_json::Value::Array(jobs.clone()).to_string();
    if text.chars().count() <= MAX_JOBS_OUTPUT_CHARS {
        return text;
    }
    for job in &mut jobs {
        if let Some(job) = job.as_object_mut() {
            job.remove("errors");
            job.remove("error_message");
        }
    }
    let text = serde_json::Value::Array(jobs.clone()).to_string();
    if text.chars().count() <= MAX_JOBS_OUTPUT_CHARS {
        return text;
    }
    let bare: Vec<serde_json::Value> = run
        .jobs
        .iter()
        .map(|j| json!({"job_id": j.job_id, "result": j.result()}))
        .collect();
    serde_json::Value::Array(bare).to_string()
}

/// As the check's `jobs` output: GitHub keeps outputs far larger, but a step's whole output
/// stays readable.
pub const MAX_JOBS_OUTPUT_CHARS: usize = 64 * 1024;

/// The JSON report.
pub fn json(facts: &StageFacts) -> String {
    let run = facts.run;
    let document = json!({
        "stage": run.stage.as_str(),
        "passed": run.passed(),
        "result": run.deciding().map_or("error", StageJob::result),
        "exit_code": run.exit_code(),
        "requests": facts.requests,
        "elapsed_seconds": facts.elapsed.as_secs(),
        "jobs": run.jobs.iter().map(job_json).collect::<Vec<_>>(),
    });
    format!("{document:#}\n")
}

/// The dotenv report: machine values only.
pub fn dotenv(facts: &StageFacts) -> String {
    let outputs = outputs(facts);
    let keys = [
        ("DTS_GATE_PASSED", "passed"),
        ("DTS_GATE_RESULT", "result"),
        ("DTS_GATE_STAGE", "stage"),
        ("DTS_GATE_STATUS", "status"),
        ("DTS_GATE_PROGRESS", "progress"),
        ("DTS_GATE_LAG_SECONDS", "lag-seconds"),
        ("DTS_GATE_LAG_MB", "lag-mb"),
        ("DTS_GATE_ERROR_CODE", "error-code"),
        ("DTS_GATE_REQUEST_ID", "request-id"),
        ("DTS_GATE_POLLS", "polls"),
        ("DTS_GATE_ELAPSED_SECONDS", "elapsed-seconds"),
    ];
    let mut text: String = keys
        .iter()
        .map(|(key, name)| {
            let value = outputs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default();
            format!("{key}={}\n", safe_value(value))
        })
        .collect();
    text.push_str(&format!("DTS_GATE_EXIT_CODE={}\n", facts.run.exit_code()));
    text
}

/// The JUnit report: one test case per job.
pub fn junit(facts: &StageFacts, context: &junit::Context) -> String {
    let run = facts.run;
    let failures = run
        .jobs
        .iter()
        .filter(|j| j.result != StageResult::Passed)
        .count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"dts-gate\" tests=\"{}\" failures=\"{failures}\" time=\"{}\">\n",
        run.jobs.len(),
        facts.elapsed.as_secs()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"dts-gate {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" hostname=\"{}\" timestamp=\"{}\" time=\"{}\">\n",
        run.stage.as_str(),
        run.jobs.len(),
        junit::attribute(context.hostname),
        junit::timestamp(context.started),
        facts.elapsed.as_secs()
    ));
    for job in &run.jobs {
        let name = junit::attribute(&format!("{} {}", run.stage.as_str(), job.job_id));
        if job.result == StageResult::Passed {
            xml.push_str(&format!(
                "    <testcase classname=\"dts-gate.{}\" name=\"{name}\"/>\n",
                run.stage.as_str()
            ));
        } else {
            xml.push_str(&format!(
                "    <testcase classname=\"dts-gate.{}\" name=\"{name}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                run.stage.as_str(),
                junit::attribute(job.result()),
                junit::attribute(&reason(job, "")),
                junit::text(&details(job).join("\n")),
            ));
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn tip_line(tip: &Tip) -> String {
    let mut line = if tip.code.is_empty() {
        tip.message.clone()
    } else {
        format!("{}: {}", tip.code, tip.message)
    };
    if !tip.solution.is_empty() {
        line.push_str(&format!(" Solution: {}", tip.solution));
    }
    if !tip.help_doc.is_empty() {
        line.push_str(&format!(" Help: {}", tip.help_doc));
    }
    line
}

/// What the service said went wrong: `ErrorInfo[]` and every step's errors.
fn details(job: &StageJob) -> Vec<String> {
    let Some(detail) = &job.last else {
        return Vec::new();
    };
    let mut lines: Vec<String> = detail.errors.iter().map(tip_line).collect();
    for step in &detail.steps {
        for tip in &step.errors {
            lines.push(format!("step {}: {}", step.id, tip_line(tip)));
        }
    }
    lines
}

/// The annotations: an error per job that did not pass (with what the service said), a
/// warning per step warning.
pub fn notices(facts: &StageFacts, labelled: bool) -> Vec<Notice> {
    let mut notices = Vec::new();
    let stage = facts.run.stage.as_str();
    for job in &facts.run.jobs {
        let label = if labelled {
            format!(" ({})", job.job_id)
        } else {
            String::new()
        };
        if job.result != StageResult::Passed {
            let mut message = reason(job, "");
            for line in details(job) {
                message.push('\n');
                message.push_str(&line);
            }
            notices.push(Notice::error(
                format!("DTS {stage} stage {}{label}", job.result()),
                message,
            ));
        }
        if let Some(detail) = &job.last {
            for step in &detail.steps {
                for tip in &step.warnings {
                    notices.push(Notice::warning(
                        format!("DTS migration step {}{label}", step.id),
                        tip_line(tip),
                    ));
                }
            }
        }
    }
    notices
}

/// The job summary.
pub fn summary(facts: &StageFacts) -> String {
    let run = facts.run;
    let verdict = if run.passed() {
        "passed"
    } else {
        "did not pass"
    };
    let mut md = format!(
        "### DTS gate: {} stage {verdict}\n\n| job | result | status | step | progress | lag (s) | lag (MB) | reason |\n|---|---|---|---|---|---|---|---|\n",
        run.stage.as_str()
    );
    for job in &run.jobs {
        let detail = job.last.as_ref();
        let (step, progress) = step(detail);
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            markdown_text(&job.job_id),
            job.result(),
            markdown_text(&detail.map(|d| d.status.clone()).unwrap_or_default()),
            markdown_text(&step),
            progress,
            lag(detail.and_then(|d| d.seconds_behind)),
            lag(detail.and_then(|d| d.distance_mb)),
            markdown_text(&reason(job, "")),
        ));
    }
    for job in &run.jobs {
        let lines = details(job);
        if !lines.is_empty() {
            md.push_str(&format!("\n#### {}\n\n", markdown_text(&job.job_id)));
            for line in lines {
                md.push_str(&format!("- {}\n", markdown_text(&line)));
            }
        }
    }
    md.push('\n');
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::Stage;

    fn job(result: StageResult, status: &str) -> StageJob {
        StageJob {
            job_id: "dts-1".into(),
            result,
            last: Some(MigrationDetail {
                status: status.into(),
                seconds_behind: Some(3),
                errors: vec![Tip {
                    code: "E1".into(),
                    message: "binlog purged".into(),
                    solution: "restart".into(),
                    help_doc: "https://cloud.tencent.com/document/product/571".into(),
                }],
                ..MigrationDetail::default()
            }),
            polls: 2,
            completed_by: None,
            compare: None,
        }
    }

    fn facts(run: &StageRun) -> StageFacts<'_> {
        StageFacts {
            run,
            elapsed: Duration::from_secs(7),
            requests: 2,
        }
    }

    #[test]
    fn only_the_stage_pass_says_passed() {
        let failed = StageRun {
            stage: Stage::Ready,
            jobs: vec![job(
                StageResult::NotPassed {
                    why: "Status failed".into(),
                },
                "failed",
            )],
        };
        let out = outputs(&facts(&failed));
        let get = |name| out.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(get("passed"), "false");
        assert_eq!(get("result"), "not-passed");
        assert_eq!(get("lag-seconds"), "3");
        assert_eq!(get("lag-mb"), "");
        assert_eq!(get("error-code"), "E1");
        assert!(dotenv(&facts(&failed)).contains("DTS_GATE_PASSED=false\n"));
        assert!(json(&facts(&failed)).contains("\"passed\": false"));
        let notes = notices(&facts(&failed), false);
        assert!(
            notes[0].message.contains("Solution: restart"),
            "{:?}",
            notes
        );
        assert!(summary(&facts(&failed)).contains("did not pass"));
        let passed = StageRun {
            stage: Stage::Ready,
            jobs: vec![job(StageResult::Passed, "readyComplete")],
        };
        assert!(dotenv(&facts(&passed)).contains("DTS_GATE_PASSED=true\n"));
        assert!(notices(&facts(&passed), false).is_empty());
    }

    #[test]
    fn the_jobs_output_stays_within_its_cap() {
        let mut big = job(
            StageResult::NotPassed {
                why: "x".repeat(5000),
            },
            "failed",
        );
        big.last.as_mut().unwrap().errors[0].message = "y".repeat(5000);
        let run = StageRun {
            stage: Stage::Ready,
            jobs: vec![big; 100],
        };
        let text = jobs_output(&run);
        assert!(text.chars().count() <= MAX_JOBS_OUTPUT_CHARS);
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed.as_array().unwrap().len(), 100);
        assert_eq!(parsed[0]["result"], "not-passed");
    }
}
