//! Command-line arguments. Configuration is environment-only (secrets stay out of process
//! listings); the arguments only choose between help, version, the gate and the demo.

use crate::config::{DemoMode, parse_demo_mode};

/// What the command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    /// Run the gate; `demo` plays a simulated check instead of a real one.
    Gate {
        demo: Option<DemoMode>,
    },
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut command = Command::Gate { demo: None };
    for arg in args {
        command = match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--demo" => Command::Gate {
                demo: Some(DemoMode::Pass),
            },
            other => match other.strip_prefix("--demo=").map(parse_demo_mode) {
                Some(Some(mode)) => Command::Gate { demo: Some(mode) },
                Some(None) => {
                    return Err(format!(
                        "unknown demo mode in {other:?}; expected --demo, --demo=pass or --demo=fail"
                    ));
                }
                None => {
                    return Err(format!(
                        "unknown argument {other:?}; dts-gate is configured through environment variables (see --help)"
                    ));
                }
            },
        };
    }
    Ok(command)
}

pub const HELP: &str = concat!(
    "dts-gate ",
    env!("CARGO_PKG_VERSION"),
    r#"
Wait for a Tencent Cloud DTS migration check (DescribeMigrateCheckJob, API 2018-03-30, or
DescribeMigrationCheckJob, API 2021-12-06) and exit non-zero unless it passed.

USAGE:
    dts-gate                 gate the job named by the environment (below)
    dts-gate --demo          run against a built-in simulated DTS endpoint; no credentials needed
    dts-gate --demo=fail     the same, with a check that does not pass
    dts-gate --help | --version

ENVIRONMENT:
    DTS_JOB_ID                  required  migration job id, e.g. dts-1kl0iy0v
    TENCENTCLOUD_SECRET_ID      required  API key id
    TENCENTCLOUD_SECRET_KEY     required  API key secret
    TENCENTCLOUD_TOKEN          optional  temporary-credential token (else TENCENTCLOUD_SECURITY_TOKEN)
    TENCENTCLOUD_REGION         required  e.g. ap-guangzhou; *-fsi regions use dts.<region>.tencentcloudapi.com
    DTS_TIMEOUT                 30m       total wait: 90s, 15m, 1h30m or bare seconds
    DTS_POLL_INTERVAL           5s        between polls, same syntax plus ms; at least 100ms
    DTS_ENDPOINT                derived   https://host[:port] or a bare host (http:// only for loopback)
    DTS_LANGUAGE                en-US     language of the service's messages: en-US or zh-CN
    DTS_API_VERSION             2018-03-30  or 2021-12-06 for jobs created in the current DTS console
    DTS_DEMO                    unset     pass or fail: the same as --demo / --demo=fail
    HTTPS_PROXY, NO_PROXY                 honoured

OUTPUTS (GitHub Actions, GITHUB_OUTPUT, in every outcome):
    passed, result (passed | not-passed | timed-out | error), status, check-flag, progress,
    error-code, error-message, request-id, polls, elapsed-seconds, failed-steps, warning-steps
    Also ::error/::warning annotations and a job summary (GITHUB_STEP_SUMMARY).

EXIT CODES:
    0  the check finished and passed (Status finished, CheckFlag 1)
    1  the check finished and did not pass (CheckFlag 0 not passed, 3 not checked; checkNotPass;
       or the 2021 check task failed)
    2  invalid configuration; nothing was sent
    3  service or transport error (permanent API error, or no valid answer before the deadline)
    4  timed out while the check was still running
"#
);

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn arguments() {
        assert_eq!(parse(&[]), Ok(Command::Gate { demo: None }));
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert_eq!(parse(&["--demo", "--version"]), Ok(Command::Version));
        assert_eq!(
            parse(&["--demo"]),
            Ok(Command::Gate {
                demo: Some(DemoMode::Pass)
            })
        );
        assert_eq!(
            parse(&["--demo=fail"]),
            Ok(Command::Gate {
                demo: Some(DemoMode::Fail)
            })
        );
        assert!(
            parse(&["--demo=maybe"])
                .unwrap_err()
                .contains("--demo=fail")
        );
        assert!(
            parse(&["--job", "x"])
                .unwrap_err()
                .contains("environment variables")
        );
    }
}
