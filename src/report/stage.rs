//! The reports of a later stage (`ready`, `complete`): pure renderers of a [`StageRun`], minimal
//! beside the check's, in the same media. Only the stage's own pass is ever `passed`.

use std::time::Duration;

use serde_json::json;

use super::annotations::Notice;
use super::dotenv::safe_value;
use super::junit;
use super::text::markdown_text;
use crate::api::{MigrationDetail, Tip};
use crate::stage::{CompareStory, Stage, StageJob, StageResult, StageRun};

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
    let mut value = json!({
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
    });
    if let (Some(story), Some(object)) = (&job.compare, value.as_object_mut()) {
        object.insert("status".into(), json!(compare_status(story)));
        object.insert("compare".into(), compare_json(story));
    }
    value
}

fn compare_status(story: &CompareStory) -> String {
    story
        .task
        .as_ref()
        .map(|t| t.status.clone())
        .unwrap_or_default()
}

/// The compare task's conclusion: the report's, else the task list's.
fn conclusion(story: &CompareStory) -> String {
    story
        .report
        .as_ref()
        .map(|r| r.conclusion.clone())
        .filter(|c| !c.is_empty())
        .or_else(|| story.task.as_ref().map(|t| t.conclusion.clone()))
        .unwrap_or_default()
}

fn count(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn compare_json(story: &CompareStory) -> serde_json::Value {
    let report = story.report.as_ref();
    json!({
        "task_id": story.task_id,
        "created": story.created,
        "status": compare_status(story),
        "conclusion": conclusion(story),
        "total_tables": report.and_then(|r| r.total_tables),
        "checked_tables": report.and_then(|r| r.checked_tables),
        "different_tables": report.and_then(|r| r.different_tables),
        "different_rows": report.and_then(|r| r.different_rows),
        "skipped_tables": report.and_then(|r| r.skipped_tables),
        "differences": report.map(|r| r.differences.iter().map(|d| json!({
            "db": d.db, "schema": d.schema, "table": d.table, "chunk": d.chunk,
            "index": d.index_name, "lower_boundary": d.lower, "upper_boundary": d.upper,
            "source": d.src_item, "target": d.dst_item,
        })).collect::<Vec<_>>()).unwrap_or_default(),
        "skipped": report.map(|r| r.skipped.iter().map(|s| json!({
            "db": s.db, "schema": s.schema, "table": s.table, "reason": s.reason,
        })).collect::<Vec<_>>()).unwrap_or_default(),
        "stopped": story.stopped.as_ref().map(|s| s.is_ok()),
        "stop_request_id": story.stopped.as_ref().and_then(|s| s.as_ref().ok().cloned()),
        "stop_error": story.stopped.as_ref().and_then(|s| s.as_ref().err().cloned()),
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
    let story = deciding.and_then(|j| j.compare.as_ref());
    let status = match story {
        Some(story) => compare_status(story),
        None => detail.map(|d| d.status.clone()).unwrap_or_default(),
    };
    let mut outputs = vec![
        ("passed", run.passed().to_string()),
        (
            "result",
            deciding.map_or("error", StageJob::result).to_string(),
        ),
        ("stage", run.stage.as_str().to_string()),
        ("status", status),
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
            match story {
                Some(story) => story
                    .report
                    .as_ref()
                    .map(|r| r.request_id.clone())
                    .or_else(|| story.task.as_ref().map(|t| t.request_id.clone()))
                    .unwrap_or_default(),
                None => detail.map(|d| d.request_id.clone()).unwrap_or_default(),
            },
        ),
        (
            "polls",
            run.jobs.iter().map(|j| j.polls).sum::<u32>().to_string(),
        ),
        ("elapsed-seconds", facts.elapsed.as_secs().to_string()),
        ("jobs", jobs_output(run)),
    ];
    if run.stage == Stage::Compare {
        let report = story.and_then(|s| s.report.as_ref());
        outputs.extend([
            (
                "compare-task-id",
                story.map(|s| s.task_id.clone()).unwrap_or_default(),
            ),
            ("conclusion", story.map(conclusion).unwrap_or_default()),
            (
                "different-tables",
                count(report.and_then(|r| r.different_tables)),
            ),
            (
                "different-rows",
                count(report.and_then(|r| r.different_rows)),
            ),
            (
                "skipped-tables",
                count(report.and_then(|r| r.skipped_tables)),
            ),
        ]);
    }
    outputs
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
    let mut keys = vec![
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
    if facts.run.stage == Stage::Compare {
        keys.extend([
            ("DTS_GATE_COMPARE_TASK_ID", "compare-task-id"),
            ("DTS_GATE_CONCLUSION", "conclusion"),
            ("DTS_GATE_DIFFERENT_TABLES", "different-tables"),
            ("DTS_GATE_DIFFERENT_ROWS", "different-rows"),
            ("DTS_GATE_SKIPPED_TABLES", "skipped-tables"),
        ]);
    }
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

/// One JUnit test case: its name, and a failure (type, message, text) or a skip (message).
enum Case {
    Passed,
    Failed(String, String, String),
    Skipped(String),
}

/// A compare stage's test cases for one job: one per table the report names (a differing
/// table fails, with its chunks; a skipped one is skipped, or fails when skipped tables fail),
/// and one for the other compared tables, which the report counts but does not name. Without
/// a report (the task did not finish), one failing case for the job.
fn compare_cases(job: &StageJob, story: &CompareStory) -> Vec<(String, Case)> {
    let Some(report) = &story.report else {
        return Vec::new();
    };
    let mut cases: Vec<(String, Case)> = Vec::new();
    let mut tables: Vec<String> = Vec::new();
    for d in &report.differences {
        let name = d.table_name();
        if !tables.contains(&name) {
            tables.push(name);
        }
    }
    for table in &tables {
        let chunks: Vec<String> = report
            .differences
            .iter()
            .filter(|d| &d.table_name() == table)
            .map(|d| d.bounds())
            .collect();
        cases.push((
            format!("compare {} {table}", job.job_id),
            Case::Failed(
                "different".into(),
                format!("{table} differs between the source and the target"),
                chunks.join("\n"),
            ),
        ));
    }
    for skipped in &report.skipped {
        let name = format!("compare {} {}", job.job_id, skipped.table_name());
        let why = if skipped.reason.is_empty() {
            "not compared".to_string()
        } else {
            format!("not compared: {}", skipped.reason)
        };
        cases.push(if story.fail_on_skipped {
            (name, Case::Failed("skipped".into(), why, String::new()))
        } else {
            (name, Case::Skipped(why))
        });
    }
    // The report lists at most a page of differences: the tables it counts but does not name.
    let named = i64::try_from(tables.len()).unwrap_or(i64::MAX);
    let unnamed = report.different_tables.unwrap_or(0).saturating_sub(named);
    if unnamed > 0 {
        cases.push((
            format!("compare {} {unnamed} more different tables", job.job_id),
            Case::Failed(
                "different".into(),
                format!("{unnamed} more tables differ (not listed in the report's first page; see the DTS console)"),
                String::new(),
            ),
        ));
    }
    // The tables compared and found the same, which the report counts but does not name.
    let same = report
        .checked_tables
        .unwrap_or(0)
        .saturating_sub(named + unnamed);
    if same > 0 && matches!(conclusion(story).as_str(), "same" | "different") {
        cases.push((
            format!(
                "compare {} {same} other compared table{}",
                job.job_id,
                if same == 1 { "" } else { "s" }
            ),
            Case::Passed,
        ));
    }
    // A job that failed for a reason no table case carries (skipAll, a contradiction) says so.
    let carried = cases.iter().any(|(_, c)| matches!(c, Case::Failed(..)));
    if job.result != StageResult::Passed && !carried {
        cases.push((
            format!("compare {}", job.job_id),
            Case::Failed(job.result().into(), reason(job, ""), String::new()),
        ));
    }
    cases
}

/// The JUnit report: one test case per job, and in the compare stage one per table.
pub fn junit(facts: &StageFacts, context: &junit::Context) -> String {
    let run = facts.run;
    let mut cases: Vec<(String, Case)> = Vec::new();
    for job in &run.jobs {
        let tables = job
            .compare
            .as_ref()
            .map(|story| compare_cases(job, story))
            .unwrap_or_default();
        if !tables.is_empty() {
            cases.extend(tables);
        } else if job.result == StageResult::Passed {
            cases.push((
                format!("{} {}", run.stage.as_str(), job.job_id),
                Case::Passed,
            ));
        } else {
            cases.push((
                format!("{} {}", run.stage.as_str(), job.job_id),
                Case::Failed(
                    job.result().into(),
                    reason(job, ""),
                    details(job).join("\n"),
                ),
            ));
        }
    }
    let failures = cases
        .iter()
        .filter(|(_, c)| matches!(c, Case::Failed(..)))
        .count();
    let skipped = cases
        .iter()
        .filter(|(_, c)| matches!(c, Case::Skipped(..)))
        .count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"dts-gate\" tests=\"{}\" failures=\"{failures}\" time=\"{}\">\n",
        cases.len(),
        facts.elapsed.as_secs()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"dts-gate {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" hostname=\"{}\" timestamp=\"{}\" time=\"{}\">\n",
        run.stage.as_str(),
        cases.len(),
        junit::attribute(context.hostname),
        junit::timestamp(context.started),
        facts.elapsed.as_secs()
    ));
    let class = run.stage.as_str();
    for (name, case) in &cases {
        let name = junit::attribute(name);
        match case {
            Case::Passed => xml.push_str(&format!(
                "    <testcase classname=\"dts-gate.{class}\" name=\"{name}\"/>\n"
            )),
            Case::Skipped(message) => xml.push_str(&format!(
                "    <testcase classname=\"dts-gate.{class}\" name=\"{name}\">\n      <skipped>{}</skipped>\n    </testcase>\n",
                junit::text(message),
            )),
            Case::Failed(kind, message, text) => xml.push_str(&format!(
                "    <testcase classname=\"dts-gate.{class}\" name=\"{name}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                junit::attribute(kind),
                junit::attribute(message),
                junit::text(text),
            )),
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
        if let Some(story) = &job.compare {
            compare_notices(story, &label, &mut notices);
        }
        if let Some(detail) = &job.last {
            for step in &detail.steps {
                for tip in &step.warnings {
                    notices.push(Notice::warning(
                        format!("DTS {} step {}{label}", detail.kind.noun(), step.id),
                        tip_line(tip),
                    ));
                }
            }
        }
    }
    notices
}

/// An error per differing chunk (database, table, chunk bounds) and a warning per skipped
/// table (an error when skipped tables fail), with the reason; the writer caps them.
fn compare_notices(story: &CompareStory, label: &str, notices: &mut Vec<Notice>) {
    let Some(report) = &story.report else {
        return;
    };
    for d in &report.differences {
        notices.push(Notice::error(
            format!("DTS compare: {} differs{label}", d.table_name()),
            format!(
                "database {}, table {}: {}",
                d.db,
                table_only(&d.schema, &d.table),
                d.bounds()
            ),
        ));
    }
    for skipped in &report.skipped {
        let title = format!("DTS compare: {} not compared{label}", skipped.table_name());
        let message = if skipped.reason.is_empty() {
            "the compare task skipped this table (no reason given)".to_string()
        } else {
            format!("the compare task skipped this table: {}", skipped.reason)
        };
        notices.push(if story.fail_on_skipped {
            Notice::error(title, message)
        } else {
            Notice::warning(title, message)
        });
    }
}

fn table_only(schema: &str, table: &str) -> String {
    if schema.is_empty() {
        table.to_string()
    } else {
        format!("{schema}.{table}")
    }
}

/// The compare stage's summary: one row per job, then each job's differing chunks and
/// skipped tables as tables.
fn compare_summary(run: &StageRun, verdict: &str) -> String {
    let mut md = format!(
        "### DTS gate: compare stage {verdict}\n\n| job | result | compare task | status | conclusion | tables compared | different tables | different rows | skipped tables | reason |\n|---|---|---|---|---|---|---|---|---|---|\n"
    );
    let empty = CompareStory::default();
    for job in &run.jobs {
        let story = job.compare.as_ref().unwrap_or(&empty);
        let report = story.report.as_ref();
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            markdown_text(&job.job_id),
            job.result(),
            markdown_text(&story.task_id),
            markdown_text(&compare_status(story)),
            markdown_text(&conclusion(story)),
            count(report.and_then(|r| r.checked_tables)),
            count(report.and_then(|r| r.different_tables)),
            count(report.and_then(|r| r.different_rows)),
            count(report.and_then(|r| r.skipped_tables)),
            markdown_text(&reason(job, "")),
        ));
    }
    for job in &run.jobs {
        let Some(story) = &job.compare else {
            continue;
        };
        let report = story.report.as_ref();
        let differences = report.map(|r| r.differences.as_slice()).unwrap_or_default();
        let skipped = report.map(|r| r.skipped.as_slice()).unwrap_or_default();
        if differences.is_empty() && skipped.is_empty() && story.stopped.is_none() {
            continue;
        }
        md.push_str(&format!("\n#### {}\n", markdown_text(&job.job_id)));
        if !differences.is_empty() {
            md.push_str("\nDifferent data:\n\n| database | schema | table | chunk | index | lower bound | upper bound | source | target |\n|---|---|---|---|---|---|---|---|---|\n");
            for d in differences {
                md.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    markdown_text(&d.db),
                    markdown_text(&d.schema),
                    markdown_text(&d.table),
                    count(d.chunk),
                    markdown_text(&d.index_name),
                    markdown_text(&d.lower),
                    markdown_text(&d.upper),
                    markdown_text(&d.src_item),
                    markdown_text(&d.dst_item),
                ));
            }
        }
        if !skipped.is_empty() {
            let what = if story.fail_on_skipped {
                "failures"
            } else {
                "warnings"
            };
            md.push_str(&format!(
                "\nNot compared ({what}):\n\n| database | schema | table | reason |\n|---|---|---|---|\n"
            ));
            for t in skipped {
                md.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    markdown_text(&t.db),
                    markdown_text(&t.schema),
                    markdown_text(&t.table),
                    markdown_text(&t.reason),
                ));
            }
        }
        match &story.stopped {
            Some(Ok(request)) => md.push_str(&format!(
                "\nThe gate stopped early and stopped the compare task it created (StopCompare, request {}).\n",
                markdown_text(request)
            )),
            Some(Err(error)) => md.push_str(&format!(
                "\n**The compare task the gate created could not be stopped** ({}): stop it in the DTS console.\n",
                markdown_text(error)
            )),
            None => {}
        }
    }
    md.push('\n');
    md
}

/// The job summary.
pub fn summary(facts: &StageFacts) -> String {
    let run = facts.run;
    let verdict = if run.passed() {
        "passed"
    } else {
        "did not pass"
    };
    if run.stage == Stage::Compare {
        return compare_summary(run, verdict);
    }
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
    use crate::api::{JobKind, MigrationStep};
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
    fn a_step_warning_is_titled_after_the_kind_of_the_job() {
        let warned = |kind| {
            let mut job = job(StageResult::Passed, "Running");
            let detail = job.last.as_mut().unwrap();
            detail.kind = kind;
            detail.steps = vec![MigrationStep {
                id: "StartSync".into(),
                warnings: vec![Tip {
                    message: "lagging".into(),
                    ..Tip::default()
                }],
                ..MigrationStep::default()
            }];
            let run = StageRun {
                stage: Stage::Ready,
                jobs: vec![job],
            };
            notices(&facts(&run), false)[0].title.clone()
        };
        assert_eq!(warned(JobKind::Migration), "DTS migration step StartSync");
        assert_eq!(warned(JobKind::Sync), "DTS sync job step StartSync");
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

    fn junit_context() -> junit::Context<'static> {
        junit::Context {
            started: time::OffsetDateTime::UNIX_EPOCH,
            hostname: "runner",
        }
    }

    fn compare_job(result: StageResult, fail_on_skipped: bool) -> StageJob {
        use crate::api::{CompareReport, CompareTask, Difference, Skipped};
        let chunk = |table: &str, n| Difference {
            db: "shop".into(),
            table: table.into(),
            chunk: Some(n),
            index_name: "PRIMARY".into(),
            lower: "1".into(),
            upper: "100".into(),
            ..Difference::default()
        };
        StageJob {
            job_id: "dts-1".into(),
            result,
            last: None,
            polls: 3,
            completed_by: None,
            compare: Some(CompareStory {
                task_id: "dts-1-cmp-1".into(),
                created: true,
                task: Some(CompareTask {
                    status: "success".into(),
                    conclusion: "different".into(),
                    ..CompareTask::default()
                }),
                report: Some(CompareReport {
                    conclusion: "different".into(),
                    status: "success".into(),
                    checked_tables: Some(5),
                    different_tables: Some(2),
                    different_rows: Some(7),
                    skipped_tables: Some(1),
                    differences: vec![chunk("orders", 1), chunk("orders", 2), chunk("users", 4)],
                    skipped: vec![Skipped {
                        db: "shop".into(),
                        table: "logs".into(),
                        reason: "no primary key".into(),
                        ..Skipped::default()
                    }],
                    request_id: "req-report".into(),
                    ..CompareReport::default()
                }),
                stopped: None,
                fail_on_skipped,
            }),
        }
    }

    #[test]
    fn a_different_compare_names_every_table_in_each_medium() {
        let run = StageRun {
            stage: Stage::Compare,
            jobs: vec![compare_job(
                StageResult::NotPassed {
                    why: "the data differs: 2 tables different, 7 rows".into(),
                },
                false,
            )],
        };
        let facts = facts(&run);
        let out = outputs(&facts);
        let get = |name| out.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(get("conclusion"), "different");
        assert_eq!(get("different-tables"), "2");
        assert_eq!(get("different-rows"), "7");
        assert_eq!(get("skipped-tables"), "1");
        assert_eq!(get("compare-task-id"), "dts-1-cmp-1");
        assert_eq!(get("status"), "success");
        assert_eq!(get("request-id"), "req-report");
        let env = dotenv(&facts);
        assert!(env.contains("DTS_GATE_CONCLUSION=different\n"), "{env}");
        assert!(env.contains("DTS_GATE_DIFFERENT_TABLES=2\n"), "{env}");
        let notes = notices(&facts, false);
        let errors: Vec<_> = notes
            .iter()
            .filter(|n| n.level == super::super::Level::Error)
            .collect();
        // The job, and one per differing chunk.
        assert_eq!(errors.len(), 4, "{notes:?}");
        assert!(errors[1].title.contains("shop.orders differs"));
        assert!(
            errors[1]
                .message
                .contains("database shop, table orders: chunk 1, index PRIMARY, from 1 to 100"),
            "{}",
            errors[1].message
        );
        let warnings: Vec<_> = notes
            .iter()
            .filter(|n| n.level == super::super::Level::Warning)
            .collect();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("no primary key"));
        let md = summary(&facts);
        assert!(
            md.contains("| shop |  | orders | 2 | PRIMARY | 1 | 100 |"),
            "{md}"
        );
        assert!(md.contains("Not compared (warnings)"), "{md}");
        let xml = junit(&facts, &junit_context());
        assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
        assert!(xml.contains("name=\"compare dts-1 shop.orders\""), "{xml}");
        assert!(xml.contains("name=\"compare dts-1 shop.users\""), "{xml}");
        assert!(
            xml.contains("<skipped>not compared: no primary key</skipped>"),
            "{xml}"
        );
        assert!(
            xml.contains("name=\"compare dts-1 3 other compared tables\"/>"),
            "{xml}"
        );
        assert!(xml.contains("failures=\"2\""), "{xml}");
        let report: serde_json::Value = serde_json::from_str(&json(&facts)).unwrap();
        assert_eq!(
            report["jobs"][0]["compare"]["differences"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(report["jobs"][0]["compare"]["conclusion"], "different");
    }

    #[test]
    fn skipped_tables_fail_when_asked() {
        let run = StageRun {
            stage: Stage::Compare,
            jobs: vec![compare_job(
                StageResult::NotPassed { why: "x".into() },
                true,
            )],
        };
        let facts = facts(&run);
        assert!(
            notices(&facts, false)
                .iter()
                .all(|n| n.level == super::super::Level::Error)
        );
        let xml = junit(&facts, &junit_context());
        assert!(
            xml.contains("<failure type=\"skipped\" message=\"not compared: no primary key\">"),
            "{xml}"
        );
        assert!(summary(&facts).contains("Not compared (failures)"));
    }
}
