//! Property tests: the gate cannot be fooled by what the service (or anything pretending to be
//! it) answers, and text from the service cannot become a workflow command or an output.

mod common;

use std::time::Duration;

use common::fake_time::FakeTime;
use common::runner::{commands_in, parse_output_file, parse_workflow_command};
use dts_gate::api::{
    ApiVersion, CheckAnswer, CheckFlag, Secrets, parse_check_answer, parse_sync_job,
};
use dts_gate::outcome::{Decision, JobOutcome, decide};
use dts_gate::poll::{Job, Poller, Schedule};
use dts_gate::report::{markdown_text, outputs_file_text, sanitize, workflow_command};
use proptest::prelude::*;
use serde_json::{Value, json};

// The kit's runner rules, which every property below relies on, against known cases.

#[test]
fn the_kit_parses_commands_like_the_runner() {
    let c = parse_workflow_command("  ::error title=a%3A b%2C c::x%0Ay%25").unwrap();
    assert_eq!(c.name, "error");
    assert_eq!(c.properties, [("title".to_string(), "a: b, c".to_string())]);
    assert_eq!(c.data, "x\ny%");
    assert_eq!(parse_workflow_command("x ::error::y"), None);
    assert_eq!(commands_in("a\nb ##[error]c\n").len(), 1);
}

#[test]
fn the_kit_parses_output_files_like_the_runner() {
    let parsed = parse_output_file("a=1\nb<<EOF\nx\ny\nEOF\n\nc=\n").unwrap();
    assert_eq!(
        parsed,
        [
            ("a".to_string(), "1".to_string()),
            ("b".to_string(), "x\ny".to_string()),
            ("c".to_string(), String::new())
        ]
    );
    assert!(parse_output_file("b<<EOF\nx\n").is_err());
    assert!(parse_output_file("junk\n").is_err());
}

/// Any JSON value a broken or hostile service might put in a field.
fn any_field() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        any::<i64>().prop_map(|n| Some(json!(n))),
        prop::sample::select(vec![0i64, 1, 3, 2, -1]).prop_map(|n| Some(json!(n))),
        any::<f64>().prop_map(|f| Some(json!(f))),
        any::<bool>().prop_map(|b| Some(json!(b))),
        ".{0,12}".prop_map(|s| Some(json!(s))),
        prop::sample::select(vec![
            "finished",
            "running",
            "starting",
            "unavailable",
            "success",
            "failed",
            "notStarted",
            "checkPass",
            "checkNotPass",
            "1",
            "0",
            "Finished",
            "",
        ])
        .prop_map(|s| Some(json!(s))),
        Just(Some(json!([]))),
        Just(Some(json!({"CheckFlag": 1}))),
    ]
}

fn any_step() -> impl Strategy<Value = Value> {
    (any_field(), any_field(), any_field()).prop_map(|(status, id, items)| {
        let mut step = serde_json::Map::new();
        for (key, value) in [
            ("StepStatus", status),
            ("StepId", id),
            ("DetailCheckItems", items),
        ] {
            if let Some(v) = value {
                step.insert(key.to_string(), v);
            }
        }
        Value::Object(step)
    })
}

/// A status: mostly the documented ones of both versions, sometimes anything at all.
fn any_status() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "unavailable", "starting", "running", "finished", "notStarted", "failed", "success",
        ])
        .prop_map(|s| Some(json!(s))),
        2 => any_field(),
    ]
}

/// A check flag: mostly the documented values of both versions, sometimes anything at all.
fn any_flag() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        8 => prop::sample::select(vec![
            json!(0), json!(1), json!(3), json!(2), json!("checkPass"), json!("checkNotPass"),
            json!("1"), json!(1.0),
        ])
        .prop_map(Some),
        2 => any_field(),
    ]
}

/// One answer body: an envelope with arbitrary fields, an error, or garbage.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    let envelope = (
        any_status(),
        any_flag(),
        any_field(),
        any_field(),
        prop::option::of(prop::collection::vec(any_step(), 0..4)),
    )
        .prop_map(|(status, flag, progress, message, steps)| {
            let mut response = serde_json::Map::new();
            for (key, value) in [
                ("Status", status),
                ("CheckFlag", flag),
                ("Progress", progress),
                ("ErrorMessage", message),
            ] {
                if let Some(v) = value {
                    response.insert(key.to_string(), v);
                }
            }
            if let Some(steps) = steps {
                response.insert("StepInfo".into(), Value::Array(steps));
            }
            serde_json::to_vec(&json!({ "Response": response })).unwrap()
        });
    let error = ".{0,30}".prop_map(|code| {
        serde_json::to_vec(
            &json!({"Response": {"Error": {"Code": code, "Message": "m"}, "RequestId": "r"}}),
        )
        .unwrap()
    });
    prop_oneof![
        6 => envelope,
        1 => error,
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(br#"{"Response": {"Status": "finished", "CheckFlag": 1}"#.to_vec()),
    ]
}

fn any_reply() -> impl Strategy<Value = (u16, Vec<u8>)> {
    (prop_oneof![8 => Just(200u16), 1 => 100u16..600], any_body())
}

fn any_api() -> impl Strategy<Value = ApiVersion> {
    prop_oneof![
        Just(ApiVersion::V2018),
        Just(ApiVersion::V2021),
        Just(ApiVersion::Sync)
    ]
}

/// The documented pass, and nothing else.
fn is_documented_pass(api: ApiVersion, answer: &CheckAnswer) -> bool {
    let flag = answer.check_flag.as_ref().map(ToString::to_string);
    match api {
        ApiVersion::V2018 => answer.status == "finished" && flag.as_deref() == Some("1"),
        ApiVersion::V2021 => answer.status == "success" && flag.as_deref() == Some("checkPass"),
        // The check answer alone never passes a sync job: its `CheckPass` comes from the job.
        ApiVersion::Sync => {
            answer.status == "success"
                && flag.as_deref() == Some("CheckPass")
                && answer
                    .steps
                    .iter()
                    .all(|s| s.is_passed() || s.status == "skipped")
        }
    }
}

/// A sync check step: a documented or other status, and error and warning lists that may be
/// missing, null, empty, hold a tip, or be the wrong type.
fn any_sync_step() -> impl Strategy<Value = Value> {
    let status = prop_oneof![
        8 => prop::sample::select(vec![
            "finished", "skipped", "failed", "running", "paused", "notStarted", "pass", "warning",
            "Finished", "",
        ])
        .prop_map(|s| Some(json!(s))),
        1 => any_field(),
    ];
    let tips = || {
        prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            Just(Some(json!([]))),
            Just(Some(
                json!([{"Code": "C", "Message": "m", "Solution": "s", "HelpDoc": "", "SkipInfo": ""}])
            )),
            Just(Some(json!("not a list"))),
        ]
    };
    (status, tips(), tips()).prop_map(|(status, errors, warnings)| {
        let mut step = serde_json::Map::new();
        step.insert("StepId".into(), json!("S"));
        for (key, value) in [
            ("Status", status),
            ("Errors", errors),
            ("Warnings", warnings),
        ] {
            if let Some(v) = value {
                step.insert(key.to_string(), v);
            }
        }
        Value::Object(step)
    })
}

/// The documented sync pass, judged on the raw answers alone: the check `success`, at least one
/// step, every step `finished` or `skipped` with no error listed, and the job `CheckPass`.
fn is_documented_sync_pass(check: &Value, job_status: &Value) -> bool {
    let response = &check["Response"];
    let steps = match response.get("StepInfos") {
        Some(Value::Array(steps)) => steps.as_slice(),
        _ => &[],
    };
    response["Status"] == "success"
        && !steps.is_empty()
        && steps.iter().all(|s| {
            (s["Status"] == "finished" || s["Status"] == "skipped")
                && s.get("Errors")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
        })
        && *job_status == "CheckPass"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the sync check and the job's status say, the verdict is a pass only on the
    /// documented pass, decided from the raw answers by a rule written apart from the gate's.
    #[test]
    fn a_sync_check_passes_only_on_the_documented_pass(
        status in any_status(),
        steps in prop::option::of(prop::collection::vec(any_sync_step(), 0..4)),
        job_status in prop::sample::select(vec![
            json!("CheckPass"), json!("CheckNotPass"), json!("Checking"), json!("Running"),
            json!("checkPass"), json!(""), json!(1), Value::Null,
        ]),
    ) {
        let mut response = serde_json::Map::new();
        if let Some(status) = status {
            response.insert("Status".into(), status);
        }
        if let Some(steps) = steps {
            response.insert("StepInfos".into(), Value::Array(steps));
        }
        response.insert("RequestId".into(), json!("r"));
        let check = json!({ "Response": response });
        let jobs = json!({"Response": {"JobList": [{"JobId": "sync-p", "Status": job_status.clone()}], "RequestId": "r"}});
        let Ok(mut answer) = parse_check_answer(ApiVersion::Sync, 200, check.to_string().as_bytes()) else {
            return Ok(());
        };
        // As the client does once the check finished: the job's own status is the flag.
        if let Ok(job) = parse_sync_job(200, jobs.to_string().as_bytes(), &Secrets::default(), "sync-p") {
            answer.check_flag = (!job.status.is_empty()).then_some(CheckFlag::Name(job.status));
        }
        let passed = decide(&answer) == Decision::Passed;
        prop_assert_eq!(passed, is_documented_sync_pass(&check, &job_status), "{}", check);
    }
}

proptest! {
    // Failures print their minimal input; nothing is written next to the sources.
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the service answers, the wait ends in a pass only when it received a
    /// well-formed, documented pass for the API version in use.
    #[test]
    fn the_gate_passes_only_on_a_valid_pass(
        api in any_api(),
        script in prop::collection::vec(any_reply(), 1..12),
    ) {
        let decoded: Vec<_> = script
            .iter()
            .map(|(status, body)| parse_check_answer(api, *status, body))
            .collect();
        let time = FakeTime::default();
        let mut sleeper = time.clone();
        let schedule = Schedule {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(script.len() as u64 + 5),
            jitter_seed: 1,
        };
        let mut next = 0;
        let mut poller = Poller::new(&time, &mut sleeper, schedule);
        let waited = poller.wait_all(
            vec![Job { id: "dts-prop".into(), freshness: None }],
            |_, _| {
                let reply = decoded[next.min(decoded.len() - 1)].clone();
                next += 1;
                reply
            },
            |_| {},
        );
        if let JobOutcome::Passed(answer) = &waited[0].outcome {
            prop_assert!(is_documented_pass(api, answer), "{answer:?}");
            prop_assert_eq!(decide(answer), Decision::Passed);
            let from_service = decoded.iter().any(|d| d.as_ref().ok() == Some(answer));
            prop_assert!(from_service, "the passing answer must be one the service sent");
            prop_assert!(script.iter().any(|(status, _)| *status == 200));
        }
    }

    /// A well-formed pass of one API version is never a pass of the other.
    #[test]
    fn a_pass_of_one_version_is_not_a_pass_of_the_other(api in any_api(), body in any_body()) {
        if let Ok(answer) = parse_check_answer(api, 200, &body)
            && decide(&answer) == Decision::Passed
        {
            prop_assert!(is_documented_pass(api, &answer));
        }
    }

    /// Annotation title and message read back exactly, as one command and nothing more.
    #[test]
    fn annotations_read_back_exactly(title in "\\PC*|.*", message in ".*|[\\x00-\\x7f]*") {
        let line = workflow_command("error", &[("title", &title)], &message);
        let commands = commands_in(&line);
        prop_assert_eq!(commands.len(), 1);
        prop_assert_eq!(&commands[0].name, "error");
        if title.is_empty() {
            prop_assert!(commands[0].properties.is_empty());
        } else {
            prop_assert_eq!(&commands[0].properties, &vec![("title".to_string(), title.clone())]);
        }
        prop_assert_eq!(&commands[0].data, &message);
    }

    /// Any text quoted in a log line stays on that line and carries no command.
    #[test]
    fn log_lines_carry_no_command(text in ".*|[\\x00-\\x7f]*|(::|##|#|\\[|vso|VSO|teamcity|\\n|%0A|\\r)*") {
        let line = format!("[    1.0s] error: {}", sanitize(&text));
        prop_assert!(!line.contains('\n') && !line.contains('\r'));
        prop_assert!(commands_in(&line).is_empty(), "{line:?}");
        let lower = sanitize(&text).to_ascii_lowercase();
        for command in ["##[", "##vso[", "##teamcity["] {
            prop_assert!(!lower.contains(command), "{lower:?}");
        }
    }

    /// Any output value reads back byte for byte, the delimiter never occurs in it, and no
    /// other output appears.
    #[test]
    fn outputs_read_back_exactly(value in ".*|[\\x00-\\x7f]*|(ghadelimiter_[0-9a-f]{0,32}|\\n|<<|=)*") {
        let mut n = 0u128;
        let text = outputs_file_text(&[("error-message", value.clone())], || {
            n += 1;
            n
        });
        let delimiter = text.lines().next().unwrap().split_once("<<").unwrap().1.to_string();
        prop_assert!(!value.contains(&delimiter));
        let parsed = parse_output_file(&text).unwrap();
        prop_assert_eq!(parsed, vec![("error-message".to_string(), value)]);
    }

    /// Summary text is one inert Markdown fragment.
    #[test]
    fn markdown_text_is_inert(text in ".*|[\\x00-\\x7f]*") {
        prop_assume!(!text.to_ascii_lowercase().contains("https://"));
        let md = markdown_text(&text);
        // Line breaks become <br>, long words get <wbr>, an e-mail address's @ an empty
        // comment: the only HTML it emits; only https:// URLs become links.
        let plain = md.replace("<br>", "").replace("<wbr>", "").replace("<!-- -->", "");
        prop_assert!(!md.contains('\n') && !md.contains("](") && !plain.contains('<'));
    }
}
