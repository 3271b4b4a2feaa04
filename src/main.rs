//! The `dts-gate` binary: read the invocation, run it, exit with the code of its outcome.

use std::ffi::OsString;
use std::io;
use std::process::ExitCode;

use dts_gate::report::{Reporter, Surroundings};
use dts_gate::{app, invocation, outcome};

fn main() -> ExitCode {
    let invocation = invocation::read(&arguments(), environment());
    let github = invocation.github.clone();
    let mut reporter = Reporter::new(github, io::stdout(), io::stderr(), Surroundings::system());
    let cancellation = app::cancellation_on_signals(&mut reporter);
    let outcome = app::run(invocation, &mut reporter, &cancellation);
    ExitCode::from(outcome::exit_code(&outcome))
}

/// The arguments after the program name.
fn arguments() -> Vec<String> {
    std::env::args_os().skip(1).map(lossy).collect()
}

fn environment() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| (lossy(k), lossy(v)))
        .collect()
}

/// A value that is not UTF-8 then fails validation with a clear message instead of a panic
/// (arguments) or silently counting as unset (variables).
fn lossy(text: OsString) -> String {
    text.to_string_lossy().into_owned()
}
