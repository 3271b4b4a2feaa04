//! One run of the binary: carry out the invocation's mode and return how it ended. Each mode
//! lives in its own module (`gate`, `demo`); this only dispatches.

use std::io::Write;

use crate::gate::{self, Cancellation};
use crate::invocation::{Invocation, Mode};
use crate::outcome::Outcome;
use crate::report::Reporter;
use crate::{cli, demo, dry_run};

/// Runs the invocation's mode, reporting through `reporter` (its report files in every
/// outcome, a configuration error too); `cancellation` stops a wait early.
pub fn run<W: Write, E: Write>(
    invocation: Invocation,
    reporter: &mut Reporter<W, E>,
    cancellation: &Cancellation,
) -> Outcome {
    let surface = invocation.surface;
    reporter.reports(invocation.reports);
    reporter.configured_through(surface);
    match invocation.mode {
        Mode::Help => {
            reporter.info(cli::HELP.trim_end());
            Outcome::NothingGated
        }
        Mode::Version => {
            reporter.info(&format!("dts-gate {}", env!("CARGO_PKG_VERSION")));
            Outcome::NothingGated
        }
        Mode::Invalid(errors) => gate::reject(errors, surface, reporter),
        Mode::DryRun {
            config,
            from_command_line,
        } => dry_run::run(&config, from_command_line, reporter),
        Mode::Demo(mode, settings) => demo::run(mode, settings, reporter, cancellation),
        Mode::Gate(config) => gate::run(&config, reporter, cancellation),
    }
}

/// A cancellation that SIGINT and SIGTERM trigger (GitHub cancels a step with SIGINT, then
/// SIGTERM): either stops the wait within a second, and the gate still writes its outputs.
pub fn cancellation_on_signals<W: Write, E: Write>(reporter: &mut Reporter<W, E>) -> Cancellation {
    let cancellation = Cancellation::new();
    if let Err(e) = cancellation.on_signals() {
        reporter.warning(
            "Cancellation not available",
            &format!(
                "SIGINT/SIGTERM handlers could not be installed ({e}); a cancelled step will not write its outputs"
            ),
        );
    }
    cancellation
}
