//! The `DTS_REPORT_JSON` report: the whole run as one JSON document, for CI systems and scripts
//! that do not read GitHub's files. Its shape is a contract (README, "JSON report"): fields
//! may be added under the same `schema_version`; removing or renaming one bumps it.

use serde_json::{Value, json};

use super::facts::{JobFacts, RunFacts};
use crate::api::{CheckAnswer, CheckItem, CheckStep};
use crate::outcome::{Outcome, Start};

/// Bumped only when a field is removed, renamed or changes type.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON report of a run, pretty-printed, ending in a newline.
pub fn render(facts: &RunFacts) -> String {
    let run = facts.run;
    let configuration_errors: Vec<Value> = match run.outcome {
        Outcome::InvalidConfig(errors) => errors
            .iter()
            .map(|e| json!({"variable": e.variable, "problem": e.problem}))
            .collect(),
        Outcome::Jobs(_) => Vec::new(),
    };
    let configured = facts.configured();
    let report = json!({
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "dts-gate", "version": env!("CARGO_PKG_VERSION")},
        "api_version": configured.then(|| run.api.as_str()),
        "region": Some(run.region).filter(|r| configured && !r.is_empty()),
        "verdict": facts.scalars.result,
        "passed": facts.scalars.passed,
        "exit_code": facts.exit_code,
        "elapsed_seconds": run.elapsed.as_millis() as f64 / 1000.0,
        "polls": run.polls,
        "migration_started": facts.scalars.migration_started,
        "error_code": facts.scalars.error_code,
        "message": facts.scalars.error_message,
        "configuration_errors": configuration_errors,
        "jobs": facts.jobs.iter().map(job).collect::<Vec<_>>(),
    });
    let mut text = serde_json::to_string_pretty(&report).expect("a JSON value always serializes");
    text.push('\n');
    text
}

fn job(job: &JobFacts) -> Value {
    let answer = job.answer;
    json!({
        "id": job.id(),
        "result": job.job.result(),
        "status": answer.map(|a| a.status.as_str()),
        "check_flag": answer.and_then(|a| a.check_flag.as_ref()).map(ToString::to_string),
        "progress": answer.and_then(CheckAnswer::progress_percent),
        "error_code": job.error_code,
        "message": job.message,
        "request_id": job.request_id,
        "polls": job.job.polls,
        "migration": migration(&job.job.start),
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
