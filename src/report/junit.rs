//! The `DTS_REPORT_JUNIT` report: JUnit XML as GitLab, Jenkins, Azure Pipelines and CircleCI
//! read it. One test case per job and, for 2021-12-06 answers, one per check step, so a failed
//! step shows up by name in their test views.
//!
//! The document is valid against both schemas in `tests/data/junit`: Jenkins' `junit-4.xsd` and
//! the windyroad (Ant) `JUnit.xsd` that Azure's documentation cites. That is why `testsuites`
//! carries no attributes (the Ant schema allows none; the counts are on the one `testsuite`),
//! why `properties`, `system-out` and `system-err` are always present, and why test cases hold
//! no output of their own (and a skip's reason is the text of `<skipped>`: Jenkins'
//! schema allows it no attributes). The Ant schema cannot say "skipped", so a report with skipped steps
//! is valid against the Jenkins schema only.

use std::collections::HashSet;
use std::fmt::Write as _;

use time::{OffsetDateTime, UtcOffset};

use super::annotations::item_message;
use super::facts::{JobFacts, RunFacts};
use crate::api::{CheckAnswer, CheckStep};
use crate::outcome::{JobOutcome, Outcome, Start};

/// Where and when the run happened: not part of the run itself, so passed in.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub started: OffsetDateTime,
    pub hostname: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Failure,
    Error,
}

/// One `<testcase>`: passed when `problem` and `skipped` are both `None`.
#[derive(Debug)]
struct Case {
    classname: String,
    name: String,
    time: f64,
    problem: Option<Problem>,
    skipped: Option<String>,
}

#[derive(Debug)]
struct Problem {
    kind: Kind,
    kind_name: String,
    message: String,
    text: String,
}

/// The JUnit XML of a run.
pub fn render(facts: &RunFacts, context: &Context) -> String {
    let run = facts.run;
    let cases = unique(cases(facts));
    let count = |f: &dyn Fn(&Case) -> bool| cases.iter().filter(|c| f(c)).count();
    let failures = count(&|c| matches!(&c.problem, Some(p) if p.kind == Kind::Failure));
    let errors = count(&|c| matches!(&c.problem, Some(p) if p.kind == Kind::Error));
    let skipped = count(&|c| c.skipped.is_some());

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    let _ = write!(
        xml,
        "  <testsuite name=\"dts-gate\" package=\"dts-gate\" id=\"0\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\"",
        cases.len()
    );
    // The Ant schema has no `skipped` count; leaving out a zero keeps most reports valid there.
    if skipped > 0 {
        let _ = write!(xml, " skipped=\"{skipped}\"");
    }
    let _ = writeln!(
        xml,
        " time=\"{}\" timestamp=\"{}\" hostname=\"{}\">",
        seconds(run.elapsed.as_secs_f64()),
        timestamp(context.started),
        attribute(&one_line(context.hostname, "localhost"))
    );
    xml.push_str("    <properties>\n");
    for (name, value) in properties(facts) {
        let _ = writeln!(
            xml,
            "      <property name=\"{name}\" value=\"{}\"/>",
            attribute(&value)
        );
    }
    xml.push_str("    </properties>\n");
    for case in &cases {
        case_xml(case, &mut xml);
    }
    let _ = writeln!(
        xml,
        "    <system-out>{}</system-out>\n    <system-err></system-err>\n  </testsuite>\n</testsuites>",
        text(&system_out(facts))
    );
    xml
}

fn properties(facts: &RunFacts) -> Vec<(&'static str, String)> {
    let run = facts.run;
    let mut props = vec![("dts-gate.version", env!("CARGO_PKG_VERSION").to_string())];
    if facts.configured() {
        props.push(("dts-gate.api-version", run.api.as_str().to_string()));
        props.push(("dts-gate.region", run.region.to_string()));
    }
    props.push(("dts-gate.result", facts.scalars.result.to_string()));
    props.push(("dts-gate.exit-code", facts.exit_code.to_string()));
    props.push(("dts-gate.polls", run.polls.to_string()));
    if facts.demo {
        props.push(("dts-gate.demo", "true".to_string()));
    }
    props
}

/// The verdict and the warnings, which have no place of their own in JUnit.
fn system_out(facts: &RunFacts) -> String {
    let mut out = format!(
        "dts-gate {}: {} (exit code {})\n",
        env!("CARGO_PKG_VERSION"),
        facts.scalars.result,
        facts.exit_code
    );
    if facts.demo {
        out.push_str("demo run: simulated answers, nothing was sent to Tencent Cloud\n");
    }
    if let Some(verdict) = &facts.verdict {
        let _ = writeln!(out, "{}: {}", verdict.title, verdict.message);
    }
    for job in &facts.jobs {
        let Some(answer) = job.answer else {
            continue;
        };
        for step in answer.warning_steps() {
            let _ = writeln!(out, "warning: {} / {}", job.id(), step.label());
        }
        for (step, item) in answer.items().filter(|(_, i)| i.is_warning()) {
            let _ = writeln!(
                out,
                "warning: {} / {}: {}",
                job.id(),
                step.item_title(item),
                item_message(item)
            );
        }
    }
    out
}

fn cases(facts: &RunFacts) -> Vec<Case> {
    let errors = match facts.run.outcome {
        Outcome::InvalidConfig(errors) => errors,
        // A later stage writes its own report (`report::stage`).
        Outcome::NothingGated | Outcome::Stage(_) => return Vec::new(),
        Outcome::DryRun { .. } => {
            return vec![Case {
                classname: "dts-gate".into(),
                name: "dry run".into(),
                time: 0.0,
                problem: None,
                skipped: Some("dry run: nothing was sent or checked".into()),
            }];
        }
        Outcome::Jobs(jobs) if jobs.is_empty() => {
            return vec![Case {
                classname: "dts-gate".into(),
                name: "run".into(),
                time: 0.0,
                problem: Some(Problem {
                    kind: Kind::Error,
                    kind_name: "NoJobs".into(),
                    message: "no job was checked".into(),
                    text: String::new(),
                }),
                skipped: None,
            }];
        }
        Outcome::Jobs(_) => {
            return facts
                .jobs
                .iter()
                .flat_map(|j| job_cases(j, facts))
                .collect();
        }
    };
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    vec![Case {
        classname: "dts-gate".into(),
        name: "configuration".into(),
        time: 0.0,
        problem: Some(Problem {
            kind: Kind::Error,
            kind_name: "InvalidConfiguration".into(),
            message: format!(
                "invalid configuration, nothing was sent: {}",
                lines.join("; ")
            ),
            text: lines.join("\n"),
        }),
        skipped: None,
    }]
}

fn job_cases(job: &JobFacts, facts: &RunFacts) -> Vec<Case> {
    let classname = format!("dts-gate.{}", job.id());
    let code = &job.error_code;
    let problem = job.verdict.clone().map(|verdict| {
        let (kind, kind_name) = match (&job.job.start, &job.job.outcome) {
            (Start::Cancelled { .. }, _) | (_, JobOutcome::Cancelled { .. }) => {
                (Kind::Error, "Cancelled".to_string())
            }
            (Start::Refused(_), _) => (
                Kind::Error,
                format!("{}.{code}", facts.run.api.start_action()),
            ),
            (_, JobOutcome::NotPassed(a)) if a.is_task_failure() => {
                (Kind::Failure, "CheckTaskFailed".to_string())
            }
            (_, JobOutcome::NotPassed(_)) => (Kind::Failure, "CheckNotPassed".to_string()),
            (_, JobOutcome::TimedOut { .. }) => (Kind::Error, "Timeout".to_string()),
            (_, JobOutcome::Failed { .. }) => (Kind::Error, code.clone()),
            (_, JobOutcome::Passed(_) | JobOutcome::NotWaitedFor { .. }) => {
                (Kind::Error, code.clone())
            }
        };
        Problem {
            kind,
            kind_name: if kind_name.is_empty() {
                "Error".into()
            } else {
                kind_name
            },
            message: verdict.title,
            text: verdict.message,
        }
    });
    // A job the gate stopped waiting for has no verdict of its own: skipped, with the reason.
    let (problem, skipped) = match &job.job.outcome {
        JobOutcome::NotWaitedFor { .. } => (None, Some(job.message.clone())),
        _ => (problem, None),
    };
    let mut cases = vec![Case {
        classname: classname.clone(),
        name: format!("check {}", job.id()),
        time: facts.run.elapsed.as_secs_f64(),
        problem,
        skipped,
    }];
    if let Some(answer) = job.answer {
        cases.extend(
            answer
                .steps
                .iter()
                .map(|s| step_case(&classname, job.id(), s, answer)),
        );
    }
    cases
}

fn step_case(classname: &str, job: &str, step: &CheckStep, answer: &CheckAnswer) -> Case {
    let mut case = Case {
        classname: classname.to_string(),
        name: format!("{job} / {}", step.label()),
        time: 0.0,
        problem: None,
        skipped: None,
    };
    if step.is_failed() {
        let failed: Vec<String> = step
            .items
            .iter()
            .filter(|i| i.is_failed())
            .map(|i| format!("{}:\n{}", i.name, item_message(i)))
            .collect();
        let text = if failed.is_empty() {
            step.message.clone()
        } else {
            failed.join("\n\n")
        };
        let message = if step.message.is_empty() {
            format!("check step {} failed", step.label())
        } else {
            step.message.clone()
        };
        case.problem = Some(Problem {
            kind: Kind::Failure,
            kind_name: "CheckStepFailed".into(),
            message,
            text,
        });
    } else if step.is_skipped_failure() {
        case.skipped = Some("failed, but skipped by the user (SkipCheckItem)".into());
    } else if step.did_not_run() {
        let why = if answer.is_underway() {
            "the check had not reached it"
        } else {
            "not run"
        };
        case.skipped = Some(format!("step status {}: {why}", step.status));
    }
    case
}

/// Test views key cases by class name and name; a repeated step label gets a number.
fn unique(cases: Vec<Case>) -> Vec<Case> {
    let mut seen = HashSet::new();
    cases
        .into_iter()
        .map(|mut case| {
            let base = case.name.clone();
            let mut n = 1;
            while !seen.insert((case.classname.clone(), case.name.clone())) {
                n += 1;
                case.name = format!("{base} #{n}");
            }
            case
        })
        .collect()
}

fn case_xml(case: &Case, xml: &mut String) {
    let _ = write!(
        xml,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
        attribute(&one_line(&case.classname, "dts-gate")),
        attribute(&one_line(&case.name, "unnamed")),
        seconds(case.time)
    );
    if let Some(p) = &case.problem {
        let element = match p.kind {
            Kind::Failure => "failure",
            Kind::Error => "error",
        };
        let _ = writeln!(
            xml,
            ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>",
            attribute(&p.message),
            attribute(&one_line(&p.kind_name, "Error")),
            text(&p.text)
        );
    } else if let Some(why) = &case.skipped {
        let _ = writeln!(
            xml,
            ">\n      <skipped>{}</skipped>\n    </testcase>",
            text(why)
        );
    } else {
        xml.push_str("/>\n");
    }
}

/// Decimal seconds with millisecond precision, as `xs:decimal` wants (no exponent).
fn seconds(secs: f64) -> String {
    format!("{secs:.3}")
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC: the Ant schema's pattern allows no zone designator.
pub fn timestamp(at: OffsetDateTime) -> String {
    let t = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Drops ANSI escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, and two-character
/// `ESC x`): colour codes from a log are noise in a test report.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Characters XML 1.0 forbids (C0 controls other than tab, LF, CR; U+FFFE, U+FFFF) and the
/// discouraged C1 controls become a visible `\u{..}`; Rust strings hold no lone surrogates.
fn xml_safe(c: char, out: &mut String) -> bool {
    let forbidden = matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}');
    if forbidden {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
    !forbidden
}

/// Untrusted text as XML character data.
pub fn text(raw: &str) -> String {
    escape(raw, false)
}

/// Untrusted text as an attribute value (inside double quotes). Line breaks and tabs become
/// character references, which attribute-value normalisation would otherwise turn into spaces.
pub fn attribute(raw: &str) -> String {
    escape(raw, true)
}

fn escape(raw: &str, in_attribute: bool) -> String {
    let raw = strip_ansi(raw);
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            c => {
                if xml_safe(c, &mut out) {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// Names and class names are one line in every test view: breaks and controls become spaces.
fn one_line(raw: &str, fallback: &str) -> String {
    let cleaned: String = strip_ansi(raw)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let collapsed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        fallback.to_string()
    } else {
        collapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;
    use crate::outcome::JobReport;
    use crate::report::fixtures::*;

    #[test]
    fn a_refused_start_is_typed_after_the_start_action_of_the_job_kind() {
        let refused = |job_id: &str, answer| {
            Outcome::Jobs(vec![JobReport {
                start: Start::Refused(ApiError::Service {
                    code: "FailedOperation".into(),
                    message: "busy".into(),
                    request_id: "req-start".into(),
                }),
                ..report(job_id, JobOutcome::Passed(answer))
            }])
        };
        let type_of = |outcome: &Outcome| {
            let run = run_of(outcome);
            let facts = RunFacts::of(&run);
            cases(&facts)[0].problem.as_ref().unwrap().kind_name.clone()
        };
        let migration = refused(JOB, answer("finished", Some(1), "ok"));
        assert_eq!(type_of(&migration), "StartMigrateJob.FailedOperation");
        let sync = refused(
            "sync-7x1a",
            answer_sync(
                "success",
                "CheckPass",
                vec![step("ConnectDBCheck", "finished", vec![])],
            ),
        );
        assert_eq!(type_of(&sync), "StartSyncJob.FailedOperation");
    }

    #[test]
    fn escaping_leaves_only_legal_xml() {
        let hostile = "a<b>&\"c' ]]> \u{1b}[31mred\u{1b}[0m \u{1b}]0;title\u{7} nul\u{0} bell\u{7} ff\u{c} \u{fffe}\u{ffff} \u{85} tab\tline\nret\r";
        let t = text(hostile);
        assert_eq!(
            t,
            "a&lt;b&gt;&amp;&quot;c&apos; ]]&gt; red  nul\\u{0} bell\\u{7} ff\\u{c} \\u{fffe}\\u{ffff} \\u{85} tab\tline\nret&#13;"
        );
        let a = attribute(hostile);
        assert!(a.contains("tab&#9;line&#10;ret&#13;"), "{a}");
        assert!(!a.contains(['<', '>', '"', '\'', '\n', '\t', '\u{1b}', '\u{0}', '\u{7}']));
    }

    #[test]
    fn ansi_sequences_are_removed_whole() {
        assert_eq!(strip_ansi("\u{1b}[1;31mERROR\u{1b}[0m x"), "ERROR x");
        assert_eq!(
            strip_ansi("a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b"),
            "alinkb"
        );
        assert_eq!(strip_ansi("a\u{1b}Mb\u{1b}"), "ab");
    }

    #[test]
    fn names_are_one_line() {
        assert_eq!(one_line(" a\n::error::b\t c ", "x"), "a ::error::b c");
        assert_eq!(one_line("\u{1b}[31m", "fallback"), "fallback");
    }

    #[test]
    fn timestamps_have_no_zone() {
        let t = OffsetDateTime::from_unix_timestamp(1_795_000_000)
            .unwrap()
            .to_offset(UtcOffset::from_hms(8, 0, 0).unwrap());
        assert_eq!(timestamp(t), "2026-11-18T11:06:40");
        assert_eq!(seconds(12.4), "12.400");
    }
}
