//! Everything a person or a runner reads: progress lines, annotations, step outputs and the job
//! summary. `text` makes untrusted text safe for each medium, `render` turns a run into strings
//! and notices, `json`, `junit` and `dotenv` render the report files for other CI systems, and
//! [`Reporter`] is the one writer.

pub mod dotenv;
pub mod json;
pub mod junit;
mod render;
mod text;

use std::collections::{HashMap, HashSet};
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::time::Duration;

pub use render::{
    Level, MAX_ANNOTATIONS_PER_KIND, MAX_SUMMARY_BYTES, Notice, RunSummary, answer_line,
    cap_annotations, job_verdict, notices, outputs, step_line, summary_markdown, verdict,
};
pub use text::{
    escape_data, escape_property, fresh_delimiter, markdown_link, markdown_text, os_random,
    output_record, sanitize, truncate, workflow_command,
};

use crate::config::{GithubRunner, ReportFiles};
use crate::duration;
use crate::poll::Event;

/// The runner truncates annotations at 4096 characters; stay under it and say so.
const MAX_ANNOTATION_CHARS: usize = 4000;
/// An unchanged answer is still logged this often, so a long wait visibly lives.
const HEARTBEAT: Duration = Duration::from_secs(60);

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

/// Writes the report: progress as it happens, then verdict, annotations, outputs and summary.
pub struct Reporter<W: Write, E: Write> {
    github: Option<GithubRunner>,
    out: W,
    err: E,
    /// Prefix progress lines with the job id (several jobs).
    label_jobs: bool,
    reports: ReportFiles,
    last_logged: HashMap<String, (String, Option<String>, Duration)>,
    steps_logged: HashSet<(String, usize, String)>,
}

impl<W: Write, E: Write> Reporter<W, E> {
    /// `github` is `Some` only on GitHub Actions: the only place workflow commands are written.
    pub fn new(github: Option<GithubRunner>, out: W, err: E) -> Self {
        Reporter {
            github,
            out,
            err,
            label_jobs: false,
            reports: ReportFiles::default(),
            last_logged: HashMap::new(),
            steps_logged: HashSet::new(),
        }
    }

    /// The report files to write when the gate ends, on GitHub or not.
    pub fn reports(&mut self, files: ReportFiles) {
        self.reports = files;
    }

    /// With several jobs, every progress line names its job.
    pub fn label_jobs(&mut self, on: bool) {
        self.label_jobs = on;
    }

    fn labelled(&self, job: &str, line: String) -> String {
        if self.label_jobs {
            format!("{job}: {line}")
        } else {
            line
        }
    }

    fn on_github(&self) -> bool {
        self.github.is_some()
    }

    /// A plain informational line on stdout.
    pub fn info(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}");
    }

    /// An annotation on GitHub; `error: ...`/`warning: ...` on stderr elsewhere.
    pub fn notice(&mut self, notice: &Notice) {
        let (command, prefix) = match notice.level {
            Level::Error => ("error", "error"),
            Level::Warning => ("warning", "warning"),
        };
        if self.on_github() {
            let line = workflow_command(
                command,
                &[("title", &notice.title)],
                &truncate(&notice.message, MAX_ANNOTATION_CHARS),
            );
            let _ = writeln!(self.out, "{line}");
        } else {
            let _ = writeln!(
                self.err,
                "{prefix}: {}: {}",
                sanitize(&notice.title),
                sanitize(&notice.message)
            );
        }
    }

    pub fn warning(&mut self, title: &str, message: &str) {
        self.notice(&Notice {
            level: Level::Warning,
            title: title.to_string(),
            message: message.to_string(),
        });
    }

    /// Reports one event of the wait.
    pub fn event(&mut self, event: &Event) {
        match event {
            Event::Answer {
                job,
                answer,
                elapsed,
                ..
            } => {
                let key = (answer.status.clone(), answer.progress.clone());
                let changed = self.last_logged.get(*job).is_none_or(|(s, p, at)| {
                    (s, p) != (&key.0, &key.1) || *elapsed >= *at + HEARTBEAT
                });
                if changed {
                    let line = self.labelled(job, answer_line(answer, *elapsed));
                    self.info(&line);
                    self.last_logged
                        .insert(job.to_string(), (key.0, key.1, *elapsed));
                }
                let total = answer.steps.len();
                for (i, step) in answer.steps.iter().enumerate() {
                    if step.is_finished()
                        && self
                            .steps_logged
                            .insert((job.to_string(), i, step.step_id.clone()))
                    {
                        let line = self.labelled(job, step_line(step, i, total));
                        self.info(&line);
                    }
                }
            }
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
                if self.on_github() {
                    self.info(&line);
                } else {
                    let _ = writeln!(self.err, "{line}");
                }
            }
            Event::Stale { job, elapsed } => {
                let line = self.labelled(
                    job,
                    format!(
                        "[{:>7.1}s] ignoring a finished result that may be the previous check's; waiting for the new check to be seen (see DTS_CREATE_GRACE)",
                        elapsed.as_secs_f64()
                    ),
                );
                self.info(&line);
            }
            Event::Warning {
                job,
                title,
                message,
            } => {
                let title = if self.label_jobs {
                    format!("{title}: {job}")
                } else {
                    title.to_string()
                };
                self.warning(&title, message);
            }
        }
    }

    /// The verdict in the log, the annotations, the outputs and the summary.
    pub fn finish(&mut self, run: &RunSummary) {
        if run.outcome.passed() {
            let line = match run.outcome.jobs() {
                [one] => {
                    let a = one.outcome.last_answer();
                    format!(
                        "PASSED: the DTS check of {} passed (CheckFlag {}) after {}s and {} polls; message: {}",
                        one.job_id,
                        a.and_then(|a| a.check_flag.as_ref())
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        run.elapsed.as_secs(),
                        run.polls,
                        sanitize(&a.map(|a| a.error_message.clone()).unwrap_or_default())
                    )
                }
                many => format!(
                    "PASSED: the DTS checks of all {} jobs passed after {}s and {} requests",
                    many.len(),
                    run.elapsed.as_secs(),
                    run.polls
                ),
            };
            self.info(&line);
        }
        let all = notices(run);
        // When failed steps are annotated one by one, the verdict itself still goes to the log.
        if let Some((title, message)) = verdict(run)
            && !all.iter().any(|n| n.title == title)
        {
            let line = format!("{}: {}", sanitize(&title), sanitize(&message));
            if self.on_github() {
                self.info(&line);
            } else {
                let _ = writeln!(self.err, "error: {line}");
            }
        }
        // GitHub drops annotations past 10 per kind; elsewhere every notice is a line.
        let shown = if self.on_github() {
            cap_annotations(all)
        } else {
            all
        };
        for n in &shown {
            self.notice(n);
        }
        self.write_reports(run);
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

/// What a report is called, its variable, its path if asked for, and how to render it.
type ReportFile<'a> = (&'a str, &'a str, &'a Option<String>, &'a dyn Fn() -> String);

impl<W: Write, E: Write> Reporter<W, E> {
    /// Writes each requested report file, replacing what was there. A file that cannot be written
    /// is a warning: the exit code carries the verdict either way.
    fn write_reports(&mut self, run: &RunSummary) {
        let files = self.reports.clone();
        let reports: [ReportFile; 3] = [
            ("JSON report", "DTS_REPORT_JSON", &files.json, &|| {
                json::render(run)
            }),
            ("JUnit report", "DTS_REPORT_JUNIT", &files.junit, &|| {
                let started = time::OffsetDateTime::now_utc() - run.elapsed;
                let hostname = files.hostname.clone().or_else(system_hostname);
                junit::render(
                    run,
                    &junit::Context {
                        started,
                        hostname: hostname.as_deref().unwrap_or("localhost"),
                    },
                )
            }),
            ("dotenv report", "DTS_REPORT_DOTENV", &files.dotenv, &|| {
                dotenv::render(run)
            }),
        ];
        for (what, variable, path, render) in reports {
            let Some(path) = path else { continue };
            if let Err(e) = replace_file(path, &render()) {
                self.warning(
                    &format!("{what} not written"),
                    &format!(
                        "could not write {variable} ({path}): {e}; check that the directory is writable by this user, or change {variable}"
                    ),
                );
            }
        }
    }
}

/// The kernel's host name where there is one (Linux); the caller falls back to `localhost`.
fn system_hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Creates (or truncates) a report file, and its directory if needed: a report is the state of
/// this run, never appended to an earlier one.
fn replace_file(path: &str, text: &str) -> io::Result<()> {
    if let Some(dir) = std::path::Path::new(path)
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)
}

/// Appends to a runner file; the runner creates it, we never truncate it.
fn append(path: &str, text: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().append(true).create(true).open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{ApiError, ApiVersion, CheckAnswer, CheckFlag, CheckItem, CheckStep};
    use crate::config::ConfigError;
    use crate::outcome::{JobOutcome, JobReport, Outcome, Start};
    use crate::runner::{commands_in, parse_output_file};

    const JOB: &str = "dts-1kl0iy0v";

    fn single(outcome: JobOutcome) -> Outcome {
        Outcome::Jobs(vec![JobReport {
            job_id: JOB.into(),
            outcome,
            polls: 3,
            start: Start::NotRequested,
        }])
    }

    const HOSTILE: &str = "table missing\n::set-output name=passed::true\r\n%0A::error::x, a: b %25 ##[set-output name=passed;]true\u{1b}[31m\u{202e}";

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

    fn answer(status: &str, flag: Option<i64>, msg: &str) -> CheckAnswer {
        CheckAnswer {
            api: ApiVersion::V2018,
            status: status.into(),
            check_flag: flag.map(CheckFlag::Code),
            progress: Some("100".into()),
            error_code: Some(if flag == Some(1) { 0 } else { -1 }),
            error_message: msg.into(),
            request_id: "req-1".into(),
            deprecated_warning: None,
            steps: Vec::new(),
        }
    }

    fn item(name: &str, result: &str) -> CheckItem {
        CheckItem {
            name: name.into(),
            result: result.into(),
            failure_reason: format!("{name} is wrong"),
            solution: format!("fix {name}"),
            help_doc: vec!["https://cloud.tencent.com/document/product/571/58700".into()],
            error_log: (1..=7).map(|i| format!("log line {i}")).collect(),
            ..CheckItem::default()
        }
    }

    fn step(id: &str, status: &str, items: Vec<CheckItem>) -> CheckStep {
        CheckStep {
            step_id: id.into(),
            step_name: format!("{id} name"),
            status: status.into(),
            items,
            ..CheckStep::default()
        }
    }

    fn answer_2021(status: &str, flag: &str, steps: Vec<CheckStep>) -> CheckAnswer {
        CheckAnswer {
            api: ApiVersion::V2021,
            status: status.into(),
            check_flag: (!flag.is_empty()).then(|| CheckFlag::Name(flag.into())),
            progress: crate::api::step_progress(&steps),
            error_code: None,
            error_message: "brief".into(),
            request_id: "req-21".into(),
            deprecated_warning: None,
            steps,
        }
    }

    fn run_of(outcome: &Outcome) -> RunSummary<'_> {
        RunSummary {
            region: "ap-guangzhou",
            api: outcome
                .jobs()
                .first()
                .and_then(|j| j.outcome.last_answer())
                .map_or(ApiVersion::V2018, |a| a.api),
            timeout: Duration::from_secs(1800),
            outcome,
            polls: 3,
            elapsed: Duration::from_millis(12_400),
        }
    }

    fn output_map(run: &RunSummary) -> std::collections::HashMap<&'static str, String> {
        outputs(run).into_iter().collect()
    }

    /// What the reporter writes on GitHub: stdout, the outputs and the summary.
    fn report_on_github(run: &RunSummary) -> (String, String, String) {
        let dir = std::env::temp_dir().join(format!(
            "dts-gate-report-{}-{}",
            std::process::id(),
            os_random()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let github = GithubRunner {
            output_file: Some(dir.join("o").to_string_lossy().into_owned()),
            summary_file: Some(dir.join("s").to_string_lossy().into_owned()),
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        Reporter::new(Some(github), &mut out, &mut err).finish(run);
        assert!(err.is_empty());
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        let result = (String::from_utf8(out).unwrap(), read("o"), read("s"));
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn outputs_of_a_pass() {
        let outcome = single(JobOutcome::Passed(answer("finished", Some(1), "ok")));
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
        assert_eq!(o["failed-steps"], "");
        assert_eq!(o["warning-steps"], "");
        assert_eq!(outputs(&run_of(&outcome)).len(), 14);
        assert_eq!(o["migration-started"], "false");
        let jobs: serde_json::Value = serde_json::from_str(&o["jobs"]).unwrap();
        assert_eq!(jobs[0]["id"], JOB);
        assert_eq!(jobs[0]["result"], "passed");
        assert_eq!(jobs[0]["check_flag"], "1");
    }

    #[test]
    fn outputs_of_failures() {
        let outcome = single(JobOutcome::NotPassed(answer(
            "finished",
            Some(0),
            "table does not exist",
        )));
        let o = output_map(&run_of(&outcome));
        assert_eq!(
            (o["passed"].as_str(), o["result"].as_str()),
            ("false", "not-passed")
        );
        assert_eq!(
            (o["check-flag"].as_str(), o["error-code"].as_str()),
            ("0", "-1")
        );

        let outcome = single(JobOutcome::Failed {
            error: ApiError::Service {
                code: "AuthFailure.SignatureFailure".into(),
                message: "bad".into(),
                request_id: "req-err".into(),
            },
            last: None,
        });
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

        let outcome = single(JobOutcome::TimedOut {
            last: answer("running", Some(3), ""),
            last_error: None,
        });
        let o = output_map(&run_of(&outcome));
        assert_eq!(
            (o["result"].as_str(), o["error-code"].as_str()),
            ("timed-out", "Timeout")
        );
        assert!(o["error-message"].contains("30m"));
    }

    #[test]
    fn summary_puts_the_verdict_first_and_escapes_service_text() {
        let outcome = single(JobOutcome::NotPassed(answer(
            "finished",
            Some(0),
            "<b>x</b> | [y](z)",
        )));
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
            "| API version | 2018-03-30 |",
        ] {
            assert!(md.contains(row), "{row} missing from\n{md}");
        }
    }

    #[test]
    fn summary_stays_small_whatever_the_service_says() {
        let huge = "x".repeat(1_000_000);
        let outcome = single(JobOutcome::NotPassed(answer("finished", Some(0), &huge)));
        let md = summary_markdown(&run_of(&outcome));
        assert!(md.len() < 100 * 1024, "{}", md.len());
        // Thousands of steps with long items still fit under GitHub's 1 MiB.
        let steps = (0..3000)
            .map(|i| {
                step(
                    &format!("Step{i}"),
                    "failed",
                    vec![item(&"y".repeat(2000), "failed")],
                )
            })
            .collect();
        let outcome = single(JobOutcome::NotPassed(answer_2021(
            "success",
            "checkNotPass",
            steps,
        )));
        let md = summary_markdown(&run_of(&outcome));
        assert!(md.len() <= MAX_SUMMARY_BYTES + 200, "{}", md.len());
        assert!(md.ends_with("the step outputs and the log have the rest._\n"));
    }

    #[test]
    fn reporter_outside_github_writes_no_workflow_commands() {
        let outcome = single(JobOutcome::NotPassed(answer(
            "finished",
            Some(0),
            "::error::injected\nline",
        )));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = Reporter::new(None, &mut out, &mut err);
        r.event(&Event::Answer {
            job: JOB,
            answer: outcome.jobs()[0].outcome.last_answer().unwrap(),
            poll: 1,
            elapsed: Duration::from_secs(1),
        });
        r.finish(&run_of(&outcome));
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        assert!(commands_in(&out).is_empty() && commands_in(&err).is_empty());
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
                job: JOB,
                answer: &a,
                poll: 1,
                elapsed: Duration::from_secs(secs),
            });
        }
        let out = String::from_utf8(out).unwrap();
        // The first answer, then a heartbeat a minute later; no CheckFlag while running.
        assert_eq!(out.lines().count(), 2, "{out}");
        assert_eq!(out.lines().next(), Some("[    0.0s] running      100%"));
    }

    #[test]
    fn steps_are_logged_once_as_they_finish() {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = Reporter::new(None, &mut out, &mut err);
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
        for (a, secs) in [(&early, 0), (&early, 1), (&later, 2)] {
            r.event(&Event::Answer {
                job: JOB,
                answer: a,
                poll: 1,
                elapsed: Duration::from_secs(secs),
            });
        }
        let out = String::from_utf8(out).unwrap();
        let steps: Vec<&str> = out.lines().filter(|l| l.contains(" step ")).collect();
        assert_eq!(
            steps,
            [
                "            step 1/2 ConnectDBCheck name (ConnectDBCheck): pass",
                "            step 2/2 VersionCheck name (VersionCheck): failed"
            ]
        );
        assert!(out.contains("running     50% (1/2 steps)\n"), "{out}");
    }

    #[test]
    fn a_not_passed_2021_check_annotates_each_failed_and_warning_item() {
        let steps = vec![
            step("ConnectDBCheck", "pass", vec![]),
            step(
                "SrcPrivilegeCheck",
                "failed",
                vec![
                    item("REPLICATION CLIENT", "failed"),
                    item("SELECT", "failed"),
                    item("EVENT", "warning"),
                ],
            ),
            step("DstEmptyCheck", "failed", vec![]),
            step(
                "BinlogParamCheck",
                "warning",
                vec![item("binlog_row_image", "warning")],
            ),
            CheckStep {
                has_skipped: true,
                ..step(
                    "OptimizeCheck",
                    "failed",
                    vec![item("skipped one", "warning")],
                )
            },
        ];
        let outcome = single(JobOutcome::NotPassed(answer_2021(
            "success",
            "checkNotPass",
            steps,
        )));
        let run = run_of(&outcome);
        let o = output_map(&run);
        assert_eq!(o["failed-steps"], "SrcPrivilegeCheck,DstEmptyCheck");
        assert_eq!(o["warning-steps"], "BinlogParamCheck,OptimizeCheck");
        assert_eq!(o["check-flag"], "checkNotPass");
        assert_eq!(o["status"], "success");
        assert_eq!(o["progress"], "100");

        let (stdout, _, summary) = report_on_github(&run);
        let commands = commands_in(&stdout);
        let errors: Vec<_> = commands.iter().filter(|c| c.name == "error").collect();
        let warnings: Vec<_> = commands.iter().filter(|c| c.name == "warning").collect();
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
        // The verdict is still in the log, as a plain line.
        assert!(stdout.contains("DTS check not passed: dts-1kl0iy0v: CheckFlag checkNotPass (not passed): 2 of 5 check steps failed"));

        assert!(summary.contains("#### Check steps"));
        assert!(
            summary.contains("| 1 | SrcPrivilegeCheck name \\(SrcPrivilegeCheck\\) | ❌ failed |")
        );
        assert!(summary.contains("⚠️ failed (skipped)"));
        assert!(summary.contains("#### Failed check items"));
        assert!(summary.contains("#### Warnings"));
        assert!(summary.contains("- Help: [https://cloud.tencent.com/document/product/571/58700](https://cloud.tencent.com/document/product/571/58700)"));
        assert!(summary.contains("log line 7"));
    }

    #[test]
    fn more_than_ten_failed_items_annotate_nine_and_a_count() {
        let items = (0..14)
            .map(|i| item(&format!("item{i}"), "failed"))
            .collect();
        let outcome = single(JobOutcome::NotPassed(answer_2021(
            "success",
            "checkNotPass",
            vec![step("SrcPrivilegeCheck", "failed", items)],
        )));
        let (stdout, _, summary) = report_on_github(&run_of(&outcome));
        let errors: Vec<_> = commands_in(&stdout)
            .into_iter()
            .filter(|c| c.name == "error")
            .collect();
        assert_eq!(errors.len(), 10);
        assert!(errors[8].properties[0].1.ends_with("item8"));
        assert_eq!(errors[9].properties[0].1, "More failed check items");
        assert!(errors[9].data.starts_with("5 more failed check items"));
        assert!(errors[9].data.contains("job summary"));
        for i in 0..14 {
            assert!(
                summary.contains(&format!("› item{i}**")),
                "item{i} missing from summary"
            );
        }
        // Outside GitHub nothing is capped.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        Reporter::new(None, &mut out, &mut err).finish(&run_of(&outcome));
        assert_eq!(
            String::from_utf8(err)
                .unwrap()
                .lines()
                .filter(|l| l.contains(" › item"))
                .count(),
            14
        );
    }

    #[test]
    fn a_failed_check_task_is_reported_as_such() {
        let outcome = single(JobOutcome::NotPassed(CheckAnswer {
            check_flag: None,
            ..answer_2021("failed", "", vec![])
        }));
        let run = run_of(&outcome);
        let (stdout, outputs_text, summary) = report_on_github(&run);
        let errors = commands_in(&stdout);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].properties[0].1,
            "DTS check task failed: dts-1kl0iy0v"
        );
        assert!(errors[0].data.contains("failed to run") && errors[0].data.contains("req-21"));
        assert!(summary.starts_with("### ❌ DTS check task failed"));
        let o: std::collections::HashMap<_, _> = parse_output_file(&outputs_text)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(o["result"], "not-passed");
        assert_eq!(o["status"], "failed");
    }

    #[test]
    fn a_passing_2021_check_with_warnings_warns_without_errors() {
        let outcome = single(JobOutcome::Passed(answer_2021(
            "success",
            "checkPass",
            vec![step(
                "SrcPrivilegeCheck",
                "warning",
                vec![item("grants", "warning")],
            )],
        )));
        let (stdout, _, summary) = report_on_github(&run_of(&outcome));
        let commands = commands_in(&stdout);
        assert_eq!(commands.len(), 1);
        assert_eq!(commands[0].name, "warning");
        assert!(
            stdout.contains("PASSED: the DTS check of dts-1kl0iy0v passed (CheckFlag checkPass)")
        );
        assert!(summary.starts_with("### ✅"));
    }

    #[test]
    fn step_and_item_text_cannot_inject() {
        let mut hostile = item(HOSTILE, "failed");
        hostile.failure_reason = HOSTILE.into();
        hostile.error_log = vec![HOSTILE.into(), "::warning::second".into()];
        hostile.help_doc = vec![format!("https://x.example/\n::error::{HOSTILE}")];
        let bad_step = CheckStep {
            step_name: HOSTILE.into(),
            message: HOSTILE.into(),
            ..step("X\n::error::y", "failed", vec![hostile])
        };
        let outcome = single(JobOutcome::NotPassed(answer_2021(
            "success",
            "checkNotPass",
            vec![bad_step],
        )));
        let run = run_of(&outcome);
        let (stdout, outputs_text, summary) = report_on_github(&run);
        let commands = commands_in(&stdout);
        assert_eq!(commands.len(), 1, "{stdout}");
        assert!(commands[0].properties[0].1.contains(HOSTILE));
        assert!(commands[0].data.starts_with(HOSTILE));
        let o: std::collections::HashMap<_, _> = parse_output_file(&outputs_text)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(o["failed-steps"], "X\n::error::y");
        assert_eq!(o.len(), 14);
        assert!(!summary.contains("\n::") && !summary.contains("](https://x.example/\n"));
        // Outside GitHub too: every line is inert.
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = Reporter::new(None, &mut out, &mut err);
        r.event(&Event::Answer {
            job: JOB,
            answer: outcome.jobs()[0].outcome.last_answer().unwrap(),
            poll: 1,
            elapsed: Duration::ZERO,
        });
        r.finish(&run);
        let (out, err) = (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        );
        assert!(
            commands_in(&out).is_empty() && commands_in(&err).is_empty(),
            "{out}{err}"
        );
    }
}
