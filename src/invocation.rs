//! The whole invocation, read once from the arguments and the environment: what to do (the
//! mode), where to report, and how the user configures the gate. Pure: `main` passes the
//! process's arguments and variables in, tests pass their own.
//!
//! Precedence, in one place: `--help`/`--version` win over everything; an unknown argument is
//! a configuration error; a demo (`--demo[=mode]` over `DTS_DEMO`) needs no credentials and
//! refuses to run while a real job is configured; a dry run (`--dry-run` or
//! `DTS_DRY_RUN=true`) validates like a real run and sends nothing; the two exclude each other.

use crate::api::ApiVersion;
use crate::cli::{self, Command};
use crate::config::{Config, ConfigError, DemoMode, DemoSettings, GithubRunner, ReportFiles, Vars};
use crate::demo::{DEMO_POLL_INTERVAL, DEMO_TIMEOUT};
use crate::hints::{Setting, Surface};
use crate::stage::Stage;

/// What this run of the binary is asked to do.
#[derive(Debug)]
pub enum Mode {
    Help,
    Version,
    /// Wait for the checks of a real job (and create or start, as configured).
    Gate(Config),
    /// Validate and print the calls a gate run would make; send nothing. `from_command_line`:
    /// `--dry-run` was given (else `DTS_DRY_RUN` asked for it).
    DryRun {
        config: Config,
        from_command_line: bool,
    },
    /// Run the gate against the built-in simulator.
    Demo(DemoMode, DemoSettings),
    /// The invocation is invalid: report every problem, send nothing.
    Invalid(Vec<ConfigError>),
}

/// One invocation of the binary.
#[derive(Debug)]
pub struct Invocation {
    pub mode: Mode,
    /// `Some` only on GitHub Actions: the only place workflow commands and runner files are
    /// written.
    pub github: Option<GithubRunner>,
    /// The report files to write, whatever the mode (a configuration error too).
    pub reports: ReportFiles,
    pub surface: Surface,
}

/// Reads the invocation from the arguments after the program name and the environment.
pub fn read(args: &[String], vars: Vec<(String, String)>) -> Invocation {
    let vars = match Vars::read(vars) {
        Ok(vars) => vars,
        Err(error) => {
            return Invocation {
                mode: Mode::Invalid(vec![error]),
                github: None,
                reports: ReportFiles::default(),
                surface: Surface::default(),
            };
        }
    };
    Invocation {
        mode: mode(cli::parse_args(args), &vars),
        github: vars.github_runner(),
        reports: vars.report_files(),
        surface: vars.surface(),
    }
}

fn mode(command: Result<Command, String>, vars: &Vars) -> Mode {
    let stage_arg;
    let (demo_flag, dry_run_flag) = match command {
        Ok(Command::Help) => return Mode::Help,
        Ok(Command::Version) => return Mode::Version,
        Ok(Command::Gate {
            demo,
            dry_run,
            stage,
        }) => {
            stage_arg = stage;
            (demo, dry_run)
        }
        Err(problem) => {
            return Mode::Invalid(vec![ConfigError {
                variable: "command line",
                problem,
            }]);
        }
    };
    // The first argument wins over `DTS_STAGE`, whose value is then not even checked.
    let stage = match stage_arg {
        Some(stage) => stage,
        None => match vars.stage() {
            Ok(stage) => stage.unwrap_or_default(),
            Err(error) => return Mode::Invalid(vec![error]),
        },
    };
    let demo = match vars.demo_mode() {
        Ok(from_var) => demo_flag.or(from_var),
        Err(error) => return Mode::Invalid(vec![error]),
    };
    // `--dry-run` makes the variable irrelevant, so its value is not even checked.
    let dry_run = match dry_run_flag {
        true => true,
        false => match vars.dry_run() {
            Ok(dry_run) => dry_run,
            Err(error) => return Mode::Invalid(vec![error]),
        },
    };
    if let Some(demo) = demo {
        if dry_run {
            return Mode::Invalid(vec![ConfigError {
                variable: if dry_run_flag { "--dry-run" } else { "DTS_DRY_RUN" },
                problem: "a dry run plans the requests to a real job, and a demo plays a simulated one; ask for one of them".to_string(),
            }]);
        }
        let real = vars.real_job_variables();
        if !real.is_empty() {
            return Mode::Invalid(vec![ConfigError {
                variable: if demo_flag.is_some() {
                    "--demo"
                } else {
                    "DTS_DEMO"
                },
                problem: format!(
                    "a demo plays a simulated check, but {} {} set for a real job; unset {} to run the demo, or drop the demo to gate the job",
                    real.join(", "),
                    if real.len() == 1 { "is" } else { "are" },
                    if real.len() == 1 { "it" } else { "them" },
                ),
            }]);
        }
        return match vars.demo_settings(DEMO_TIMEOUT, DEMO_POLL_INTERVAL) {
            Ok(mut settings) => match stage_api(settings.api_version, stage, vars) {
                Ok(api_version) => {
                    settings.stage = stage;
                    settings.api_version = api_version;
                    Mode::Demo(demo, settings)
                }
                Err(errors) => Mode::Invalid(errors),
            },
            Err(errors) => Mode::Invalid(errors),
        };
    }
    match vars.config().and_then(|config| staged(config, stage, vars)) {
        Ok(config) if dry_run => Mode::DryRun {
            config,
            from_command_line: dry_run_flag,
        },
        Ok(config) => Mode::Gate(config),
        Err(errors) => Mode::Invalid(errors),
    }
}

fn staged(mut config: Config, stage: Stage, vars: &Vars) -> Result<Config, Vec<ConfigError>> {
    config.api_version = stage_api(config.api_version, stage, vars)?;
    config.stage = stage;
    Ok(config)
}

/// The API `stage` runs on, for a gate or a demo configured for `api`. The later stages exist
/// only in API 2021-12-06: unset means 2021-12-06 for them, and an explicit 2018-03-30 is a
/// configuration error; the check stage keeps its own default. Sync jobs keep their API, for
/// the stages they have.
fn stage_api(api: ApiVersion, stage: Stage, vars: &Vars) -> Result<ApiVersion, Vec<ConfigError>> {
    if api == ApiVersion::Sync {
        sync_stage(stage, vars)?;
        return Ok(api);
    }
    if stage == Stage::Check {
        return Ok(api);
    }
    later_stage_api(stage, vars)?;
    Ok(ApiVersion::V2021)
}

/// A sync job has a check and a `ready` stage; it keeps running, so there is no completion
/// to gate, and the compare stage is the migrations' own.
fn sync_stage(stage: Stage, vars: &Vars) -> Result<(), Vec<ConfigError>> {
    match stage {
        Stage::Check | Stage::Ready => Ok(()),
        Stage::Compare | Stage::Complete => Err(vec![ConfigError {
            variable: "DTS_STAGE",
            problem: format!(
                "the {} stage is for migration jobs, but the jobs are sync jobs, which keep running (no completion, no compare task); gate a sync job's check or ready stage, or set {} for migration jobs",
                stage.as_str(),
                vars.surface().assignment(Setting::JobKind, "migration")
            ),
        }]),
    }
}

fn later_stage_api(stage: Stage, vars: &Vars) -> Result<(), Vec<ConfigError>> {
    if vars.api_version_set() == Some(ApiVersion::V2018) {
        return Err(vec![ConfigError {
            variable: "DTS_API_VERSION",
            problem: format!(
                "the {} stage exists only in API 2021-12-06 (DescribeMigrationDetail), but 2018-03-30 is set; unset {} or set it to 2021-12-06",
                stage.as_str(),
                vars.surface().name(Setting::ApiVersion)
            ),
        }]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const GATE: &[(&str, &str)] = &[
        ("DTS_JOB_ID", "dts-1kl0iy0v"),
        ("TENCENTCLOUD_SECRET_ID", "AKIDtest"),
        ("TENCENTCLOUD_SECRET_KEY", "secretkey"),
        ("TENCENTCLOUD_REGION", "ap-guangzhou"),
    ];

    /// The gate's variables, with `extra` set over them.
    fn with(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut all = vars(GATE);
        all.retain(|(name, _)| !extra.iter().any(|(set, _)| set == name));
        all.extend(vars(extra));
        all
    }

    fn mode_of(args: &[&str], vars: Vec<(String, String)>) -> Mode {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        read(&args, vars).mode
    }

    fn invalid_variables(mode: Mode) -> Vec<&'static str> {
        match mode {
            Mode::Invalid(errors) => errors.iter().map(|e| e.variable).collect(),
            other => panic!("expected an invalid invocation, got {other:?}"),
        }
    }

    #[test]
    fn help_and_version_win_over_everything() {
        let broken = vars(&[("DTS_DEMO", "maybe"), ("DTS_TIMEOUT", "never")]);
        assert!(matches!(mode_of(&["--help"], broken.clone()), Mode::Help));
        assert!(matches!(mode_of(&["--demo", "-V"], broken), Mode::Version));
    }

    #[test]
    fn an_unknown_argument_is_a_configuration_error() {
        assert_eq!(
            invalid_variables(mode_of(&["--job", "dts-x"], with(&[]))),
            ["command line"]
        );
    }

    #[test]
    fn the_environment_alone_gates_a_job() {
        let Mode::Gate(config) = mode_of(&[], with(&[])) else {
            panic!("expected a gate run");
        };
        assert_eq!(config.job_ids, ["dts-1kl0iy0v"]);
        assert_eq!(config.timeout, Duration::from_secs(30 * 60));
    }

    #[test]
    fn a_dry_run_comes_from_the_flag_or_the_variable() {
        assert!(matches!(
            mode_of(&["--dry-run"], with(&[])),
            Mode::DryRun { .. }
        ));
        let variable = with(&[("DTS_DRY_RUN", "true")]);
        assert!(matches!(mode_of(&[], variable), Mode::DryRun { .. }));
        let off = with(&[("DTS_DRY_RUN", "false")]);
        assert!(matches!(mode_of(&[], off), Mode::Gate(_)));
        // The flag makes the variable irrelevant; without the flag a bad value is an error.
        let bad = with(&[("DTS_DRY_RUN", "perhaps")]);
        assert!(matches!(
            mode_of(&["--dry-run"], bad.clone()),
            Mode::DryRun { .. }
        ));
        assert_eq!(invalid_variables(mode_of(&[], bad)), ["DTS_DRY_RUN"]);
    }

    #[test]
    fn a_dry_run_validates_like_a_real_run() {
        let errors = invalid_variables(mode_of(&["--dry-run"], vars(&[])));
        assert!(errors.contains(&"DTS_JOB_ID"), "{errors:?}");
    }

    #[test]
    fn the_demo_flag_wins_over_the_variable() {
        let fail = vars(&[("DTS_DEMO", "fail")]);
        assert!(matches!(
            mode_of(&["--demo"], fail.clone()),
            Mode::Demo(DemoMode::Pass, _)
        ));
        assert!(matches!(mode_of(&[], fail), Mode::Demo(DemoMode::Fail, _)));
        // A demo and a dry run exclude each other: neither is silently dropped.
        assert_eq!(
            invalid_variables(mode_of(&["--demo=fail", "--dry-run"], vars(&[]))),
            ["--dry-run"]
        );
        let inherited = vars(&[("DTS_DRY_RUN", "true")]);
        assert_eq!(
            invalid_variables(mode_of(&["--demo"], inherited)),
            ["DTS_DRY_RUN"]
        );
        // An invalid variable is reported even when the flag decides.
        let bad = vars(&[("DTS_DEMO", "maybe")]);
        assert_eq!(invalid_variables(mode_of(&["--demo"], bad)), ["DTS_DEMO"]);
    }

    #[test]
    fn a_demo_never_runs_in_place_of_a_configured_job() {
        let errors = |args: &[&str], vars: Vec<(String, String)>| match mode_of(args, vars) {
            Mode::Invalid(errors) => errors,
            other => panic!("expected a refusal, got {other:?}"),
        };
        let inherited = errors(&[], with(&[("DTS_DEMO", "pass")]));
        assert_eq!(inherited.len(), 1);
        assert_eq!(inherited[0].variable, "DTS_DEMO");
        assert!(
            inherited[0].problem.contains(
                "DTS_JOB_ID, TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY are set for a real job"
            ),
            "{}",
            inherited[0]
        );
        let keys_only = vars(&[("TENCENTCLOUD_SECRET_ID", "AKIDx")]);
        let flag = errors(&["--demo"], keys_only);
        assert_eq!(flag[0].variable, "--demo");
        assert!(
            flag[0].problem.contains("TENCENTCLOUD_SECRET_ID is set"),
            "{}",
            flag[0]
        );
        // Empty values are unset, as everywhere.
        assert!(matches!(
            mode_of(&["--demo"], vars(&[("DTS_JOB_ID", " ")])),
            Mode::Demo(..)
        ));
    }

    #[test]
    fn a_demo_needs_no_credentials_and_has_its_own_timing() {
        let Mode::Demo(_, settings) = mode_of(&["--demo"], vars(&[])) else {
            panic!("expected a demo");
        };
        assert_eq!(
            settings,
            DemoSettings {
                timeout: DEMO_TIMEOUT,
                poll_interval: DEMO_POLL_INTERVAL,
                api_version: ApiVersion::V2018,
                stage: Stage::Check,
            }
        );
        let tuned = vars(&[
            ("DTS_TIMEOUT", "5s"),
            ("DTS_POLL_INTERVAL", "100ms"),
            ("DTS_API_VERSION", "2021-12-06"),
        ]);
        let Mode::Demo(_, settings) = mode_of(&["--demo"], tuned) else {
            panic!("expected a demo");
        };
        assert_eq!(settings.timeout, Duration::from_secs(5));
        assert_eq!(settings.poll_interval, Duration::from_millis(100));
        assert_eq!(settings.api_version, ApiVersion::V2021);
        // The same reader as a real run: the same errors for the same values.
        let bad = vars(&[("DTS_TIMEOUT", "soon"), ("DTS_POLL_INTERVAL", "10ms")]);
        assert_eq!(
            invalid_variables(mode_of(&["--demo"], bad.clone())),
            ["DTS_TIMEOUT", "DTS_POLL_INTERVAL"]
        );
        let gate_errors = invalid_variables(mode_of(&[], bad));
        assert!(gate_errors.contains(&"DTS_TIMEOUT") && gate_errors.contains(&"DTS_POLL_INTERVAL"));
    }

    #[test]
    fn output_targets_are_read_whatever_the_mode() {
        let runner = vars(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", "/o"),
            ("GITHUB_STEP_SUMMARY", "/s"),
            ("DTS_REPORT_JSON", "r.json"),
            ("DTS_JOB_ID", "not-a-job"),
        ]);
        let invocation = read(&[], runner);
        assert!(matches!(invocation.mode, Mode::Invalid(_)));
        assert_eq!(
            invocation.github,
            Some(GithubRunner {
                output_file: Some("/o".into()),
                summary_file: Some("/s".into()),
            })
        );
        assert_eq!(invocation.reports.json.as_deref(), Some("r.json"));
        // Anything but exactly `true` is not GitHub.
        let elsewhere = read(
            &[],
            vars(&[("GITHUB_ACTIONS", "1"), ("GITHUB_OUTPUT", "/o")]),
        );
        assert_eq!(elsewhere.github, None);
    }

    #[test]
    fn the_action_says_it_is_the_action() {
        assert_eq!(read(&[], vars(&[])).surface, Surface::CommandLine);
        let action = vars(&[("DTS_GATE_SURFACE", "action")]);
        assert_eq!(read(&[], action).surface, Surface::Action);
    }

    fn stage_of(args: &[&str], vars: Vec<(String, String)>) -> (Stage, ApiVersion) {
        match mode_of(args, vars) {
            Mode::Gate(config) | Mode::DryRun { config, .. } => (config.stage, config.api_version),
            other => panic!("expected a gate run, got {other:?}"),
        }
    }

    #[test]
    fn the_stage_comes_from_the_first_argument_then_the_variable_then_check() {
        assert_eq!(stage_of(&[], with(&[])), (Stage::Check, ApiVersion::V2018));
        assert_eq!(
            stage_of(&["ready"], with(&[])),
            (Stage::Ready, ApiVersion::V2021)
        );
        let variable = with(&[("DTS_STAGE", "complete")]);
        assert_eq!(
            stage_of(&[], variable.clone()),
            (Stage::Complete, ApiVersion::V2021)
        );
        // The argument wins, and makes the variable irrelevant.
        assert_eq!(stage_of(&["check"], variable).0, Stage::Check);
        assert_eq!(
            stage_of(&[], with(&[("DTS_STAGE", "compare")])),
            (Stage::Compare, ApiVersion::V2021)
        );
        let bad = with(&[("DTS_STAGE", "verify")]);
        assert_eq!(stage_of(&["ready"], bad.clone()).0, Stage::Ready);
        assert_eq!(invalid_variables(mode_of(&[], bad)), ["DTS_STAGE"]);
        assert_eq!(
            invalid_variables(mode_of(&["cutover"], with(&[]))),
            ["command line"]
        );
        // Empty is unset.
        assert_eq!(stage_of(&[], with(&[("DTS_STAGE", "")])).0, Stage::Check);
    }

    #[test]
    fn sync_jobs_have_a_check_and_a_ready_stage_only() {
        let sync = with(&[("DTS_JOB_ID", "sync-werwfs23")]);
        assert_eq!(
            stage_of(&[], sync.clone()),
            (Stage::Check, ApiVersion::Sync)
        );
        assert_eq!(
            stage_of(&["ready"], sync.clone()),
            (Stage::Ready, ApiVersion::Sync)
        );
        for stage in ["compare", "complete"] {
            assert_eq!(
                invalid_variables(mode_of(&[stage], sync.clone())),
                ["DTS_STAGE"],
                "{stage}"
            );
        }
        // The demo plays a sync job when asked for one, and only its stages.
        let kind = vars(&[("DTS_JOB_KIND", "sync")]);
        for (args, stage) in [
            (&["--demo"][..], Stage::Check),
            (&["ready", "--demo"][..], Stage::Ready),
        ] {
            let Mode::Demo(_, settings) = mode_of(args, kind.clone()) else {
                panic!("expected a demo");
            };
            assert_eq!(
                (settings.stage, settings.api_version),
                (stage, ApiVersion::Sync)
            );
        }
        assert_eq!(
            invalid_variables(mode_of(&["complete", "--demo"], kind)),
            ["DTS_STAGE"]
        );
        assert_eq!(
            invalid_variables(mode_of(&["--demo"], vars(&[("DTS_JOB_KIND", "both")]))),
            ["DTS_JOB_KIND"]
        );
    }

    #[test]
    fn the_later_stages_need_the_2021_api() {
        let old = with(&[("DTS_API_VERSION", "2018-03-30")]);
        assert_eq!(
            invalid_variables(mode_of(&["ready"], old.clone())),
            ["DTS_API_VERSION"]
        );
        assert_eq!(
            invalid_variables(mode_of(&["complete", "--dry-run"], old.clone())),
            ["DTS_API_VERSION"]
        );
        assert_eq!(stage_of(&["check"], old), (Stage::Check, ApiVersion::V2018));
        let new = with(&[("DTS_API_VERSION", "2021-12-06")]);
        assert_eq!(stage_of(&["ready"], new).1, ApiVersion::V2021);
        // The demo plays the later stages too, in 2021-12-06.
        let Mode::Demo(_, settings) = mode_of(&["ready", "--demo"], vars(&[])) else {
            panic!("expected a demo");
        };
        assert_eq!(
            (settings.stage, settings.api_version),
            (Stage::Ready, ApiVersion::V2021)
        );
        let old_demo = vars(&[("DTS_API_VERSION", "2018-03-30")]);
        assert_eq!(
            invalid_variables(mode_of(&["complete", "--demo"], old_demo)),
            ["DTS_API_VERSION"]
        );
    }

    #[test]
    fn lag_and_completion_settings_are_validated() {
        let Mode::Gate(config) = mode_of(
            &["ready"],
            with(&[
                ("DTS_MAX_LAG", "30s"),
                ("DTS_MAX_LAG_MB", "5"),
                ("DTS_LAG_SETTLE", "0"),
                ("DTS_COMPLETE_MODE", "immediately"),
            ]),
        ) else {
            panic!("expected a gate run");
        };
        assert_eq!(config.lag.max_seconds, Some(30));
        assert_eq!(config.lag.max_mb, Some(5));
        assert_eq!(config.lag.settle, Duration::ZERO);
        assert_eq!(
            config.complete_mode,
            crate::stage::CompleteMode::Immediately
        );
        let Mode::Gate(defaults) = mode_of(&["ready"], with(&[])) else {
            panic!("expected a gate run");
        };
        assert!(!defaults.lag.is_set());
        assert_eq!(defaults.lag.settle, crate::stage::DEFAULT_LAG_SETTLE);
        assert_eq!(
            defaults.complete_mode,
            crate::stage::CompleteMode::WaitForSync
        );
        let bad = with(&[
            ("DTS_MAX_LAG", "soon"),
            ("DTS_MAX_LAG_MB", "-1"),
            ("DTS_LAG_SETTLE", "1ms"),
            ("DTS_COMPLETE_MODE", "now"),
        ]);
        assert_eq!(
            invalid_variables(mode_of(&["ready"], bad)),
            [
                "DTS_MAX_LAG",
                "DTS_MAX_LAG_MB",
                "DTS_LAG_SETTLE",
                "DTS_COMPLETE_MODE"
            ]
        );
    }

    #[test]
    fn compare_settings_are_validated_and_default_to_a_full_data_check() {
        use crate::stage::CompareMethod;
        let Mode::Gate(config) = mode_of(
            &["compare"],
            with(&[
                ("DTS_COMPARE_TASK_ID", "dts-8yv4w2i1-cmp-37skmii9"),
                ("DTS_COMPARE_METHOD", "sampleDataCheck"),
                ("DTS_COMPARE_SAMPLE_RATE", "10"),
                ("DTS_COMPARE_THREADS", "8"),
                ("DTS_FAIL_ON_SKIPPED_TABLES", "true"),
            ]),
        ) else {
            panic!("expected a gate run");
        };
        let compare = &config.compare;
        assert_eq!(
            compare.task_id.as_deref(),
            Some("dts-8yv4w2i1-cmp-37skmii9")
        );
        assert_eq!(compare.method, CompareMethod::SampleDataCheck);
        assert_eq!((compare.sample_rate, compare.threads), (Some(10), Some(8)));
        assert!(compare.fail_on_skipped);
        let Mode::Gate(defaults) = mode_of(&["compare"], with(&[])) else {
            panic!("expected a gate run");
        };
        assert_eq!(defaults.compare, crate::stage::CompareSettings::default());
        assert_eq!(defaults.compare.method, CompareMethod::DataCheck);
        let bad = with(&[
            ("DTS_COMPARE_TASK_ID", "cmp 1"),
            ("DTS_COMPARE_METHOD", "checksum"),
            ("DTS_COMPARE_SAMPLE_RATE", "0"),
            ("DTS_COMPARE_THREADS", "9"),
            ("DTS_FAIL_ON_SKIPPED_TABLES", "yes"),
        ]);
        assert_eq!(
            invalid_variables(mode_of(&["compare"], bad)),
            [
                "DTS_COMPARE_TASK_ID",
                "DTS_COMPARE_METHOD",
                "DTS_COMPARE_SAMPLE_RATE",
                "DTS_COMPARE_THREADS",
                "DTS_FAIL_ON_SKIPPED_TABLES"
            ]
        );
        // A task belongs to one job.
        let mut several: Vec<(String, String)> = vars(GATE)
            .into_iter()
            .filter(|(k, _)| k != "DTS_JOB_ID")
            .collect();
        several.extend(vars(&[
            ("DTS_JOB_ID", "dts-aaa1,dts-bbb2"),
            ("DTS_COMPARE_TASK_ID", "dts-aaa1-cmp-1"),
        ]));
        assert_eq!(
            invalid_variables(mode_of(&["compare"], several)),
            ["DTS_COMPARE_TASK_ID"]
        );
    }
}
