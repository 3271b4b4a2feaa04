//! The test kit. This file drives the real `dts-gate` binary as a CI runner would: a cleared
//! environment, the variables a test names, temporary `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY`
//! files, and what it leaves behind read back with the runner's own rules. Beside it:
//! `runner` (those rules), `answers` (what the service answers), `http` (one loopback
//! responder for what mockito cannot do) and `fake_time` (a clock for the poller).
#![allow(dead_code)] // each test file uses its own part of this

pub mod answers;
pub mod fake_time;
pub mod http;
pub mod runner;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

#[allow(unused_imports)] // for `use common::*`; not every test file answers as the service
pub use answers::*;
use runner::{WorkflowCommand, commands_in, parse_output_file};

/// The README's margin past DTS_TIMEOUT ("exits within DTS_TIMEOUT + 2 s plus process start").
pub const GRACE: Duration = Duration::from_secs(2);
/// Process start and exit on a loaded two-core runner; far below any real overrun (a request
/// without a time budget would hang for tens of seconds).
pub const START_SLACK: Duration = Duration::from_millis(1000);

/// How long [`Running::wait_for_line`] waits before it fails the test.
const LINE_PATIENCE: Duration = Duration::from_secs(20);

pub const JOB_ID: &str = "dts-1kl0iy0v";
pub const SECRET_ID: &str = "AKIDintegration0test";
pub const SECRET_KEY: &str = "integration-secret-key-9f8e7d";
pub const TOKEN: &str = "integration-session-token-5a4b";

/// What one run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    /// `None` outside GitHub mode.
    pub outputs: Option<HashMap<String, String>>,
    pub output_raw: String,
    pub summary: String,
    /// The `DTS_REPORT_*` files, when [`Gate::with_reports`] asked for them and they exist.
    pub reports: Reports,
}

/// The report files a run wrote (`None`: not asked for, or not written).
#[derive(Debug, Default)]
pub struct Reports {
    pub json: Option<String>,
    pub junit: Option<String>,
    pub dotenv: Option<String>,
}

impl Run {
    /// The workflow commands the runner would act on, from both streams.
    pub fn commands(&self) -> Vec<WorkflowCommand> {
        let mut all = commands_in(&self.stdout);
        all.extend(commands_in(&self.stderr));
        all
    }

    pub fn commands_named(&self, name: &str) -> Vec<WorkflowCommand> {
        self.commands()
            .into_iter()
            .filter(|c| c.name == name)
            .collect()
    }

    /// The message of the first `::error` annotation; fails the test if there is none.
    pub fn first_error(&self) -> String {
        let errors = self.commands_named("error");
        let first = errors
            .first()
            .unwrap_or_else(|| panic!("no error annotation: {self:?}"));
        first.data.clone()
    }

    /// Fails unless every one of `texts` is somewhere on stdout.
    pub fn assert_stdout_has(&self, texts: &[&str]) {
        for text in texts {
            assert!(
                self.stdout.contains(text),
                "{text:?} not on stdout:\n{}",
                self.stdout
            );
        }
    }

    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .as_ref()
            .expect("GitHub mode")
            .get(name)
            .unwrap_or_else(|| panic!("output {name} missing: {:?}", self.outputs))
    }

    /// Secrets must appear nowhere a person or a runner can read.
    pub fn assert_no_secrets(&self) {
        let reports = [
            &self.reports.json,
            &self.reports.junit,
            &self.reports.dotenv,
        ];
        let reports = reports.into_iter().flatten();
        for text in [&self.stdout, &self.stderr, &self.output_raw, &self.summary]
            .into_iter()
            .chain(reports)
        {
            assert!(!text.contains(SECRET_KEY), "secret key leaked:\n{text}");
            assert!(!text.contains(TOKEN), "token leaked:\n{text}");
        }
    }
}

/// A binary run being set up.
pub struct Gate {
    env: Vec<(String, String)>,
    args: Vec<String>,
    github: bool,
    reports: bool,
}

impl Gate {
    /// The gate against `endpoint` with valid credentials and fast polling, on GitHub.
    pub fn against(endpoint: &str) -> Gate {
        Gate::bare()
            .env("DTS_JOB_ID", JOB_ID)
            .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
            .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
            .env("TENCENTCLOUD_REGION", "ap-guangzhou")
            .env("DTS_ENDPOINT", endpoint)
            .env("DTS_POLL_INTERVAL", "100ms")
            .env("DTS_TIMEOUT", "10s")
    }

    /// No variables at all, on GitHub.
    pub fn bare() -> Gate {
        Gate {
            env: Vec::new(),
            args: Vec::new(),
            github: true,
            reports: false,
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Gate {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn without(mut self, key: &str) -> Gate {
        self.env.retain(|(k, _)| k != key);
        self
    }

    pub fn arg(mut self, arg: &str) -> Gate {
        self.args.push(arg.to_string());
        self
    }

    /// Not on GitHub: no `GITHUB_ACTIONS`, but the file variables still point somewhere, to
    /// prove nothing is written there.
    pub fn outside_github(mut self) -> Gate {
        self.github = false;
        self
    }

    /// Asks for every report (`DTS_REPORT_JSON`, `_JUNIT`, `_DOTENV`) in a fresh directory, each
    /// pre-filled with junk that the run must replace.
    pub fn with_reports(mut self) -> Gate {
        self.reports = true;
        self
    }

    pub fn run(self) -> Run {
        self.spawn().wait()
    }

    /// Starts the binary without waiting for it, e.g. to signal it.
    pub fn spawn(self) -> Running {
        let dir = temp_dir();
        let report_paths = report_paths(&dir);
        if self.reports {
            std::fs::create_dir_all(dir.join("reports")).unwrap();
            for (_, path) in &report_paths {
                std::fs::write(path, "stale junk from an earlier run\n").unwrap();
            }
        }
        let output_file = dir.join("github_output");
        let summary_file = dir.join("github_step_summary");
        std::fs::write(&output_file, "").unwrap();
        std::fs::write(&summary_file, "").unwrap();

        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dts-gate"));
        cmd.env_clear()
            .args(&self.args)
            .env("GITHUB_OUTPUT", &output_file)
            .env("GITHUB_STEP_SUMMARY", &summary_file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.github {
            cmd.env("GITHUB_ACTIONS", "true");
        }
        if self.reports {
            cmd.envs(report_paths.iter().map(|(k, p)| (k, p)));
        }
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let started = Instant::now();
        let mut child = cmd.spawn().expect("the binary runs");
        // Read on a thread as it comes, so a test can wait for a line before it acts.
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            loop {
                let mut line = Vec::new();
                match stdout.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if send.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Running {
            child,
            started,
            lines,
            stdout: Vec::new(),
            dir,
            github: self.github,
            reports: self.reports,
        }
    }
}

/// Runs `gates` at the same time and waits for them all: for a table of cases that each wait
/// on a deadline. Each run's `wall` ends when it was waited for (they are waited for in order).
pub fn run_together(gates: impl IntoIterator<Item = Gate>) -> Vec<Run> {
    let running: Vec<Running> = gates.into_iter().map(Gate::spawn).collect();
    running.into_iter().map(Running::wait).collect()
}

/// Where a run's `DTS_REPORT_*` files go, inside its temporary directory.
fn report_paths(dir: &Path) -> [(&'static str, PathBuf); 3] {
    [
        ("DTS_REPORT_JSON", dir.join("reports/report.json")),
        ("DTS_REPORT_JUNIT", dir.join("reports/TEST-dts-gate.xml")),
        ("DTS_REPORT_DOTENV", dir.join("reports/gate.env")),
    ]
}

/// A binary run still going.
pub struct Running {
    pub child: Child,
    pub started: Instant,
    lines: Receiver<Vec<u8>>,
    /// What [`Running::wait_for_line`] has taken from `lines` so far.
    stdout: Vec<u8>,
    dir: PathBuf,
    github: bool,
    reports: bool,
}

impl Running {
    /// Sends `signal` (a name `kill` knows, e.g. INT or TERM) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits until the binary prints a stdout line for which `wanted` holds, and returns it.
    /// Fails the test if none comes within 20 s or stdout ends first.
    pub fn wait_for_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LINE_PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = self.lines.recv_timeout(left) else {
                panic!(
                    "the line never came; stdout so far:\n{}",
                    String::from_utf8_lossy(&self.stdout)
                );
            };
            self.stdout.extend_from_slice(&line);
            let line = String::from_utf8_lossy(&line).into_owned();
            if wanted(&line) {
                return line;
            }
        }
    }

    /// Waits for the first line a gate run prints (`dts-gate VERSION: waiting for ...`).
    pub fn wait_for_start(&mut self) -> String {
        self.wait_for_line(|line| {
            line.starts_with(concat!(
                "dts-gate ",
                env!("CARGO_PKG_VERSION"),
                ": waiting for "
            ))
        })
    }

    pub fn wait(mut self) -> Run {
        let mut stderr = Vec::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_end(&mut stderr)
            .unwrap();
        let status = self.child.wait().expect("the binary ends");
        let wall = self.started.elapsed();
        // The reader thread ends with stdout, which closes the channel.
        let mut stdout = std::mem::take(&mut self.stdout);
        stdout.extend(self.lines.iter().flatten());
        let output_raw = std::fs::read_to_string(self.dir.join("github_output")).unwrap();
        let summary = std::fs::read_to_string(self.dir.join("github_step_summary")).unwrap();
        let report_paths = report_paths(&self.dir);
        let read = |i: usize| {
            self.reports
                .then(|| std::fs::read_to_string(&report_paths[i].1).ok())
                .flatten()
        };
        let reports = Reports {
            json: read(0),
            junit: read(1),
            dotenv: read(2),
        };
        let _ = std::fs::remove_dir_all(&self.dir);
        let outputs = self.github.then(|| {
            parse_output_file(&output_raw)
                .unwrap_or_else(|e| panic!("GITHUB_OUTPUT unreadable ({e}):\n{output_raw}"))
                .into_iter()
                .collect()
        });
        Run {
            code: status.code().expect("exited, not killed"),
            stdout: String::from_utf8(stdout).unwrap(),
            stderr: String::from_utf8(stderr).unwrap(),
            wall,
            outputs,
            output_raw,
            summary,
            reports,
        }
    }
}

fn temp_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "dts-gate-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
