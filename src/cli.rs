//! Command-line arguments. Configuration is environment-only (secrets stay out of process
//! listings); the arguments only choose between help, version, the gate and the demo.

use crate::config::{DemoMode, parse_demo_mode};
use crate::stage::Stage;

/// What the command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    /// Run the gate; `demo` plays a simulated check instead of a real one; `dry_run` only
    /// validates and prints the calls it would make.
    Gate {
        demo: Option<DemoMode>,
        dry_run: bool,
        /// The stage named by the first argument (`dts-gate ready`), if any.
        stage: Option<Stage>,
    },
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut demo = None;
    let mut dry_run = false;
    let mut stage = None;
    for (at, arg) in args.iter().enumerate() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--demo" => demo = Some(DemoMode::Pass),
            "--dry-run" => dry_run = true,
            other => match other.strip_prefix("--demo=").map(parse_demo_mode) {
                Some(Some(mode)) => demo = Some(mode),
                Some(None) => {
                    return Err(format!(
                        "unknown demo mode in {other:?}; expected --demo, --demo=pass or --demo=fail"
                    ));
                }
                None if at == 0 && !other.starts_with('-') => match Stage::parse(other) {
                    Some(named) => stage = Some(named),
                    None => {
                        return Err(format!(
                            "unknown stage {other:?}; expected {} as the first argument (or DTS_STAGE)",
                            Stage::NAMES
                        ));
                    }
                },
                None => {
                    return Err(format!(
                        "unknown argument {other:?}; dts-gate is configured through environment variables (see --help)"
                    ));
                }
            },
        }
    }
    Ok(Command::Gate {
        demo,
        dry_run,
        stage,
    })
}

pub const HELP: &str = concat!(
    "dts-gate ",
    env!("CARGO_PKG_VERSION"),
    r#"
Wait for a Tencent Cloud DTS migration check (DescribeMigrateCheckJob, API 2018-03-30, or
DescribeMigrationCheckJob, API 2021-12-06), or a data sync job's check (DescribeCheckSyncJobResult
and the job's DescribeSyncJobs status CheckPass), and exit non-zero unless it passed.

USAGE:
    dts-gate                 gate the job named by the environment (below)
    dts-gate [STAGE]         STAGE: check (the pre-check, the default), ready (wait for DescribeMigrationDetail
                             Status readyComplete), compare (a compare task finds the data the same) or
                             complete (CompleteMigrateJob on a ready job, then wait for Status success);
                             API 2021-12-06 for the later stages. Sync jobs
                             (sync-..., DTS_JOB_KIND=sync): check, and ready (DescribeSyncJobs Status
                             Running in its last step, the incremental sync)
    dts-gate --demo          run against a built-in simulated DTS endpoint; no credentials needed
    dts-gate --demo=fail     the same, with a check that does not pass
    dts-gate ready --demo    the same for a later stage (ready, compare or complete; --demo=fail too)
    DTS_JOB_KIND=sync dts-gate --demo   the same with a data sync job (check, or ready --demo)
    dts-gate --dry-run       validate the configuration and print the calls it would make; send nothing
    dts-gate --help | --version

ENVIRONMENT:
    DTS_JOB_ID                  required  migration job id(s), e.g. dts-1kl0iy0v, or sync job id(s), e.g.
                                          sync-werwfs23; several separated by commas, spaces or
                                          newlines: all must pass
    DTS_JOB_KIND                from ids  migration or sync; unset, sync-... ids are sync jobs
    TENCENTCLOUD_SECRET_ID      \         API key pair: the first credential source (else the ones below)
    TENCENTCLOUD_SECRET_KEY     /
    TENCENTCLOUD_TOKEN          optional  temporary-credential token (else TENCENTCLOUD_SECURITY_TOKEN,
                                          else TENCENTCLOUD_SESSION_TOKEN)
    TENCENTCLOUD_ROLE_ARN       unset     role to assume: with TENCENTCLOUD_OIDC_PROVIDER_ID by web identity
                                          (OIDC), else by AssumeRole on the keys, a profile or the CVM role
    TENCENTCLOUD_OIDC_PROVIDER_ID  unset  the CAM OIDC identity provider: selects web identity
    TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE  file with the identity token (JWT); else GitHub's OIDC endpoint
    TENCENTCLOUD_OIDC_AUDIENCE  sts.tencentcloudapi.com  audience of GitHub's OIDC token
    TENCENTCLOUD_ROLE_SESSION_NAME  derived  STS session name (dts-gate-<repo>-<run>)
    TENCENTCLOUD_ROLE_DURATION  1h        lifetime of temporary credentials (refreshed before expiry)
    TKE_PROVIDER_ID, TKE_ROLE_ARN, TKE_WEB_IDENTITY_TOKEN_FILE, TKE_REGION   TKE's web identity
    TENCENTCLOUD_CREDENTIALS_FILE, TCCLI_PROFILE   the SDKs' and tccli's profile files
    TENCENTCLOUD_STS_ENDPOINT, TENCENTCLOUD_METADATA_ENDPOINT   STS and CVM metadata overrides
    TENCENTCLOUD_DOMAIN         tencentcloudapi.com  intl.tencentcloudapi.com for the international site
    TENCENTCLOUD_REGION         required  e.g. ap-guangzhou; *-fsi regions use dts.<region>.tencentcloudapi.com
    DTS_TIMEOUT                 30m       total wait: 90s, 15m, 1h30m or bare seconds
    DTS_POLL_INTERVAL           5s        between polls, same syntax plus ms; at least 100ms
    DTS_ENDPOINT                derived   https://host[:port] or a bare host (http:// only for loopback)
    DTS_LANGUAGE                en-US     language of the service's messages: en-US or zh-CN
    DTS_API_VERSION             2018-03-30  or 2021-12-06 for jobs created in the current DTS console
    DTS_CREATE_CHECK            false     true: run CreateMigrateCheckJob first; only that check's result counts
    DTS_CREATE_GRACE            30s       after a create, how long a result identical to the old one stays stale;
                                          an identical pass after it is an error (CreatedCheckNotSeen)
    DTS_START_MIGRATION         false     true: call StartMigrateJob for every job once all passed
    DTS_START_SYNC              false     true: call StartSyncJob for every sync job once all passed
    DTS_FAIL_FAST               true      false: wait for every job even once one cannot pass
    DTS_FAIL_ON_WARNING         false     true: a check that passed with warnings does not pass
    DTS_MAX_REQUEST_RATE        10        requests per second at most (the service allows 20 per action
                                          for the whole sub-account); halved while throttled
    DTS_STAGE                   check     check, ready, compare or complete; the first argument wins over it
    DTS_MAX_LAG                 unset     ready/complete: SecondsBehindMaster at most this (30s); -1 is unknown
    DTS_MAX_LAG_MB              unset     ready/complete: MasterSlaveDistance (MB) at most this
    DTS_LAG_SETTLE              30s       ready: how long the lag must hold within the limits; 0 for once
    DTS_COMPLETE_MODE           waitForSync  complete: or immediately (complete whatever the lag)
    DTS_COMPARE_TASK_ID         unset     compare: gate this existing task (one job) instead of creating one
    DTS_COMPARE_METHOD          dataCheck compare: or sampleDataCheck or rowsCount, for a created task
    DTS_COMPARE_SAMPLE_RATE     unset     compare: percent of rows sampled (1-100; the service's 100)
    DTS_COMPARE_THREADS         unset     compare: threads comparing (1-8; the service's 1)
    DTS_FAIL_ON_SKIPPED_TABLES  false     compare: true fails on tables not compared (else warnings)
    DTS_DRY_RUN                 false     true: like --dry-run, but exits 2 (it checked nothing)
    DTS_DEMO                    unset     pass or fail: the same as --demo / --demo=fail; refused while
                                          a job or credentials are set
    DTS_REPORT_JSON             unset     path: JSON report of the run, written in every outcome
    DTS_REPORT_JUNIT            unset     path: JUnit XML report (e.g. TEST-dts-gate.xml), every outcome
    DTS_REPORT_DOTENV           unset     path: KEY=VALUE file for GitLab's artifacts:reports:dotenv
    SSL_CERT_FILE               unset     PEM file of extra CA certificates (TLS-inspecting proxies)
    HTTPS_PROXY (https_proxy), else ALL_PROXY; NO_PROXY
                                          an HTTP CONNECT proxy for the https endpoint, named in the log;
                                          a SOCKS or malformed one is an error

OUTPUTS (GitHub Actions, GITHUB_OUTPUT, in every outcome):
    passed, result (passed | not-passed | timed-out | error | cancelled | dry-run), status, check-flag, progress,
    error-code, error-message, request-id, polls, elapsed-seconds, failed-steps, warning-steps, skipped-steps,
    jobs (JSON, one object per job), migration-started
    Also ::error/::warning annotations and a job summary (GITHUB_STEP_SUMMARY).

EXIT CODES:
    0  the check finished and passed (Status finished, CheckFlag 1)
    1  the check finished and did not pass (CheckFlag 0 not passed, 3 not checked; checkNotPass;
       or the 2021 check task failed)
    2  invalid configuration, or a dry run asked for through DTS_DRY_RUN; nothing was sent
    3  service or transport error (permanent API error, no valid answer before the deadline, an
       endpoint never reached for a minute, a created check that never appeared, or a migration
       start that failed)
    4  timed out while the check was still running
    130, 143  cancelled by SIGINT, SIGTERM (outputs and reports are still written)
    With several jobs, the most severe: cancelled over 3 over 4 over 1 over 0.
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
        let gate = |demo, dry_run| {
            Ok(Command::Gate {
                demo,
                dry_run,
                stage: None,
            })
        };
        assert_eq!(parse(&[]), gate(None, false));
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert_eq!(parse(&["--demo", "--version"]), Ok(Command::Version));
        assert_eq!(parse(&["--demo"]), gate(Some(DemoMode::Pass), false));
        assert_eq!(parse(&["--demo=fail"]), gate(Some(DemoMode::Fail), false));
        assert_eq!(parse(&["--dry-run"]), gate(None, true));
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

    #[test]
    fn the_first_argument_may_name_the_stage() {
        let staged = |stage| {
            Ok(Command::Gate {
                demo: None,
                dry_run: true,
                stage: Some(stage),
            })
        };
        assert_eq!(parse(&["ready", "--dry-run"]), staged(Stage::Ready));
        assert_eq!(parse(&["complete", "--dry-run"]), staged(Stage::Complete));
        assert_eq!(parse(&["check", "--dry-run"]), staged(Stage::Check));
        assert_eq!(parse(&["compare", "--dry-run"]), staged(Stage::Compare));
        let unknown = parse(&["cutover"]).unwrap_err();
        assert!(unknown.contains("unknown stage \"cutover\""), "{unknown}");
        // Only the first argument names a stage.
        assert!(parse(&["--dry-run", "ready"]).is_err());
    }
}
