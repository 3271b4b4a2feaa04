//! The `DTS_REPORT_JSON` report: the whole run as one JSON document, for CI systems and scripts
//! that do not read GitHub's files. Its shape is a contract (README, "JSON report"): fields
//! may be added under the same `schema_version`; removing or renaming one bumps it.

use serde::Serialize;

use super::facts::{JobFacts, JobJson, RunFacts};
use crate::api::{CheckItem, CheckStep};
use crate::outcome::Outcome;

/// Bumped only when a field is removed, renamed or changes type.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Report<'a> {
    schema_version: u32,
    tool: Tool,
    /// A `--demo` run: simulated answers, nothing sent to Tencent Cloud.
    demo: bool,
    api_version: Option<&'a str>,
    /// `migration` or `sync`: which family of actions the jobs were gated with.
    job_kind: Option<&'a str>,
    region: Option<&'a str>,
    verdict: &'a str,
    passed: bool,
    exit_code: u8,
    elapsed_seconds: f64,
    polls: u32,
    migration_started: bool,
    error_code: &'a str,
    message: &'a str,
    configuration_errors: Vec<ConfigurationError<'a>>,
    jobs: Vec<Job<'a>>,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct ConfigurationError<'a> {
    variable: &'a str,
    problem: &'a str,
}

/// A job of the report: the one job shape (as in the `jobs` output) and its check steps.
#[derive(Serialize)]
struct Job<'a> {
    #[serde(flatten)]
    job: JobJson,
    steps: Vec<Step<'a>>,
}

#[derive(Serialize)]
struct Step<'a> {
    no: Option<u64>,
    id: &'a str,
    name: &'a str,
    status: &'a str,
    message: &'a str,
    skipped: bool,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Item<'a> {
    name: &'a str,
    result: &'a str,
    description: &'a str,
    failure_reason: &'a str,
    solution: &'a str,
    help_doc: &'a [String],
    error_log: &'a [String],
    skip_info: &'a str,
}

/// The JSON report of a run, pretty-printed, ending in a newline.
pub fn render(facts: &RunFacts) -> String {
    let run = facts.run;
    let configuration_errors = match run.outcome {
        Outcome::InvalidConfig(errors) => errors
            .iter()
            .map(|e| ConfigurationError {
                variable: e.variable,
                problem: &e.problem,
            })
            .collect(),
        Outcome::Jobs(_) | Outcome::NothingGated | Outcome::DryRun { .. } | Outcome::Stage(_) => {
            Vec::new()
        }
    };
    let configured = facts.configured();
    let report = Report {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "dts-gate",
            version: env!("CARGO_PKG_VERSION"),
        },
        demo: facts.demo,
        api_version: configured.then(|| run.api.as_str()),
        job_kind: configured.then(|| run.api.kind().as_str()),
        region: Some(run.region).filter(|r| configured && !r.is_empty()),
        verdict: facts.scalars.result,
        passed: facts.scalars.passed,
        exit_code: facts.exit_code,
        elapsed_seconds: run.elapsed.as_millis() as f64 / 1000.0,
        polls: run.polls,
        migration_started: facts.scalars.migration_started,
        error_code: &facts.scalars.error_code,
        message: &facts.scalars.error_message,
        configuration_errors,
        jobs: facts.jobs.iter().map(job).collect(),
    };
    // Through a `Value`, whose keys are sorted: the order the report has always had.
    let value = serde_json::to_value(&report).expect("a report always serializes");
    let mut text = serde_json::to_string_pretty(&value).expect("a JSON value always serializes");
    text.push('\n');
    text
}

fn job<'a>(job: &JobFacts<'a>) -> Job<'a> {
    Job {
        job: job.json(),
        steps: job
            .answer
            .map(|a| a.steps.iter().map(step).collect())
            .unwrap_or_default(),
    }
}

fn step(step: &CheckStep) -> Step<'_> {
    Step {
        no: step.step_no,
        id: &step.step_id,
        name: &step.step_name,
        status: step.status.as_str(),
        message: &step.message,
        skipped: step.has_skipped,
        items: step.items.iter().map(item).collect(),
    }
}

fn item(item: &CheckItem) -> Item<'_> {
    Item {
        name: &item.name,
        result: item.result.as_str(),
        description: &item.description,
        failure_reason: &item.failure_reason,
        solution: &item.solution,
        help_doc: &item.help_doc,
        error_log: &item.error_log,
        skip_info: &item.skip_info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::*;

    #[test]
    fn a_report_job_is_the_jobs_output_shape_with_steps() {
        let outcome = not_passed_2021();
        let run = run_of(&outcome);
        let facts = RunFacts::of(&run);
        let report: serde_json::Value = serde_json::from_str(&render(&facts)).unwrap();
        let mut job = report["jobs"][0].clone();
        let steps = job.as_object_mut().unwrap().remove("steps").unwrap();
        assert_eq!(job, serde_json::to_value(&facts.jobs_json()[0]).unwrap());
        assert_eq!(steps.as_array().unwrap().len(), 5);
        assert_eq!(steps[4]["status"], "failed");
        assert_eq!(steps[4]["skipped"], true);
        assert_eq!(steps[1]["items"][2]["result"], "warning");
        assert_eq!(report["error_code"], "");
        assert_eq!(report["exit_code"], 1);
        assert_eq!(report["elapsed_seconds"], 12.4);
    }
}
