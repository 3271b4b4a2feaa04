//! Everything a person or a runner reads: progress lines, annotations, step outputs and the job
//! summary. Renderers are pure functions returning strings; [`Reporter`] is the one writer.
//!
//! Text from the API is untrusted. It reaches the log only through [`sanitize`] (one line, no
//! control characters, no `##[` command prefix), annotations only through the runner's own
//! escaping, outputs only in heredoc form with a delimiter checked to be absent, and the summary
//! only through [`markdown_text`].

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::time::Duration;

use crate::api::{ApiError, CheckAnswer};
use crate::config::GithubRunner;
use crate::duration;
use crate::outcome::{Outcome, check_flag_meaning};
use crate::poll::Event;

/// The runner truncates annotations at 4096 characters; stay under it and say so.
const MAX_ANNOTATION_CHARS: usize = 4000;
/// A log line quotes at most this much of one API text.
const MAX_LOG_TEXT_CHARS: usize = 2000;
/// One output value; GitHub allows 1 MB of outputs per job.
const MAX_OUTPUT_CHARS: usize = 64 * 1024;
/// One text in the summary; the whole summary stays far below GitHub's 1 MiB.
const MAX_SUMMARY_TEXT_CHARS: usize = 16 * 1024;
/// An unchanged answer is still logged this often, so a long wait visibly lives.
const HEARTBEAT: Duration = Duration::from_secs(60);

/// `%`, CR and LF as the runner's `escapeData` does (`%` first).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property values additionally escape `:` and `,` (`escapeProperty`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::name key=value,...::data`, properties with empty values left out as the toolkit does.
pub fn workflow_command(name: &str, properties: &[(&str, &str)], data: &str) -> String {
    let props: Vec<String> = properties
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    let head = if props.is_empty() {
        name.to_string()
    } else {
        format!("{name} {}", props.join(","))
    };
    format!("::{head}::{}", escape_data(data))
}

/// Cuts `text` to `max` characters, saying so.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}… [truncated]", &text[..cut]),
    }
}

/// Makes untrusted text safe inside one log line: line breaks and other control characters
/// (ANSI escapes, bidi overrides) become visible escapes, and `##[`, which the runner honours
/// as a legacy command prefix anywhere in a line, is broken up.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in truncate(text, MAX_LOG_TEXT_CHARS).chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.replace("##[", "## [")
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Untrusted text as inert Markdown: no links, images, HTML, emphasis or table breaks.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in truncate(text, MAX_SUMMARY_TEXT_CHARS).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '~' | '!' | '{' | '}'
            | '$' | '^' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// One output in the runner's heredoc form. `delimiter` must not occur in `value`.
pub fn output_record(name: &str, value: &str, delimiter: &str) -> String {
    debug_assert!(!value.contains(delimiter));
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// A fresh `ghadelimiter_<random hex>` that occurs nowhere in `value`.
pub fn fresh_delimiter(value: &str, mut random: impl FnMut() -> u128) -> String {
    loop {
        let candidate = format!("ghadelimiter_{:032x}", random());
        if !value.contains(&candidate) {
            return candidate;
        }
    }
}

/// A random 128-bit number from the operating system, for delimiters and jitter.
pub fn os_random() -> u128 {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // Uniqueness, not secrecy, is what matters here, and every delimiter is checked
        // against the value anyway; the clock is a sufficient fallback.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        return nanos ^ (u128::from(std::process::id()) << 64);
    }
    u128::from_le_bytes(bytes)
}

/// What the final report is about.
#[derive(Debug, Clone)]
pub struct RunSummary<'a> {
    /// Empty when the configuration could not be read.
    pub job_id: &'a str,
    pub region: &'a str,
    pub timeout: Duration,
    pub outcome: &'a Outcome,
    pub polls: u32,
    pub elapsed: Duration,
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
    let request_id = match run.outcome {
        Outcome::Failed { error, last } => error
            .request_id()
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .or_else(|| last.as_ref().map(|a| a.request_id.clone()))
            .unwrap_or_default(),
        _ => field(|a| a.request_id.clone()),
    };
    vec![
        ("passed", run.outcome.passed().to_string()),
        ("result", run.outcome.result().to_string()),
        ("status", field(|a| a.status.clone())),
        (
            "check-flag",
            field(|a| a.check_flag.map(|f| f.to_string()).unwrap_or_default()),
        ),
        (
            "progress",
            field(|a| a.progress.clone().unwrap_or_default()),
        ),
        ("error-code", error_code),
        ("error-message", error_message),
        ("request-id", request_id),
        ("polls", run.polls.to_string()),
        ("elapsed-seconds", run.elapsed.as_secs().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k, truncate(&v, MAX_OUTPUT_CHARS)))
    .collect()
}

/// The whole `GITHUB_OUTPUT` text for `outputs`, each with its own fresh delimiter.
pub fn outputs_file_text(
    outputs: &[(&'static str, String)],
    mut random: impl FnMut() -> u128,
) -> String {
    outputs
        .iter()
        .map(|(name, value)| output_record(name, value, &fresh_delimiter(value, &mut random)))
        .collect()
}

fn flag_text(flag: Option<i64>) -> String {
    match flag {
        Some(f) => format!("{f} ({})", check_flag_meaning(f)),
        None => "none".to_string(),
    }
}

fn progress_text(answer: &CheckAnswer) -> String {
    match answer.progress.as_deref() {
        Some(p) if p.parse::<u32>().is_ok() => format!("{p}%"),
        Some(p) => sanitize(p),
        None => "?".to_string(),
    }
}

/// The one-line reason a run did not pass, for annotations and stderr (untrusted text raw:
/// callers escape it for their medium).
pub fn failure_title_and_message(run: &RunSummary) -> Option<(String, String)> {
    let job = run.job_id;
    Some(match run.outcome {
        Outcome::Passed(_) | Outcome::InvalidConfig(_) => return None,
        Outcome::NotPassed(a) => (
            format!("DTS check not passed: {job}"),
            format!(
                "CheckFlag {}{}: {}. Do not start the migration: fix this, run CreateMigrateCheckJob again, then re-run the gate.",
                flag_text(a.check_flag),
                a.error_code
                    .map(|c| format!(", ErrorCode {c}"))
                    .unwrap_or_default(),
                if a.error_message.is_empty() {
                    "the service gave no message"
                } else {
                    &a.error_message
                },
            ),
        ),
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
        Outcome::Failed { error, .. } => {
            (format!("DTS API error: {job}"), api_error_message(error))
        }
    })
}

fn api_error_message(error: &ApiError) -> String {
    let mut text = error.to_string();
    if let Some(id) = error.request_id().filter(|r| !r.is_empty()) {
        let _ = write!(text, " (RequestId {id})");
    }
    if let Some(hint) = error.hint() {
        let _ = write!(text, "; {hint}");
    }
    text
}

/// The job summary, verdict first.
pub fn summary_markdown(run: &RunSummary) -> String {
    let mut md = String::new();
    let job = markdown_text(run.job_id);
    let heading = match run.outcome {
        Outcome::Passed(_) => format!("✅ DTS check passed: {job}"),
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
    if let Some((_, message)) = failure_title_and_message(run) {
        let _ = writeln!(md, "> {}\n", markdown_text(&message));
    }

    let answer = run.outcome.last_answer();
    let mut rows: Vec<(&str, String)> =
        vec![("Job", job.clone()), ("Region", markdown_text(run.region))];
    if let Some(a) = answer {
        rows.push(("Status", markdown_text(&a.status)));
        rows.push(("Check flag", markdown_text(&flag_text(a.check_flag))));
        rows.push(("Progress", markdown_text(&progress_text(a))));
        if let Some(code) = a.error_code {
            rows.push(("Error code", code.to_string()));
        }
        rows.push(("Message", markdown_text(&a.error_message)));
    }
    if let Outcome::Failed { error, .. } = run.outcome {
        rows.push(("API error", markdown_text(&error.to_string())));
        if let Some(hint) = error.hint() {
            rows.push(("What to do", markdown_text(hint)));
        }
    }
    let request_id = outputs(run)
        .into_iter()
        .find(|(k, _)| *k == "request-id")
        .map(|(_, v)| v)
        .unwrap_or_default();
    rows.push(("Request id", markdown_text(&request_id)));
    rows.push(("Elapsed", format!("{}s", run.elapsed.as_secs())));
    rows.push(("Polls", run.polls.to_string()));

    md.push_str("| | |\n|---|---|\n");
    for (k, v) in rows {
        let _ = writeln!(md, "| {k} | {v} |");
    }
    md
}

/// The progress line of one answer.
pub fn answer_line(answer: &CheckAnswer, elapsed: Duration) -> String {
    let mut line = format!(
        "[{:>7.1}s] {:<11} {:>5}",
        elapsed.as_secs_f64(),
        sanitize(&answer.status),
        progress_text(answer)
    );
    if answer.status == "finished" {
        let _ = write!(line, "  CheckFlag {}", flag_text(answer.check_flag));
    }
    line
}

/// Writes the report: progress as it happens, then verdict, annotations, outputs and summary.
pub struct Reporter<W: Write, E: Write> {
    github: Option<GithubRunner>,
    out: W,
    err: E,
    last_logged: Option<(String, Option<String>, Option<i64>, Duration)>,
}

impl<W: Write, E: Write> Reporter<W, E> {
    /// `github` is `Some` only on GitHub Actions: the only place workflow commands are written.
    pub fn new(github: Option<GithubRunner>, out: W, err: E) -> Self {
        Reporter {
            github,
            out,
            err,
            last_logged: None,
        }
    }

    fn on_github(&self) -> bool {
        self.github.is_some()
    }

    /// A plain informational line on stdout.
    pub fn info(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}");
    }

    /// A warning: an annotation on GitHub, `warning: ...` on stderr elsewhere.
    pub fn warning(&mut self, title: &str, message: &str) {
        if self.on_github() {
            let line = workflow_command(
                "warning",
                &[("title", title)],
                &truncate(message, MAX_ANNOTATION_CHARS),
            );
            let _ = writeln!(self.out, "{line}");
        } else {
            let _ = writeln!(self.err, "warning: {title}: {}", sanitize(message));
        }
    }

    /// An error: an annotation on GitHub, `error: ...` on stderr elsewhere.
    pub fn error(&mut self, title: &str, message: &str) {
        if self.on_github() {
            let line = workflow_command(
                "error",
                &[("title", title)],
                &truncate(message, MAX_ANNOTATION_CHARS),
            );
            let _ = writeln!(self.out, "{line}");
        } else {
            let _ = writeln!(self.err, "error: {title}: {}", sanitize(message));
        }
    }

    /// Reports one event of the wait.
    pub fn event(&mut self, event: &Event) {
        match event {
            Event::Answer {
                answer, elapsed, ..
            } => {
                let key = (
                    answer.status.clone(),
                    answer.progress.clone(),
                    answer.check_flag,
                );
                let changed = self.last_logged.as_ref().is_none_or(|(s, p, f, at)| {
                    (s, p, f) != (&key.0, &key.1, &key.2) || *elapsed >= *at + HEARTBEAT
                });
                if changed {
                    self.info(&answer_line(answer, *elapsed));
                    self.last_logged = Some((key.0, key.1, key.2, *elapsed));
                }
            }
            Event::Retrying {
                error,
                attempt,
                delay,
                elapsed,
            } => {
                let line = format!(
                    "[{:>7.1}s] attempt {attempt} failed ({}), retrying in {}",
                    elapsed.as_secs_f64(),
                    sanitize(&error.to_string()),
                    duration::format(*delay)
                );
                if self.on_github() {
                    self.info(&line);
                } else {
                    let _ = writeln!(self.err, "{line}");
                }
            }
            Event::Warning { title, message } => self.warning(title, message),
        }
    }

    /// The verdict in the log, its annotation, the outputs and the summary.
    pub fn finish(&mut self, run: &RunSummary) {
        match run.outcome {
            Outcome::Passed(a) => self.info(&format!(
                "PASSED: the DTS check of {} passed (CheckFlag 1) after {}s and {} polls; message: {}",
                run.job_id,
                run.elapsed.as_secs(),
                run.polls,
                sanitize(&a.error_message)
            )),
            Outcome::InvalidConfig(errors) => {
                for e in errors {
                    self.error("Invalid configuration", &e.to_string());
                }
            }
            _ => {
                if let Some((title, message)) = failure_title_and_message(run) {
                    self.error(&title, &message);
                }
            }
        }
        let Some(github) = self.github.clone() else {
            return;
        };
        if let Some(path) = &github.output_file {
            let text = outputs_file_text(&outputs(run), os_random);
            if let Err(e) = append(path, &text) {
                self.warning(
                    "Step outputs not written",
                    &format!("could not append to GITHUB_OUTPUT ({path}): {e}"),
                );
            }
        }
        if let Some(path) = &github.summary_file
            && let Err(e) = append(path, &summary_markdown(run))
        {
            self.warning(
                "Job summary not written",
                &format!("could not append to GITHUB_STEP_SUMMARY ({path}): {e}"),
            );
        }
    }
}

/// Appends to a runner file; the runner creates it, we never truncate it.
fn append(path: &str, text: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().append(true).create(true).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ConfigError;
    use crate::runner::{parse_output_file, parse_workflow_command};

    const HOSTILE: &str = "table missing\n::set-output name=passed::true\r\n%0A::error::x, a: b %25 ##[set-output name=passed;]true\u{1b}[31m\u{202e}";

    #[test]
    fn annotation_escaping_round_trips_through_the_runner_parser() {
        let line = workflow_command("error", &[("title", "a: b, c%\nd")], HOSTILE);
        assert_eq!(line.lines().count(), 1);
        let command = parse_workflow_command(&line).unwrap();
        assert_eq!(command.name, "error");
        assert_eq!(
            command.properties,
            [("title".to_string(), "a: b, c%\nd".to_string())]
        );
        assert_eq!(command.data, HOSTILE);
    }

    #[test]
    fn empty_properties_are_left_out() {
        assert_eq!(
            workflow_command("warning", &[("title", "")], "m"),
            "::warning::m"
        );
    }

    #[test]
    fn sanitized_text_is_one_inert_line() {
        let s = sanitize(HOSTILE);
        assert!(!s.contains('\n') && !s.contains('\r') && !s.contains('\u{1b}'));
        assert!(!s.contains("##["));
        assert!(!s.contains('\u{202e}'));
        assert!(s.contains("\\n::set-output"));
        assert!(s.contains("\\u{1b}"));
    }

    #[test]
    fn long_texts_are_truncated_visibly() {
        assert_eq!(truncate("abcdef", 3), "abc… [truncated]");
        assert_eq!(truncate("abc", 3), "abc");
        assert_eq!(truncate("漢字漢字", 2), "漢字… [truncated]");
    }

    #[test]
    fn outputs_read_back_byte_for_byte() {
        let value = format!("{HOSTILE}\nghadelimiter_{:032x}\n", 1u128);
        let mut n = 0u128;
        let text = outputs_file_text(&[("error-message", value.clone())], || {
            n += 1;
            n
        });
        // The first candidate occurs in the value, so a second one was drawn.
        assert!(text.starts_with(&format!("error-message<<ghadelimiter_{:032x}\n", 2u128)));
        let parsed = parse_output_file(&text).unwrap();
        assert_eq!(parsed, [("error-message".to_string(), value)]);
    }

    #[test]
    fn markdown_text_is_inert() {
        let md = markdown_text("[click](https://evil) ![x](y) <img src=x> | a\nb *c* `d`");
        assert!(!md.contains("](") && !md.contains("<img") && !md.contains('\n'));
        assert!(md.contains("\\|") && md.contains("<br>"));
        assert!(md.contains("&lt;img"));
    }

    fn answer(status: &str, flag: Option<i64>, msg: &str) -> CheckAnswer {
        CheckAnswer {
            status: status.into(),
            check_flag: flag,
            progress: Some("100".into()),
            error_code: Some(if flag == Some(1) { 0 } else { -1 }),
            error_message: msg.into(),
            request_id: "req-1".into(),
            deprecated_warning: None,
        }
    }

    fn run_of(outcome: &Outcome) -> RunSummary<'_> {
        RunSummary {
            job_id: "dts-1kl0iy0v",
            region: "ap-guangzhou",
            timeout: Duration::from_secs(1800),
            outcome,
            polls: 3,
            elapsed: Duration::from_millis(12_400),
        }
    }

    fn output_map(run: &RunSummary) -> std::collections::HashMap<&'static str, String> {
        outputs(run).into_iter().collect()
    }

    #[test]
    fn outputs_of_a_pass() {
        let outcome = Outcome::Passed(answer("finished", Some(1), "ok"));
        let o = output_map(&run_of(&outcome));
        assert_eq!(o["passed"], "true");
        assert_eq!(o["result"], "passed");
        assert_eq!(o["status"], "finished");
        assert_eq!(o["check-flag"], "1");
        assert_eq!(o["progress"], "100");
        assert_eq!(o["error-code"], "0");
        assert_eq!(o["error-message"], "ok");
        assert_eq!(o["request-id"], "req-1");
        assert_eq!(o["polls"], "3");
        assert_eq!(o["elapsed-seconds"], "12");
        assert_eq!(outputs(&run_of(&outcome)).len(), 10);
    }

    #[test]
    fn outputs_of_failures() {
        let outcome = Outcome::NotPassed(answer("finished", Some(0), "table does not exist"));
        let o = output_map(&run_of(&outcome));
        assert_eq!(
            (o["passed"].as_str(), o["result"].as_str()),
            ("false", "not-passed")
        );
        assert_eq!(
            (o["check-flag"].as_str(), o["error-code"].as_str()),
            ("0", "-1")
        );

        let outcome = Outcome::Failed {
            error: ApiError::Service {
                code: "AuthFailure.SignatureFailure".into(),
                message: "bad".into(),
                request_id: "req-err".into(),
            },
            last: None,
        };
        let o = output_map(&run_of(&outcome));
        assert_eq!(o["result"], "error");
        assert_eq!(o["error-code"], "AuthFailure.SignatureFailure");
        assert_eq!(o["request-id"], "req-err");
        assert_eq!(o["status"], "");

        let outcome = Outcome::InvalidConfig(vec![ConfigError {
            variable: "DTS_JOB_ID",
            problem: "is not set".into(),
        }]);
        let o = output_map(&run_of(&outcome));
        assert_eq!(o["error-code"], "InvalidConfiguration");
        assert_eq!(o["error-message"], "DTS_JOB_ID: is not set");

        let outcome = Outcome::TimedOut {
            last: answer("running", Some(3), ""),
            last_error: None,
        };
        let o = output_map(&run_of(&outcome));
        assert_eq!(
            (o["result"].as_str(), o["error-code"].as_str()),
            ("timed-out", "Timeout")
        );
        assert!(o["error-message"].contains("30m"));
    }

    #[test]
    fn summary_puts_the_verdict_first_and_escapes_service_text() {
        let outcome = Outcome::NotPassed(answer("finished", Some(0), "<b>x</b> | [y](z)"));
        let md = summary_markdown(&run_of(&outcome));
        assert!(md.starts_with("### ❌ DTS check did not pass: dts-1kl0iy0v\n"));
        assert!(md.contains("| Check flag | 0 \\(not passed\\) |"));
        assert!(md.contains("&lt;b&gt;x&lt;/b&gt; \\| \\[y\\]\\(z\\)"));
        assert!(!md.contains("<b>"));
        for row in [
            "| Job |",
            "| Region |",
            "| Status |",
            "| Progress |",
            "| Request id |",
            "| Elapsed | 12s |",
            "| Polls | 3 |",
        ] {
            assert!(md.contains(row), "{row} missing from\n{md}");
        }
    }

    #[test]
    fn summary_stays_small_whatever_the_service_says() {
        let huge = "x".repeat(1_000_000);
        let outcome = Outcome::NotPassed(answer("finished", Some(0), &huge));
        let md = summary_markdown(&run_of(&outcome));
        assert!(md.len() < 100 * 1024, "{}", md.len());
    }

    #[test]
    fn reporter_outside_github_writes_no_workflow_commands() {
        let outcome = Outcome::NotPassed(answer("finished", Some(0), "::error::injected\nline"));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = Reporter::new(None, &mut out, &mut err);
        r.event(&Event::Answer {
            answer: outcome.last_answer().unwrap(),
            poll: 1,
            elapsed: Duration::from_secs(1),
        });
        r.finish(&run_of(&outcome));
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        for line in out.lines().chain(err.lines()) {
            assert!(!line.trim_start().starts_with("::"), "{line}");
        }
        assert!(
            err.starts_with("error: DTS check not passed: dts-1kl0iy0v: CheckFlag 0 (not passed)")
        );
        assert_eq!(err.lines().count(), 1);
    }

    #[test]
    fn progress_lines_only_when_something_changes() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = Reporter::new(None, &mut out, &mut err);
        let a = answer("running", Some(3), "");
        for secs in [0, 5, 10, 70] {
            r.event(&Event::Answer {
                answer: &a,
                poll: 1,
                elapsed: Duration::from_secs(secs),
            });
        }
        let out = String::from_utf8(out).unwrap();
        // The first answer, then a heartbeat a minute later.
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(out.starts_with("[    0.0s] running      100%"));
    }
}
