//! Annotations: one [`Notice`] per failed check item (or per failed step, or the verdict), one
//! per warning; on GitHub a workflow command, capped at GitHub's 10 per kind, elsewhere an
//! `error: ...`/`warning: ...` line on stderr. Untrusted text stays raw in a `Notice`; [`line`]
//! escapes it for its medium.

use std::fmt::Write as _;

use super::facts::{JobFacts, RunFacts};
use super::log::Line;
use super::text::{annotation_text, sanitize, truncate, workflow_command};
use crate::api::{CheckItem, CheckStep};
use crate::outcome::{JobOutcome, Outcome};

/// GitHub shows at most this many annotations of one kind per step.
pub const MAX_ANNOTATIONS_PER_KIND: usize = 10;
/// The runner truncates annotations at 4096 characters; stay under it and say so.
const MAX_ANNOTATION_CHARS: usize = 4000;
/// Error-log lines quoted in an annotation; the summary has them all.
const LOG_LINES_IN_ANNOTATION: usize = 5;

/// A kind of annotation; as a number, its index in per-kind counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error = 0,
    Warning = 1,
}

/// An annotation-to-be: on GitHub a workflow command, elsewhere a line on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub title: String,
    pub message: String,
}

impl Notice {
    pub fn error(title: String, message: String) -> Notice {
        Notice {
            level: Level::Error,
            title,
            message,
        }
    }

    pub fn warning(title: String, message: String) -> Notice {
        Notice {
            level: Level::Warning,
            title,
            message,
        }
    }
}

/// One notice as the writer writes it: a workflow command on stdout on GitHub (its text with
/// control characters and log commands made visible, [`annotation_text`]), else plain lines on
/// stderr, `error: title: first line` and each further line of the message indented.
pub fn line(notice: &Notice, on_github: bool) -> Line {
    let name = match notice.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    if on_github {
        Line::command(workflow_command(
            name,
            &[("title", &annotation_text(&notice.title))],
            &truncate(&annotation_text(&notice.message), MAX_ANNOTATION_CHARS),
        ))
    } else {
        let mut lines = truncate(&notice.message, MAX_ANNOTATION_CHARS).replace("\r\n", "\n");
        lines = lines
            .split('\n')
            .map(sanitize)
            .collect::<Vec<_>>()
            .join("\n  ");
        Line::err(format!("{name}: {}: {lines}", sanitize(&notice.title)))
    }
}

/// Every notice of the final report, before GitHub's per-kind cap.
pub fn notices(facts: &RunFacts) -> Vec<Notice> {
    let mut out = Vec::new();
    if let Outcome::InvalidConfig(errors) = facts.run.outcome {
        for e in errors {
            out.push(Notice::error(
                "Invalid configuration".to_string(),
                e.to_string(),
            ));
        }
        return out;
    }
    for job in &facts.jobs {
        job_notices(job, &mut out);
    }
    out
}

fn job_notices(job: &JobFacts, out: &mut Vec<Notice>) {
    let id = job.id();
    match &job.job.outcome {
        // Failed steps speak for themselves, one annotation each; the verdict goes to the log.
        JobOutcome::NotPassed(a) if !a.is_task_failure() && a.failed_steps().next().is_some() => {
            for step in a.failed_steps() {
                step_notices(id, step, Level::Error, CheckItem::is_failed, out);
            }
        }
        _ => {
            if let Some(v) = &job.verdict {
                out.push(Notice::error(v.title.clone(), v.message.clone()));
            }
        }
    }
    if let Some(a) = job.answer.filter(|a| a.has_step_details()) {
        for step in a.warning_steps() {
            step_notices(
                id,
                step,
                Level::Warning,
                CheckItem::is_failed_or_warning,
                out,
            );
        }
        for step in a
            .steps
            .iter()
            .filter(|s| (s.is_failed() || s.is_passed()) && !s.is_warning())
        {
            // Warning items inside steps that are otherwise failed or passed (a warning step's
            // were annotated above).
            for item in step.items.iter().filter(|i| i.is_warning()) {
                out.push(Notice::warning(
                    format!("{id}: {}", step.item_title(item)),
                    item_message(item),
                ));
            }
        }
    }
}

/// The notices of a step: one per `annotated` item, or one for the step when it has none.
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
            title: format!("{job}: {}", step.item_title(item)),
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

/// The annotation text of one check item: reason, solution, help links, first log lines.
pub fn item_message(item: &CheckItem) -> String {
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

/// GitHub keeps 10 annotations of a kind per step. `room` is what is left of them per
/// [`Level`] (polling warnings took some), `held_back` how many of each kind were not annotated
/// already. When everything fits, every notice; otherwise as many as fit but one, and a last
/// that counts the rest and points to the summary.
pub fn cap_annotations(
    notices: Vec<Notice>,
    room: [usize; 2],
    held_back: [usize; 2],
) -> Vec<Notice> {
    let mut out = Vec::new();
    for level in [Level::Error, Level::Warning] {
        let (room, held_back) = (room[level as usize], held_back[level as usize]);
        let of_level: Vec<Notice> = notices
            .iter()
            .filter(|n| n.level == level)
            .cloned()
            .collect();
        if of_level.len() <= room && held_back == 0 {
            out.extend(of_level);
            continue;
        }
        let Some(shown) = room.checked_sub(1) else {
            continue;
        };
        let more = of_level.len().saturating_sub(shown) + held_back;
        out.extend(of_level.into_iter().take(shown));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::*;
    use crate::report::log::Stream;
    use crate::runner::{WorkflowCommand, commands_in};

    /// What the notices of `outcome` put on stdout and stderr.
    fn written(outcome: &Outcome, on_github: bool) -> (String, String) {
        let run = run_of(outcome);
        let notices = notices(&RunFacts::of(&run));
        let notices = if on_github {
            cap_annotations(notices, [MAX_ANNOTATIONS_PER_KIND; 2], [0; 2])
        } else {
            notices
        };
        let lines: Vec<Line> = notices.iter().map(|n| line(n, on_github)).collect();
        (text_on(Stream::Out, &lines), text_on(Stream::Err, &lines))
    }

    fn named<'a>(commands: &'a [WorkflowCommand], name: &str) -> Vec<&'a WorkflowCommand> {
        commands.iter().filter(|c| c.name == name).collect()
    }

    #[test]
    fn a_not_passed_2021_check_annotates_each_failed_and_warning_item() {
        let outcome = not_passed_2021();
        let (stdout, stderr) = written(&outcome, true);
        assert!(stderr.is_empty());
        let commands = commands_in(&stdout);
        let errors = named(&commands, "error");
        let warnings = named(&commands, "warning");
        assert_eq!(errors.len(), 3, "{stdout}");
        assert_eq!(
            errors[0].properties,
            [(
                "title".to_string(),
                "dts-1kl0iy0v: SrcPrivilegeCheck name (SrcPrivilegeCheck) › REPLICATION CLIENT"
                    .to_string()
            )]
        );
        let data = &errors[0].data;
        assert!(data.starts_with("REPLICATION CLIENT is wrong\nSolution: fix REPLICATION CLIENT\nHelp: https://cloud.tencent.com/document/product/571/58700\nLog:\nlog line 1\n"), "{data}");
        assert!(
            data.contains("log line 5\n… 2 more lines in the job summary")
                && !data.contains("log line 6")
        );
        assert_eq!(
            errors[2].properties[0].1,
            "dts-1kl0iy0v: DstEmptyCheck name (DstEmptyCheck)"
        );
        assert_eq!(warnings.len(), 3, "{stdout}");
    }

    #[test]
    fn more_than_ten_failed_items_annotate_nine_and_a_count() {
        let outcome = fourteen_failed_items();
        let (stdout, _) = written(&outcome, true);
        let commands = commands_in(&stdout);
        let errors = named(&commands, "error");
        assert_eq!(errors.len(), 10);
        assert!(errors[8].properties[0].1.ends_with("item8"));
        assert_eq!(errors[9].properties[0].1, "More failed check items");
        assert!(errors[9].data.starts_with("5 more failed check items"));
        assert!(errors[9].data.contains("job summary"));
        // Outside GitHub nothing is capped.
        let (_, stderr) = written(&outcome, false);
        assert_eq!(stderr.lines().filter(|l| l.contains(" › item")).count(), 14);
    }

    #[test]
    fn a_failed_check_task_is_reported_as_such() {
        let outcome = task_failed_2021();
        let (stdout, _) = written(&outcome, true);
        let errors = commands_in(&stdout);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].properties[0].1,
            "DTS check task failed: dts-1kl0iy0v"
        );
        assert!(errors[0].data.contains("failed to run") && errors[0].data.contains("req-21"));
    }

    #[test]
    fn a_passing_2021_check_with_warnings_warns_without_errors() {
        let outcome = passed_2021_with_a_warning();
        let (stdout, _) = written(&outcome, true);
        let commands = commands_in(&stdout);
        assert_eq!(commands.len(), 1);
        assert_eq!(commands[0].name, "warning");
    }

    #[test]
    fn a_sync_step_finished_with_a_warning_is_annotated_once() {
        let warned = step(
            "SrcPrivilegeCheck",
            "finished",
            vec![item("Warning: SrcPrivilegeCheck", "warning")],
        );
        let outcome = Outcome::Jobs(vec![report(
            "sync-7x1a",
            JobOutcome::Passed(answer_sync(
                "success",
                "CheckPass",
                vec![step("ConnectDBCheck", "finished", vec![]), warned],
            )),
        )]);
        let (stdout, _) = written(&outcome, true);
        let commands = commands_in(&stdout);
        assert_eq!(commands.len(), 1, "{stdout}");
        assert_eq!(commands[0].name, "warning");
        assert_eq!(
            commands[0].properties[0].1,
            "sync-7x1a: SrcPrivilegeCheck name (SrcPrivilegeCheck)"
        );
    }

    #[test]
    fn outside_github_a_notice_is_inert_lines() {
        let line = line(&Notice::error(HOSTILE.into(), HOSTILE.into()), false);
        assert_eq!(line.stream, Stream::Err);
        let written = line.written();
        assert!(written.starts_with("error: table missing\\n"));
        // The title is one line; the message's lines are indented under it.
        let lines: Vec<&str> = written.lines().collect();
        assert_eq!(lines.len(), 3, "{written}");
        assert!(lines[1].starts_with("  : :set-output") && lines[2].starts_with("  %0A::error"));
        assert!(commands_in(&written).is_empty() && !written.contains("##["));
    }
}
