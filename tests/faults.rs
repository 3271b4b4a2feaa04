//! Fault injection: the real binary against local servers that misbehave the ways networks,
//! proxies and overloaded services do. In every case the gate must end by its deadline (the
//! README: "exits within DTS_TIMEOUT + 2 s plus process start"), exit with the right code (3
//! when no valid answer was ever seen) and still write every output for the runner.

mod common;

use std::time::Duration;

use common::http::{Reply, Responder, refused_url, response};
use common::*;

/// A passing answer as a whole HTTP/1.1 response, for cutting short.
fn passing_response() -> Vec<u8> {
    response("200 OK", Some("application/json"), pass().as_bytes())
}

fn gate(url: &str, timeout_secs: u64) -> Gate {
    Gate::against(url)
        .env("DTS_TIMEOUT", &timeout_secs.to_string())
        .env("DTS_POLL_INTERVAL", "100ms")
}

/// No valid answer ever: exit 3, by the deadline, every output written, one error annotation.
#[allow(
    clippy::disallowed_macros,
    reason = "a debugging line left in; clippy.toml now disallows eprintln!"
)]
fn assert_gave_up(run: &Run, timeout_secs: u64, error_code: &str) {
    assert_eq!(run.code, 3, "{run:?}");
    let limit = Duration::from_secs(timeout_secs) + GRACE + START_SLACK;
    assert!(run.wall <= limit, "took {:?}, limit {limit:?}", run.wall);
    let outputs = run.outputs.as_ref().expect("GitHub mode");
    for name in [
        "passed",
        "result",
        "status",
        "check-flag",
        "progress",
        "error-code",
        "error-message",
        "request-id",
        "polls",
        "elapsed-seconds",
    ] {
        assert!(
            outputs.contains_key(name),
            "output {name} missing: {outputs:?}"
        );
    }
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "error");
    assert_eq!(run.output("error-code"), error_code, "{run:?}");
    assert!(!run.output("error-message").is_empty());
    assert_eq!(run.output("status"), "", "no answer was ever valid");
    let polls: u32 = run.output("polls").parse().unwrap();
    assert!(polls >= 1);
    assert_eq!(run.commands_named("error").len(), 1, "{run:?}");
    assert!(!run.summary.is_empty());
    run.assert_no_secrets();
}

/// Failures that come back at once are retried with backoff until the deadline.
fn assert_retried(run: &Run) {
    let polls: u32 = run.output("polls").parse().unwrap();
    assert!(polls >= 2, "only {polls} poll(s) in {:?}", run.wall);
    assert!(
        run.stderr.contains("retry") || run.stdout.contains("retry"),
        "retries are logged: {run:?}"
    );
}

#[test]
fn connection_refused() {
    let run = gate(&refused_url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert_retried(&run);
}

#[test]
fn connection_reset_mid_body() {
    // The request is left unread, so closing sends RST, not FIN, after half an answer. ureq
    // reports a reset inside a body as "Peer disconnected", like an early FIN.
    let text = passing_response();
    let half = text.len() - pass().len() / 2;
    let server = Responder::always(Reply::Reset(text[..half].to_vec()));
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert_retried(&run);
    assert!(server.connections() >= 2);
}

#[test]
fn a_body_shorter_than_its_content_length() {
    let text = passing_response();
    let server = Responder::always(Reply::Bytes(text[..text.len() - 10].to_vec()));
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert_retried(&run);
}

#[test]
fn a_server_that_accepts_and_never_answers() {
    let server = Responder::always(Reply::Silence);
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert!(
        run.output("error-message").contains("time budget"),
        "{run:?}"
    );
    assert_eq!(
        server.connections(),
        1,
        "one request, cut at deadline + grace"
    );
    assert!(run.wall >= Duration::from_secs(1) + GRACE - Duration::from_millis(100));
}

#[test]
fn a_server_that_trickles_one_byte_a_second() {
    // Each byte would satisfy a per-read timeout; only a deadline for the whole request stops
    // this.
    let server = Responder::always(Reply::Trickle {
        bytes: passing_response(),
        gap: Duration::from_secs(1),
    });
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert_eq!(server.connections(), 1);
}

#[test]
fn truncated_json() {
    let body = pass();
    let cut = &body[..body.len() / 2];
    let server = Responder::always(Reply::json(cut));
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "MalformedResponse");
    assert_retried(&run);
}

#[test]
fn a_body_of_many_megabytes() {
    let size = 16 * 1024 * 1024;
    let chunk = vec![b' '; 64 * 1024];
    let server = Responder::always(Reply::Flood {
        head: format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        )
        .into_bytes(),
        count: size / chunk.len(),
        chunk,
    });
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "MalformedResponse");
    assert!(
        run.output("error-message").contains("larger than 1024 KiB"),
        "{run:?}"
    );
    assert_retried(&run);
}

#[test]
fn a_body_of_many_megabytes_without_a_length() {
    let server = Responder::always(Reply::Flood {
        head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
            .to_vec(),
        chunk: vec![b'x'; 64 * 1024],
        count: 256,
    });
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "MalformedResponse");
}

#[test]
fn http_error_statuses_are_retried_until_the_deadline() {
    let cases = [
        ("429 Too Many Requests", "HttpStatus429"),
        ("500 Internal Server Error", "HttpStatus500"),
        ("503 Service Unavailable", "HttpStatus503"),
    ];
    let servers: Vec<Responder> = cases
        .iter()
        .map(|(status, _)| {
            let html = format!("<html><body><h1>{status}</h1></body></html>");
            Responder::always(Reply::status(status, "text/html", &html))
        })
        .collect();
    let runs = run_together(servers.iter().map(|server| gate(&server.url(), 1)));
    for ((_, code), run) in cases.iter().zip(&runs) {
        assert_gave_up(run, 1, code);
        assert_retried(run);
    }
}

#[test]
fn not_http_at_all() {
    let server = Responder::always(Reply::Bytes(b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()));
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
}

#[test]
fn a_passing_body_labelled_text_html_is_still_read_and_passes() {
    let server = Responder::always(Reply::status("200 OK", "text/html; charset=utf-8", &pass()));
    let run = gate(&server.url(), 2).run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("result"), "passed");
    assert_eq!(run.output("check-flag"), "1");
    assert_eq!(run.output("error-code"), "0");
    assert_eq!(run.output("polls"), "1");
    assert!(run.wall < Duration::from_secs(2));
}

#[test]
fn a_fault_then_a_valid_running_answer_times_out_with_exit_4() {
    // Once a valid answer was seen, the deadline while running is a timeout (4), not an error,
    // even if the last request failed.
    let server = Responder::script(vec![
        Reply::json(&running("40")),
        Reply::status("502 Bad Gateway", "text/html", "<html>bad gateway</html>"),
    ]);
    let run = gate(&server.url(), 1).run();
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "timed-out");
    assert_eq!(run.output("status"), "running");
    assert!(run.wall <= Duration::from_secs(1) + GRACE + START_SLACK);
}
