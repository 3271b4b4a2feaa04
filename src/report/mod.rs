//! Everything a person or a runner reads, one file per medium: `outputs` (GitHub step outputs),
//! `annotations`, `summary` (the job summary), `log` (progress and verdict lines), and the report
//! files for other CI systems, `json`, `junit` and `dotenv`. They are pure: each renders
//! [`facts::RunFacts`], computed once per run (`verdict` writes its prose), into strings.
//! `text` makes untrusted text safe for each medium. [`Reporter`] is the one writer: it writes
//! what the renderers return, to the streams and files it was given, with the clock, randomness
//! and host name of its [`Surroundings`].

pub mod annotations;
pub mod dotenv;
pub mod facts;
pub mod json;
pub mod junit;
pub mod log;
pub mod outputs;
pub mod stage;
pub mod summary;
mod surroundings;
mod text;
pub mod verdict;

#[cfg(test)]
pub(crate) mod fixtures;

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{self, Write};
use std::time::Duration;

pub use annotations::{Level, MAX_ANNOTATIONS_PER_KIND, Notice, cap_annotations, notices};
pub use facts::{JobJson, RunFacts, RunSummary};
pub use log::{answer_line, step_line};
pub use outputs::{outputs, outputs_file_text};
pub use summary::{MAX_SUMMARY_BYTES, summary_markdown};
pub use surroundings::{Surroundings, os_random};
pub use text::{
    annotation_text, escape_data, escape_property, fresh_delimiter, markdown_link, markdown_text,
    output_record, sanitize, truncate, workflow_command,
};
pub use verdict::Verdict;

use crate::config::{GithubRunner, ReportFiles};
use crate::hints::{Setting, Surface};
use crate::poll::Event;
use log::{Line, Progress, Stream};

/// Writes the report: progress as it happens, then verdict, annotations, outputs and summary.
pub struct Reporter<W: Write, E: Write> {
    github: Option<GithubRunner>,
    out: W,
    err: E,
    reports: ReportFiles,
    progress: Progress,
    surroundings: Surroundings,
    /// Annotations written so far on GitHub, per [`Level`] (GitHub keeps 10 of a kind per step).
    annotated: [usize; 2],
    /// Titles of the warnings annotated so far: a repeated warning is annotated once.
    warned: HashSet<String>,
    /// Notices not annotated (past the cap, or repeated): the final count names them.
    held_back: [usize; 2],
    /// Every warning raised while waiting, for the summary.
    polling_warnings: Vec<Notice>,
    demo: bool,
}

impl<W: Write, E: Write> Reporter<W, E> {
    /// `github` is `Some` only on GitHub Actions: the only place workflow commands are written.
    /// `surroundings` is [`Surroundings::system`] but in tests.
    pub fn new(github: Option<GithubRunner>, out: W, err: E, surroundings: Surroundings) -> Self {
        Reporter {
            github,
            out,
            err,
            reports: ReportFiles::default(),
            progress: Progress::default(),
            surroundings,
            annotated: [0; 2],
            warned: HashSet::new(),
            held_back: [0; 2],
            polling_warnings: Vec::new(),
            demo: false,
        }
    }

    /// This run is the `--demo`: every report says so.
    pub fn demo(&mut self) {
        self.demo = true;
    }

    /// The report files to write when the gate ends, on GitHub or not.
    pub fn reports(&mut self, files: ReportFiles) {
        self.reports = files;
    }

    /// With several jobs, every progress line names its job.
    pub fn label_jobs(&mut self, on: bool) {
        self.progress.label_jobs = on;
    }

    /// How the user configures the gate, so advice names settings the way they are set.
    pub fn configured_through(&mut self, surface: Surface) {
        self.progress.surface = surface;
    }

    fn on_github(&self) -> bool {
        self.github.is_some()
    }

    /// Writes one line; every line but the gate's own commands is made inert on the way.
    fn write(&mut self, line: Line) {
        let text = line.written();
        let _ = match line.stream {
            Stream::Out => writeln!(self.out, "{text}"),
            Stream::Err => writeln!(self.err, "{text}"),
        };
    }

    /// A plain informational line on stdout.
    pub fn info(&mut self, line: &str) {
        self.write(Line::out(line.to_string()));
    }

    /// An annotation on GitHub; `error: ...`/`warning: ...` on stderr elsewhere. On GitHub a
    /// warning already annotated under the same title, or one past the cap (one place of each
    /// kind is kept for the final "N more" annotation), is a log line instead.
    pub fn notice(&mut self, notice: &Notice) {
        if !self.on_github() {
            self.write(annotations::line(notice, false));
            return;
        }
        let kind = notice.level as usize;
        let repeated = notice.level == Level::Warning && self.warned.contains(&notice.title);
        if repeated || self.annotated[kind] + 1 >= MAX_ANNOTATIONS_PER_KIND {
            self.held_back[kind] += 1;
            let mut line = annotations::line(notice, false);
            line.stream = Stream::Out;
            self.write(line);
            return;
        }
        self.annotate(notice);
    }

    fn annotate(&mut self, notice: &Notice) {
        self.annotated[notice.level as usize] += 1;
        if notice.level == Level::Warning {
            self.warned.insert(notice.title.clone());
        }
        self.write(annotations::line(notice, true));
    }

    pub fn warning(&mut self, title: &str, message: &str) {
        self.notice(&Notice::warning(title.to_string(), message.to_string()));
    }

    /// Reports one event of the wait.
    pub fn event(&mut self, event: &Event) {
        if let Some(notice) = self.progress.notice(event) {
            self.notice(&notice);
            self.polling_warnings.push(notice);
            return;
        }
        for line in self.progress.lines(event, self.on_github()) {
            self.write(line);
        }
    }

    /// The verdict in the log, the annotations, the report files, the outputs and the summary.
    pub fn finish(&mut self, run: &RunSummary) {
        let mut facts = RunFacts::of(run);
        facts.polling_warnings = std::mem::take(&mut self.polling_warnings);
        facts.demo = self.demo;
        let on_github = self.on_github();
        let notices = notices(&facts);
        for line in log::closing_lines(&facts, &notices, on_github) {
            self.write(line);
        }
        self.final_notices(notices);
        self.publish(&Documents {
            elapsed: facts.run.elapsed,
            json: &|| json::render(&facts),
            junit: &|context| junit::render(&facts, context),
            dotenv: &|| dotenv::render(&facts),
            outputs: &|| outputs(&facts),
            summary: &|| summary_markdown(&facts),
        });
    }

    /// The notices of a run's end: on GitHub annotations within what is left of the cap of 10
    /// per kind (the last one counting the rest), elsewhere every one as a line.
    fn final_notices(&mut self, notices: Vec<Notice>) {
        if self.on_github() {
            let room = self
                .annotated
                .map(|n| MAX_ANNOTATIONS_PER_KIND.saturating_sub(n));
            for notice in cap_annotations(notices, room, self.held_back) {
                self.annotate(&notice);
            }
        } else {
            for notice in &notices {
                self.notice(notice);
            }
        }
    }

    /// On GitHub, `::add-mask::<value>` (escaped like annotation data), so the runner hides
    /// `value` in every later log line; nothing elsewhere.
    pub fn mask(&mut self, value: &str) {
        if self.on_github() && !value.is_empty() {
            // The gate's own command: written as it is, not made inert like other lines.
            self.write(Line::command(format!(
                "::add-mask::{}",
                text::escape_data(value)
            )));
        }
    }
}

impl<W: Write, E: Write> Reporter<W, E> {
    /// The end of a later stage: the verdict, annotations, report files, outputs and summary.
    pub fn finish_stage(&mut self, facts: &stage::StageFacts) {
        let run = facts.run;
        for job in &run.jobs {
            let line = match job.result {
                crate::stage::StageResult::Passed => {
                    format!("{}: {} stage passed", job.job_id, run.stage.as_str())
                }
                _ => format!(
                    "{}: {} stage {}: {}",
                    job.job_id,
                    run.stage.as_str(),
                    job.result(),
                    stage::reason(job, "")
                ),
            };
            self.info(&line);
        }
        let verdict = if run.passed() {
            format!("dts-gate: the {} stage passed", run.stage.as_str())
        } else {
            format!(
                "dts-gate: the {} stage did not pass (exit {})",
                run.stage.as_str(),
                run.exit_code()
            )
        };
        self.info(&verdict);
        let notices = stage::notices(facts, run.jobs.len() > 1);
        self.final_notices(notices);
        self.publish(&Documents {
            elapsed: facts.elapsed,
            json: &|| stage::json(facts),
            junit: &|context| stage::junit(facts, context),
            dotenv: &|| stage::dotenv(facts),
            outputs: &|| stage::outputs(facts),
            summary: &|| stage::summary(facts),
        });
    }
}

/// Every document the end of a run writes, each rendered only when it is written.
struct Documents<'a> {
    /// How long the run took: JUnit dates the run from it.
    elapsed: Duration,
    json: &'a dyn Fn() -> String,
    junit: &'a dyn Fn(&junit::Context) -> String,
    dotenv: &'a dyn Fn() -> String,
    outputs: &'a dyn Fn() -> Vec<(&'static str, String)>,
    summary: &'a dyn Fn() -> String,
}

/// What a report is called, its variable, its path if asked for, and how to render it.
type ReportFile<'a> = (&'a str, Setting, &'a Option<String>, &'a dyn Fn() -> String);

impl<W: Write, E: Write> Reporter<W, E> {
    /// Writes each requested report file, replacing what was there, then on GitHub the step
    /// outputs and the job summary. A file that cannot be written is a warning: the exit code
    /// carries the verdict either way.
    fn publish(&mut self, docs: &Documents) {
        let files = self.reports.clone();
        let hostname = files
            .hostname
            .clone()
            .or_else(|| self.surroundings.hostname.clone());
        let context = junit::Context {
            started: (self.surroundings.now)() - docs.elapsed,
            hostname: hostname.as_deref().unwrap_or("localhost"),
        };
        let reports: [ReportFile; 3] = [
            ("JSON report", Setting::ReportJson, &files.json, docs.json),
            ("JUnit report", Setting::ReportJunit, &files.junit, &|| {
                (docs.junit)(&context)
            }),
            (
                "dotenv report",
                Setting::ReportDotenv,
                &files.dotenv,
                docs.dotenv,
            ),
        ];
        self.write_report_files(reports);
        let Some(github) = self.github.clone() else {
            return;
        };
        if let Some(path) = &github.output_file {
            let text = outputs_file_text(&(docs.outputs)(), &mut self.surroundings.random);
            if let Err(e) = append(path, &text) {
                self.warning(
                    "Step outputs not written",
                    &format!("could not append to GITHUB_OUTPUT ({path}): {e}"),
                );
            }
        }
        if let Some(path) = &github.summary_file
            && let Err(e) = append(path, &(docs.summary)())
        {
            self.warning(
                "Job summary not written",
                &format!("could not append to GITHUB_STEP_SUMMARY ({path}): {e}"),
            );
        }
    }

    fn write_report_files(&mut self, reports: [ReportFile; 3]) {
        for (what, setting, path, render) in reports {
            let Some(path) = path else { continue };
            if let Err(e) = replace_file(path, &render()) {
                let variable = self.progress.surface.name(setting);
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

/// Replaces a report file, creating its directory if needed: a report is the state of this run,
/// never appended to an earlier one. It is written to a new file beside it, then renamed over
/// it, so a symlink at `path` is replaced, never followed, and a reader never sees half a report.
fn replace_file(path: &str, text: &str) -> io::Result<()> {
    let path = std::path::Path::new(path);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let temp = dir.unwrap_or(std::path::Path::new(".")).join(format!(
        ".{}.{}-{:x}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        os_random()
    ));
    // `create_new` never opens an existing file, nor follows a symlink planted at `temp`.
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .and_then(|()| std::fs::rename(&temp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

/// Appends to a runner file; the runner creates it, we never truncate it.
fn append(path: &str, text: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().append(true).create(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// Writes `text`, as it is, to stdout: for what is printed before there is a [`Reporter`]
/// (`--help`, `--version`).
#[allow(
    clippy::disallowed_macros,
    reason = "the writer: stdout before a Reporter exists"
)]
pub fn print_stdout(text: &str) {
    print!("{text}");
}

/// Writes `text`, as it is, to stderr: for what goes wrong before there is a [`Reporter`].
#[allow(
    clippy::disallowed_macros,
    reason = "the writer: stderr before a Reporter exists"
)]
pub fn print_stderr(text: &str) {
    eprint!("{text}");
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::api::CheckStep;
    use crate::outcome::JobOutcome;
    use crate::runner::{commands_in, parse_output_file};
    use fixtures::*;

    /// A fresh directory for one test's files.
    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "dts-gate-report-{}-{}",
            std::process::id(),
            os_random()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// What the reporter writes on GitHub: stdout, the outputs and the summary.
    fn report_on_github(run: &RunSummary) -> (String, String, String) {
        let dir = scratch();
        let github = GithubRunner {
            output_file: Some(dir.join("o").to_string_lossy().into_owned()),
            summary_file: Some(dir.join("s").to_string_lossy().into_owned()),
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        Reporter::new(Some(github), &mut out, &mut err, fixed_surroundings()).finish(run);
        assert!(err.is_empty());
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        let result = (String::from_utf8(out).unwrap(), read("o"), read("s"));
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    /// What the reporter writes outside GitHub, events first: stdout and stderr.
    fn report_elsewhere(events: &[Event], run: &RunSummary) -> (String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = Reporter::new(None, &mut out, &mut err, fixed_surroundings());
        for event in events {
            r.event(event);
        }
        r.finish(run);
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn reporter_outside_github_writes_no_workflow_commands() {
        let outcome = single(JobOutcome::NotPassed(answer(
            "finished",
            Some(0),
            "::error::injected\nline",
        )));
        let event = Event::Answer {
            job: JOB,
            answer: outcome.jobs()[0].outcome.last_answer().unwrap(),
            poll: 1,
            elapsed: Duration::from_secs(1),
        };
        let (out, err) = report_elsewhere(&[event], &run_of(&outcome));
        assert!(commands_in(&out).is_empty() && commands_in(&err).is_empty());
        assert!(
            err.starts_with("error: DTS check not passed: dts-1kl0iy0v: CheckFlag 0 (not passed)")
        );
        // The message's second line is indented under the first.
        assert_eq!(err.lines().count(), 2, "{err}");
        assert!(
            err.lines()
                .nth(1)
                .unwrap()
                .starts_with("  line. Do not start")
        );
    }

    #[test]
    fn on_github_the_log_annotations_outputs_and_summary_agree() {
        let outcome = not_passed_2021();
        let (stdout, outputs_text, summary) = report_on_github(&run_of(&outcome));
        // The verdict line, then the annotations.
        let first = stdout.lines().next().unwrap();
        assert!(
            first.starts_with("DTS check not passed: dts-1kl0iy0v"),
            "{first}"
        );
        assert_eq!(commands_in(&stdout).len(), 6, "{stdout}");
        let o: std::collections::HashMap<_, _> = parse_output_file(&outputs_text)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(o["failed-steps"], "SrcPrivilegeCheck,DstEmptyCheck");
        assert_eq!(o.len(), 15);
        // The counting random source gave the first delimiter.
        assert!(outputs_text.starts_with(&format!("passed<<ghadelimiter_{:032x}\n", 1u128)));
        assert!(summary.starts_with("### ❌ DTS check did not pass: dts-1kl0iy0v\n"));
    }

    #[test]
    fn report_files_take_the_clock_and_host_name_given() {
        let dir = scratch();
        let path = |f: &str| Some(dir.join(f).to_string_lossy().into_owned());
        let outcome = single(JobOutcome::Passed(answer("finished", Some(1), "ok")));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = Reporter::new(None, &mut out, &mut err, fixed_surroundings());
        r.reports(ReportFiles {
            json: path("deep/r.json"),
            junit: path("r.xml"),
            dotenv: path("r.env"),
            ..ReportFiles::default()
        });
        r.finish(&run_of(&outcome));
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        let xml = read("r.xml");
        // Ended at 11:06:40 after 12.4 s.
        assert!(
            xml.contains("timestamp=\"2026-11-18T11:06:27\" hostname=\"test-host\""),
            "{xml}"
        );
        assert!(read("deep/r.json").contains("\"verdict\": \"passed\""));
        assert!(read("r.env").ends_with("DTS_GATE_EXIT_CODE=0\n"));
        let _ = std::fs::remove_dir_all(&dir);
        assert!(err.is_empty());
    }

    #[test]
    fn a_report_that_cannot_be_written_is_a_warning() {
        let dir = scratch();
        std::fs::write(dir.join("file"), "").unwrap();
        let outcome = single(JobOutcome::Passed(answer("finished", Some(1), "ok")));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut r = Reporter::new(None, &mut out, &mut err, fixed_surroundings());
        r.reports(ReportFiles {
            json: Some(dir.join("file/r.json").to_string_lossy().into_owned()),
            ..ReportFiles::default()
        });
        r.finish(&run_of(&outcome));
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.starts_with("warning: JSON report not written: could not write DTS_REPORT_JSON"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
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
        assert!(
            commands[0].properties[0]
                .1
                .contains(&annotation_text(HOSTILE))
        );
        assert!(commands[0].data.starts_with(&annotation_text(HOSTILE)));
        let o: std::collections::HashMap<_, _> = parse_output_file(&outputs_text)
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(o["failed-steps"], "X\n::error::y");
        assert_eq!(o.len(), 15);
        assert!(!summary.contains("\n::") && !summary.contains("](https://x.example/\n"));
        // Outside GitHub too: every line is inert.
        let event = Event::Answer {
            job: JOB,
            answer: outcome.jobs()[0].outcome.last_answer().unwrap(),
            poll: 1,
            elapsed: Duration::ZERO,
        };
        let (out, err) = report_elsewhere(&[event], &run);
        assert!(
            commands_in(&out).is_empty() && commands_in(&err).is_empty(),
            "{out}{err}"
        );
    }
}
