//! The log: progress lines as the wait goes (answers when they change, steps as they finish,
//! retries, stale results), and the verdict line at the end. Every line is [`sanitize`]d: the
//! runner reads the log for workflow commands.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::time::Duration;

use super::annotations::{self, Notice};
use super::facts::{RunFacts, flag_name, flag_text, percent_text, steps_text};
use super::text::{inert_line, neutralise_commands, sanitize};
use crate::api::{CheckAnswer, CheckStep};
use crate::duration;
use crate::hints::{self, Surface};
use crate::poll::Event;

/// An unchanged answer is still logged this often, so a long wait visibly lives.
const HEARTBEAT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

/// One line for the writer, without its line break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub stream: Stream,
    pub text: String,
    /// One of the gate's own workflow commands; any other line is made inert as it is written.
    pub command: bool,
}

impl Line {
    pub fn out(text: String) -> Line {
        Line {
            stream: Stream::Out,
            text,
            command: false,
        }
    }

    pub fn err(text: String) -> Line {
        Line {
            stream: Stream::Err,
            text,
            command: false,
        }
    }

    /// A workflow command of the gate's own, on stdout.
    pub fn command(text: String) -> Line {
        Line {
            command: true,
            ..Line::out(text)
        }
    }

    /// The text as written: the gate's own command as it is, any other line with every log
    /// command broken up ([`inert_line`]).
    pub fn written(&self) -> String {
        if self.command {
            neutralise_commands(&self.text)
        } else {
            self.text
                .split('\n')
                .map(inert_line)
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

/// What the wait has logged so far, so an answer is logged when it changes (or a heartbeat is
/// due) and a step once, when it finishes.
#[derive(Debug, Default)]
pub struct Progress {
    /// Prefix lines with the job id (several jobs).
    pub label_jobs: bool,
    /// Advice names settings the way the user sets them.
    pub surface: Surface,
    last_logged: HashMap<String, (String, Option<String>, Duration)>,
    steps_logged: HashSet<(String, usize, String)>,
}

impl Progress {
    /// The lines of one event of the wait; `on_github` decides where retries and warnings go.
    pub fn lines(&mut self, event: &Event, on_github: bool) -> Vec<Line> {
        match event {
            Event::Answer {
                job,
                answer,
                elapsed,
                ..
            } => self.answer_lines(job, answer, *elapsed),
            Event::Retrying {
                job,
                error,
                attempt,
                delay,
                elapsed,
            } => {
                let line = self.labelled(
                    job,
                    format!(
                        "[{:>7.1}s] attempt {attempt} failed ({}), retrying in {}",
                        elapsed.as_secs_f64(),
                        sanitize(&error.to_string()),
                        duration::format(*delay)
                    ),
                );
                vec![if on_github {
                    Line::out(line)
                } else {
                    Line::err(line)
                }]
            }
            Event::Stale { job, elapsed } => vec![Line::out(self.labelled(
                job,
                format!(
                    "[{:>7.1}s] ignoring a finished result that may be the previous check's; waiting for the new check to be seen ({})",
                    elapsed.as_secs_f64(),
                    hints::create_grace(self.surface)
                ),
            ))],
            Event::NoCheckYet { .. } | Event::Warning { .. } => self
                .notice(event)
                .map(|n| annotations::line(&n, on_github))
                .into_iter()
                .collect(),
        }
    }

    /// The warning an event raises, if it is one: the writer annotates it, within GitHub's cap.
    pub fn notice(&self, event: &Event) -> Option<Notice> {
        match event {
            Event::NoCheckYet {
                job,
                status,
                waited,
                create_action,
            } => Some(Notice::warning(
                self.labelled_title("No DTS check yet", job),
                format!(
                    "the check has been `{status}` for {}s: no check may have been created for this job; {}",
                    waited.as_secs(),
                    hints::create_a_check(create_action, self.surface)
                ),
            )),
            Event::Warning {
                job,
                title,
                message,
            } => Some(Notice::warning(
                self.labelled_title(title, job),
                message.to_string(),
            )),
            _ => None,
        }
    }

    /// A warning's title, naming its job when there are several.
    fn labelled_title(&self, title: &str, job: &str) -> String {
        if self.label_jobs {
            format!("{title}: {job}")
        } else {
            title.to_string()
        }
    }

    fn answer_lines(&mut self, job: &str, answer: &CheckAnswer, elapsed: Duration) -> Vec<Line> {
        let mut lines = Vec::new();
        let key = (answer.status.clone(), answer.progress.clone());
        let changed = self
            .last_logged
            .get(job)
            .is_none_or(|(s, p, at)| (s, p) != (&key.0, &key.1) || elapsed >= *at + HEARTBEAT);
        if changed {
            lines.push(Line::out(self.labelled(job, answer_line(answer, elapsed))));
            self.last_logged
                .insert(job.to_string(), (key.0, key.1, elapsed));
        }
        let total = answer.steps.len();
        for (i, step) in answer.steps.iter().enumerate() {
            if step.is_finished()
                && self
                    .steps_logged
                    .insert((job.to_string(), i, step.step_id.clone()))
            {
                lines.push(Line::out(self.labelled(job, step_line(step, i, total))));
            }
        }
        lines
    }

    fn labelled(&self, job: &str, line: String) -> String {
        if self.label_jobs {
            format!("{job}: {line}")
        } else {
            line
        }
    }
}

/// The progress line of one answer.
pub fn answer_line(answer: &CheckAnswer, elapsed: Duration) -> String {
    // The percent right-aligned on its own, so it lines up with or without step counts.
    let mut line = format!(
        "[{:>7.1}s] {:<11} {:>5}",
        elapsed.as_secs_f64(),
        sanitize(&answer.status),
        percent_text(answer)
    );
    if let Some(steps) = steps_text(answer) {
        let _ = write!(line, " {steps}");
    }
    if let Some(flag) = answer
        .check_flag
        .as_ref()
        .filter(|_| answer.check_flag_is_final())
    {
        let _ = write!(
            line,
            "  {} {}",
            flag_name(answer.api),
            sanitize(&flag_text(Some(flag)))
        );
    }
    line
}

/// The line of a check step that just finished.
pub fn step_line(step: &CheckStep, index: usize, total: usize) -> String {
    let mut line = format!(
        "            step {}/{total} {}: {}",
        index + 1,
        sanitize(&step.label()),
        sanitize(step.status.as_str())
    );
    if step.has_skipped {
        line.push_str(" (skipped)");
    }
    if !step.message.is_empty() {
        let _ = write!(line, " - {}", sanitize(&step.message));
    }
    line
}

/// `1 poll`, `3 polls`.
pub fn count(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The end of the log: `PASSED: ...` for a pass, else the verdict, unless an annotation of the
/// same title already says it (failed steps are annotated one by one; the verdict then still
/// goes to the log). `notices` are the run's annotations before any cap.
pub fn closing_lines(facts: &RunFacts, notices: &[Notice], on_github: bool) -> Vec<Line> {
    let run = facts.run;
    let mut lines = Vec::new();
    if facts.scalars.passed {
        let line = match facts.jobs.as_slice() {
            [one] => {
                // A sync check (and a terse 2021 one) has no message: then none is quoted.
                let message = one
                    .answer
                    .map(|a| a.error_message.trim())
                    .filter(|m| !m.is_empty())
                    .map(|m| format!("; message: {}", sanitize(m)))
                    .unwrap_or_default();
                format!(
                    "PASSED: the DTS check of {} passed ({} {}) after {:.1}s and {}{message}",
                    one.id(),
                    flag_name(run.api),
                    sanitize(
                        &one.answer
                            .and_then(|a| a.check_flag.as_ref())
                            .map(ToString::to_string)
                            .unwrap_or_default()
                    ),
                    run.elapsed.as_secs_f64(),
                    count(run.polls, "poll"),
                )
            }
            many => format!(
                "PASSED: the DTS checks of all {} jobs passed after {:.1}s and {}",
                many.len(),
                run.elapsed.as_secs_f64(),
                count(run.polls, "request")
            ),
        };
        lines.push(Line::out(line));
    }
    if let Some(verdict) = &facts.verdict
        && !notices.iter().any(|n| n.title == verdict.title)
    {
        let line = format!(
            "{}: {}",
            sanitize(&verdict.title),
            sanitize(&verdict.message)
        );
        lines.push(if on_github {
            Line::out(line)
        } else {
            Line::err(format!("error: {line}"))
        });
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::JobOutcome;
    use crate::report::annotations::notices;
    use crate::report::fixtures::*;

    fn answer_event<'a>(answer: &'a CheckAnswer, secs: u64) -> Event<'a> {
        Event::Answer {
            job: JOB,
            answer,
            poll: 1,
            elapsed: Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_finished_sync_check_line_names_the_job_status_it_was_judged_on() {
        let sync = answer_sync(
            "success",
            "CheckPass",
            vec![step("ConnectDBCheck", "finished", vec![])],
        );
        assert!(
            answer_line(&sync, Duration::ZERO).ends_with("  sync job Status CheckPass (passed)"),
            "{}",
            answer_line(&sync, Duration::ZERO)
        );
        let migration = answer_2021("success", "checkPass", vec![]);
        assert!(
            answer_line(&migration, Duration::ZERO).ends_with("  CheckFlag checkPass (passed)")
        );
    }

    #[test]
    fn progress_lines_only_when_something_changes() {
        let mut progress = Progress::default();
        let a = answer("running", Some(3), "");
        let lines: Vec<Line> = [0, 5, 10, 70]
            .into_iter()
            .flat_map(|secs| progress.lines(&answer_event(&a, secs), false))
            .collect();
        let out = text_on(Stream::Out, &lines);
        // The first answer, then a heartbeat a minute later; no CheckFlag while running.
        assert_eq!(out.lines().count(), 2, "{out}");
        assert_eq!(out.lines().next(), Some("[    0.0s] running      100%"));
    }

    #[test]
    fn steps_are_logged_once_as_they_finish() {
        let mut progress = Progress::default();
        let early = answer_2021(
            "running",
            "",
            vec![
                step("ConnectDBCheck", "pass", vec![]),
                step("VersionCheck", "notStarted", vec![]),
            ],
        );
        let later = answer_2021(
            "running",
            "",
            vec![
                step("ConnectDBCheck", "pass", vec![]),
                step("VersionCheck", "failed", vec![]),
            ],
        );
        let lines: Vec<Line> = [(&early, 0), (&early, 1), (&later, 2)]
            .into_iter()
            .flat_map(|(a, secs)| progress.lines(&answer_event(a, secs), false))
            .collect();
        let out = text_on(Stream::Out, &lines);
        let steps: Vec<&str> = out.lines().filter(|l| l.contains(" step ")).collect();
        assert_eq!(
            steps,
            [
                "            step 1/2 ConnectDBCheck name (ConnectDBCheck): pass",
                "            step 2/2 VersionCheck name (VersionCheck): failed"
            ]
        );
        // The percent lines up, whatever its width.
        assert!(out.contains("] running       50% (1/2 steps)\n"), "{out}");
        assert!(out.contains("] running      100% (2/2 steps)\n"), "{out}");
    }

    #[test]
    fn annotated_failed_steps_leave_the_verdict_in_the_log() {
        let outcome = not_passed_2021();
        let run = run_of(&outcome);
        let facts = RunFacts::of(&run);
        let lines = closing_lines(&facts, &notices(&facts), true);
        assert!(text_on(Stream::Out, &lines).contains("DTS check not passed: dts-1kl0iy0v: CheckFlag checkNotPass (not passed): 2 of 5 check steps failed"));
        // An annotated verdict is not repeated.
        let outcome = single(JobOutcome::NotPassed(answer("finished", Some(0), "no")));
        let run = run_of(&outcome);
        let facts = RunFacts::of(&run);
        assert!(closing_lines(&facts, &notices(&facts), true).is_empty());
    }

    #[test]
    fn a_pass_says_passed() {
        let outcome = passed_2021_with_a_warning();
        let run = run_of(&outcome);
        let facts = RunFacts::of(&run);
        let lines = closing_lines(&facts, &notices(&facts), true);
        assert_eq!(lines.len(), 1);
        assert!(
            lines[0]
                .text
                .starts_with("PASSED: the DTS check of dts-1kl0iy0v passed (CheckFlag checkPass)")
        );
    }
}
