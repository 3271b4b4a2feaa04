//! Pure renderers of a run: step outputs, annotations (as [`Notice`]s), the job summary and the
//! progress lines. Untrusted text is left raw in `Notice`s (each medium escapes it its own way)
//! and escaped here only where Markdown is produced.

use std::fmt::Write as _;
use std::time::Duration;

use super::text::{markdown_link, markdown_text, truncate};
use crate::api::StepStatus;
use crate::api::{ApiError, ApiVersion, CheckAnswer, CheckFlag, CheckItem, CheckStep};
use crate::duration;
use crate::outcome::{JobOutcome, JobReport, Outcome, Severity, Start, check_flag_meaning};

/// One output value; GitHub allows 1 MB of outputs per job.
const MAX_OUTPUT_CHARS: usize = 64 * 1024;
/// GitHub shows at most this many annotations of one kind per step.
pub const MAX_ANNOTATIONS_PER_KIND: usize = 10;
/// Error-log lines quoted in an annotation; the summary has them all.
const LOG_LINES_IN_ANNOTATION: usize = 5;
/// The summary must stay below GitHub's 1 MiB per step, whatever the service returns.
pub const MAX_SUMMARY_BYTES: usize = 900 * 1024;

/// What the final report is about.
#[derive(Debug, Clone)]
pub struct RunSummary<'a> {
    pub region: &'a str,
    pub api: ApiVersion,
    pub timeout: Duration,
    pub outcome: &'a Outcome,
    /// Requests sent, of every kind.
    pub polls: u32,
    pub elapsed: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

/// An annotation-to-be: on GitHub a workflow command, elsewhere a line on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub title: String,
    pub message: String,
}

impl Notice {
    fn error(title: String, message: String) -> Notice {
        Notice {
            level: Level::Error,
            title,
            message,
        }
    }

    fn warning(title: String, message: String) -> Notice {
        Notice {
            level: Level::Warning,
            title,
            message,
        }
    }
}

pub(super) fn flag_text(flag: Option<&CheckFlag>) -> String {
    match flag {
        Some(f) => format!("{f} ({})", check_flag_meaning(f)),
        None => "none".to_string(),
    }
}

pub fn progress_text(answer: &CheckAnswer) -> String {
    let percent = match answer.progress.as_deref() {
        Some(p) if p.parse::<u32>().is_ok() => format!("{p}%"),
        Some(p) => super::text::sanitize(p),
        None => "?".to_string(),
    };
    if answer.steps.is_empty() {
        percent
    } else {
        let done = answer.steps.iter().filter(|s| s.is_finished()).count();
        format!("{percent} ({done}/{} steps)", answer.steps.len())
    }
}

pub(super) fn step_ids<'a>(steps: impl Iterator<Item = &'a CheckStep>) -> String {
    steps
        .map(|s| s.step_id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The step outputs, in a fixed order. The scalars describe the aggregate: the job that
/// decided it (the first with the most severe outcome); `jobs` has every job.
pub fn outputs(run: &RunSummary) -> Vec<(&'static str, String)> {
    let deciding = run.outcome.deciding_job();
    let answer = deciding.and_then(|j| j.outcome.last_answer());
    let field = |f: fn(&CheckAnswer) -> String| answer.map(f).unwrap_or_default();
    let (error_code, error_message) = match (run.outcome, deciding) {
        (Outcome::InvalidConfig(errors), _) => (
            "InvalidConfiguration".to_string(),
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        (_, Some(job)) => job_error(job, run.timeout),
        (_, None) => ("NoJobs".to_string(), "no job was checked".to_string()),
    };
    vec![
        ("passed", run.outcome.passed().to_string()),
        ("result", run.outcome.result().to_string()),
        ("status", field(|a| a.status.clone())),
        (
            "check-flag",
            field(|a| {
                a.check_flag
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            }),
        ),
        (
            "progress",
            field(|a| a.progress.clone().unwrap_or_default()),
        ),
        ("error-code", error_code),
        ("error-message", error_message),
        ("request-id", deciding.map(request_id).unwrap_or_default()),
        ("polls", run.polls.to_string()),
        ("elapsed-seconds", run.elapsed.as_secs().to_string()),
        ("failed-steps", field(|a| step_ids(a.failed_steps()))),
        ("warning-steps", field(|a| step_ids(a.warning_steps()))),
        ("jobs", jobs_json(run)),
        (
            "migration-started",
            run.outcome.migration_started().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k, truncate(&v, MAX_OUTPUT_CHARS)))
    .collect()
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
    }
}

/// A job's error code and message: the refused start's, else the check's.
pub(super) fn job_error(job: &JobReport, timeout: Duration) -> (String, String) {
    match &job.start {
        Start::Refused(error) => return (error.code(), error.message()),
        Start::Cancelled { signal } => {
            return (
                "Cancelled".to_string(),
                format!(
                    "the gate was stopped ({}) before the migration was started",
                    signal_name(*signal)
                ),
            );
        }
        _ => {}
    }
    match &job.outcome {
        JobOutcome::Passed(a) | JobOutcome::NotPassed(a) => (
            a.error_code.map(|c| c.to_string()).unwrap_or_default(),
            a.error_message.clone(),
        ),
        JobOutcome::TimedOut { .. } => (
            "Timeout".to_string(),
            format!(
                "the check was still running when the timeout ({}) passed",
                duration::format(timeout)
            ),
        ),
        JobOutcome::Failed { error, .. } => (error.code(), error.message()),
        JobOutcome::Cancelled { signal, .. } => (
            "Cancelled".to_string(),
            format!(
                "the gate was stopped ({}) while waiting for the check",
                signal_name(*signal)
            ),
        ),
    }
}

/// The `RequestId` worth quoting to support: the failing request's, else the last answer's.
pub(super) fn request_id(job: &JobReport) -> String {
    let from_error = match (&job.start, &job.outcome) {
        (Start::Refused(error), _) | (_, JobOutcome::Failed { error, .. }) => {
            error.request_id().filter(|r| !r.is_empty())
        }
        _ => None,
    };
    from_error
        .map(str::to_string)
        .or_else(|| job.outcome.last_answer().map(|a| a.request_id.clone()))
        .unwrap_or_default()
}

/// The `jobs` output: one object per job, in the order given.
fn jobs_json(run: &RunSummary) -> String {
    let jobs: Vec<serde_json::Value> = run
        .outcome
        .jobs()
        .iter()
        .map(|job| {
            let answer = job.outcome.last_answer();
            let (error_code, message) = job_error(job, run.timeout);
            let (started, start_request_id) = match &job.start {
                Start::Started { request_id } => (true, request_id.clone()),
                _ => (false, String::new()),
            };
            serde_json::json!({
                "id": job.job_id,
                "result": job.result(),
                "status": answer.map(|a| a.status.clone()),
                "check_flag": answer.and_then(|a| a.check_flag.as_ref()).map(ToString::to_string),
                "progress": answer.and_then(|a| a.progress.clone()),
                "error_code": error_code,
                "message": message,
                "request_id": request_id(job),
                "polls": job.polls,
                "failed_steps": answer.map(|a| step_ids(a.failed_steps())).unwrap_or_default(),
                "migration_started": started,
                "start_request_id": start_request_id,
            })
        })
        .collect();
    serde_json::Value::Array(jobs).to_string()
}

const DO_NOT_START: &str =
    "Do not start the migration: fix this, run CreateMigrateCheckJob again, then re-run the gate.";

/// The one-paragraph reason a job did not pass (raw text; callers escape for their medium).
pub fn job_verdict(job: &JobReport, run: &RunSummary) -> Option<(String, String)> {
    let id = &job.job_id;
    if let Start::Refused(error) = &job.start {
        let unsure = if matches!(error, ApiError::Service { .. }) {
            ""
        } else {
            " The request did not complete, so the migration may or may not have started: look at the job in the DTS console before trying again."
        };
        return Some((
            format!("StartMigrateJob failed: {id}"),
            format!(
                "the check passed but starting the migration failed: {}.{unsure}",
                api_error_message(error, run.api)
            ),
        ));
    }
    if let Some(signal) = job.cancelled_by() {
        return Some((
            format!("dts-gate cancelled: {id}"),
            format!(
                "the runner stopped the gate ({}) {}; nothing is known about this check's result, and no migration was started by the gate after the signal.",
                signal_name(signal),
                match job.start {
                    Start::Cancelled { .. } => "before the migration was started",
                    _ => "while it was waiting for the check",
                }
            ),
        ));
    }
    Some(match &job.outcome {
        JobOutcome::Passed(_) => return None,
        JobOutcome::Cancelled { .. } => unreachable!("handled above"),
        JobOutcome::NotPassed(a) if a.is_task_failure() => (
            format!("DTS check task failed: {id}"),
            format!(
                "the check task itself failed to run (Status failed{}); this is not a verdict on the job. Run CreateMigrateCheckJob again; if it keeps failing, contact Tencent Cloud support with RequestId {}.",
                if a.error_message.is_empty() {
                    String::new()
                } else {
                    format!(": {}", a.error_message)
                },
                a.request_id
            ),
        ),
        JobOutcome::NotPassed(a) => {
            let failed: Vec<String> = a.failed_steps().map(CheckStep::label).collect();
            let reason = if !failed.is_empty() {
                format!(
                    "{} of {} check steps failed: {}",
                    failed.len(),
                    a.steps.len(),
                    failed.join(", ")
                )
            } else if a.error_message.is_empty() {
                "the service gave no message".to_string()
            } else {
                a.error_message.clone()
            };
            (
                format!("DTS check not passed: {id}"),
                format!(
                    "CheckFlag {}{}: {reason}. {DO_NOT_START}",
                    flag_text(a.check_flag.as_ref()),
                    a.error_code
                        .map(|c| format!(", ErrorCode {c}"))
                        .unwrap_or_default(),
                ),
            )
        }
        JobOutcome::TimedOut { last, last_error } => (
            format!("DTS check timed out: {id}"),
            format!(
                "the check was still {} ({}) when the timeout ({}) passed after {} polls{}; raise DTS_TIMEOUT or look at the job in the DTS console.",
                last.status,
                progress_text(last),
                duration::format(run.timeout),
                job.polls,
                last_error
                    .as_ref()
                    .map(|e| format!("; the last request failed: {e}"))
                    .unwrap_or_default(),
            ),
        ),
        JobOutcome::Failed { error, .. } => (
            format!("DTS API error: {id}"),
            api_error_message(error, run.api),
        ),
    })
}

/// The reason the run did not pass: the job's own verdict for one job, a tally for several.
pub fn verdict(run: &RunSummary) -> Option<(String, String)> {
    let jobs = run.outcome.jobs();
    match jobs {
        [] => None,
        [one] => job_verdict(one, run),
        _ if run.outcome.passed() => None,
        many => {
            let failing: Vec<String> = many
                .iter()
                .filter(|j| j.severity() != Severity::Passed)
                .map(|j| format!("{} {}", j.job_id, j.result()))
                .collect();
            Some((
                format!(
                    "DTS checks: {} of {} jobs did not pass",
                    failing.len(),
                    many.len()
                ),
                format!(
                    "{}. Nothing was started unless every job passed; see each job's annotations and the job summary.",
                    failing.join(", ")
                ),
            ))
        }
    }
}

fn api_error_message(error: &ApiError, api: ApiVersion) -> String {
    let mut text = error.to_string();
    if let Some(id) = error.request_id().filter(|r| !r.is_empty()) {
        let _ = write!(text, " (RequestId {id})");
    }
    if let Some(hint) = error.hint(api) {
        let _ = write!(text, "; {hint}");
    }
    text
}

/// The annotation text of one check item: reason, solution, help links, first log lines.
pub(super) fn item_message(item: &CheckItem) -> String {
    let mut parts = Vec::new();
    let reason = if item.failure_reason.is_empty() {
        &item.description
    } else {
        &item.failure_reason
    };
    if !reason.is_empty() {
        parts.push(reason.clone());
    }
    if !item.solution.is_empty() {
        parts.push(format!("Solution: {}", item.solution));
    }
    if !item.help_doc.is_empty() {
        parts.push(format!("Help: {}", item.help_doc.join(" ")));
    }
    if !item.error_log.is_empty() {
        let mut log =
            item.error_log[..item.error_log.len().min(LOG_LINES_IN_ANNOTATION)].join("\n");
        if item.error_log.len() > LOG_LINES_IN_ANNOTATION {
            let _ = write!(
                log,
                "\n… {} more lines in the job summary",
                item.error_log.len() - LOG_LINES_IN_ANNOTATION
            );
        }
        parts.push(format!("Log:\n{log}"));
    }
    if parts.is_empty() {
        parts.push(format!("check result: {}", item.result));
    }
    parts.join("\n")
}

/// The notices of a step: one per item with `result`, or one for the step when it has none.
fn step_notices(
    job: &str,
    step: &CheckStep,
    level: Level,
    annotated: fn(&CheckItem) -> bool,
    out: &mut Vec<Notice>,
) {
    let mut any = false;
    for item in step.items.iter().filter(|i| annotated(i)) {
        any = true;
        out.push(Notice {
            level,
            title: format!("{job}: {} › {}", step.label(), item.name),
            message: item_message(item),
        });
    }
    if !any {
        let message = if step.message.is_empty() {
            format!("step status {}", step.status)
        } else {
            step.message.clone()
        };
        out.push(Notice {
            level,
            title: format!("{job}: {}", step.label()),
            message,
        });
    }
}

/// Every notice of the final report, before GitHub's per-kind cap.
pub fn notices(run: &RunSummary) -> Vec<Notice> {
    let mut out = Vec::new();
    if let Outcome::InvalidConfig(errors) = run.outcome {
        for e in errors {
            out.push(Notice::error(
                "Invalid configuration".to_string(),
                e.to_string(),
            ));
        }
        return out;
    }
    for job in run.outcome.jobs() {
        job_notices(job, run, &mut out);
    }
    out
}

fn job_notices(job: &JobReport, run: &RunSummary, out: &mut Vec<Notice>) {
    let id = job.job_id.as_str();
    match &job.outcome {
        // Failed steps speak for themselves, one annotation each; the verdict goes to the log.
        JobOutcome::NotPassed(a) if !a.is_task_failure() && a.failed_steps().next().is_some() => {
            for step in a.failed_steps() {
                step_notices(id, step, Level::Error, CheckItem::is_failed, out);
            }
        }
        _ => {
            if let Some((title, message)) = job_verdict(job, run) {
                out.push(Notice::error(title, message));
            }
        }
    }
    if let Some(a) = job.outcome.last_answer().filter(|a| a.has_step_details()) {
        for step in a.warning_steps() {
            step_notices(
                id,
                step,
                Level::Warning,
                CheckItem::is_failed_or_warning,
                out,
            );
        }
        for step in a.steps.iter().filter(|s| s.is_failed() || s.is_passed()) {
            // Warning items inside steps that are otherwise failed or passed.
            for item in step.items.iter().filter(|i| i.is_warning()) {
                out.push(Notice::warning(
                    format!("{id}: {} › {}", step.label(), item.name),
                    item_message(item),
                ));
            }
        }
    }
}

/// GitHub keeps 10 annotations of a kind per step: past that, nine and a tenth that counts the
/// rest and points to the summary.
pub fn cap_annotations(notices: Vec<Notice>) -> Vec<Notice> {
    let mut out = Vec::new();
    for level in [Level::Error, Level::Warning] {
        let of_level: Vec<Notice> = notices
            .iter()
            .filter(|n| n.level == level)
            .cloned()
            .collect();
        if of_level.len() <= MAX_ANNOTATIONS_PER_KIND {
            out.extend(of_level);
            continue;
        }
        let more = of_level.len() - (MAX_ANNOTATIONS_PER_KIND - 1);
        out.extend(of_level.into_iter().take(MAX_ANNOTATIONS_PER_KIND - 1));
        let (kind, title) = match level {
            Level::Error => ("failed check items", "More failed check items"),
            Level::Warning => ("warnings", "More warnings"),
        };
        out.push(Notice {
            level,
            title: title.to_string(),
            message: format!(
                "{more} more {kind} are not annotated here (GitHub shows 10 per step); the job summary lists them all."
            ),
        });
    }
    out
}

/// The job summary, verdict first.
pub fn summary_markdown(run: &RunSummary) -> String {
    let mut md = String::new();
    let jobs = run.outcome.jobs();
    let subject = match jobs {
        [one] => markdown_text(&one.job_id),
        many => format!("{} jobs", many.len()),
    };
    let heading = match (run.outcome, jobs) {
        (Outcome::InvalidConfig(_), _) => "⚠️ dts-gate: invalid configuration".to_string(),
        (_, [one]) => job_heading(one, &subject),
        _ => match run.outcome.severity() {
            Severity::Passed => format!("✅ DTS checks passed: {subject}"),
            Severity::NotPassed => format!("❌ DTS checks did not pass: {subject}"),
            Severity::TimedOut => format!("⏱️ DTS checks timed out: {subject}"),
            Severity::Error => format!("⚠️ DTS checks could not all be read: {subject}"),
            Severity::Cancelled => format!("🛑 dts-gate cancelled: {subject}"),
        },
    };
    let _ = writeln!(md, "### {heading}\n");

    if let Outcome::InvalidConfig(errors) = run.outcome {
        md.push_str("Nothing was sent to the service. Fix these variables:\n\n");
        for e in errors {
            let _ = writeln!(md, "- {}", markdown_text(&e.to_string()));
        }
        return md;
    }
    if let Some((_, message)) = verdict(run) {
        let _ = writeln!(md, "> {}\n", markdown_text(&message));
    }
    if let [one] = jobs {
        job_markdown(one, run, &mut md);
    } else {
        md.push_str("| Job | Result | Status | Check flag | Progress | Message | Migration |\n|---|---|---|---|---|---|---|\n");
        for job in jobs {
            let a = job.outcome.last_answer();
            let (_, message) = job_error(job, run.timeout);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                markdown_text(&job.job_id),
                job.result(),
                markdown_text(&a.map(|a| a.status.clone()).unwrap_or_default()),
                markdown_text(
                    &a.map(|a| flag_text(a.check_flag.as_ref()))
                        .unwrap_or_default()
                ),
                markdown_text(&a.map(progress_text).unwrap_or_default()),
                markdown_text(&message),
                start_text(&job.start),
            );
        }
        let _ = writeln!(
            md,
            "\nRegion {}, API {}, {} requests, {}s.",
            markdown_text(run.region),
            run.api.as_str(),
            run.polls,
            run.elapsed.as_secs()
        );
        for job in jobs {
            let _ = writeln!(
                md,
                "\n#### {}\n",
                job_heading(job, &markdown_text(&job.job_id))
            );
            if let Some((_, message)) = job_verdict(job, run) {
                let _ = writeln!(md, "> {}\n", markdown_text(&message));
            }
            job_markdown(job, run, &mut md);
        }
    }
    cap_summary(md)
}

fn job_heading(job: &JobReport, subject: &str) -> String {
    match job.start {
        Start::Refused(_) => {
            return format!("⚠️ DTS check passed, migration not started: {subject}");
        }
        Start::Cancelled { .. } => return format!("🛑 dts-gate cancelled: {subject}"),
        _ => {}
    }
    match &job.outcome {
        JobOutcome::Passed(_) => format!("✅ DTS check passed: {subject}"),
        JobOutcome::NotPassed(a) if a.is_task_failure() => {
            format!("❌ DTS check task failed: {subject}")
        }
        JobOutcome::NotPassed(_) => format!("❌ DTS check did not pass: {subject}"),
        JobOutcome::TimedOut { .. } => format!("⏱️ DTS check timed out: {subject}"),
        JobOutcome::Failed { .. } => format!("⚠️ DTS check could not be read: {subject}"),
        JobOutcome::Cancelled { .. } => format!("🛑 dts-gate cancelled: {subject}"),
    }
}

fn start_text(start: &Start) -> String {
    match start {
        Start::NotRequested => "not requested".to_string(),
        Start::Withheld => "not started".to_string(),
        Start::Started { request_id } => format!("started \\({}\\)", markdown_text(request_id)),
        Start::Refused(error) => format!("failed: {}", markdown_text(&error.code())),
        Start::Cancelled { .. } => "not started \\(cancelled\\)".to_string(),
    }
}

/// One job's key table and, for 2021 answers, its steps.
fn job_markdown(job: &JobReport, run: &RunSummary, md: &mut String) {
    let answer = job.outcome.last_answer();
    let mut rows: Vec<(&str, String)> = vec![
        ("Job", markdown_text(&job.job_id)),
        ("Region", markdown_text(run.region)),
        ("API version", run.api.as_str().to_string()),
    ];
    if let Some(a) = answer {
        rows.push(("Status", markdown_text(&a.status)));
        rows.push((
            "Check flag",
            markdown_text(&flag_text(a.check_flag.as_ref())),
        ));
        rows.push(("Progress", markdown_text(&progress_text(a))));
        if let Some(code) = a.error_code {
            rows.push(("Error code", code.to_string()));
        }
        rows.push(("Message", markdown_text(&a.error_message)));
    }
    if let JobOutcome::Failed { error, .. } = &job.outcome {
        rows.push(("API error", markdown_text(&error.to_string())));
        if let Some(hint) = error.hint(run.api) {
            rows.push(("What to do", markdown_text(&hint)));
        }
    }
    if job.start != Start::NotRequested {
        rows.push(("Migration", start_text(&job.start)));
    }
    rows.push(("Request id", markdown_text(&request_id(job))));
    if run.outcome.jobs().len() == 1 {
        rows.push(("Elapsed", format!("{}s", run.elapsed.as_secs())));
        rows.push(("Polls", run.polls.to_string()));
    } else {
        rows.push(("Polls", job.polls.to_string()));
    }
    md.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    if let Some(a) = answer.filter(|a| !a.steps.is_empty()) {
        steps_markdown(a, md);
    }
}

fn status_icon(step: &CheckStep) -> &'static str {
    if step.is_warning() {
        return "⚠️";
    }
    match step.status {
        StepStatus::Pass => "✅",
        StepStatus::Failed => "❌",
        StepStatus::Warning => "⚠️",
        StepStatus::Blocked => "⛔",
        _ => "⏳",
    }
}

fn steps_markdown(answer: &CheckAnswer, md: &mut String) {
    md.push_str("\n#### Check steps\n\n| # | Step | Status | Message |\n|---|---|---|---|\n");
    for (i, step) in answer.steps.iter().enumerate() {
        let skipped = if step.has_skipped { " (skipped)" } else { "" };
        let _ = writeln!(
            md,
            "| {} | {} | {} {}{skipped} | {} |",
            step.step_no.map_or(i as u64, |n| n),
            markdown_text(&step.label()),
            status_icon(step),
            markdown_text(step.status.as_str()),
            markdown_text(&step.message),
        );
    }
    let kinds: [(&str, fn(&CheckItem) -> bool); 2] = [
        ("Failed check items", CheckItem::is_failed),
        ("Warnings", CheckItem::is_warning),
    ];
    for (heading, wanted) in kinds {
        let entries: Vec<(&CheckStep, &CheckItem)> =
            answer.items().filter(|(_, i)| wanted(i)).collect();
        if entries.is_empty() {
            continue;
        }
        let _ = writeln!(md, "\n#### {heading}\n");
        for (step, item) in entries {
            item_markdown(step, item, md);
        }
    }
}

fn item_markdown(step: &CheckStep, item: &CheckItem, md: &mut String) {
    let _ = writeln!(
        md,
        "**{} › {}**{}\n",
        markdown_text(&step.label()),
        markdown_text(&item.name),
        if step.has_skipped { " (skipped)" } else { "" }
    );
    for (label, text) in [
        ("Reason", &item.failure_reason),
        ("Description", &item.description),
        ("Solution", &item.solution),
        ("Skip", &item.skip_info),
    ] {
        if !text.is_empty() {
            let _ = writeln!(md, "- {label}: {}", markdown_text(text));
        }
    }
    if !item.help_doc.is_empty() {
        let links: Vec<String> = item.help_doc.iter().map(|u| markdown_link(u)).collect();
        let _ = writeln!(md, "- Help: {}", links.join(", "));
    }
    if !item.error_log.is_empty() {
        let lines: Vec<String> = item.error_log.iter().map(|l| markdown_text(l)).collect();
        let _ = writeln!(md, "- Log:<br>{}", lines.join("<br>"));
    }
    md.push('\n');
}

/// Cuts a summary that would pass GitHub's limit at a line boundary, and says so.
fn cap_summary(md: String) -> String {
    if md.len() <= MAX_SUMMARY_BYTES {
        return md;
    }
    let mut cut = MAX_SUMMARY_BYTES;
    while !md.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = md[..cut].rfind('\n').map_or(cut, |i| i + 1);
    format!(
        "{}\n_The summary was cut here to stay within GitHub's 1 MiB limit; the step outputs and the log have the rest._\n",
        &md[..cut]
    )
}

/// The progress line of one answer.
pub fn answer_line(answer: &CheckAnswer, elapsed: Duration) -> String {
    let mut line = format!(
        "[{:>7.1}s] {:<11} {:>5}",
        elapsed.as_secs_f64(),
        super::text::sanitize(&answer.status),
        progress_text(answer)
    );
    if let Some(flag) = answer
        .check_flag
        .as_ref()
        .filter(|_| answer.check_flag_is_final())
    {
        let _ = write!(line, "  CheckFlag {}", flag_text(Some(flag)));
    }
    line
}

/// The line of a check step that just finished.
pub fn step_line(step: &CheckStep, index: usize, total: usize) -> String {
    let mut line = format!(
        "            step {}/{total} {}: {}",
        index + 1,
        super::text::sanitize(&step.label()),
        super::text::sanitize(step.status.as_str())
    );
    if step.has_skipped {
        line.push_str(" (skipped)");
    }
    if !step.message.is_empty() {
        let _ = write!(line, " - {}", super::text::sanitize(&step.message));
    }
    line
}
