//! GitHub keeps 10 annotations of a kind per step, counting every one the step wrote: the real
//! binary's warnings raised while polling share that cap with the final ones, a repeated warning
//! is annotated once, and what is not annotated is in the job summary.

mod common;

use common::http::{Reply, Responder};
use common::*;
use serde_json::{Value, json};

fn warning_item(i: usize) -> Value {
    json!({"CheckItemName": format!("warn{i}"), "CheckResult": "warning", "Description": "",
           "FailureReason": format!("reason {i}"), "Solution": "", "ErrorLog": [],
           "HelpDoc": [], "SkipInfo": ""})
}

#[test]
fn a_deprecation_and_twelve_warning_items_make_ten_warning_annotations() {
    let items: Vec<Value> = (0..12).map(warning_item).collect();
    let body = json!({"Response": {"Status": "success", "CheckFlag": "checkPass",
        "BriefMsg": "ok", "RequestId": "req-w", "DeprecatedWarning": "use the new API",
        "StepInfo": [{"StepNo": 1, "StepId": "SrcPrivilegeCheck", "StepName": "Privileges",
            "StepStatus": "warning", "StepMessage": "", "DetailCheckItems": items,
            "HasSkipped": false}]}});
    let server = Responder::always(Reply::json(&body.to_string()));
    let run = Gate::against(&server.url())
        .env("DTS_API_VERSION", "2021-12-06")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let warnings = run.commands_named("warning");
    assert_eq!(warnings.len(), 10, "{warnings:#?}");
    assert_eq!(warnings[0].data, "use the new API");
    let last = &warnings[9];
    assert_eq!(last.properties[0].1, "More warnings");
    assert!(last.data.starts_with("4 more warnings"), "{}", last.data);
    // The summary has every item and the deprecation.
    for i in 0..12 {
        assert!(run.summary.contains(&format!("› warn{i}**")), "warn{i}");
    }
    assert!(run.summary.contains("#### Warnings while waiting"));
    assert!(run.summary.contains("use the new API"));
}

#[test]
fn twelve_unknown_statuses_are_one_warning_and_a_count() {
    let mut replies: Vec<Reply> = (0..12)
        .map(|i| Reply::json(&running_with_status(&format!("weird{i}"))))
        .collect();
    replies.push(Reply::json(&pass()));
    let server = Responder::script(replies);
    let run = Gate::against(&server.url())
        .env("DTS_POLL_INTERVAL", "100ms")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let warnings = run.commands_named("warning");
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert_eq!(warnings[0].properties[0].1, "Unknown DTS check status");
    assert!(
        warnings[1].data.starts_with("11 more warnings"),
        "{}",
        warnings[1].data
    );
    // Each is still in the log, and all twelve are in the summary.
    for i in 0..12 {
        assert!(
            run.stdout.contains(&format!("\"weird{i}\"")),
            "weird{i} not in the log"
        );
        assert!(
            run.summary.contains(&format!("&quot;weird{i}&quot;")),
            "weird{i} not in the summary:\n{}",
            run.summary
        );
    }
}

/// A 2018-03-30 answer still running, with `status`.
fn running_with_status(status: &str) -> String {
    json!({"Response": {"Status": status, "Progress": "10", "CheckFlag": 3, "ErrorCode": 0,
        "ErrorMessage": "", "RequestId": "req-odd"}})
    .to_string()
}
