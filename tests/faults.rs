//! Fault injection: the real binary against local servers that misbehave the ways networks,
//! proxies and overloaded services do. In every case the gate must end by its deadline (the
//! README: "exits within DTS_TIMEOUT + 2 s plus process start"), exit with the right code (3
//! when no valid answer was ever seen) and still write every output for the runner.

mod common;

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::Duration;

use common::*;

/// The README's margin past DTS_TIMEOUT.
const GRACE: Duration = Duration::from_secs(2);
/// Process start and exit on a loaded two-core runner; far below any real overrun (a request
/// without a time budget would hang for tens of seconds).
const START_SLACK: Duration = Duration::from_millis(1000);

/// A server on 127.0.0.1 that hands each connection to `handle` on its own thread and counts
/// connections.
struct FaultServer {
    port: u16,
    connections: Arc<AtomicU32>,
}

impl FaultServer {
    fn start(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicU32::new(0));
        let count = connections.clone();
        let handle = Arc::new(handle);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                count.fetch_add(1, Ordering::SeqCst);
                let handle = handle.clone();
                thread::spawn(move || handle(stream));
            }
        });
        FaultServer { port, connections }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn connections(&self) -> u32 {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Reads one request (head and `Content-Length` body), so the client is waiting for the answer.
fn read_request(stream: &TcpStream) -> std::io::Result<()> {
    read_http_request(&mut BufReader::new(stream))
}

/// A complete HTTP/1.1 answer.
fn response(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Answers every request with `text`, then closes.
fn answering(text: String) -> impl Fn(TcpStream) + Send + Sync + 'static {
    move |mut stream| {
        if read_request(&stream).is_ok() {
            let _ = stream.write_all(text.as_bytes());
        }
    }
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
    eprintln!(
        "DBG {:?} polls={} {} {}",
        run.wall,
        run.output("polls"),
        run.output("error-code"),
        run.output("error-message")
    );
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
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let run = gate(&format!("http://127.0.0.1:{port}"), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert_retried(&run);
}

#[test]
fn connection_reset_mid_body() {
    let server = FaultServer::start(|mut stream| {
        // Leave the request unread so closing sends RST, not FIN, after half an answer. ureq
        // reports a reset inside a body as "Peer disconnected", like an early FIN.
        thread::sleep(Duration::from_millis(20));
        let body = answer("finished", 1, "100", 0, "ok");
        let text = response("200 OK", "application/json", &body);
        let _ = stream.write_all(&text.as_bytes()[..text.len() - body.len() / 2]);
        let _ = stream.flush();
        thread::sleep(Duration::from_millis(20));
    });
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert_retried(&run);
    assert!(server.connections() >= 2);
}

#[test]
fn a_body_shorter_than_its_content_length() {
    let server = FaultServer::start(|mut stream| {
        if read_request(&stream).is_ok() {
            let body = answer("finished", 1, "100", 0, "ok");
            let text = response("200 OK", "application/json", &body);
            let _ = stream.write_all(&text.as_bytes()[..text.len() - 10]);
        }
    });
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert_retried(&run);
}

#[test]
fn a_server_that_accepts_and_never_answers() {
    let server = FaultServer::start(|mut stream| {
        let _ = read_request(&stream);
        // Hold the connection open until the client gives up on it.
        let _ = stream.read_to_end(&mut Vec::new());
    });
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
    let server = FaultServer::start(|mut stream| {
        if read_request(&stream).is_err() {
            return;
        }
        // Each byte would satisfy a per-read timeout; only a deadline for the whole request
        // stops this.
        let text = response(
            "200 OK",
            "application/json",
            &answer("finished", 1, "100", 0, "ok"),
        );
        for byte in text.as_bytes() {
            if stream.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_secs(1));
        }
    });
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
    assert_eq!(server.connections(), 1);
}

#[test]
fn truncated_json() {
    let body = answer("finished", 1, "100", 0, "ok");
    let cut = &body[..body.len() / 2];
    let server = FaultServer::start(answering(response("200 OK", "application/json", cut)));
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "MalformedResponse");
    assert_retried(&run);
}

#[test]
fn a_body_of_many_megabytes() {
    let server = FaultServer::start(|mut stream| {
        if read_request(&stream).is_err() {
            return;
        }
        let size = 16 * 1024 * 1024;
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
        );
        let _ = stream.write_all(head.as_bytes());
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..size / chunk.len() {
            if stream.write_all(&chunk).is_err() {
                return; // the gate stopped reading: that is the point
            }
        }
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
    let server = FaultServer::start(|mut stream| {
        if read_request(&stream).is_err() {
            return;
        }
        let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n";
        let _ = stream.write_all(head.as_bytes());
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..256 {
            if stream.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "MalformedResponse");
}

fn status_only(status: &str, code: &str) {
    let html = format!("<html><body><h1>{status}</h1></body></html>");
    let server = FaultServer::start(answering(response(status, "text/html", &html)));
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, code);
    assert_retried(&run);
}

#[test]
fn http_429_too_many_requests() {
    status_only("429 Too Many Requests", "HttpStatus429");
}

#[test]
fn http_500_internal_server_error() {
    status_only("500 Internal Server Error", "HttpStatus500");
}

#[test]
fn http_503_service_unavailable() {
    status_only("503 Service Unavailable", "HttpStatus503");
}

#[test]
fn not_http_at_all() {
    let server = FaultServer::start(|mut stream| {
        let _ = read_request(&stream);
        let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
    });
    let run = gate(&server.url(), 1).run();
    assert_gave_up(&run, 1, "NetworkError");
}

#[test]
fn a_passing_body_labelled_text_html_is_still_read_and_passes() {
    let body = answer("finished", 1, "100", 0, "ok");
    let server = FaultServer::start(answering(response(
        "200 OK",
        "text/html; charset=utf-8",
        &body,
    )));
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
    let seen = Arc::new(AtomicU32::new(0));
    let count = seen.clone();
    let server = FaultServer::start(move |mut stream| {
        if read_request(&stream).is_err() {
            return;
        }
        let text = if count.fetch_add(1, Ordering::SeqCst) == 0 {
            response(
                "200 OK",
                "application/json",
                &answer("running", 3, "40", 0, ""),
            )
        } else {
            response("502 Bad Gateway", "text/html", "<html>bad gateway</html>")
        };
        let _ = stream.write_all(text.as_bytes());
    });
    let run = gate(&server.url(), 1).run();
    assert_eq!(run.code, 4, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "timed-out");
    assert_eq!(run.output("status"), "running");
    assert!(run.wall <= Duration::from_secs(1) + GRACE + START_SLACK);
}
