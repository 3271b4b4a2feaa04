//! Pure renderers of a run: step outputs, annotations (as [`Notice`]s), the job summary and the
//! progress lines. Untrusted text is left raw in `Notice`s (each medium escapes it its own way)
//! and escaped here only where Markdown is produced.

use std::fmt::Write as _;
use std::time::Duration;

use super::text::{markdown_link, markdown_text, truncate};
use crate::api::{ApiError, ApiVersion, CheckAnswer, CheckFlag, CheckItem, CheckStep};
use crate::duration;
use crate::outcome::{Outcome, check_flag_meaning, is_task_failure};

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
    /// Empty when the configuration could not be read.
    pub job_id: &'a str,
    pub region: &'a str,
    pub api: ApiVersion,
    pub timeout: Duration,
    pub outcome: &'a Outcome,
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

fn flag_text(flag: Option<&CheckFlag>) -> String {
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

fn failed_steps(answer: &CheckAnswer) -> impl Iterator<Item = &CheckStep> {
    answer.steps.iter().filter(|s| s.is_failed())
}

fn warning_steps(answer: &CheckAnswer) -> impl Iterator<Item = &CheckStep> {
    answer.steps.iter().filter(|s| s.is_warning())
}

fn step_ids<'a>(steps: impl Iterator<Item = &'a CheckStep>) -> String {
    steps
        .map(|s| s.step_id.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The step outputs, in a fixed order.
pub fn outputs(run: &RunSummary) -> Vec<(&'static str, String)> {
    let answer = run.outcome.last_answer();
    let field = |f: fn(&CheckAnswer) -> String| answer.map(f).unwrap_or_default();
    let (error_code, error_message) = match run.outcome {
        Outcome::Passed(a) | Outcome::NotPassed(a) => (
            a.error_code.map(|c| c.to_string()).unwrap_or_default(),
            a.error_message.clone(),
        ),
        Outcome::TimedOut { .. } => (
            "Timeout".to_string(),
            format!(
                "the check was still running when the timeout ({}) passed",
                duration::format(run.timeout)
            ),
        ),
        Outcome::Failed { error, .. } => (error.code(), error.message()),
        Outcome::InvalidConfig(errors) => (
            "InvalidConfiguration".to_string(),
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        ),
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
        ("request-id", request_id(run)),
        ("polls", run.polls.to_string()),
        ("elapsed-seconds", run.elapsed.as_secs().to_string()),
        ("failed-steps", field(|a| step_ids(failed_steps(a)))),
        ("warning-steps", field(|a| step_ids(warning_steps(a)))),
    ]
    .into_iter()
    .map(|(k, v)| (k, truncate(&v, MAX_OUTPUT_CHARS)))
    .collect()
}

/// The `RequestId` worth quoting to support: the failing request's, else the last answer's.
fn request_id(run: &RunSummary) -> String {
    let from_error = match run.outcome {
        Outcome::Failed { error, .. } => error.request_id().filter(|r| !r.is_empty()),
        _ => None,
    };
    from_error
        .map(str::to_string)
        .or_else(|| run.outcome.last_answer().map(|a| a.request_id.clone()))
        .unwrap_or_default()
}

const DO_NOT_START: &str =
    "Do not start the migration: fix this, run CreateMigrateCheckJob again, then re-run the gate.";

/// The one-paragraph reason a run did not pass (raw text; callers escape for their medium).
pub fn verdict(run: &RunSummary) -> Option<(String, String)> {
    let job = run.job_id;
    Some(match run.outcome {
        Outcome::Passed(_) | Outcome::InvalidConfig(_) => return None,
        Outcome::NotPassed(a) if is_task_failure(a) => (
            format!("DTS check task failed: {job}"),
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
        Outcome::NotPassed(a) => {
            let failed: Vec<String> = failed_steps(a).map(CheckStep::label).collect();
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
                format!("DTS check not passed: {job}"),
                format!(
                    "CheckFlag {}{}: {reason}. {DO_NOT_START}",
                    flag_text(a.check_flag.as_ref()),
                    a.error_code
                        .map(|c| format!(", ErrorCode {c}"))
                        .unwrap_or_default(),
                ),
            )
        }
        Outcome::TimedOut { last, last_error } => (
            format!("DTS check timed out: {job}"),
            format!(
                "the check was still {} ({}) when the timeout ({}) passed after {} polls{}; raise DTS_TIMEOUT or look at the job in the DTS console.",
                last.status,
                progress_text(last),
                duration::format(run.timeout),
                run.polls,
                last_error
                    .as_ref()
                    .map(|e| format!("; the last request failed: {e}"))
                    .unwrap_or_default(),
            ),
        ),
        Outcome::Failed { error, .. } => (
            format!("DTS API error: {job}"),
            api_error_message(error, run.api),
        ),
    })
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
fn item_message(item: &CheckItem) -> String {
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
    item_results: &[&str],
    out: &mut Vec<Notice>,
) {
    let mut any = false;
    for item in step
        .items
        .iter()
        .filter(|i| item_results.contains(&i.result.as_str()))
    {
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
    let job = run.job_id;
    if let Outcome::InvalidConfig(errors) = run.outcome {
        for e in errors {
            out.push(Notice::error(
                "Invalid configuration".to_string(),
                e.to_string(),
            ));
        }
        return out;
    }
    match run.outcome {
        // Failed steps speak for themselves, one annotation each; the verdict goes to the log.
        Outcome::NotPassed(a) if !is_task_failure(a) && failed_steps(a).next().is_some() => {
            for step in failed_steps(a) {
                step_notices(job, step, Level::Error, &["failed"], &mut out);
            }
        }
        _ => {
            if let Some((title, message)) = verdict(run) {
                out.push(Notice::error(title, message));
            }
        }
    }
    let answer = run.outcome.last_answer();
    if let Some(a) = answer.filter(|a| a.api == ApiVersion::V2021) {
        for step in warning_steps(a) {
            step_notices(job, step, Level::Warning, &["warning", "failed"], &mut out);
        }
        for step in a
            .steps
            .iter()
            .filter(|s| s.is_failed() || s.status == "pass")
        {
            // Warning items inside steps that are otherwise failed or passed.
            for item in step.items.iter().filter(|i| i.result == "warning") {
                out.push(Notice::warning(
                    format!("{job}: {} › {}", step.label(), item.name),
                    item_message(item),
                ));
            }
        }
    }
    out
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
    let job = markdown_text(run.job_id);
    let heading = match run.outcome {
        Outcome::Passed(_) => format!("✅ DTS check passed: {job}"),
        Outcome::NotPassed(a) if is_task_failure(a) => format!("❌ DTS check task failed: {job}"),
        Outcome::NotPassed(_) => format!("❌ DTS check did not pass: {job}"),
        Outcome::TimedOut { .. } => format!("⏱️ DTS check timed out: {job}"),
        Outcome::Failed { .. } => format!("⚠️ DTS check could not be read: {job}"),
        Outcome::InvalidConfig(_) => "⚠️ dts-gate: invalid configuration".to_string(),
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

    let answer = run.outcome.last_answer();
    let mut rows: Vec<(&str, String)> = vec![
        ("Job", job.clone()),
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
    if let Outcome::Failed { error, .. } = run.outcome {
        rows.push(("API error", markdown_text(&error.to_string())));
        if let Some(hint) = error.hint(run.api) {
            rows.push(("What to do", markdown_text(&hint)));
        }
    }
    rows.push(("Request id", markdown_text(&request_id(run))));
    rows.push(("Elapsed", format!("{}s", run.elapsed.as_secs())));
    rows.push(("Polls", run.polls.to_string()));

    md.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    if let Some(a) = answer.filter(|a| !a.steps.is_empty()) {
        steps_markdown(a, &mut md);
    }
    cap_summary(md)
}

fn status_icon(status: &str) -> &'static str {
    match status {
        "pass" => "✅",
        "failed" => "❌",
        "warning" => "⚠️",
        "blocked" => "⛔",
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
            if step.is_warning() {
                "⚠️"
            } else {
                status_icon(&step.status)
            },
            markdown_text(&step.status),
            markdown_text(&step.message),
        );
    }
    for (heading, wanted) in [("Failed check items", "failed"), ("Warnings", "warning")] {
        let entries: Vec<(&CheckStep, &CheckItem)> = answer
            .steps
            .iter()
            .flat_map(|s| s.items.iter().map(move |i| (s, i)))
            .filter(|(_, i)| i.result == wanted)
            .collect();
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
    // 2018 answers carry `CheckFlag` 3 while running; it means something only once finished.
    let finished = answer.api == ApiVersion::V2021 || answer.status == "finished";
    if let Some(flag) = answer.check_flag.as_ref().filter(|_| finished) {
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
        super::text::sanitize(&step.status)
    );
    if step.has_skipped {
        line.push_str(" (skipped)");
    }
    if !step.message.is_empty() {
        let _ = write!(line, " - {}", super::text::sanitize(&step.message));
    }
    line
}
