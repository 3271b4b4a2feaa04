//! No CI system's log command gets through: the real binary, fed hostile text in every field of
//! both API versions' answers, on GitHub and outside it. The gate's stdout and stderr are read
//! by GitHub's runner (`::` at a line's start, `##[` anywhere), the Azure Pipelines agent
//! (`##vso[` and `##[section]`-style, anywhere in a line) and TeamCity (`##teamcity[`).

mod common;

use common::http::{Reply, Responder};
use common::runner::parse_workflow_command;
use common::*;
use serde_json::json;

/// Every command syntax, line breaks before commands, escapes, ANSI and a bidi override.
const HOSTILE: &str = "t ##vso[task.setvariable variable=DTS_GATE_PASSED]true ##[section]s ##teamcity[message text='x'] ###[y ##VSO[z ##Vso[task.complete result=Succeeded;]\n::error::pwned\n  ::warning::w\r\n%0A::add-mask::m ##[group]g \u{1b}[31m\u{202e}";

/// Fails unless every line of `text` is inert, apart from the gate's own annotations; returns
/// how many of those there were.
fn assert_inert(stream: &str, text: &str) -> usize {
    let mut own = 0;
    for line in text.lines() {
        let lower = line.to_ascii_lowercase();
        for command in ["##vso[", "##teamcity[", "##["] {
            assert!(
                !lower.contains(command),
                "{stream} line carries {command}: {line:?}"
            );
        }
        if line.trim_start().starts_with("::") {
            let parsed = parse_workflow_command(line);
            assert!(
                matches!(&parsed, Some(c) if c.name == "error" || c.name == "warning"),
                "{stream} line is not one of the gate's annotations: {line:?}"
            );
            own += 1;
        }
    }
    own
}

/// Runs the gate against `replies` on GitHub and outside it, checking every line of both.
fn check_every_line(api: &str, replies: Vec<String>) {
    for github in [true, false] {
        let server = Responder::script(replies.iter().map(|r| Reply::json(r)).collect());
        let mut gate = Gate::against(&server.url()).env("DTS_API_VERSION", api);
        if !github {
            gate = gate.outside_github();
        }
        let run = gate.run();
        assert_eq!(run.code, 1, "{api} github={github}: {run:?}");
        let annotations = assert_inert("stdout", &run.stdout) + assert_inert("stderr", &run.stderr);
        if github {
            // Every annotation is one of the gate's own: the hostile text added none.
            assert!(annotations >= 1, "{run:?}");
            assert_eq!(annotations, run.commands().len());
            assert!(run.commands().len() <= 20, "{run:?}");
            // Nor do ANSI escapes or bidi overrides reach an annotation raw.
            for c in run.commands() {
                let text = format!("{c:?}");
                assert!(
                    !text.contains('\u{1b}') && !text.contains('\u{202e}'),
                    "{c:?}"
                );
            }
        } else {
            assert_eq!(annotations, 0, "{run:?}");
        }
    }
}

#[test]
fn no_log_command_gets_through_from_a_2018_answer() {
    let hostile_status = json!({"Response": {"Status": HOSTILE, "Progress": HOSTILE,
        "CheckFlag": 3, "ErrorCode": 0, "ErrorMessage": HOSTILE, "RequestId": HOSTILE,
        "DeprecatedWarning": HOSTILE}});
    let not_passed = json!({"Response": {"Status": "finished", "Progress": "100",
        "CheckFlag": 0, "ErrorCode": -1, "ErrorMessage": HOSTILE, "RequestId": HOSTILE,
        "DeprecatedWarning": HOSTILE}});
    check_every_line(
        "2018-03-30",
        vec![hostile_status.to_string(), not_passed.to_string()],
    );
}

#[test]
fn no_log_command_gets_through_from_a_2021_answer() {
    let item = json!({"CheckItemName": HOSTILE, "CheckResult": "failed", "Description": HOSTILE,
        "FailureReason": HOSTILE, "Solution": HOSTILE, "ErrorLog": [HOSTILE, HOSTILE],
        "HelpDoc": [HOSTILE, format!("https://x.example/{HOSTILE}")], "SkipInfo": HOSTILE});
    let warning = json!({"CheckItemName": HOSTILE, "CheckResult": "warning",
        "Description": HOSTILE, "FailureReason": HOSTILE, "Solution": HOSTILE,
        "ErrorLog": [HOSTILE], "HelpDoc": [HOSTILE], "SkipInfo": HOSTILE});
    let step = |status: &str| {
        json!({"StepNo": 1, "StepId": HOSTILE, "StepName": HOSTILE, "StepStatus": status,
               "StepMessage": HOSTILE, "DetailCheckItems": [item.clone(), warning.clone()],
               "HasSkipped": false})
    };
    let running = json!({"Response": {"Status": HOSTILE, "CheckFlag": HOSTILE,
        "BriefMsg": HOSTILE, "RequestId": HOSTILE, "StepInfo": [step(HOSTILE)]}});
    let not_passed = json!({"Response": {"Status": "success", "CheckFlag": "checkNotPass",
        "BriefMsg": HOSTILE, "RequestId": HOSTILE,
        "StepInfo": [step("failed"), step("warning"), step("pass")]}});
    check_every_line(
        "2021-12-06",
        vec![running.to_string(), not_passed.to_string()],
    );
}
