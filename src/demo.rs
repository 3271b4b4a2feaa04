//! `--demo`: a simulated DTS endpoint on loopback, inside the process, and the real gate run
//! against it. The simulator checks every request's TC3 signature and headers and plays a
//! check from `starting` through `running` to `finished`, so the demo exercises the same
//! signing, HTTP, polling and reporting code as a real run.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::api::{ACTION_DESCRIBE_CHECK, CONTENT_TYPE, SERVICE, VERSION_2018};
use crate::config::{Config, Credentials, DemoMode, Language, parse_endpoint};
use crate::gate;
use crate::outcome::Outcome;
use crate::report::Reporter;
use crate::sign;

/// Demo credentials: known to the simulator, worthless anywhere else.
const DEMO_SECRET_ID: &str = "AKIDdemo0000000000000000000000000000";
const DEMO_SECRET_KEY: &str = "demo-secret-key-not-a-real-one";
const DEMO_JOB_ID: &str = "dts-demo0001";
const DEMO_REGION: &str = "ap-guangzhou";
/// The reference's own failing example, in English.
pub const DEMO_FAILURE_MESSAGE: &str = "The database table you selected does not exist. Please re-select. [The input parameter table cannot be found in the source instance]";

/// The poll interval of a demo run unless `DTS_POLL_INTERVAL` says otherwise: the whole check
/// then plays over about three seconds.
pub const DEMO_POLL_INTERVAL: Duration = Duration::from_millis(500);
pub const DEMO_TIMEOUT: Duration = Duration::from_secs(60);

/// The simulated check's answer to the `poll`-th well-signed request (from 1): starting, then
/// running 10% to 90%, then finished from the seventh poll on.
pub fn simulated_answer(mode: DemoMode, poll: u32) -> serde_json::Value {
    let (status, progress, flag, code, message) = match poll {
        0 | 1 => ("starting", 0, 3, 0, ""),
        2..=6 => ("running", 10 + (poll - 2) * 20, 3, 0, ""),
        _ => match mode {
            DemoMode::Pass => ("finished", 100, 1, 0, "ok"),
            DemoMode::Fail => ("finished", 100, 0, -1, DEMO_FAILURE_MESSAGE),
        },
    };
    serde_json::json!({"Response": {
        "Status": status,
        "Progress": progress.to_string(),
        "CheckFlag": flag,
        "ErrorCode": code,
        "ErrorMessage": message,
        "RequestId": format!("demo-request-{poll}"),
    }})
}

/// Why a request would be refused by the real service: `None` when it is well signed.
pub fn verify_request(
    headers: &[(String, String)],
    body: &[u8],
    now_unix: i64,
) -> Option<(&'static str, String)> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    for (header, want) in [
        ("X-TC-Action", ACTION_DESCRIBE_CHECK),
        ("X-TC-Version", VERSION_2018),
        ("X-TC-Region", DEMO_REGION),
        ("Content-Type", CONTENT_TYPE),
    ] {
        if get(header) != want {
            return Some((
                "InvalidParameter",
                format!("{header} is {:?}, expected {want:?}", get(header)),
            ));
        }
    }
    let Ok(timestamp) = get("X-TC-Timestamp").parse::<i64>() else {
        return Some(("MissingParameter", "X-TC-Timestamp is missing".into()));
    };
    if (timestamp - now_unix).abs() > 300 {
        return Some((
            "AuthFailure.SignatureExpire",
            "the timestamp is more than 5 minutes off".into(),
        ));
    }
    let expected = sign::authorization(
        DEMO_SECRET_ID,
        DEMO_SECRET_KEY,
        SERVICE,
        timestamp,
        &sign::SignableRequest {
            content_type: get("Content-Type"),
            host: get("Host"),
            payload: body,
        },
    );
    if get("Authorization") != expected {
        return Some((
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.".into(),
        ));
    }
    None
}

/// A running simulator: its address and how many requests it verified.
pub struct Simulator {
    pub endpoint: String,
}

impl Simulator {
    /// Binds `127.0.0.1` on a free port and serves in a background thread for the life of the
    /// process (the demo is a one-shot run).
    pub fn start(mode: DemoMode) -> io::Result<Simulator> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        std::thread::spawn(move || {
            let mut polls = 0;
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, mode, &mut polls);
            }
        });
        Ok(Simulator { endpoint })
    }
}

/// Answers one request on `stream`, then closes it.
fn serve(stream: TcpStream, mode: DemoMode, polls: &mut u32) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(64 * 1024);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;

    let answer = match verify_request(&headers, &body, gate::unix_now()) {
        Some((code, message)) => serde_json::json!({"Response": {
            "Error": {"Code": code, "Message": message},
            "RequestId": "demo-rejected",
        }}),
        None => {
            *polls += 1;
            simulated_answer(mode, *polls)
        }
    };
    let text = answer.to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    stream.flush()
}

/// The configuration of a demo run: the simulator's endpoint and credentials.
pub fn demo_config(endpoint: &str, timeout: Duration, poll_interval: Duration) -> Config {
    Config {
        job_id: DEMO_JOB_ID.to_string(),
        credentials: Credentials {
            secret_id: DEMO_SECRET_ID.to_string(),
            secret_key: DEMO_SECRET_KEY.to_string(),
            token: None,
        },
        region: DEMO_REGION.to_string(),
        timeout,
        poll_interval,
        endpoint: parse_endpoint(endpoint).expect("a loopback endpoint is valid"),
        language: Language::EnUs,
    }
}

/// Starts the simulator and runs the real gate against it, with the given timing.
pub fn run<W: Write, E: Write>(
    mode: DemoMode,
    timeout: Duration,
    poll_interval: Duration,
    reporter: &mut Reporter<W, E>,
) -> Outcome {
    let simulator = match Simulator::start(mode) {
        Ok(s) => s,
        Err(e) => {
            return gate::reject(
                vec![crate::config::ConfigError {
                    variable: "DTS_DEMO",
                    problem: format!(
                        "the simulated endpoint could not listen on 127.0.0.1 ({e}); run without --demo"
                    ),
                }],
                reporter,
            );
        }
    };
    reporter.info(&format!(
        "dts-gate demo: a simulated DTS endpoint at {} verifies each request's TC3 signature and plays a check that will {}.",
        simulator.endpoint,
        match mode {
            DemoMode::Pass => "pass",
            DemoMode::Fail => "not pass",
        }
    ));
    gate::run(
        &demo_config(&simulator.endpoint, timeout, poll_interval),
        reporter,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Target;

    fn signed_headers(body: &[u8], timestamp: i64) -> Vec<(String, String)> {
        let target = Target::from_config(&demo_config(
            "http://127.0.0.1:4000",
            DEMO_TIMEOUT,
            DEMO_POLL_INTERVAL,
        ));
        target
            .request_headers(ACTION_DESCRIBE_CHECK, VERSION_2018, timestamp, body)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    #[test]
    fn accepts_a_well_signed_request_and_refuses_tampering() {
        let body = br#"{"JobId":"dts-demo0001"}"#;
        let now = 1_700_000_000;
        assert_eq!(verify_request(&signed_headers(body, now), body, now), None);
        let tampered = br#"{"JobId":"dts-demo0002"}"#;
        assert_eq!(
            verify_request(&signed_headers(body, now), tampered, now).map(|r| r.0),
            Some("AuthFailure.SignatureFailure")
        );
        assert_eq!(
            verify_request(&signed_headers(body, now), body, now + 301).map(|r| r.0),
            Some("AuthFailure.SignatureExpire")
        );
    }

    #[test]
    fn plays_starting_running_finished() {
        let at = |poll| simulated_answer(DemoMode::Fail, poll)["Response"].clone();
        assert_eq!(at(1)["Status"], "starting");
        assert_eq!(at(2)["Status"], "running");
        assert_eq!(at(4)["Progress"], "50");
        assert_eq!(at(6)["Progress"], "90");
        assert_eq!(at(7)["Status"], "finished");
        assert_eq!(at(7)["CheckFlag"], 0);
        assert_eq!(at(7)["ErrorMessage"], DEMO_FAILURE_MESSAGE);
        let pass = simulated_answer(DemoMode::Pass, 9);
        assert_eq!(pass["Response"]["CheckFlag"], 1);
    }
}
