//! Configuration from environment variables: parse with envy into strings, then validate into
//! types. Every problem is collected (not just the first) and named by its variable, so one red
//! run tells the user everything to fix. Nothing here reads the process environment itself: the
//! caller passes the variables in, which keeps tests free of global state.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use crate::api::{
    ApiVersion, Client, Credentials, DOMAIN, Endpoint, INTL_DOMAIN, JobKind, Language, Target,
};
use crate::credentials::transport::{RealFiles, UreqHttp};
use crate::credentials::{self, CredentialVars, Files, Keyring, Source};
use crate::duration;
use crate::hints::{Setting, Surface};
use crate::pace;
use crate::proxy::{self, ProxyVars};
use crate::regions;
use crate::stage::{
    CompareMethod, CompareSettings, CompleteMode, DEFAULT_LAG_SETTLE, LagLimit, Stage,
};
use crate::tls::ExtraRoots;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);
const DEFAULT_CREATE_GRACE: Duration = Duration::from_secs(30);
/// Longer than any CI job may run (GitHub's self-hosted limit is 5 days); the bounds keep
/// every later time computation far from overflow.
const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(3600);
const MAX_CREATE_GRACE: Duration = Duration::from_secs(3600);
/// Each round polls every job; past this many, a round would take longer than any sane
/// poll interval at the paced request rate.
pub const MAX_JOBS: usize = 100;

/// Every variable the gate reads, as it arrives: all optional strings, empty meaning unset.
/// Read once; each part of the invocation is validated from it.
#[derive(Deserialize, Default)]
pub struct Vars {
    dts_job_id: Option<String>,
    tencentcloud_secret_id: Option<String>,
    tencentcloud_secret_key: Option<String>,
    tencentcloud_token: Option<String>,
    tencentcloud_security_token: Option<String>,
    tencentcloud_session_token: Option<String>,
    tencentcloud_role_arn: Option<String>,
    tencentcloud_role_session_name: Option<String>,
    tencentcloud_role_duration: Option<String>,
    tencentcloud_oidc_provider_id: Option<String>,
    tencentcloud_oidc_audience: Option<String>,
    tencentcloud_web_identity_token_file: Option<String>,
    actions_id_token_request_url: Option<String>,
    actions_id_token_request_token: Option<String>,
    tke_provider_id: Option<String>,
    tke_web_identity_token_file: Option<String>,
    tke_role_arn: Option<String>,
    tke_region: Option<String>,
    tencentcloud_credentials_file: Option<String>,
    tccli_profile: Option<String>,
    home: Option<String>,
    tencentcloud_sts_endpoint: Option<String>,
    tencentcloud_metadata_endpoint: Option<String>,
    /// `tencentcloudapi.com` or `intl.tencentcloudapi.com` (the Terraform provider's name).
    tencentcloud_domain: Option<String>,
    github_repository: Option<String>,
    github_run_id: Option<String>,
    ci_project_path: Option<String>,
    ci_pipeline_id: Option<String>,
    tencentcloud_region: Option<String>,
    dts_timeout: Option<String>,
    dts_poll_interval: Option<String>,
    dts_endpoint: Option<String>,
    dts_language: Option<String>,
    dts_api_version: Option<String>,
    dts_create_check: Option<String>,
    dts_create_grace: Option<String>,
    dts_start_migration: Option<String>,
    dts_start_sync: Option<String>,
    dts_job_kind: Option<String>,
    dts_fail_fast: Option<String>,
    dts_fail_on_warning: Option<String>,
    dts_max_request_rate: Option<String>,
    dts_dry_run: Option<String>,
    dts_demo: Option<String>,
    dts_report_json: Option<String>,
    dts_report_junit: Option<String>,
    dts_report_dotenv: Option<String>,
    dts_stage: Option<String>,
    dts_max_lag: Option<String>,
    dts_max_lag_mb: Option<String>,
    dts_lag_settle: Option<String>,
    dts_complete_mode: Option<String>,
    dts_compare_task_id: Option<String>,
    dts_compare_method: Option<String>,
    dts_compare_sample_rate: Option<String>,
    dts_compare_threads: Option<String>,
    dts_fail_on_skipped_tables: Option<String>,
    ssl_cert_file: Option<String>,
    /// Set by the GitHub Action (`action.yml`) so messages name its inputs.
    dts_gate_surface: Option<String>,
    github_actions: Option<String>,
    github_output: Option<String>,
    github_step_summary: Option<String>,
    hostname: Option<String>,
    /// Read apart (upper and lower case are both in use, and both may be set).
    #[serde(skip)]
    proxies: ProxyVars,
}

/// One invalid or missing variable, rendered as one actionable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The variable to fix.
    pub variable: &'static str,
    /// What is wrong and what is expected, in words a person can act on.
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.variable, self.problem)
    }
}

/// A validated configuration: every field is usable as is.
#[derive(Debug, Clone)]
pub struct Config {
    /// One or more job ids, duplicates removed, in the order given.
    pub job_ids: Vec<String>,
    /// Where the credentials come from (`credentials::choose`); fetched when the run starts.
    pub credentials: Source,
    pub region: String,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub endpoint: Endpoint,
    pub language: Language,
    /// The check API: a migration API version, or [`ApiVersion::Sync`] for sync jobs
    /// (`DTS_JOB_KIND`, else the ids).
    pub api_version: ApiVersion,
    /// Run `CreateMigrateCheckJob` (`CreateCheckSyncJob`) for each job first, and accept only
    /// that check's result.
    pub create_check: bool,
    /// How long after a create an answer identical to the previous result is still stale.
    pub create_grace: Duration,
    /// Start each job (`StartMigrateJob`, `StartSyncJob`) once every job passed:
    /// `DTS_START_MIGRATION` for migrations, `DTS_START_SYNC` for sync jobs.
    pub start_jobs: bool,
    /// Stop waiting for the other jobs once one cannot pass (`DTS_FAIL_FAST`, default true).
    pub fail_fast: bool,
    /// A check that passed with warnings does not pass (`DTS_FAIL_ON_WARNING`).
    pub fail_on_warning: bool,
    /// Requests per second this gate may send (`DTS_MAX_REQUEST_RATE`), fewer while throttled.
    pub max_request_rate: f64,
    /// CA certificates from `SSL_CERT_FILE`, trusted besides the Mozilla roots.
    pub extra_roots: Option<ExtraRoots>,
    /// Settings that are valid but probably not what the user meant, one line each, shown
    /// before the first request.
    pub warnings: Vec<String>,
    /// How the user configures the gate: messages name settings the way the user sets them.
    pub surface: Surface,
    /// The proxy requests go through, `None` for a direct connection.
    pub proxy: Option<proxy::Chosen>,
    /// The proxy for STS and the OIDC token endpoint (chosen for the STS host).
    pub credential_proxy: Option<proxy::Chosen>,
    /// The stage gated (the invocation decides it: the argument, else `DTS_STAGE`).
    pub stage: Stage,
    /// `DTS_MAX_LAG`, `DTS_MAX_LAG_MB`, `DTS_LAG_SETTLE`: the `ready` and `complete` stages.
    pub lag: LagLimit,
    /// `DTS_COMPLETE_MODE`: the `complete` stage.
    pub complete_mode: CompleteMode,
    /// `DTS_COMPARE_*`, `DTS_FAIL_ON_SKIPPED_TABLES`: the `compare` stage.
    pub compare: CompareSettings,
}

impl Config {
    /// Who the requests are from and where they go. Credentials that must be fetched first are
    /// blank here: the [`Keyring`] supplies them per request.
    pub fn target(&self) -> Target {
        let blank = Credentials {
            secret_id: String::new(),
            secret_key: String::new(),
            token: None,
        };
        Target {
            endpoint: self.endpoint.clone(),
            credentials: self.credentials.static_keys().cloned().unwrap_or(blank),
            region: self.region.clone(),
            language: self.language,
        }
    }

    /// The keyring that fetches (and refreshes) this configuration's credentials, over the
    /// network and file system.
    pub fn keyring(&self) -> Keyring {
        let http = UreqHttp::new(
            self.extra_roots.as_ref().map(ExtraRoots::tls_config),
            self.credential_proxy
                .as_ref()
                .and_then(|p| ureq::Proxy::new(&p.url).ok()),
        );
        Keyring::new(
            self.credentials.clone(),
            Box::new(http),
            Box::new(RealFiles),
        )
    }

    /// The DTS client this configuration asks for.
    pub fn client(&self) -> Client {
        Client::new(
            self.target(),
            self.extra_roots.as_ref().map(ExtraRoots::tls_config),
            self.proxy
                .as_ref()
                .and_then(|p| ureq::Proxy::new(&p.url).ok()),
        )
    }

    /// Reads and validates the configuration of a real gate run from `vars`.
    pub fn from_vars<I>(vars: I) -> Result<Config, Vec<ConfigError>>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        Vars::read(vars).map_err(|e| vec![e])?.config()
    }
}

/// Where the runner wants results. `None` outside GitHub Actions: then no workflow commands
/// and no files are written at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GithubRunner {
    pub output_file: Option<String>,
    pub summary_file: Option<String>,
}

/// Where to write the reports for other CI systems; `None` for each one not asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFiles {
    pub json: Option<String>,
    pub junit: Option<String>,
    pub dotenv: Option<String>,
    /// `HOSTNAME`, for the JUnit `hostname` attribute (shells and Docker set it).
    pub hostname: Option<String>,
}

/// How `--demo`/`DTS_DEMO` asks the simulated endpoint to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoMode {
    Pass,
    Fail,
}

/// Parses a demo mode as written after `--demo=` or in `DTS_DEMO` (`pass`, `fail`).
pub fn parse_demo_mode(text: &str) -> Option<DemoMode> {
    match text.trim() {
        "pass" => Some(DemoMode::Pass),
        "fail" => Some(DemoMode::Fail),
        _ => None,
    }
}

/// What a demo run may be told: how fast to poll, how long to wait, which API to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSettings {
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub api_version: ApiVersion,
    /// The stage the demo plays (the invocation decides it, as for a real run).
    pub stage: Stage,
}

impl Vars {
    /// Takes the variables this tool knows from `vars`; all others are ignored.
    pub fn read<I>(vars: I) -> Result<Vars, ConfigError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        // All fields are optional strings, so envy cannot fail on content; a failure here
        // would be a bug in this table, and is reported rather than hidden.
        let mut read: Vars = envy::from_iter(vars.iter().cloned()).map_err(|e| ConfigError {
            variable: "environment",
            problem: format!("could not be read ({e}); please report this as a bug"),
        })?;
        read.proxies = ProxyVars::from_vars(&vars);
        Ok(read)
    }

    /// The runner's files. GitHub mode needs `GITHUB_ACTIONS=true` exactly.
    pub fn github_runner(&self) -> Option<GithubRunner> {
        if self.github_actions.as_deref() != Some("true") {
            return None;
        }
        Some(GithubRunner {
            output_file: non_empty(self.github_output.clone()),
            summary_file: non_empty(self.github_step_summary.clone()),
        })
    }

    /// `DTS_REPORT_JSON`, `DTS_REPORT_JUNIT` and `DTS_REPORT_DOTENV` (paths; empty means no
    /// report). Never fails, so a report is written even when the rest is invalid; a path that
    /// cannot be written is a warning when the gate ends.
    pub fn report_files(&self) -> ReportFiles {
        ReportFiles {
            json: non_empty(self.dts_report_json.clone()),
            junit: non_empty(self.dts_report_junit.clone()),
            dotenv: non_empty(self.dts_report_dotenv.clone()),
            hostname: non_empty(self.hostname.clone()).map(|h| h.trim().to_string()),
        }
    }

    /// Whether the gate runs as the GitHub Action (`DTS_GATE_SURFACE=action`, set by
    /// `action.yml`), so that hints name the action's inputs.
    pub fn surface(&self) -> Surface {
        match self.dts_gate_surface.as_deref().map(str::trim) {
            Some("action") => Surface::Action,
            _ => Surface::CommandLine,
        }
    }

    /// `DTS_STAGE`: unset or empty means none was asked for.
    pub fn stage(&self) -> Result<Option<Stage>, ConfigError> {
        match non_empty(self.dts_stage.clone()) {
            None => Ok(None),
            Some(text) => Stage::parse(text.trim())
                .map(Some)
                .ok_or_else(|| ConfigError {
                    variable: "DTS_STAGE",
                    problem: format!("got {}; expected {}", quote(&text), Stage::NAMES),
                }),
        }
    }

    /// `DTS_API_VERSION` as set, `None` when unset (the later stages then use 2021-12-06).
    pub fn api_version_set(&self) -> Option<ApiVersion> {
        non_empty(self.dts_api_version.clone()).and_then(|t| ApiVersion::parse(&t))
    }

    fn lag_limit(&self, check: &mut Collector<'_>) -> Option<LagLimit> {
        let max_seconds = match non_empty(self.dts_max_lag.clone()) {
            None => Some(None),
            Some(text) => check
                .keep(lag_duration("DTS_MAX_LAG", &text))
                .map(|d| Some(d.as_secs())),
        };
        let max_mb = match non_empty(self.dts_max_lag_mb.clone()) {
            None => Some(None),
            Some(text) => check
                .keep(text.trim().parse::<u64>().map_err(|_| ConfigError {
                    variable: "DTS_MAX_LAG_MB",
                    problem: format!(
                        "got {}; expected a whole number of megabytes, such as 0 or 100",
                        quote(&text)
                    ),
                }))
                .map(Some),
        };
        let settle = match non_empty(self.dts_lag_settle.clone()) {
            None => Some(DEFAULT_LAG_SETTLE),
            Some(text) => check.keep(lag_duration("DTS_LAG_SETTLE", &text)),
        };
        Some(LagLimit {
            max_seconds: max_seconds?,
            max_mb: max_mb?,
            settle: settle?,
        })
    }

    fn compare_settings(
        &self,
        check: &mut Collector<'_>,
        jobs: Option<&[String]>,
    ) -> Option<CompareSettings> {
        let task_id = match non_empty(self.dts_compare_task_id.clone()) {
            None => Some(None),
            Some(text) => check.keep(compare_task_id(text.trim(), jobs)).map(Some),
        };
        let method = match non_empty(self.dts_compare_method.clone()) {
            None => Some(CompareMethod::default()),
            Some(text) => {
                check.keep(
                    CompareMethod::parse(text.trim()).ok_or_else(|| ConfigError {
                        variable: "DTS_COMPARE_METHOD",
                        problem: format!("got {}; expected {}", quote(&text), CompareMethod::NAMES),
                    }),
                )
            }
        };
        let sample_rate = check.keep(small_number(
            "DTS_COMPARE_SAMPLE_RATE",
            self.dts_compare_sample_rate.clone(),
            100,
            "a percentage of the rows to compare",
        ));
        let threads = check.keep(small_number(
            "DTS_COMPARE_THREADS",
            self.dts_compare_threads.clone(),
            8,
            "the number of threads that compare",
        ));
        let fail_on_skipped = check.keep(boolean(
            "DTS_FAIL_ON_SKIPPED_TABLES",
            self.dts_fail_on_skipped_tables.clone(),
        ));
        Some(CompareSettings {
            task_id: task_id?,
            method: method?,
            sample_rate: sample_rate?,
            threads: threads?,
            fail_on_skipped: fail_on_skipped?,
        })
    }

    /// `DTS_DRY_RUN` (`true`/`false`, empty meaning false).
    pub fn dry_run(&self) -> Result<bool, ConfigError> {
        boolean("DTS_DRY_RUN", self.dts_dry_run.clone())
    }

    /// `DTS_DEMO`: unset or empty means no demo.
    pub fn demo_mode(&self) -> Result<Option<DemoMode>, ConfigError> {
        match self.dts_demo.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => parse_demo_mode(text).map(Some).ok_or_else(|| ConfigError {
                variable: "DTS_DEMO",
                problem: format!(
                    "got {}; expected `pass` or `fail` (or leave it empty to gate a real job)",
                    quote(text)
                ),
            }),
        }
    }

    /// The variables set that belong to a real job: a demo must not run in their place, or a
    /// pipeline configured for a real job would pass on a simulated check.
    pub fn real_job_variables(&self) -> Vec<&'static str> {
        [
            ("DTS_JOB_ID", &self.dts_job_id),
            ("TENCENTCLOUD_SECRET_ID", &self.tencentcloud_secret_id),
            ("TENCENTCLOUD_SECRET_KEY", &self.tencentcloud_secret_key),
            ("TENCENTCLOUD_TOKEN", &self.tencentcloud_token),
            (
                "TENCENTCLOUD_SECURITY_TOKEN",
                &self.tencentcloud_security_token,
            ),
            (
                "TENCENTCLOUD_SESSION_TOKEN",
                &self.tencentcloud_session_token,
            ),
            ("TENCENTCLOUD_ROLE_ARN", &self.tencentcloud_role_arn),
            (
                "TENCENTCLOUD_OIDC_PROVIDER_ID",
                &self.tencentcloud_oidc_provider_id,
            ),
        ]
        .into_iter()
        .filter(|(_, value)| non_empty((*value).clone()).is_some())
        .map(|(name, _)| name)
        .collect()
    }

    /// `DTS_TIMEOUT`, `DTS_POLL_INTERVAL` (with the demo's own defaults) and `DTS_API_VERSION`:
    /// all a demo needs; it has no credentials, job or region.
    pub fn demo_settings(
        &self,
        default_timeout: Duration,
        default_interval: Duration,
    ) -> Result<DemoSettings, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut check = Collector(&mut errors);
        let (timeout, poll_interval) = self.timing(&mut check, default_timeout, default_interval);
        let kind = match non_empty(self.dts_job_kind.clone()) {
            None => Some(JobKind::Migration),
            Some(text) => check.keep(parse_job_kind(&text)),
        };
        let api_version = kind.and_then(|kind| check.keep(self.check_api(kind)));
        let settings = (|| {
            Some(DemoSettings {
                timeout: timeout?,
                poll_interval: poll_interval?,
                api_version: api_version?,
                stage: Stage::Check,
            })
        })();
        check.finish(settings)
    }

    /// The check API of `kind`: `DTS_API_VERSION` for migrations; for sync jobs 2021-12-06,
    /// the only version that has them.
    fn check_api(&self, kind: JobKind) -> Result<ApiVersion, ConfigError> {
        let version = api_version(self.dts_api_version.clone())?;
        match kind {
            JobKind::Migration => Ok(version),
            JobKind::Sync if self.api_version_set() == Some(ApiVersion::V2018) => {
                Err(ConfigError {
                    variable: "DTS_API_VERSION",
                    problem: format!(
                        "sync jobs exist only in API 2021-12-06 (DescribeCheckSyncJobResult), but 2018-03-30 is set; unset {} or set it to 2021-12-06",
                        self.surface().name(Setting::ApiVersion)
                    ),
                })
            }
            JobKind::Sync => Ok(ApiVersion::Sync),
        }
    }

    /// `DTS_START_MIGRATION` starts migrations, `DTS_START_SYNC` sync jobs: asking the one for
    /// the other kind is a mistake, said before anything is sent.
    fn start_jobs(&self, kind: JobKind) -> Result<bool, ConfigError> {
        let migration = boolean("DTS_START_MIGRATION", self.dts_start_migration.clone())?;
        let sync = boolean("DTS_START_SYNC", self.dts_start_sync.clone())?;
        let surface = self.surface();
        let wrong = |variable, asked: Setting, instead: Setting, kind: JobKind| ConfigError {
            variable,
            problem: format!(
                "is true, but the jobs are {} jobs, which it does not start; set {} instead (and unset {})",
                kind.as_str(),
                surface.assignment(instead, "true"),
                surface.name(asked)
            ),
        };
        match kind {
            JobKind::Migration if sync => Err(wrong(
                "DTS_START_SYNC",
                Setting::StartSync,
                Setting::StartMigration,
                kind,
            )),
            JobKind::Sync if migration => Err(wrong(
                "DTS_START_MIGRATION",
                Setting::StartMigration,
                Setting::StartSync,
                kind,
            )),
            JobKind::Migration => Ok(migration),
            JobKind::Sync => Ok(sync),
        }
    }

    /// `DTS_TIMEOUT` and `DTS_POLL_INTERVAL`, read the same way for a gate and a demo.
    fn timing(
        &self,
        check: &mut Collector,
        default_timeout: Duration,
        default_interval: Duration,
    ) -> (Option<Duration>, Option<Duration>) {
        let timeout = check.keep(duration_var(
            "DTS_TIMEOUT",
            non_empty(self.dts_timeout.clone()),
            default_timeout,
            false,
            MAX_TIMEOUT,
        ));
        let interval = check.keep(poll_interval_var(
            self.dts_poll_interval.clone(),
            default_interval,
        ));
        (timeout, interval)
    }

    /// The variables of the credential sources, empty values dropped.
    pub fn credential_vars(&self) -> CredentialVars {
        let v = |value: &Option<String>| non_empty(value.clone());
        CredentialVars {
            secret_id: v(&self.tencentcloud_secret_id),
            secret_key: v(&self.tencentcloud_secret_key),
            token: v(&self.tencentcloud_token),
            security_token: v(&self.tencentcloud_security_token),
            session_token: v(&self.tencentcloud_session_token),
            role_arn: v(&self.tencentcloud_role_arn),
            role_session_name: v(&self.tencentcloud_role_session_name),
            role_duration: v(&self.tencentcloud_role_duration),
            oidc_provider_id: v(&self.tencentcloud_oidc_provider_id),
            oidc_audience: v(&self.tencentcloud_oidc_audience),
            web_identity_token_file: v(&self.tencentcloud_web_identity_token_file),
            actions_id_token_request_url: v(&self.actions_id_token_request_url),
            actions_id_token_request_token: v(&self.actions_id_token_request_token),
            tke_provider_id: v(&self.tke_provider_id),
            tke_web_identity_token_file: v(&self.tke_web_identity_token_file),
            tke_role_arn: v(&self.tke_role_arn),
            tke_region: v(&self.tke_region),
            credentials_file: v(&self.tencentcloud_credentials_file),
            tccli_profile: v(&self.tccli_profile),
            home: v(&self.home),
            metadata_endpoint: v(&self.tencentcloud_metadata_endpoint),
            github_repository: v(&self.github_repository),
            github_run_id: v(&self.github_run_id),
            ci_project_path: v(&self.ci_project_path),
            ci_pipeline_id: v(&self.ci_pipeline_id),
        }
    }

    /// The configuration of a real gate run; every problem is reported, not just the first.
    /// Profile files are read from the file system.
    pub fn config(&self) -> Result<Config, Vec<ConfigError>> {
        self.config_with(&RealFiles)
    }

    /// [`Vars::config`], reading profile files through `files`.
    pub fn config_with(&self, files: &dyn Files) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut check = Collector(&mut errors);

        let job_ids = check.keep(job_ids(non_empty(self.dts_job_id.clone())));
        let credentials_at = check.0.len();
        let region = check.keep(region(non_empty(self.tencentcloud_region.clone())));
        let domain = check.keep(domain(non_empty(self.tencentcloud_domain.clone())));
        let sts = match non_empty(self.tencentcloud_sts_endpoint.clone()) {
            Some(text) => check.keep(parse_endpoint_named("TENCENTCLOUD_STS_ENDPOINT", &text)),
            None => domain.map(Endpoint::sts_on),
        };
        let credentials = sts.as_ref().and_then(|sts| {
            let context = credentials::Context {
                region: region.as_deref().unwrap_or("ap-guangzhou"),
                sts: sts.clone(),
            };
            match credentials::choose(&self.credential_vars(), files, &context) {
                Ok(source) => Some(source),
                Err(errors) => {
                    let at = credentials_at.min(check.0.len());
                    check.0.splice(at..at, errors);
                    None
                }
            }
        });
        let (timeout, poll_interval) =
            self.timing(&mut check, DEFAULT_TIMEOUT, DEFAULT_POLL_INTERVAL);
        let language = check.keep(language(non_empty(self.dts_language.clone())));
        let kind = job_ids.as_deref().and_then(|ids| {
            check.keep(job_kind(
                non_empty(self.dts_job_kind.clone()),
                ids,
                self.surface(),
            ))
        });
        let api_version = kind.and_then(|kind| check.keep(self.check_api(kind)));
        let create_check = check.keep(boolean("DTS_CREATE_CHECK", self.dts_create_check.clone()));
        let create_grace = check.keep(duration_var(
            "DTS_CREATE_GRACE",
            non_empty(self.dts_create_grace.clone()),
            DEFAULT_CREATE_GRACE,
            true,
            MAX_CREATE_GRACE,
        ));
        let start_jobs = kind.and_then(|kind| check.keep(self.start_jobs(kind)));
        let max_request_rate =
            check.keep(request_rate(non_empty(self.dts_max_request_rate.clone())));
        let fail_on_warning = check.keep(boolean(
            "DTS_FAIL_ON_WARNING",
            self.dts_fail_on_warning.clone(),
        ));
        // Unset means true, like GitHub's matrix; only `false` waits for every job.
        let fail_fast = match non_empty(self.dts_fail_fast.clone()) {
            None => Some(true),
            value => check.keep(boolean("DTS_FAIL_FAST", value)),
        };
        let endpoint = match non_empty(self.dts_endpoint.clone()) {
            Some(text) => check.keep(parse_endpoint(&text)),
            None => region
                .as_deref()
                .zip(domain)
                .map(|(region, domain)| Endpoint::for_region_on(region, domain)),
        };
        let extra_roots = non_empty(self.ssl_cert_file.clone())
            .and_then(|path| check.keep(extra_roots(path.trim())));
        let mut proxy_warning = None;
        let proxy = endpoint.as_ref().and_then(|endpoint| {
            let chosen = self.proxies.choose(endpoint).map_err(|e| ConfigError {
                variable: e.variable,
                problem: e.problem,
            });
            check.keep(chosen).map(|(chosen, warning)| {
                proxy_warning = warning;
                chosen
            })
        });
        // STS and the token endpoint go through the proxy chosen for the STS host; an unused
        // ALL_PROXY was already warned about for DTS.
        let credential_proxy = match (&credentials, &sts) {
            (Some(Source::WebIdentity { .. } | Source::AssumeRole { .. }), Some(sts)) => {
                let chosen = self.proxies.choose(sts).map_err(|e| ConfigError {
                    variable: e.variable,
                    problem: e.problem,
                });
                check.keep(chosen).map(|(chosen, _)| chosen)
            }
            _ => Some(None),
        };
        // Without any source configured the instance role is tried when the run starts; if the
        // configuration is invalid anyway, say now that no credentials were found either.
        if let Some(Source::InstanceRole { missing, .. }) = &credentials
            && !check.0.is_empty()
        {
            let at = credentials_at.min(check.0.len());
            check.0.splice(at..at, missing.clone());
        }

        let lag = self.lag_limit(&mut check);
        let complete_mode = check.keep(complete_mode(non_empty(self.dts_complete_mode.clone())));
        let compare = self.compare_settings(&mut check, job_ids.as_deref());
        let config = (|| {
            Some(Config {
                job_ids: job_ids?,
                credentials: credentials?,
                region: region?,
                timeout: timeout?,
                poll_interval: poll_interval?,
                endpoint: endpoint?,
                language: language?,
                api_version: api_version?,
                create_check: create_check?,
                create_grace: create_grace?,
                start_jobs: start_jobs?,
                fail_fast: fail_fast?,
                fail_on_warning: fail_on_warning?,
                max_request_rate: max_request_rate?,
                extra_roots,
                warnings: Vec::new(),
                surface: self.surface(),
                proxy: proxy?,
                credential_proxy: credential_proxy?,
                stage: Stage::Check,
                lag: lag?,
                complete_mode: complete_mode?,
                compare: compare?,
            })
        })();
        let vars = self.credential_vars();
        let ignored_oidc = vars.oidc_provider_id.is_some() && vars.secret_id.is_some();
        check.finish(config).map(|mut config| {
            config.warnings = warnings(&config, self.surface());
            config.warnings.extend(proxy_warning);
            if ignored_oidc {
                config.warnings.push("TENCENTCLOUD_OIDC_PROVIDER_ID is ignored: keys in TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY come first; unset them (and the secret-id/secret-key inputs) to use web identity".to_string());
            }
            config
        })
    }
}

/// What is valid but looks like a mistake: a region Tencent Cloud does not list, a timeout
/// too short for a fresh check to be told apart from the old result.
fn warnings(config: &Config, surface: Surface) -> Vec<String> {
    let mut warnings = Vec::new();
    if !regions::is_known(&config.region) {
        let guess = match regions::nearest(&config.region) {
            Some(near) => format!("did you mean {near}? "),
            None => String::new(),
        };
        warnings.push(format!(
            "{} {} is not a region id Tencent Cloud lists; {guess}the gate sends it anyway, as new regions appear",
            surface.name(Setting::Region),
            quote(&config.region)
        ));
    }
    if config.create_check && config.timeout < config.create_grace {
        warnings.push(format!(
            "{} ({}) is shorter than {} ({}): the run may end before a result identical to the previous one can be told apart from it",
            surface.name(Setting::Timeout),
            duration::format(config.timeout),
            surface.name(Setting::CreateGrace),
            duration::format(config.create_grace)
        ));
    }
    warnings
}

/// Keeps valid values and collects the errors, so all problems are reported together.
struct Collector<'a>(&'a mut Vec<ConfigError>);

impl Collector<'_> {
    fn keep<T>(&mut self, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|e| self.0.push(e)).ok()
    }

    /// The value, when it was built and no problem was found on the way.
    fn finish<T>(self, value: Option<T>) -> Result<T, Vec<ConfigError>> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(std::mem::take(self.0)),
        }
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

/// Quotes a user-supplied value for an error line: escaped, and cut short so a pasted blob
/// cannot flood the log.
pub fn quote(value: &str) -> String {
    const MAX: usize = 80;
    let mut out: String = value
        .chars()
        .take(MAX)
        .collect::<String>()
        .escape_debug()
        .collect();
    if value.chars().count() > MAX {
        out.push('…');
    }
    format!("\"{out}\"")
}

fn missing(variable: &'static str, expected: &str) -> ConfigError {
    ConfigError {
        variable,
        problem: format!("is not set; expected {expected}"),
    }
}

fn parse_job_kind(text: &str) -> Result<JobKind, ConfigError> {
    JobKind::parse(text).ok_or_else(|| ConfigError {
        variable: "DTS_JOB_KIND",
        problem: format!(
            "got {}; expected {} (or unset: ids starting with sync- are sync jobs, any other migration jobs)",
            quote(text),
            JobKind::NAMES
        ),
    })
}

/// The kind of every job: `DTS_JOB_KIND` when set, else what the ids say. An id of the other
/// kind, or ids of both kinds, is a mistake: one run gates one kind.
fn job_kind(
    value: Option<String>,
    ids: &[String],
    surface: Surface,
) -> Result<JobKind, ConfigError> {
    let of_kind = |kind: JobKind| -> Vec<&str> {
        ids.iter()
            .filter(|id| JobKind::of_id(id) == kind)
            .map(String::as_str)
            .collect()
    };
    let (sync, migration) = (of_kind(JobKind::Sync), of_kind(JobKind::Migration));
    let Some(text) = value else {
        return match (sync.is_empty(), migration.is_empty()) {
            (true, _) => Ok(JobKind::Migration),
            (false, true) => Ok(JobKind::Sync),
            (false, false) => Err(ConfigError {
                variable: "DTS_JOB_ID",
                problem: format!(
                    "mixes sync jobs ({}) and migration jobs ({}); gate each kind in its own run",
                    sync.join(", "),
                    migration.join(", ")
                ),
            }),
        };
    };
    let kind = parse_job_kind(&text)?;
    let others = match kind {
        JobKind::Migration => sync,
        JobKind::Sync => migration,
    };
    if others.is_empty() {
        return Ok(kind);
    }
    Err(ConfigError {
        variable: "DTS_JOB_KIND",
        problem: format!(
            "is {kind}, but {} {} {kind} job id{}; fix {} or unset {}",
            others.join(", "),
            if others.len() == 1 {
                "is not a"
            } else {
                "are not"
            },
            if others.len() == 1 { "" } else { "s" },
            surface.name(Setting::JobId),
            surface.name(Setting::JobKind),
            kind = kind.as_str(),
        ),
    })
}

/// One id or a list separated by commas, spaces or newlines; duplicates removed, order kept.
fn job_ids(value: Option<String>) -> Result<Vec<String>, ConfigError> {
    const EXPECTED: &str = "DTS job ids such as dts-1kl0iy0v (a migration) or sync-werwfs23 (a sync job), separated by commas, spaces or newlines";
    let value = value.ok_or_else(|| missing("DTS_JOB_ID", EXPECTED))?;
    let mut ids: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for id in value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let valid = id.len() <= 64
            && ["dts-", "sync-"].iter().any(|prefix| {
                id.strip_prefix(prefix).is_some_and(|rest| {
                    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric())
                })
            });
        if !valid {
            bad.push(quote(id));
        } else if !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    let problem = if !bad.is_empty() {
        format!(
            "got {}; expected {EXPECTED} (copy them from the DTS console)",
            bad.join(", ")
        )
    } else if ids.is_empty() {
        format!("got {}; expected {EXPECTED}", quote(&value))
    } else if ids.len() > MAX_JOBS {
        format!(
            "got {} job ids; expected at most {MAX_JOBS} per run (split them over several steps)",
            ids.len()
        )
    } else {
        return Ok(ids);
    };
    Err(ConfigError {
        variable: "DTS_JOB_ID",
        problem,
    })
}

/// `true`/`false` as GitHub's `getBooleanInput` reads them; empty means false.
fn boolean(variable: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match non_empty(value).as_deref().map(str::trim) {
        None | Some("false" | "False" | "FALSE") => Ok(false),
        Some("true" | "True" | "TRUE") => Ok(true),
        Some(other) => Err(ConfigError {
            variable,
            problem: format!("got {}; expected `true` or `false`", quote(other)),
        }),
    }
}

fn region(value: Option<String>) -> Result<String, ConfigError> {
    const EXPECTED: &str = "a region id such as ap-guangzhou or ap-shanghai-fsi";
    let value = value.ok_or_else(|| missing("TENCENTCLOUD_REGION", EXPECTED))?;
    let trimmed = value.trim();
    let mut parts = trimmed.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest: Vec<&str> = parts.collect();
    let rest_ok = (1..=3).contains(&rest.len())
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if first_ok && rest_ok {
        Ok(trimmed.to_string())
    } else {
        Err(ConfigError {
            variable: "TENCENTCLOUD_REGION",
            problem: format!(
                "got {}; expected {EXPECTED} (the region of the migration job)",
                quote(&value)
            ),
        })
    }
}

/// `SSL_CERT_FILE`: read and checked now, so a bad bundle is one line here, not a TLS error on
/// every poll.
fn extra_roots(path: &str) -> Result<ExtraRoots, ConfigError> {
    ExtraRoots::load(path).map_err(|e| ConfigError {
        variable: "SSL_CERT_FILE",
        problem: format!(
            "{e}; expected the path of a PEM file of CA certificates (-----BEGIN CERTIFICATE----- blocks) to trust in addition to the built-in Mozilla roots; fix the file or unset SSL_CERT_FILE"
        ),
    })
}

fn api_version(value: Option<String>) -> Result<ApiVersion, ConfigError> {
    match non_empty(value) {
        None => Ok(ApiVersion::V2018),
        Some(text) => ApiVersion::parse(&text).ok_or_else(|| ConfigError {
            variable: "DTS_API_VERSION",
            problem: format!(
                "got {}; expected `2018-03-30` (DescribeMigrateCheckJob, the default) or `2021-12-06` (DescribeMigrationCheckJob, for jobs created in the current DTS console)",
                quote(&text)
            ),
        }),
    }
}

fn poll_interval_var(value: Option<String>, default: Duration) -> Result<Duration, ConfigError> {
    let interval = duration_var(
        "DTS_POLL_INTERVAL",
        non_empty(value),
        default,
        true,
        MAX_POLL_INTERVAL,
    )?;
    if interval < MIN_POLL_INTERVAL {
        return Err(ConfigError {
            variable: "DTS_POLL_INTERVAL",
            problem: format!(
                "got {}; expected at least 100ms, to stay far below the API's 20 requests per second",
                duration::format(interval)
            ),
        });
    }
    Ok(interval)
}

fn duration_var(
    variable: &'static str,
    value: Option<String>,
    default: Duration,
    allow_millis: bool,
    max: Duration,
) -> Result<Duration, ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    let expected = if allow_millis {
        "a duration such as 500ms, 5s, 1m or bare seconds"
    } else {
        "a duration such as 90s, 15m, 1h30m or bare seconds"
    };
    match duration::parse(&value, allow_millis) {
        Some(d) if d > max => Err(ConfigError {
            variable,
            problem: format!(
                "got {}; expected {expected}, at most {}",
                quote(&value),
                duration::format(max)
            ),
        }),
        Some(d) if !d.is_zero() => Ok(d),
        Some(_) => Err(ConfigError {
            variable,
            problem: format!(
                "got {}; expected {expected}, greater than zero",
                quote(&value)
            ),
        }),
        None => Err(ConfigError {
            variable,
            problem: format!("got {}; expected {expected}", quote(&value)),
        }),
    }
}

/// A duration that may be zero (`DTS_MAX_LAG=0s`: no lag at all), in whole seconds.
fn lag_duration(variable: &'static str, text: &str) -> Result<Duration, ConfigError> {
    match duration::parse(text, false) {
        Some(d) if d <= MAX_TIMEOUT => Ok(d),
        _ => Err(ConfigError {
            variable,
            problem: format!(
                "got {}; expected a duration such as 0s, 30s, 5m or bare seconds, at most {}",
                quote(text),
                duration::format(MAX_TIMEOUT)
            ),
        }),
    }
}

/// `DTS_COMPARE_TASK_ID`: a compare task of the one job gated, such as
/// `dts-8yv4w2i1-cmp-37skmii9`.
fn compare_task_id(text: &str, jobs: Option<&[String]>) -> Result<String, ConfigError> {
    let valid = text.len() <= 128
        && text.starts_with("dts-")
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let problem = if !valid {
        format!(
            "got {}; expected a compare task id such as dts-8yv4w2i1-cmp-37skmii9",
            quote(text)
        )
    } else if jobs.is_some_and(|jobs| jobs.len() > 1) {
        "a compare task belongs to one job, but DTS_JOB_ID names several; gate one job per step, or unset it to create a task for each job".to_string()
    } else {
        return Ok(text.to_string());
    };
    Err(ConfigError {
        variable: "DTS_COMPARE_TASK_ID",
        problem,
    })
}

/// A whole number from 1 to `max`; unset or empty is `None` (the service's default).
fn small_number(
    variable: &'static str,
    value: Option<String>,
    max: u32,
    what: &str,
) -> Result<Option<u32>, ConfigError> {
    let Some(text) = non_empty(value) else {
        return Ok(None);
    };
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(ConfigError {
            variable,
            problem: format!(
                "got {}; expected {what}, a whole number from 1 to {max}",
                quote(&text)
            ),
        }),
    }
}

/// `DTS_COMPLETE_MODE`: `waitForSync` unless `immediately` is asked for.
fn complete_mode(value: Option<String>) -> Result<CompleteMode, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("waitForSync") => Ok(CompleteMode::WaitForSync),
        Some("immediately") => Ok(CompleteMode::Immediately),
        Some(other) => Err(ConfigError {
            variable: "DTS_COMPLETE_MODE",
            problem: format!(
                "got {}; expected waitForSync (the default: complete once the lag is zero) or immediately",
                quote(other)
            ),
        }),
    }
}

/// `DTS_MAX_REQUEST_RATE`: requests per second, above 0 and at most the service's limit.
fn request_rate(value: Option<String>) -> Result<f64, ConfigError> {
    let Some(text) = value else {
        return Ok(pace::DEFAULT_BUDGET);
    };
    match text.trim().parse::<f64>() {
        Ok(rate) if (pace::MIN_RATE..=pace::SERVICE_LIMIT).contains(&rate) => Ok(rate),
        _ => Err(ConfigError {
            variable: "DTS_MAX_REQUEST_RATE",
            problem: format!(
                "got {}; expected requests per second from {} to {} (the service allows 20 per second per action for the whole sub-account, shared with every other tool), e.g. 4 or 2.5",
                quote(&text),
                pace::MIN_RATE,
                pace::SERVICE_LIMIT
            ),
        }),
    }
}

fn language(value: Option<String>) -> Result<Language, ConfigError> {
    match value.as_deref().map(str::trim) {
        None | Some("en-US") => Ok(Language::EnUs),
        Some("zh-CN") => Ok(Language::ZhCn),
        Some(other) => Err(ConfigError {
            variable: "DTS_LANGUAGE",
            problem: format!(
                "got {}; expected `en-US` or `zh-CN` (the only languages the API serves)",
                quote(other)
            ),
        }),
    }
}

/// `TENCENTCLOUD_DOMAIN`: the China site (default) or the international site, for DTS and STS.
fn domain(value: Option<String>) -> Result<&'static str, ConfigError> {
    match value.as_deref().map(str::trim) {
        None => Ok(DOMAIN),
        Some(d) if d == DOMAIN => Ok(DOMAIN),
        Some(d) if d == INTL_DOMAIN => Ok(INTL_DOMAIN),
        Some(other) => Err(ConfigError {
            variable: "TENCENTCLOUD_DOMAIN",
            problem: format!(
                "got {}; expected `{DOMAIN}` (the China site, the default) or `{INTL_DOMAIN}` (international-site accounts: DTS and STS both move there); for any other host set DTS_ENDPOINT and TENCENTCLOUD_STS_ENDPOINT",
                quote(other)
            ),
        }),
    }
}

/// Accepts `https://host[:port]`, a bare `host[:port]`, and `http://` for loopback hosts only.
pub fn parse_endpoint(text: &str) -> Result<Endpoint, ConfigError> {
    parse_endpoint_named("DTS_ENDPOINT", text)
}

/// [`parse_endpoint`] for the endpoint variable `variable`.
pub fn parse_endpoint_named(variable: &'static str, text: &str) -> Result<Endpoint, ConfigError> {
    let fail = |why: &str| ConfigError {
        variable,
        problem: format!(
            "got {}; {why}; expected https://host[:port] or a bare host such as dts.ap-shanghai-fsi.tencentcloudapi.com",
            quote(text)
        ),
    };
    let trimmed = text.trim();
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("https".to_string(), trimmed),
    };
    if scheme != "https" && scheme != "http" {
        return Err(fail("only https (or http for loopback) is supported"));
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err(fail("the host is missing"));
    }
    if authority.contains(['/', '?', '#', '@']) || authority.chars().any(char::is_whitespace) {
        return Err(fail("a path, query or user name is not allowed"));
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| fail("the port is invalid"))?;
    let host_ok = if host.starts_with('[') {
        host.len() > 2
            && host[1..host.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    if !host_ok {
        return Err(fail("the host name is invalid"));
    }
    let host = host.to_ascii_lowercase();
    let is_loopback = is_loopback_host(&host);
    if scheme == "http" && !is_loopback {
        return Err(fail(
            "plain http is accepted only for loopback hosts (local simulators); use https",
        ));
    }
    let default_port = if scheme == "https" { 443 } else { 80 };
    let host_header = match port {
        Some(p) if p != default_port => format!("{host}:{p}"),
        _ => host,
    };
    Ok(Endpoint {
        url: format!("{scheme}://{host_header}/"),
        host: host_header,
        is_loopback,
    })
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let port_sep = if authority.starts_with('[') {
        let close = authority.find(']')?;
        match &authority[close + 1..] {
            "" => None,
            rest if rest.starts_with(':') => Some(close + 1),
            _ => return None,
        }
    } else {
        authority.rfind(':')
    };
    match port_sep {
        None => Some((authority, None)),
        Some(i) => {
            let port: u16 = authority[i + 1..].parse().ok().filter(|p| *p != 0)?;
            Some((&authority[..i], Some(port)))
        }
    }
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn minimal() -> Vec<(String, String)> {
        vars(&[
            ("DTS_JOB_ID", "dts-1kl0iy0v"),
            ("TENCENTCLOUD_SECRET_ID", "AKIDtest"),
            ("TENCENTCLOUD_SECRET_KEY", "secretkey"),
            ("TENCENTCLOUD_REGION", "ap-guangzhou"),
        ])
    }

    fn with(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut v = minimal();
        v.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        v.extend(vars(extra));
        v
    }

    fn errors_of(v: Vec<(String, String)>) -> Vec<ConfigError> {
        Config::from_vars(v).expect_err("configuration should be rejected")
    }

    #[test]
    fn minimal_configuration_gets_the_defaults() {
        let c = Config::from_vars(minimal()).unwrap();
        assert_eq!(c.job_ids, ["dts-1kl0iy0v"]);
        assert!(!c.create_check && !c.start_jobs);
        assert!(c.fail_fast);
        assert_eq!(c.max_request_rate, 10.0);
        let c = Config::from_vars(with(&[("DTS_MAX_REQUEST_RATE", "2.5")])).unwrap();
        assert_eq!(c.max_request_rate, 2.5);
        for bad in ["0", "21", "fast", "-1"] {
            let errors = errors_of(with(&[("DTS_MAX_REQUEST_RATE", bad)]));
            assert_eq!(errors[0].variable, "DTS_MAX_REQUEST_RATE", "{bad}");
        }
        let c = Config::from_vars(with(&[("DTS_FAIL_FAST", "false")])).unwrap();
        assert!(!c.fail_fast);
        assert_eq!(
            errors_of(with(&[("DTS_FAIL_FAST", "no")]))[0].variable,
            "DTS_FAIL_FAST"
        );
        assert_eq!(c.create_grace, Duration::from_secs(30));
        assert_eq!(c.region, "ap-guangzhou");
        assert_eq!(c.timeout, Duration::from_secs(1800));
        assert_eq!(c.poll_interval, Duration::from_secs(5));
        assert_eq!(c.language, Language::EnUs);
        assert_eq!(c.endpoint.url, "https://dts.tencentcloudapi.com/");
        assert_eq!(c.endpoint.host, "dts.tencentcloudapi.com");
        assert_eq!(c.credentials.static_keys().unwrap().token, None);
        assert_eq!(c.api_version, ApiVersion::V2018);
    }

    #[test]
    fn job_lists_are_split_and_deduplicated() {
        let c = Config::from_vars(with(&[(
            "DTS_JOB_ID",
            "dts-aaa1, dts-bbb2\ndts-aaa1 dts-ccc3,,\n",
        )]))
        .unwrap();
        assert_eq!(c.job_ids, ["dts-aaa1", "dts-bbb2", "dts-ccc3"]);
        let errs = errors_of(with(&[("DTS_JOB_ID", "dts-aaa1, job-2, dts-")]));
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].problem.starts_with("got \"job-2\", \"dts-\";"),
            "{}",
            errs[0]
        );
        let many: Vec<String> = (0..=MAX_JOBS).map(|i| format!("dts-{i}")).collect();
        let errs = errors_of(with(&[("DTS_JOB_ID", &many.join(","))]));
        assert!(errs[0].problem.contains("at most 100"));
        let errs = errors_of(with(&[("DTS_JOB_ID", " , ")]));
        assert_eq!(errs[0].variable, "DTS_JOB_ID");
    }

    #[test]
    fn create_and_start_flags() {
        let c = Config::from_vars(with(&[
            ("DTS_CREATE_CHECK", "true"),
            ("DTS_START_MIGRATION", "TRUE"),
            ("DTS_CREATE_GRACE", "500ms"),
        ]))
        .unwrap();
        assert!(c.create_check && c.start_jobs);
        assert_eq!(c.create_grace, Duration::from_millis(500));
        let errs = errors_of(with(&[
            ("DTS_CREATE_CHECK", "yes"),
            ("DTS_START_MIGRATION", "1"),
        ]));
        let names: Vec<_> = errs.iter().map(|e| e.variable).collect();
        assert_eq!(names, ["DTS_CREATE_CHECK", "DTS_START_MIGRATION"]);
        assert!(errs[0].problem.contains("`true` or `false`"));
    }

    #[test]
    fn sync_ids_select_the_sync_api_and_its_own_start_variable() {
        let c = Config::from_vars(with(&[("DTS_JOB_ID", "sync-werwfs23, sync-n3gh7md9")])).unwrap();
        assert_eq!(c.api_version, ApiVersion::Sync);
        assert_eq!(c.job_ids, ["sync-werwfs23", "sync-n3gh7md9"]);
        assert!(!c.start_jobs);
        let c = Config::from_vars(with(&[
            ("DTS_JOB_ID", "sync-werwfs23"),
            ("DTS_START_SYNC", "true"),
            ("DTS_API_VERSION", "2021-12-06"),
        ]))
        .unwrap();
        assert!(c.start_jobs);
        assert_eq!(c.api_version, ApiVersion::Sync);
        // An explicit kind agrees with the ids.
        let c = Config::from_vars(with(&[("DTS_JOB_KIND", "migration")])).unwrap();
        assert_eq!(c.api_version, ApiVersion::V2018);
        let c = Config::from_vars(with(&[
            ("DTS_JOB_ID", "sync-werwfs23"),
            ("DTS_JOB_KIND", "sync"),
        ]))
        .unwrap();
        assert_eq!(c.api_version, ApiVersion::Sync);
    }

    #[test]
    fn a_run_gates_one_kind_and_starts_it_only_with_its_own_variable() {
        let only = |pairs: &[(&str, &str)]| {
            let errors = errors_of(with(pairs));
            assert_eq!(errors.len(), 1, "{errors:?}");
            errors[0].to_string()
        };
        let mixed = only(&[("DTS_JOB_ID", "sync-aaa1 dts-bbb2")]);
        assert!(
            mixed.starts_with(
                "DTS_JOB_ID: mixes sync jobs (sync-aaa1) and migration jobs (dts-bbb2)"
            ),
            "{mixed}"
        );
        let wrong = only(&[("DTS_JOB_ID", "dts-bbb2"), ("DTS_JOB_KIND", "sync")]);
        assert!(
            wrong.starts_with("DTS_JOB_KIND: is sync, but dts-bbb2 is not a sync job id"),
            "{wrong}"
        );
        let wrong = only(&[
            ("DTS_JOB_ID", "sync-a1 sync-b2"),
            ("DTS_JOB_KIND", "migration"),
        ]);
        assert!(
            wrong.contains("sync-a1, sync-b2 are not a migration job ids")
                || wrong.contains("sync-a1, sync-b2 are not"),
            "{wrong}"
        );
        let bad = only(&[("DTS_JOB_KIND", "replication")]);
        assert!(
            bad.starts_with("DTS_JOB_KIND: got \"replication\"; expected migration or sync"),
            "{bad}"
        );
        let start = only(&[("DTS_JOB_ID", "sync-a1"), ("DTS_START_MIGRATION", "true")]);
        assert!(
            start.starts_with("DTS_START_MIGRATION: is true, but the jobs are sync jobs"),
            "{start}"
        );
        assert!(start.contains("set DTS_START_SYNC=true instead"), "{start}");
        let start = only(&[("DTS_START_SYNC", "true")]);
        assert!(
            start.starts_with("DTS_START_SYNC: is true, but the jobs are migration jobs"),
            "{start}"
        );
        let old = only(&[("DTS_JOB_ID", "sync-a1"), ("DTS_API_VERSION", "2018-03-30")]);
        assert!(
            old.starts_with("DTS_API_VERSION: sync jobs exist only in API 2021-12-06"),
            "{old}"
        );
        let id = only(&[("DTS_JOB_ID", "sync-")]);
        assert!(id.contains("sync-werwfs23 (a sync job)"), "{id}");
    }

    #[test]
    fn the_action_names_its_inputs_in_kind_errors() {
        let errors = errors_of(with(&[
            ("DTS_JOB_ID", "sync-a1"),
            ("DTS_START_MIGRATION", "true"),
            ("DTS_GATE_SURFACE", "action"),
        ]));
        let text = errors[0].to_string();
        assert!(
            text.contains("set `start-sync: true` instead (and unset the `start-migration` input)"),
            "{text}"
        );
        let errors = errors_of(with(&[
            ("DTS_JOB_ID", "dts-a1"),
            ("DTS_JOB_KIND", "sync"),
            ("DTS_GATE_SURFACE", "action"),
        ]));
        let text = errors[0].to_string();
        assert!(
            text.ends_with("fix the `job-id` input or unset the `job-kind` input"),
            "{text}"
        );
    }

    #[test]
    fn api_version_selects_the_2021_api() {
        let c = Config::from_vars(with(&[("DTS_API_VERSION", "2021-12-06")])).unwrap();
        assert_eq!(c.api_version, ApiVersion::V2021);
        let errs = errors_of(with(&[("DTS_API_VERSION", "2021")]));
        assert_eq!(errs[0].variable, "DTS_API_VERSION");
        assert!(errs[0].to_string().contains("`2021-12-06`"));
    }

    #[test]
    fn demo_settings() {
        let read = |pairs: &[(&str, &str)]| {
            Vars::read(vars(pairs))
                .unwrap()
                .demo_settings(Duration::from_secs(60), Duration::from_millis(500))
        };
        let d = read(&[
            ("DTS_API_VERSION", "2021-12-06"),
            ("DTS_POLL_INTERVAL", "100ms"),
        ])
        .unwrap();
        assert_eq!(d.api_version, ApiVersion::V2021);
        assert_eq!(d.poll_interval, Duration::from_millis(100));
        assert_eq!(d.timeout, Duration::from_secs(60));
        let errs = read(&[("DTS_API_VERSION", "x"), ("DTS_TIMEOUT", "y")]).unwrap_err();
        assert_eq!(errs.len(), 2);
    }

    #[test]
    fn durations_are_bounded_so_no_time_arithmetic_can_overflow() {
        for (var, value, max) in [
            ("DTS_TIMEOUT", "18446744073709551615", "168h"),
            ("DTS_TIMEOUT", "169h", "168h"),
            ("DTS_POLL_INTERVAL", "2h", "1h"),
            ("DTS_CREATE_GRACE", "99999999h", "1h"),
        ] {
            let errors = errors_of(with(&[(var, value)]));
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].variable, var);
            assert!(
                errors[0].problem.ends_with(&format!("at most {max}")),
                "{}",
                errors[0]
            );
        }
        let c = Config::from_vars(with(&[("DTS_TIMEOUT", "168h")])).unwrap();
        assert_eq!(c.timeout, Duration::from_secs(7 * 24 * 3600));
    }

    #[test]
    fn likely_mistakes_are_warnings_not_errors() {
        let c = Config::from_vars(minimal()).unwrap();
        assert_eq!(c.warnings, Vec::<String>::new());
        let c = Config::from_vars(with(&[("TENCENTCLOUD_REGION", "ap-guangzou")])).unwrap();
        assert_eq!(
            c.warnings,
            [
                "TENCENTCLOUD_REGION \"ap-guangzou\" is not a region id Tencent Cloud lists; did you mean ap-guangzhou? the gate sends it anyway, as new regions appear"
            ]
        );
        let c = Config::from_vars(with(&[
            ("DTS_CREATE_CHECK", "true"),
            ("DTS_TIMEOUT", "20s"),
            ("DTS_GATE_SURFACE", "action"),
        ]))
        .unwrap();
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(
            c.warnings[0].starts_with(
                "the `timeout` input (20s) is shorter than the `create-grace` input (30s)"
            ),
            "{:?}",
            c.warnings
        );
        // Without a fresh check the grace period plays no part.
        let c = Config::from_vars(with(&[("DTS_TIMEOUT", "20s")])).unwrap();
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    }

    #[test]
    fn the_international_site_moves_dts_and_sts_and_sts_has_its_own_override() {
        let role = |c: &Config| match &c.credentials {
            Source::AssumeRole { role, .. } => role.sts.clone(),
            other => panic!("{other:?}"),
        };
        let arn = ("TENCENTCLOUD_ROLE_ARN", "qcs::cam::uin/1:roleName/r");
        let c = Config::from_vars(with(&[arn])).unwrap();
        assert_eq!(role(&c).host, "sts.tencentcloudapi.com");
        assert!(c.credential_proxy.is_none());
        let c = Config::from_vars(with(&[
            arn,
            ("TENCENTCLOUD_DOMAIN", "intl.tencentcloudapi.com"),
        ]))
        .unwrap();
        assert_eq!(c.endpoint.host, "dts.intl.tencentcloudapi.com");
        assert_eq!(role(&c).url, "https://sts.intl.tencentcloudapi.com/");
        let c = Config::from_vars(with(&[
            ("TENCENTCLOUD_DOMAIN", "intl.tencentcloudapi.com"),
            ("TENCENTCLOUD_REGION", "ap-shanghai-fsi"),
        ]))
        .unwrap();
        assert_eq!(c.endpoint.host, "dts.ap-shanghai-fsi.tencentcloudapi.com");
        let c = Config::from_vars(with(&[
            arn,
            ("TENCENTCLOUD_STS_ENDPOINT", "http://127.0.0.1:9"),
        ]))
        .unwrap();
        assert_eq!(role(&c).host, "127.0.0.1:9");
        let errors = errors_of(with(&[("TENCENTCLOUD_STS_ENDPOINT", "http://sts.example")]));
        assert_eq!(errors[0].variable, "TENCENTCLOUD_STS_ENDPOINT");
        assert!(errors[0].problem.contains("loopback"), "{}", errors[0]);
    }

    #[test]
    fn without_any_source_the_instance_role_is_tried_unless_the_rest_is_invalid() {
        let mut none = minimal();
        none.retain(|(k, _)| !k.starts_with("TENCENTCLOUD_SECRET"));
        let c = Config::from_vars(none.clone()).unwrap();
        assert!(
            matches!(c.credentials, Source::InstanceRole { .. }),
            "{:?}",
            c.credentials
        );
        // With another problem, the missing credentials are reported with it, in their place.
        none.push(("DTS_TIMEOUT".into(), "soon".into()));
        let names: Vec<_> = errors_of(none).iter().map(|e| e.variable).collect();
        assert_eq!(
            names,
            [
                "TENCENTCLOUD_SECRET_ID",
                "TENCENTCLOUD_SECRET_KEY",
                "DTS_TIMEOUT"
            ]
        );
    }

    #[test]
    fn finance_region_uses_its_own_host() {
        let c = Config::from_vars(with(&[("TENCENTCLOUD_REGION", "ap-shanghai-fsi")])).unwrap();
        assert_eq!(c.endpoint.host, "dts.ap-shanghai-fsi.tencentcloudapi.com");
        assert_eq!(
            c.endpoint.url,
            "https://dts.ap-shanghai-fsi.tencentcloudapi.com/"
        );
    }

    #[test]
    fn token_prefers_tccli_name_then_terraform_name() {
        let token = |c: &Config| c.credentials.static_keys().unwrap().token.clone();
        let c = Config::from_vars(with(&[("TENCENTCLOUD_SESSION_TOKEN", "other")])).unwrap();
        assert_eq!(token(&c).as_deref(), Some("other"));
        let c = Config::from_vars(with(&[
            ("TENCENTCLOUD_SECURITY_TOKEN", "tf"),
            ("TENCENTCLOUD_SESSION_TOKEN", "other"),
        ]))
        .unwrap();
        assert_eq!(token(&c).as_deref(), Some("tf"));
        let c = Config::from_vars(with(&[
            ("TENCENTCLOUD_SECURITY_TOKEN", "tf"),
            ("TENCENTCLOUD_TOKEN", "cli"),
        ]))
        .unwrap();
        assert_eq!(token(&c).as_deref(), Some("cli"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = Config::from_vars(with(&[
            ("DTS_TIMEOUT", ""),
            ("DTS_ENDPOINT", ""),
            ("TENCENTCLOUD_TOKEN", ""),
        ]))
        .unwrap();
        assert_eq!(c.timeout, DEFAULT_TIMEOUT);
        assert_eq!(c.credentials.static_keys().unwrap().token, None);
        let errs = errors_of(with(&[("DTS_JOB_ID", "  ")]));
        assert_eq!(errs[0].variable, "DTS_JOB_ID");
        assert!(errs[0].problem.starts_with("is not set"));
    }

    #[test]
    fn every_missing_variable_is_reported_at_once() {
        let errs = errors_of(Vec::new());
        let names: Vec<_> = errs.iter().map(|e| e.variable).collect();
        assert_eq!(
            names,
            [
                "DTS_JOB_ID",
                "TENCENTCLOUD_SECRET_ID",
                "TENCENTCLOUD_SECRET_KEY",
                "TENCENTCLOUD_REGION"
            ]
        );
    }

    #[test]
    fn bad_values_name_the_variable_value_and_expectation() {
        let cases = [
            ("DTS_JOB_ID", "job-1", "dts-1kl0iy0v"),
            ("DTS_CREATE_GRACE", "soon", "DTS_CREATE_GRACE"),
            ("TENCENTCLOUD_REGION", "Guangzhou", "ap-guangzhou"),
            ("DTS_TIMEOUT", "10x", "1h30m"),
            ("DTS_TIMEOUT", "0", "greater than zero"),
            ("DTS_POLL_INTERVAL", "50ms", "at least 100ms"),
            ("DTS_POLL_INTERVAL", "fast", "500ms"),
            ("DTS_LANGUAGE", "fr-FR", "zh-CN"),
            ("DTS_ENDPOINT", "http://dts.tencentcloudapi.com", "loopback"),
            ("DTS_ENDPOINT", "ftp://x", "https"),
            ("DTS_ENDPOINT", "https://h/path", "path"),
            ("DTS_ENDPOINT", "https://h:99999", "port"),
        ];
        for (var, value, hint) in cases {
            let errs = errors_of(with(&[(var, value)]));
            assert_eq!(errs.len(), 1, "{var}={value}: {errs:?}");
            assert_eq!(errs[0].variable, var);
            let line = errs[0].to_string();
            assert!(line.contains(hint), "{line:?} should mention {hint:?}");
            assert!(!line.contains('\n'));
            if !value.is_empty() && var != "DTS_POLL_INTERVAL" {
                assert!(line.contains(value), "{line:?} should quote {value:?}");
            }
        }
    }

    #[test]
    fn secrets_are_never_echoed_in_errors() {
        let errs = errors_of(with(&[
            ("TENCENTCLOUD_SECRET_KEY", "s3cr3t-with-newline\n"),
            ("TENCENTCLOUD_TOKEN", "tok en"),
        ]));
        assert_eq!(errs.len(), 2);
        for e in &errs {
            let line = e.to_string();
            assert!(
                !line.contains("s3cr3t") && !line.contains("tok en"),
                "{line}"
            );
        }
        assert_eq!(errs[0].variable, "TENCENTCLOUD_SECRET_KEY");
        assert_eq!(errs[1].variable, "TENCENTCLOUD_TOKEN");
    }

    #[test]
    fn debug_redacts_credentials() {
        let c = Config::from_vars(with(&[("TENCENTCLOUD_TOKEN", "tok123")])).unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("secretkey")
                && !shown.contains("tok123")
                && !shown.contains("AKIDtest")
        );
        assert!(shown.contains("***"));
    }

    #[test]
    fn endpoints() {
        let e = parse_endpoint("dts.ap-guangzhou.tencentcloudapi.com").unwrap();
        assert_eq!(e.url, "https://dts.ap-guangzhou.tencentcloudapi.com/");
        let e = parse_endpoint("https://Example.com:443/").unwrap();
        assert_eq!(
            (e.url.as_str(), e.host.as_str()),
            ("https://example.com/", "example.com")
        );
        let e = parse_endpoint("https://example.com:8443").unwrap();
        assert_eq!(e.host, "example.com:8443");
        let e = parse_endpoint("http://127.0.0.1:5000").unwrap();
        assert_eq!(
            (e.url.as_str(), e.is_loopback),
            ("http://127.0.0.1:5000/", true)
        );
        assert!(parse_endpoint("http://localhost:80").unwrap().is_loopback);
        assert_eq!(
            parse_endpoint("http://[::1]:8080").unwrap().host,
            "[::1]:8080"
        );
        assert!(parse_endpoint("http://10.0.0.1").is_err());
        assert!(parse_endpoint("https://user@host").is_err());
        assert!(parse_endpoint("https://").is_err());
        assert!(parse_endpoint("https://ho st").is_err());
    }

    #[test]
    fn regions() {
        for ok in [
            "ap-guangzhou",
            "ap-shanghai-fsi",
            "na-siliconvalley",
            "ap-guangzhou-open",
            "eu-frankfurt",
        ] {
            assert!(region(Some(ok.into())).is_ok(), "{ok}");
        }
        for bad in [
            "guangzhou",
            "ap_guangzhou",
            "AP-GUANGZHOU",
            "ap-",
            "-ap",
            "ap-a-b-c-d",
        ] {
            assert!(region(Some(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn github_runner_needs_github_actions_true() {
        let read = |v| Vars::read(v).unwrap().github_runner();
        assert_eq!(read(vars(&[("GITHUB_OUTPUT", "/o")])), None);
        let r = read(vars(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", "/o"),
            ("GITHUB_STEP_SUMMARY", ""),
        ]))
        .unwrap();
        assert_eq!(r.output_file.as_deref(), Some("/o"));
        assert_eq!(r.summary_file, None);
    }

    #[test]
    fn report_files_are_read_whatever_else_is_wrong() {
        let read = |v| Vars::read(v).unwrap().report_files();
        assert_eq!(read(vars(&[])), ReportFiles::default());
        let r = read(vars(&[
            ("DTS_REPORT_JSON", "out/report.json"),
            ("DTS_REPORT_JUNIT", " "),
            ("DTS_REPORT_DOTENV", "gate.env"),
            ("DTS_TIMEOUT", "not a duration"),
            ("HOSTNAME", "runner-7\n"),
        ]));
        assert_eq!(r.json.as_deref(), Some("out/report.json"));
        assert_eq!(r.junit, None);
        assert_eq!(r.dotenv.as_deref(), Some("gate.env"));
        assert_eq!(r.hostname.as_deref(), Some("runner-7"));
    }

    #[test]
    fn demo_mode() {
        let read = |v| Vars::read(v).unwrap().demo_mode();
        assert_eq!(read(vars(&[])), Ok(None));
        assert_eq!(read(vars(&[("DTS_DEMO", "")])), Ok(None));
        assert_eq!(
            read(vars(&[("DTS_DEMO", "fail")])),
            Ok(Some(DemoMode::Fail))
        );
        let e = read(vars(&[("DTS_DEMO", "yes")])).unwrap_err();
        assert!(e.to_string().contains("\"yes\"") && e.to_string().contains("`pass` or `fail`"));
    }
}
