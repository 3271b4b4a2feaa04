//! The `dts-gate` binary: read arguments and environment, run, map the outcome to an exit code.

use std::io;
use std::process::ExitCode;

use dts_gate::cli::{self, Command};
use dts_gate::config::{self, Config, ConfigError};
use dts_gate::report::{self, Reporter, Surroundings};
use dts_gate::{demo, gate, outcome};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Lossy: a value that is not UTF-8 then fails validation with a clear message instead of
    // silently counting as unset.
    let vars: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();

    let command = cli::parse_args(&args);
    match command {
        Ok(Command::Help) => {
            report::print_stdout(cli::HELP);
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            report::print_stdout(&format!("dts-gate {}\n", env!("CARGO_PKG_VERSION")));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }

    // GitHub cancels a step with SIGINT, then SIGTERM: either stops the wait within a second
    // and the gate still writes its outputs.
    let cancellation = gate::Cancellation::new();
    if let Err(e) = cancellation.on_signals() {
        report::print_stderr(&format!(
            "warning: SIGINT/SIGTERM handlers could not be installed ({e}); a cancelled step will not write its outputs\n"
        ));
    }
    let mut reporter = Reporter::new(
        config::github_runner_from_vars(vars.iter().cloned()),
        io::stdout(),
        io::stderr(),
        Surroundings::system(),
    );
    // Read apart from the rest, so even a configuration error leaves its reports behind.
    reporter.reports(config::report_files_from_vars(vars.iter().cloned()));
    let (demo_flag, dry_run_flag) = match command {
        Ok(Command::Gate { demo, dry_run }) => (demo, dry_run),
        Ok(_) => (None, false),
        Err(problem) => {
            let error = ConfigError {
                variable: "command line",
                problem,
            };
            return exit(&gate::reject(vec![error], &mut reporter));
        }
    };
    let modes = config::demo_mode_from_vars(vars.iter().cloned()).and_then(|demo| {
        let dry_run = dry_run_flag || config::dry_run_from_vars(vars.iter().cloned())?;
        Ok((demo_flag.or(demo), dry_run))
    });
    let outcome = match modes {
        Err(error) => gate::reject(vec![error], &mut reporter),
        Ok((Some(mode), _)) => {
            match config::demo_settings_from_vars(
                vars,
                demo::DEMO_TIMEOUT,
                demo::DEMO_POLL_INTERVAL,
            ) {
                Ok(settings) => demo::run(mode, settings, &mut reporter, &cancellation),
                Err(errors) => gate::reject(errors, &mut reporter),
            }
        }
        Ok((None, dry_run)) => match Config::from_vars(vars) {
            Ok(config) if dry_run => {
                gate::dry_run(&config, &mut reporter);
                return ExitCode::SUCCESS;
            }
            Ok(config) => gate::run(&config, &mut reporter, &cancellation),
            Err(errors) => gate::reject(errors, &mut reporter),
        },
    };
    exit(&outcome)
}

fn exit(outcome: &outcome::Outcome) -> ExitCode {
    ExitCode::from(outcome::exit_code(outcome))
}
