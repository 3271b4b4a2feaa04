//! The real binary against a local mockito server, as a runner would run it.

mod common;

use std::time::Duration;

use common::http::refused_url;
use common::*;
use mockito::{Matcher, Mock, Server, ServerGuard};

/// A mock that only answers requests signed and addressed as the service requires.
fn signed(server: &mut ServerGuard) -> mockito::Mock {
    server
        .mock("POST", "/")
        .match_header("content-type", "application/json")
        .match_header("x-tc-action", "DescribeMigrateCheckJob")
        .match_header("x-tc-version", "2018-03-30")
        .match_header("x-tc-region", "ap-guangzhou")
        .match_header("x-tc-language", "en-US")
        .match_header("x-tc-timestamp", Matcher::Regex(r"^\d{10}$".into()))
        .match_header(
            "authorization",
            Matcher::Regex(format!(
                r"^TC3-HMAC-SHA256 Credential={SECRET_ID}/\d{{4}}-\d{{2}}-\d{{2}}/dts/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{{64}}$"
            )),
        )
        .match_header("user-agent", concat!("dts-gate/", env!("CARGO_PKG_VERSION")))
        .match_body(job_body(JOB_ID).as_str())
}

/// Answers `body` `times` times (the last mock created keeps answering after that).
fn reply(server: &mut ServerGuard, body: &str, times: usize) -> Mock {
    signed(server)
        .with_header("content-type", "application/json")
        .with_body(body)
        .expect(times)
        .create()
}

#[test]
fn reference_example_checkflag_0_with_an_error_fails() {
    let mut server = Server::new();
    let message = "选择的库表不存在，请重新选择[存在输入参数table在源实例没有找到]";
    let mock = reply(&mut server, &not_passed(message), 1);
    let run = Gate::against(&server.url()).run();
    mock.assert();
    assert_eq!(run.code, 1, "{run:?}");
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 1, "{run:?}");
    assert!(errors[0].data.contains(message));
    assert!(errors[0].data.contains("CheckFlag 0 (not passed)"));
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "not-passed");
    assert_eq!(run.output("status"), "finished");
    assert_eq!(run.output("check-flag"), "0");
    assert_eq!(run.output("error-code"), "-1");
    assert_eq!(run.output("error-message"), message);
    assert_eq!(run.output("request-id"), "req-finished-0");
    assert!(
        run.summary
            .starts_with("### ❌ DTS check did not pass: dts-1kl0iy0v")
    );
    run.assert_no_secrets();
}

#[test]
fn reference_example_checkflag_1_with_ok_passes() {
    let mut server = Server::new();
    let mock = reply(&mut server, &pass(), 1);
    let run = Gate::against(&server.url()).run();
    mock.assert();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.commands_named("error").is_empty());
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("result"), "passed");
    assert_eq!(run.output("check-flag"), "1");
    assert_eq!(run.output("error-message"), "ok");
    assert_eq!(run.output("polls"), "1");
    assert!(
        run.summary
            .starts_with("### ✅ DTS check passed: dts-1kl0iy0v")
    );
    assert!(run.stdout.contains("PASSED"));
    run.assert_no_secrets();
}

#[test]
fn a_full_passing_flow_polls_until_finished() {
    let mut server = Server::new();
    let mocks = [
        reply(&mut server, &answer("unavailable", 3, "0", 0, ""), 1),
        reply(&mut server, &answer("starting", 3, "0", 0, ""), 1),
        reply(&mut server, &running("45"), 2),
        reply(&mut server, &pass(), 1),
    ];
    let run = Gate::against(&server.url())
        .env("TENCENTCLOUD_TOKEN", TOKEN)
        .run();
    for m in &mocks {
        m.assert();
    }
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("polls"), "5");
    assert_eq!(run.output("progress"), "100");
    run.assert_stdout_has(&[
        "unavailable",
        "starting",
        "running       45%",
        "finished     100%",
    ]);
    // The unchanged second `running` answer is not logged again.
    assert_eq!(run.stdout.matches("running").count(), 1);
    run.assert_no_secrets();
}

#[test]
fn the_session_token_is_sent() {
    let mut server = Server::new();
    let mock = signed(&mut server)
        .match_header("x-tc-token", TOKEN)
        .with_body(pass())
        .create();
    let run = Gate::against(&server.url())
        .env("TENCENTCLOUD_SECURITY_TOKEN", TOKEN)
        .run();
    mock.assert();
    assert_eq!(run.code, 0, "{run:?}");
    run.assert_no_secrets();
}

#[test]
fn checkflag_3_not_checked_fails() {
    let mut server = Server::new();
    let mock = reply(
        &mut server,
        &answer("finished", 3, "100", -1, "check was not run"),
        1,
    );
    let run = Gate::against(&server.url()).run();
    mock.assert();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("check-flag"), "3");
    assert_eq!(run.output("result"), "not-passed");
    assert!(run.first_error().contains("CheckFlag 3 (not checked)"));
}

#[test]
fn an_undocumented_flag_of_a_finished_check_fails() {
    let mut server = Server::new();
    let _mock = reply(&mut server, &answer("finished", 2, "100", 0, "ok"), 1);
    let run = Gate::against(&server.url()).run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("passed"), "false");
}

#[test]
fn times_out_while_running_within_the_stated_margin() {
    let mut server = Server::new();
    let _mock = reply(&mut server, &running("50"), 1);
    let run = Gate::against(&server.url())
        .env("DTS_TIMEOUT", "1")
        .env("DTS_POLL_INTERVAL", "300ms")
        .run();
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(run.output("result"), "timed-out");
    assert_eq!(run.output("status"), "running");
    assert_eq!(run.output("progress"), "50");
    assert_eq!(run.output("error-code"), "Timeout");
    // Polls at 0, 0.3, 0.6, 0.9 and the deadline, never more often. On a loaded two-core
    // machine slow requests push the later polls back (4, even 3, were seen); at least 3
    // still means it polled on the interval between the first poll and the deadline.
    let polls: u32 = run.output("polls").parse().unwrap();
    assert!((3..=5).contains(&polls), "{polls} polls");
    // It waited until the deadline and no longer than the README's margin past it.
    assert!(run.wall >= Duration::from_secs(1), "{:?}", run.wall);
    assert!(
        run.wall <= Duration::from_secs(1) + GRACE + START_SLACK,
        "{:?}",
        run.wall
    );
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].properties[0].1.contains("timed out"));
    assert!(errors[0].data.contains("DTS_TIMEOUT"));
}

#[test]
fn a_permanent_error_stops_at_once_with_its_code_request_id_and_hint() {
    let mut server = Server::new();
    let mock = reply(&mut server, &signature_failure(), 1);
    let run = Gate::against(&server.url()).run();
    mock.assert(); // exactly one request: no retry
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("result"), "error");
    assert_eq!(run.output("error-code"), "AuthFailure.SignatureFailure");
    assert_eq!(run.output("request-id"), "req-error");
    assert_eq!(run.output("polls"), "1");
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 1);
    let data = &errors[0].data;
    assert!(data.contains(
        "AuthFailure.SignatureFailure: The provided credentials could not be validated."
    ));
    assert!(data.contains("RequestId req-error"));
    assert!(data.contains("TENCENTCLOUD_SECRET_KEY"), "{data}");
    run.assert_no_secrets();
}

#[test]
fn job_not_found_hints_at_the_job_region_and_api_version() {
    let mut server = Server::new();
    let _mock = reply(
        &mut server,
        &service_error("ResourceNotFound.JobNotExist", "job not exist"),
        1,
    );
    let run = Gate::against(&server.url()).run();
    assert_eq!(run.code, 3);
    let data = run.first_error();
    assert!(
        data.contains("DTS_JOB_ID")
            && data.contains("TENCENTCLOUD_REGION")
            && data.contains("2021-12-06")
    );
}

#[test]
fn transient_errors_are_retried_then_the_check_passes() {
    let mut server = Server::new();
    let mocks = [
        signed(&mut server)
            .with_status(502)
            .with_header("content-type", "text/html")
            .with_body("<html>Bad Gateway</html>")
            .expect(1)
            .create(),
        reply(
            &mut server,
            &service_error("InternalError.DatabaseError", "db"),
            1,
        ),
        reply(
            &mut server,
            &service_error("RequestLimitExceeded", "slow down"),
            1,
        ),
        reply(&mut server, "{\"Response\": {\"Status\": \"fini", 1),
        reply(&mut server, &pass(), 1),
    ];
    let run = Gate::against(&server.url()).run();
    for m in &mocks {
        m.assert();
    }
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("polls"), "5");
    // Each retry is logged.
    run.assert_stdout_has(&[
        "HTTP status 502",
        "InternalError.DatabaseError",
        "RequestLimitExceeded",
        "malformed answer",
    ]);
    assert_eq!(run.stdout.matches("retrying in").count(), 4);
}

#[test]
fn only_transient_errors_until_the_deadline_exit_3() {
    let mut server = Server::new();
    let _mock = signed(&mut server).with_status(503).create();
    let run = Gate::against(&server.url()).env("DTS_TIMEOUT", "1").run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("result"), "error");
    assert_eq!(run.output("error-code"), "HttpStatus503");
    assert!(run.wall < Duration::from_secs(4));
}

#[test]
fn an_oversized_answer_is_refused() {
    let mut server = Server::new();
    let huge = answer("finished", 1, "100", 0, &"x".repeat(2 * 1024 * 1024));
    let _mock = reply(&mut server, &huge, 1);
    let run = Gate::against(&server.url()).env("DTS_TIMEOUT", "1").run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("error-code"), "MalformedResponse");
    assert!(run.output("error-message").contains("larger than 1024 KiB"));
}

#[test]
fn a_connection_refused_endpoint_is_retried_until_the_deadline() {
    let run = Gate::against(&refused_url()).env("DTS_TIMEOUT", "1").run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("error-code"), "NetworkError");
    assert!(run.first_error().contains("network error"));
}

#[test]
fn unknown_statuses_and_deprecation_warn_without_passing() {
    let mut server = Server::new();
    let odd = serde_json::json!({"Response": {"Status": "paused", "CheckFlag": 1, "Progress": "100",
        "ErrorCode": 0, "ErrorMessage": "ok", "RequestId": "r", "DeprecatedWarning": "use 2021-12-06"}});
    let _m1 = reply(&mut server, &odd.to_string(), 2);
    let _m2 = reply(&mut server, &pass(), 1);
    let run = Gate::against(&server.url()).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("polls"), "3");
    let warnings = run.commands_named("warning");
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().any(|w| w.data == "use 2021-12-06"));
    assert!(warnings.iter().any(|w| w.data.contains("\"paused\"")));
}

#[test]
fn api_text_cannot_inject_commands_or_outputs() {
    let delimiter_guess = "ghadelimiter_00000000000000000000000000000000";
    let message = format!(
        "bad table\n::set-output name=passed::true\n::error title=x::pwned\r\n{delimiter_guess}\npassed<<EOF\ntrue\nEOF\n%0A%25 ##[set-output name=passed;]true, a: b\u{1b}[31m"
    );
    let mut server = Server::new();
    let _mock = reply(&mut server, &not_passed(&message), 1);
    let run = Gate::against(&server.url()).run();
    assert_eq!(run.code, 1, "{run:?}");
    // Exactly one command reaches the runner, and it carries the message, its control
    // characters and log commands made visible.
    let commands = run.commands();
    assert_eq!(commands.len(), 1, "{commands:?}");
    assert_eq!(commands[0].name, "error");
    assert!(
        commands[0]
            .data
            .contains(&dts_gate::report::annotation_text(&message))
    );
    // Outputs read back byte for byte, and no extra ones appear.
    assert_eq!(run.output("error-message"), message);
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.outputs.as_ref().unwrap().len(), 15);
    // The summary quotes it inertly.
    assert!(!run.summary.contains("\n::"));
    assert!(!run.summary.contains('\u{1b}'));
}

#[test]
fn api_text_stays_inert_outside_github_too() {
    let mut server = Server::new();
    let message = "x\n::error::pwned ##[error]y";
    let _mock = reply(&mut server, &not_passed(message), 1);
    let run = Gate::against(&server.url()).outside_github().run();
    assert_eq!(run.code, 1);
    assert!(run.commands().is_empty(), "{run:?}");
    // The message's second line is indented, and no line starts a command.
    assert!(
        run.stderr.contains("x\n  : :error::pwned ## [error]y"),
        "{}",
        run.stderr
    );
}

#[test]
fn outside_github_there_are_no_workflow_commands_and_no_files() {
    let mut server = Server::new();
    let _m1 = reply(&mut server, &running("50"), 1);
    let _m2 = reply(&mut server, &not_passed("no privilege"), 1);
    let run = Gate::against(&server.url()).outside_github().run();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.commands().is_empty());
    assert_eq!(run.output_raw, "");
    assert_eq!(run.summary, "");
    assert!(run.stdout.contains("running       50%"));
    assert!(run.stderr.starts_with("error: DTS check not passed: dts-1kl0iy0v: CheckFlag 0 (not passed), ErrorCode -1: no privilege."));
    assert!(!run.stdout.contains("error:"));
}

#[test]
fn every_bad_input_exits_2_names_the_variable_and_sends_nothing() {
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("DTS_JOB_ID", None, "DTS_JOB_ID: is not set"),
        ("DTS_JOB_ID", Some("job-1"), "DTS_JOB_ID: got \"job-1\""),
        (
            "TENCENTCLOUD_SECRET_ID",
            None,
            "TENCENTCLOUD_SECRET_ID: is not set",
        ),
        (
            "TENCENTCLOUD_SECRET_KEY",
            None,
            "TENCENTCLOUD_SECRET_KEY: is not set",
        ),
        (
            "TENCENTCLOUD_SECRET_KEY",
            Some("with space"),
            "TENCENTCLOUD_SECRET_KEY: contains spaces",
        ),
        (
            "TENCENTCLOUD_TOKEN",
            Some("tok\n"),
            "TENCENTCLOUD_TOKEN: contains spaces",
        ),
        (
            "TENCENTCLOUD_REGION",
            None,
            "TENCENTCLOUD_REGION: is not set",
        ),
        (
            "TENCENTCLOUD_REGION",
            Some("Guangzhou"),
            "TENCENTCLOUD_REGION: got \"Guangzhou\"",
        ),
        ("DTS_TIMEOUT", Some("soon"), "DTS_TIMEOUT: got \"soon\""),
        ("DTS_TIMEOUT", Some("0s"), "greater than zero"),
        (
            "DTS_POLL_INTERVAL",
            Some("10ms"),
            "DTS_POLL_INTERVAL: got 10ms; expected at least 100ms",
        ),
        (
            "DTS_ENDPOINT",
            Some("http://example.com"),
            "DTS_ENDPOINT: got \"http://example.com\"",
        ),
        ("DTS_ENDPOINT", Some("https://h/x"), "a path"),
        ("DTS_LANGUAGE", Some("de-DE"), "DTS_LANGUAGE: got \"de-DE\""),
        ("DTS_DEMO", Some("maybe"), "DTS_DEMO: got \"maybe\""),
    ];
    // Every case at once: each has its own server that must see no request.
    let mut servers: Vec<ServerGuard> = cases.iter().map(|_| Server::new()).collect();
    let mocks: Vec<Mock> = servers
        .iter_mut()
        .map(|server| server.mock("POST", "/").expect(0).create())
        .collect();
    let gates = cases
        .iter()
        .zip(&servers)
        .map(|((variable, value, _), server)| {
            let gate = Gate::against(&server.url());
            match value {
                Some(v) => gate.env(variable, v),
                None => gate.without(variable),
            }
        });
    let runs = run_together(gates);
    for (((variable, value, expected), mock), run) in cases.iter().zip(&mocks).zip(runs) {
        mock.assert();
        assert_eq!(run.code, 2, "{variable}={value:?}: {run:?}");
        let errors = run.commands_named("error");
        assert_eq!(errors.len(), 1, "{variable}={value:?}: {errors:?}");
        assert_eq!(
            errors[0].properties,
            [("title".to_string(), "Invalid configuration".to_string())]
        );
        assert!(
            errors[0].data.contains(expected),
            "{:?} lacks {expected:?}",
            errors[0].data
        );
        assert_eq!(run.output("passed"), "false");
        assert_eq!(run.output("result"), "error");
        assert_eq!(run.output("error-code"), "InvalidConfiguration");
        assert!(run.output("error-message").contains(variable));
        assert!(run.summary.contains("invalid configuration"));
        run.assert_no_secrets();
    }
}

#[test]
fn bad_input_outside_github_is_one_stderr_line_per_problem() {
    let run = Gate::bare().outside_github().env("DTS_TIMEOUT", "x").run();
    assert_eq!(run.code, 2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stderr);
    for variable in [
        "DTS_JOB_ID",
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "TENCENTCLOUD_REGION",
        "DTS_TIMEOUT",
    ] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("error: Invalid configuration: {variable}: "))),
            "{variable}"
        );
    }
    assert!(run.stdout.is_empty());
}

#[test]
fn unknown_arguments_are_a_configuration_error() {
    let run = Gate::bare().arg("--job-id=dts-1").run();
    assert_eq!(run.code, 2);
    assert!(run.first_error().contains("environment variables"));
    assert_eq!(run.output("result"), "error");
}

#[test]
fn help_and_version() {
    let run = Gate::bare().arg("--help").run();
    assert_eq!(run.code, 0);
    for text in [
        "DTS_JOB_ID",
        "TENCENTCLOUD_SECRET_KEY",
        "elapsed-seconds",
        "4  timed out",
    ] {
        assert!(run.stdout.contains(text), "--help lacks {text}");
    }
    let run = Gate::bare().arg("--version").run();
    assert_eq!(run.code, 0);
    assert_eq!(
        run.stdout,
        format!("dts-gate {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn demo_passes_and_writes_outputs() {
    let run = Gate::bare()
        .arg("--demo")
        .env("DTS_POLL_INTERVAL", "100ms")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("polls"), "7");
    for status in ["starting", "running", "finished"] {
        assert!(run.stdout.contains(status));
    }
    assert!(run.summary.starts_with("### ✅"));
}

#[test]
fn demo_fails_realistically() {
    let run = Gate::bare()
        .env("DTS_DEMO", "fail")
        .env("DTS_POLL_INTERVAL", "100ms")
        .run();
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.output("result"), "not-passed");
    assert!(run.output("error-message").contains("does not exist"));
    assert_eq!(run.commands_named("error").len(), 1);
}

#[test]
fn an_inherited_demo_never_replaces_a_configured_job() {
    let mut server = Server::new();
    let mock = server.mock("POST", "/").expect(0).create();
    let run = Gate::against(&server.url())
        .env("DTS_DEMO", "pass")
        .with_reports()
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert!(
        run.commands_named("error")[0]
            .data
            .contains("DTS_DEMO: a demo plays a simulated check, but DTS_JOB_ID"),
        "{run:?}"
    );
    let json: serde_json::Value =
        serde_json::from_str(run.reports.json.as_deref().expect("JSON report")).unwrap();
    assert_eq!(json["passed"], false);
    mock.assert();
}

#[test]
fn secrets_the_service_echoes_back_are_scrubbed_everywhere() {
    let mut server = Server::new();
    let _echo = server
        .mock("POST", "/")
        .with_body_from_request(|request| {
            let header = |name: &str| {
                request
                    .header(name)
                    .first()
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string()
            };
            serde_json::json!({"Response": {
                "Error": {
                    "Code": "AuthFailure.SignatureFailure",
                    "Message": format!(
                        "The provided credentials could not be validated. Request: Authorization: {}; X-TC-Token: {}; key {}",
                        header("authorization"),
                        header("x-tc-token"),
                        SECRET_KEY
                    ),
                },
                "RequestId": "req-echo",
            }})
            .to_string()
            .into_bytes()
        })
        .create();
    let run = Gate::against(&server.url())
        .env("TENCENTCLOUD_TOKEN", TOKEN)
        .with_reports()
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    run.assert_no_secrets();
    let everything = [
        run.stdout.as_str(),
        &run.stderr,
        &run.output_raw,
        &run.summary,
        run.reports.json.as_deref().unwrap_or_default(),
        run.reports.junit.as_deref().unwrap_or_default(),
        run.reports.dotenv.as_deref().unwrap_or_default(),
    ]
    .concat();
    assert!(everything.contains("Signature=***"), "{run:?}");
    let signature = everything
        .split("Signature=")
        .skip(1)
        .find(|rest| rest.chars().take(64).all(|c| c.is_ascii_hexdigit()) && rest.len() >= 64);
    assert!(signature.is_none(), "a request signature leaked: {run:?}");
}

#[test]
fn inside_the_action_advice_names_the_action_inputs() {
    let mut server = Server::new();
    let _mock = server
        .mock("POST", "/")
        .with_body(service_error("ResourceNotFound.JobNotExist", "no such job"))
        .create();
    let run = Gate::against(&server.url())
        .env("DTS_GATE_SURFACE", "action")
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    let error = &run.commands_named("error")[0].data;
    assert!(
        error.contains("check the `job-id` input and the `region` input"),
        "{error}"
    );
    assert!(error.contains("`api-version: 2021-12-06`"), "{error}");
    assert!(
        run.summary.contains(r"the \`job-id\` input"),
        "{}",
        run.summary
    );
    assert!(!error.contains("DTS_JOB_ID"), "{error}");
}

#[test]
fn the_proxy_in_use_is_named_and_one_that_cannot_be_honoured_is_refused() {
    // A CONNECT proxy that answers 502: the gate goes through it and says so (host only).
    let proxy = common::http::Responder::always(common::http::Reply::status(
        "502 Bad Gateway",
        "text/plain",
        "no",
    ));
    let proxy_url = format!("http://user:pw-secret@127.0.0.1:{}", proxy.port());
    let run = Gate::bare()
        .env("DTS_JOB_ID", JOB_ID)
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env("TENCENTCLOUD_REGION", "ap-guangzhou")
        .env("DTS_TIMEOUT", "1")
        .env("ALL_PROXY", "socks5h://127.0.0.1:9")
        .env("https_proxy", &proxy_url)
        .run();
    assert_eq!(run.code, 3, "{run:?}");
    let connect = &proxy.requests()[0];
    assert_eq!(connect.method, "CONNECT");
    assert_eq!(connect.path, "dts.tencentcloudapi.com:443");
    let banner = run.stdout.lines().next().unwrap_or_default();
    assert!(
        banner.contains(&format!(
            "through the proxy 127.0.0.1:{} from https_proxy",
            proxy.port()
        )),
        "{banner}"
    );
    assert!(!run.stdout.contains("pw-secret") && !run.stderr.contains("pw-secret"));
    let warnings = run.commands_named("warning");
    assert!(
        warnings.iter().any(|w| w.data
            == "ALL_PROXY is set but not used: https_proxy applies to the https endpoint"),
        "{run:?}"
    );

    // Only a SOCKS proxy: refused before anything is sent, naming the variable.
    let run = Gate::bare()
        .env("DTS_JOB_ID", JOB_ID)
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env("TENCENTCLOUD_REGION", "ap-guangzhou")
        .env("ALL_PROXY", "socks5h://127.0.0.1:9")
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.commands_named("error")[0]
            .data
            .contains("ALL_PROXY: is a socks5h proxy, which the gate cannot use"),
        "{run:?}"
    );
}
