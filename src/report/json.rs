//! The `DTS_REPORT_JSON` report: the whole run as one JSON document, for CI systems and scripts
//! that do not read GitHub's files. Its shape is a contract (README, "JSON report"): fields
//! may be added under the same `schema_version`; removing or renaming one bumps it.

use serde_json::{Value, json};

use super::render::{RunSummary, job_error, outputs, request_id};
use crate::api::{CheckAnswer, CheckItem, CheckStep};
use crate::outcome::{JobReport, Outcome, Start, exit_code};

/// Bumped only when a field is removed, renamed or changes type.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON report of a run, pretty-printed, ending in a newline.
pub fn render(run: &RunSummary) -> String {
    let aggregate: std::collections::HashMap<&str, String> = outputs(run).into_iter().collect();
    let configuration_errors: Vec<Value> = match run.outcome {
        Outcome::InvalidConfig(errors) => errors
            .iter()
            .map(|e| json!({"variable": e.variable, "problem": e.problem}))
            .collect(),
        Outcome::Jobs(_) => Vec::new(),
    };
    // A rejected configuration never chose an API version or a region.
    let configured = matches!(run.outcome, Outcome::Jobs(_));
    let report = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "dts-gate", "version": env!("CARGO_PKG_VERSION")},
        "api_version": configured.then(|| run.api.as_str()),
        "region": Some(run.region).filter(|r| configured && !r.is_empty()),
        "verdict": run.outcome.result(),
        "passed": run.outcome.passed(),
        "exit_code": exit_code(run.outcome),
        "elapsed_seconds": run.elapsed.as_millis() as f64 / 1000.0,
        "polls": run.polls,
        "migration_started": run.outcome.migration_started(),
        "error_code": aggregate["error-code"],
        "message": aggregate["error-message"],
        "configuration_errors": configuration_errors,
        "jobs": run.outcome.jobs().iter().map(|j| job(j, run)).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&report).expect("a JSON value always serializes");
    text.push('\n');
    text
}

fn job(job: &JobReport, run: &RunSummary) -> Value {
    let answer = job.outcome.last_answer();
    let (error_code, message) = job_error(job, run.timeout);
    json!({
        "id": job.job_id,
        "result": job.result(),
        "status": answer.map(|a| a.status.as_str()),
        "check_flag": answer.and_then(|a| a.check_flag.as_ref()).map(ToString::to_string),
        "progress": answer.and_then(CheckAnswer::progress_percent),
        "error_code": error_code,
        "message": message,
        "request_id": request_id(job),
        "polls": job.polls,
        "migration": migration(&job.start),
        "steps": answer.map(|a| a.steps.iter().map(step).collect::<Vec<_>>()).unwrap_or_default(),
    })
}

fn migration(start: &Start) -> Value {
    let (requested, started, request_id, error) = match start {
        Start::NotRequested => (false, false, None, None),
        Start::Withheld => (true, false, None, None),
        Start::Started { request_id } => (true, true, Some(request_id.as_str()), None),
        Start::Refused(e) => (
            true,
            false,
            e.request_id().filter(|r| !r.is_empty()),
            Some(json!({"code": e.code(), "message": e.message()})),
        ),
        Start::Cancelled { signal } => (
            true,
            false,
            None,
            Some(
                json!({"code": "Cancelled", "message": format!("cancelled by signal {signal} before the start")}),
            ),
        ),
    };
    json!({"requested": requested, "started": started, "request_id": request_id, "error": error})
}

fn step(step: &CheckStep) -> Value {
    json!({
        "no": step.step_no,
        "id": step.step_id,
        "name": step.step_name,
        "status": step.status.as_str(),
        "message": step.message,
        "skipped": step.has_skipped,
        "items": step.items.iter().map(item).collect::<Vec<_>>(),
    })
}

fn item(item: &CheckItem) -> Value {
    json!({
        "name": item.name,
        "result": item.result.as_str(),
        "description": item.description,
        "failure_reason": item.failure_reason,
        "solution": item.solution,
        "help_doc": item.help_doc,
        "error_log": item.error_log,
        "skip_info": item.skip_info,
    })
}
