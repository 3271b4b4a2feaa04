//! The `dts-gate` binary: read the invocation, run it, exit with the code of its outcome.

use std::io;
use std::process::ExitCode;

use dts_gate::report::{Reporter, Surroundings};
use dts_gate::{app, invocation, outcome};

fn main() -> ExitCode {
    let invocation = invocation::read(&arguments(), environment());
    let mut reporter = Reporter::new(
        invocation.github.clone(),
        io::stdout(),
        io::stderr(),
        Surroundings::system(),
    );
    // Before anything can fail, so even a configuration error leaves its reports behind.
    reporter.reports(invocation.reports.clone());
    let cancellation = app::cancellation_on_signals(&mut reporter);
    let outcome = app::run(
        invocation.mode,
        invocation.surface,
        &mut reporter,
        &cancellation,
    );
    ExitCode::from(outcome::exit_code(&outcome))
}

/// The arguments after the program name. Lossy, like the environment: a value that is not
/// UTF-8 then fails validation with a clear message instead of a panic.
fn arguments() -> Vec<String> {
    std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

fn environment() -> Vec<(String, String)> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect()
}
