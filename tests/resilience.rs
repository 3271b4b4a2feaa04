//! Cancellation by the runner's signals, and a runner clock that is off.

mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::http::{Reply, Responder};
use common::*;
use mockito::Server;

/// Signals `running` (which the caller has brought to the moment to signal), then checks it
/// stopped within a second of the signal with `code`, and that its outputs say it was cancelled.
fn assert_cancels(running: Running, signal: &str, code: i32) -> Run {
    let sent = Instant::now();
    running.signal(signal);
    let run = running.wait();
    let stop = sent.elapsed();
    assert!(
        stop < Duration::from_secs(1),
        "stopped {stop:?} after SIG{signal}"
    );
    assert_eq!(run.code, code, "{run:?}");
    assert_eq!(run.output("result"), "cancelled");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("error-code"), "Cancelled");
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 1, "{run:?}");
    assert!(errors[0].properties[0].1.starts_with("dts-gate cancelled"));
    assert!(run.summary.starts_with("### 🛑 dts-gate cancelled"));
    run
}

#[test]
fn sigint_while_waiting_between_polls_exits_130() {
    let mut server = Server::new();
    let _running = server.mock("POST", "/").with_body(running("30")).create();
    let mut running = Gate::against(&server.url())
        .env("DTS_POLL_INTERVAL", "30s")
        .with_reports()
        .spawn();
    // The first answer is logged before the 30 s wait for the next poll.
    running.wait_for_line(|line| line.contains("running") && line.contains("30%"));
    let run = assert_cancels(running, "INT", 130);
    assert_eq!(run.output("status"), "running");
    assert!(run.first_error().contains("SIGINT"));
    // The reports are written on a cancellation too.
    let json: serde_json::Value =
        serde_json::from_str(run.reports.json.as_deref().expect("JSON report")).unwrap();
    assert_eq!(json["verdict"], "cancelled");
    assert_eq!(json["exit_code"], 130);
    assert!(
        run.reports
            .junit
            .as_deref()
            .expect("JUnit report")
            .contains("Cancelled")
    );
}

#[test]
fn sigterm_during_a_request_that_never_answers_exits_143() {
    let silent = Responder::always(Reply::Silence);
    let mut running = Gate::against(&silent.url())
        .env("DTS_TIMEOUT", "30s")
        .spawn();
    running.wait_for_start();
    silent.wait_for_requests(1, Duration::from_secs(20));
    let run = assert_cancels(running, "TERM", 143);
    assert!(run.first_error().contains("SIGTERM"));
}

#[test]
fn nothing_is_started_after_a_cancellation() {
    let mut server = Server::new();
    let _running = server
        .mock("POST", "/")
        .match_header("x-tc-action", "DescribeMigrateCheckJob")
        .with_body(running("30"))
        .create();
    let start = server
        .mock("POST", "/")
        .match_header("x-tc-action", "StartMigrateJob")
        .expect(0)
        .create();
    let mut running = Gate::against(&server.url())
        .env("DTS_START_MIGRATION", "true")
        .env("DTS_POLL_INTERVAL", "10s")
        .spawn();
    running.wait_for_line(|line| line.contains("running") && line.contains("30%"));
    let run = assert_cancels(running, "INT", 130);
    start.assert();
    assert_eq!(run.output("migration-started"), "false");
}

/// An HTTP `Date` header value for `unix` seconds.
fn http_date(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap();
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[u8::from(t.month()) as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[test]
fn a_runner_clock_ten_minutes_slow_is_corrected_from_the_date_header() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // The service lives ten minutes ahead of this runner, as a slow runner clock would see it.
    let service_now = now + 600;
    let mut server = Server::new();
    let mock = server
        .mock("POST", "/")
        .with_header("content-type", "application/json")
        .with_header("date", &http_date(service_now))
        .with_body_from_request(move |request| {
            let stamp: i64 = request
                .header("x-tc-timestamp")
                .first()
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .unwrap_or_default();
            if (stamp - service_now).abs() > 300 {
                service_error("AuthFailure.SignatureExpire", "the signature has expired").into()
            } else {
                pass().into()
            }
        })
        .expect(2)
        .create();
    let run = Gate::against(&server.url()).run();
    mock.assert(); // refused once, then accepted with the service's time
    assert_eq!(run.code, 0, "{run:?}");
    let warnings = run.commands_named("warning");
    assert_eq!(warnings.len(), 1, "{run:?}");
    assert_eq!(warnings[0].properties[0].1, "Runner clock is off");
    // The service's Date was fixed when the mock was made; the gate reads its own clock a
    // moment later, possibly after a second boundary, so the offset is 598 to 600 seconds.
    let data = &warnings[0].data;
    assert!(
        ["10m behind", "9m59s behind", "9m58s behind"]
            .iter()
            .any(|offset| data.contains(offset)),
        "{data}"
    );
    assert!(warnings[0].data.contains("NTP"));
}

#[test]
fn a_signature_expire_without_a_usable_date_is_permanent_with_a_hint() {
    let mut server = Server::new();
    let mock = server
        .mock("POST", "/")
        .with_body(service_error("AuthFailure.SignatureExpire", "expired"))
        .expect(1)
        .create();
    let run = Gate::against(&server.url()).run();
    mock.assert();
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.first_error().contains("clock"));
}

#[test]
fn a_date_header_days_away_is_not_trusted_and_stops_the_gate() {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut server = Server::new();
    let mock = server
        .mock("POST", "/")
        .with_header("date", &http_date(now + 30 * 24 * 3600))
        .with_body(service_error("AuthFailure.SignatureExpire", "expired"))
        .expect(1)
        .create();
    let run = Gate::against(&server.url()).run();
    // No second request stamped a month ahead.
    mock.assert();
    assert_eq!(run.code, 3, "{run:?}");
    let error = &run.commands_named("error")[0].data;
    assert!(
        error.contains("more than the 1h the gate corrects for"),
        "{error}"
    );
    assert!(run.commands_named("warning").is_empty(), "{run:?}");
}
