//! What to do about a problem, in the words of the surface the user configures the gate
//! through: environment variables on the command line, inputs inside the GitHub Action.
//!
//! Every message that names a setting gets the name from here, so the same hint says
//! `DTS_API_VERSION=2021-12-06` to a shell user and ``the `api-version` input (2021-12-06)``
//! to a workflow author. The API layer reports facts (codes, statuses); this module turns them
//! into advice.

use crate::api::{ApiError, ApiVersion};

/// How the user configures this run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Surface {
    /// Environment variables: a shell, Docker, or another CI system.
    #[default]
    CommandLine,
    /// The GitHub Action, whose inputs `action.yml` turns into the variables.
    Action,
}

/// A setting the user can change, known by its variable and, where it has one, its action
/// input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    JobId,
    SecretId,
    SecretKey,
    Token,
    Region,
    Timeout,
    Endpoint,
    ApiVersion,
    CreateCheck,
    CreateGrace,
    ReportJson,
    ReportJunit,
    ReportDotenv,
    FailFast,
    FailOnWarning,
    DryRun,
    MaxRequestRate,
    RoleArn,
    OidcProviderId,
    Audience,
    RoleSessionName,
    RoleDuration,
    StsEndpoint,
    Stage,
    JobKind,
    StartMigration,
    StartSync,
    MaxLag,
    MaxLagMb,
    LagSettle,
    CompleteMode,
    CompareTaskId,
    CompareMethod,
    CompareSampleRate,
    CompareThreads,
    FailOnSkippedTables,
}

impl Setting {
    /// The environment variable the binary reads.
    pub fn variable(self) -> &'static str {
        match self {
            Setting::JobId => "DTS_JOB_ID",
            Setting::SecretId => "TENCENTCLOUD_SECRET_ID",
            Setting::SecretKey => "TENCENTCLOUD_SECRET_KEY",
            Setting::Token => "TENCENTCLOUD_TOKEN",
            Setting::Region => "TENCENTCLOUD_REGION",
            Setting::Timeout => "DTS_TIMEOUT",
            Setting::Endpoint => "DTS_ENDPOINT",
            Setting::ApiVersion => "DTS_API_VERSION",
            Setting::CreateCheck => "DTS_CREATE_CHECK",
            Setting::CreateGrace => "DTS_CREATE_GRACE",
            Setting::ReportJson => "DTS_REPORT_JSON",
            Setting::ReportJunit => "DTS_REPORT_JUNIT",
            Setting::ReportDotenv => "DTS_REPORT_DOTENV",
            Setting::FailFast => "DTS_FAIL_FAST",
            Setting::FailOnWarning => "DTS_FAIL_ON_WARNING",
            Setting::DryRun => "DTS_DRY_RUN",
            Setting::MaxRequestRate => "DTS_MAX_REQUEST_RATE",
            Setting::RoleArn => "TENCENTCLOUD_ROLE_ARN",
            Setting::OidcProviderId => "TENCENTCLOUD_OIDC_PROVIDER_ID",
            Setting::Audience => "TENCENTCLOUD_OIDC_AUDIENCE",
            Setting::RoleSessionName => "TENCENTCLOUD_ROLE_SESSION_NAME",
            Setting::RoleDuration => "TENCENTCLOUD_ROLE_DURATION",
            Setting::StsEndpoint => "TENCENTCLOUD_STS_ENDPOINT",
            Setting::Stage => "DTS_STAGE",
            Setting::JobKind => "DTS_JOB_KIND",
            Setting::StartMigration => "DTS_START_MIGRATION",
            Setting::StartSync => "DTS_START_SYNC",
            Setting::MaxLag => "DTS_MAX_LAG",
            Setting::MaxLagMb => "DTS_MAX_LAG_MB",
            Setting::LagSettle => "DTS_LAG_SETTLE",
            Setting::CompleteMode => "DTS_COMPLETE_MODE",
            Setting::CompareTaskId => "DTS_COMPARE_TASK_ID",
            Setting::CompareMethod => "DTS_COMPARE_METHOD",
            Setting::CompareSampleRate => "DTS_COMPARE_SAMPLE_RATE",
            Setting::CompareThreads => "DTS_COMPARE_THREADS",
            Setting::FailOnSkippedTables => "DTS_FAIL_ON_SKIPPED_TABLES",
        }
    }

    /// The action input that sets the variable (`action.yml`), if there is one.
    pub fn input(self) -> Option<&'static str> {
        Some(match self {
            Setting::JobId => "job-id",
            Setting::SecretId => "secret-id",
            Setting::SecretKey => "secret-key",
            Setting::Token => "token",
            Setting::Region => "region",
            Setting::Timeout => "timeout",
            Setting::Endpoint => "endpoint",
            Setting::ApiVersion => "api-version",
            Setting::CreateCheck => "create-check",
            Setting::CreateGrace => "create-grace",
            Setting::ReportJson => "report-json",
            Setting::ReportJunit => "report-junit",
            Setting::ReportDotenv => "report-dotenv",
            Setting::FailFast => "fail-fast",
            Setting::FailOnWarning => "fail-on-warning",
            Setting::DryRun => "dry-run",
            Setting::MaxRequestRate => "max-request-rate",
            Setting::RoleArn => "role-arn",
            Setting::OidcProviderId => "oidc-provider-id",
            Setting::Audience => "audience",
            Setting::RoleSessionName => "role-session-name",
            Setting::RoleDuration => "role-duration",
            Setting::StsEndpoint => return None,
            Setting::Stage => "stage",
            Setting::JobKind => "job-kind",
            Setting::StartMigration => "start-migration",
            Setting::StartSync => "start-sync",
            Setting::MaxLag => "max-lag",
            Setting::MaxLagMb => "max-lag-mb",
            Setting::LagSettle => "lag-settle",
            Setting::CompleteMode => "complete-mode",
            Setting::CompareTaskId => "compare-task-id",
            Setting::CompareMethod => "compare-method",
            Setting::CompareSampleRate => "compare-sample-rate",
            Setting::CompareThreads => "compare-threads",
            Setting::FailOnSkippedTables => "fail-on-skipped-tables",
        })
    }
}

impl Surface {
    /// The setting as this surface's user knows it.
    pub fn name(self, setting: Setting) -> String {
        match (self, setting.input()) {
            (Surface::Action, Some(input)) => format!("the `{input}` input"),
            _ => setting.variable().to_string(),
        }
    }

    /// The setting given `value`: `DTS_API_VERSION=2021-12-06`, or the input set to it.
    pub fn assignment(self, setting: Setting, value: &str) -> String {
        match (self, setting.input()) {
            (Surface::Action, Some(input)) => format!("`{input}: {value}`"),
            _ => format!("{}={value}", setting.variable()),
        }
    }
}

/// What the user should do about `error` (which setting, which value), when there is a clear
/// answer. `api` is the version the request used.
pub fn api_error(error: &ApiError, api: ApiVersion, surface: Surface) -> Option<String> {
    let name = |setting| surface.name(setting);
    match error {
        ApiError::Service { code, message, .. } => service_code(code, message, api, surface),
        ApiError::Credentials {
            source, code, ..
        } => credential_source(source, code, surface),
        // rustls's wording for a chain no trusted root signs: typically an inspecting proxy.
        ApiError::Transport { detail } if detail.contains("invalid peer certificate") => Some(
            "the endpoint's TLS certificate is not trusted; behind a TLS-inspecting proxy, set SSL_CERT_FILE to a PEM file with the proxy's CA certificate".into(),
        ),
        ApiError::Transport { .. } => Some(format!(
            "check the runner's network, {} and HTTPS_PROXY/NO_PROXY; the gate retried until the deadline",
            name(Setting::Endpoint)
        )),
        ApiError::Unreachable { .. } => Some(format!(
            "the endpoint never answered: check that {} names a reachable host (a typo in it looks like this) and the runner's network, HTTPS_PROXY/NO_PROXY",
            name(Setting::Endpoint)
        )),
        ApiError::CheckNeverAppeared { .. } => Some(format!(
            "look at the job in the DTS console: the new check may be queued; run again, or raise {} if the service is slow to show new checks",
            name(Setting::CreateGrace)
        )),
        ApiError::HttpStatus { .. } | ApiError::Malformed { .. } => Some(format!(
            "the endpoint did not answer like the DTS API; check {} and any proxy in between",
            name(Setting::Endpoint)
        )),
    }
}

/// What to fix when a credential source failed: STS refused the exchange, the runner gave no
/// identity token, the metadata service had no credentials.
fn credential_source(source: &str, code: &str, surface: Surface) -> Option<String> {
    let name = |setting| surface.name(setting);
    let web_identity = source.ends_with("AssumeRoleWithWebIdentity");
    Some(match code {
        "InvalidParameter.WebIdentityTokenError" => format!(
            "STS refused the identity token: {} must equal the client id of the CAM identity provider {} names, and the token must not have expired",
            name(Setting::Audience),
            name(Setting::OidcProviderId)
        ),
        "InvalidParameter.ParamError" if web_identity => format!(
            "check {}: it must be the name of a CAM OIDC identity provider (CAM console → Identity providers → Role SSO)",
            name(Setting::OidcProviderId)
        ),
        "InternalError.GetRoleError" | "InternalError.IllegalRole" | "ResourceNotFound.RoleNotFound" => format!(
            "check {}: no such role (CAM console → Roles → the role → RoleArn)",
            name(Setting::RoleArn)
        ),
        "InvalidParameter.OverTimeError" => format!(
            "lower {}: it is longer than the role's maximum session duration",
            name(Setting::RoleDuration)
        ),
        "InvalidParameter.RoleSessionNameError" => format!("check {}", name(Setting::RoleSessionName)),
        _ if (code.starts_with("UnauthorizedOperation") || code.starts_with("AuthFailure"))
            && web_identity =>
        {
            format!(
            "the trust policy of the role in {} rejects this token: it must allow sts:AssumeRoleWithWebIdentity for the provider in {}, with oidc:iss, and its oidc:sub condition must match this repository and branch",
            name(Setting::RoleArn),
            name(Setting::OidcProviderId)
        )
        }
        _ if code.starts_with("UnauthorizedOperation") || code.starts_with("AuthFailure") => format!(
            "the base keys may not assume the role in {}: check {} and {}, and that the role's trust policy allows their account sts:AssumeRole",
            name(Setting::RoleArn),
            name(Setting::SecretId),
            name(Setting::SecretKey)
        ),
        _ if source.starts_with("GitHub") => "the runner gave no identity token: add `permissions: id-token: write` to the job (or the workflow)".into(),
        "IdentityTokenUnavailable" => "the identity token file must hold the raw JWT (GitLab id_tokens: write the variable to a file; TKE: the projected service-account token)".into(),
        "NoCredentials" => format!("set {} and {}, or a keyless source (README, \"Keyless with GitHub OIDC\")", name(Setting::SecretId), name(Setting::SecretKey)),
        _ if source.starts_with("CVM") => "check the CAM role bound to this CVM instance (CVM console → the instance → Bind role)".into(),
        "NetworkError" => format!(
            "check the runner's network, {} and HTTPS_PROXY/NO_PROXY",
            name(Setting::StsEndpoint)
        ),
        _ => return None,
    })
}

/// Which setting a parameter error is about, from the parameter its message names.
fn parameter_subject(message: &str) -> Option<Setting> {
    let message = message.to_ascii_lowercase();
    if message.contains("region") {
        Some(Setting::Region)
    } else if message.contains("jobid") || message.contains("job id") || message.contains("job_id")
    {
        Some(Setting::JobId)
    } else {
        None
    }
}

fn service_code(code: &str, message: &str, api: ApiVersion, surface: Surface) -> Option<String> {
    let name = |setting| surface.name(setting);
    let family = code.split('.').next().unwrap_or(code);
    Some(match (family, code) {
        (_, "AuthFailure.SignatureExpire") => {
            "the runner's clock is more than 5 minutes off; sync it (NTP) and run again".into()
        }
        (_, "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId") => format!(
            "check {}: the key does not exist or was deleted",
            name(Setting::SecretId)
        ),
        (_, "AuthFailure.SignatureFailure") => format!(
            "check that {} belongs to {}",
            name(Setting::SecretKey),
            name(Setting::SecretId)
        ),
        (_, "AuthFailure.TokenFailure") => format!(
            "{} is invalid or expired; fetch fresh temporary credentials",
            name(Setting::Token)
        ),
        ("AuthFailure" | "UnauthorizedOperation", _) if api == ApiVersion::Sync => format!(
            "grant the key's CAM user or role permission for dts:{} and dts:{} on this job (and dts:{}, dts:{} when the gate creates the check or starts the job)",
            api.describe_check_action(),
            api.describe_job_action(),
            api.create_check_action(),
            api.start_action()
        ),
        ("AuthFailure" | "UnauthorizedOperation", _) => format!(
            "grant the key's CAM user or role permission for dts:{} on this job",
            api.describe_check_action()
        ),
        ("ResourceNotFound", _) if api == ApiVersion::Sync => format!(
            "check {} and {} (the job's own region): a sync job's id looks like sync-werwfs23; if this is a migration job, set {}",
            name(Setting::JobId),
            name(Setting::Region),
            surface.assignment(Setting::JobKind, "migration"),
        ),
        ("ResourceNotFound", _) => format!(
            "check {} and {} (the job's own region); if the job was created with the other DTS API generation, set {} (now {})",
            name(Setting::JobId),
            name(Setting::Region),
            surface.assignment(Setting::ApiVersion, api.other().as_str()),
            api.as_str()
        ),
        ("InvalidParameter" | "InvalidParameterValue" | "MissingParameter", _) => {
            match parameter_subject(message)? {
                Setting::Region => format!(
                    "check {}: it must be the region id of the job, e.g. ap-guangzhou",
                    name(Setting::Region)
                ),
                _ if api == ApiVersion::Sync => format!(
                    "check {}: it must be the id of a sync job, e.g. sync-werwfs23",
                    name(Setting::JobId)
                ),
                _ => format!(
                    "check {}: it must be the id of a migration job, e.g. dts-1kl0iy0v",
                    name(Setting::JobId)
                ),
            }
        }
        ("UnsupportedRegion", _) => {
            format!("check {}: DTS is not offered there", name(Setting::Region))
        }
        ("InvalidAction" | "NoSuchVersion" | "ActionOffline", _) => format!(
            "this endpoint does not serve {} {}; check {}, {} and {}",
            api.describe_check_action(),
            api.as_str(),
            name(Setting::Endpoint),
            name(Setting::Region),
            name(Setting::ApiVersion)
        ),
        _ => return None,
    })
}

/// What to do when the timeout passed while the check was still running.
pub fn raise_timeout(surface: Surface) -> String {
    format!(
        "raise {} or look at the job in the DTS console",
        surface.name(Setting::Timeout)
    )
}

/// What to do when a job shows no check at all; `create_action` creates one.
pub fn create_a_check(create_action: &str, surface: Surface) -> String {
    format!(
        "run {create_action} first (or set {})",
        surface.assignment(Setting::CreateCheck, "true")
    )
}

/// The setting that turns a pass with warnings into a failure, as the user set it.
pub fn fail_on_warning(surface: Surface) -> String {
    surface.assignment(Setting::FailOnWarning, "true")
}

/// How to make the gate wait for every job even once one cannot pass.
pub fn wait_for_every_job(surface: Surface) -> String {
    format!(
        "set {} to wait for every job",
        surface.assignment(Setting::FailFast, "false")
    )
}

/// Where the rule that ignores a stale result is tuned.
pub fn create_grace(surface: Surface) -> String {
    format!("see {}", surface.name(Setting::CreateGrace))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str, api: ApiVersion, surface: Surface) -> String {
        about(code, "", api, surface)
    }

    fn about(code: &str, message: &str, api: ApiVersion, surface: Surface) -> String {
        let error = ApiError::Service {
            code: code.into(),
            message: message.into(),
            request_id: String::new(),
        };
        api_error(&error, api, surface).unwrap_or_default()
    }

    #[test]
    fn sync_hints_name_the_sync_actions_and_the_kind() {
        let hint = |code: &str, surface| service(code, ApiVersion::Sync, surface);
        let denied = hint(
            "UnauthorizedOperation.NotEnoughPrivileges",
            Surface::CommandLine,
        );
        assert!(
            denied.contains("dts:DescribeCheckSyncJobResult and dts:DescribeSyncJobs"),
            "{denied}"
        );
        let missing = hint("ResourceNotFound.JobNotExist", Surface::CommandLine);
        assert!(missing.contains("sync-werwfs23"), "{missing}");
        assert!(missing.contains("DTS_JOB_KIND=migration"), "{missing}");
        assert!(!missing.contains("DTS_API_VERSION"), "{missing}");
        let missing = hint("ResourceNotFound.JobNotExist", Surface::Action);
        assert!(missing.contains("`job-kind: migration`"), "{missing}");
        assert_eq!(
            create_a_check("CreateCheckSyncJob", Surface::CommandLine),
            "run CreateCheckSyncJob first (or set DTS_CREATE_CHECK=true)"
        );
    }

    #[test]
    fn hints_name_what_to_change() {
        let hint = |code: &str| service(code, ApiVersion::V2018, Surface::CommandLine);
        assert!(hint("AuthFailure.SignatureExpire").contains("clock"));
        assert!(hint("ResourceNotFound.JobNotExist").contains("DTS_JOB_ID"));
        assert!(hint("ResourceNotFound.JobNotExist").contains("DTS_API_VERSION=2021-12-06"));
        assert!(
            hint("UnauthorizedOperation.NotEnoughPrivileges")
                .contains("dts:DescribeMigrateCheckJob")
        );
        assert!(hint("UnsupportedRegion").contains("TENCENTCLOUD_REGION"));
        assert!(hint("AuthFailure.SignatureFailure").contains("TENCENTCLOUD_SECRET_KEY"));
        assert_eq!(hint("FailedOperation.Whatever"), "");

        let hint = |code: &str| service(code, ApiVersion::V2021, Surface::CommandLine);
        assert!(
            hint("ResourceNotFound.ResourceNotFoundError").contains("DTS_API_VERSION=2018-03-30")
        );
        assert!(
            hint("UnauthorizedOperation.PermissionDenied")
                .contains("dts:DescribeMigrationCheckJob")
        );
    }

    #[test]
    fn parameter_errors_get_the_hint_of_the_parameter_they_name() {
        let hint = |code: &str, message: &str| {
            about(code, message, ApiVersion::V2018, Surface::CommandLine)
        };
        let region = hint(
            "InvalidParameterValue",
            "The value of parameter `Region` is invalid: ap-guangzou",
        );
        assert!(region.contains("TENCENTCLOUD_REGION"), "{region}");
        assert!(!region.contains("DTS_JOB_ID"), "{region}");
        let job = hint("InvalidParameter", "parameter JobId is not valid");
        assert!(job.contains("DTS_JOB_ID"), "{job}");
        // A parameter the gate does not set: no guess at a setting.
        assert_eq!(hint("InvalidParameter", "Limit must be below 100"), "");
    }

    #[test]
    fn credential_sources_get_hints_about_their_own_settings() {
        let hint = |source: &str, code: &str, surface| {
            let error = ApiError::Credentials {
                source: source.into(),
                code: code.into(),
                message: String::new(),
                request_id: None,
                transient: false,
            };
            api_error(&error, ApiVersion::V2018, surface).unwrap_or_default()
        };
        let web = "STS AssumeRoleWithWebIdentity";
        let cli = Surface::CommandLine;
        assert!(
            hint(web, "InvalidParameter.WebIdentityTokenError", cli)
                .contains("TENCENTCLOUD_OIDC_AUDIENCE")
        );
        assert!(
            hint(web, "InvalidParameter.ParamError", cli).contains("TENCENTCLOUD_OIDC_PROVIDER_ID")
        );
        assert!(
            hint(web, "ResourceNotFound.RoleNotFound", Surface::Action)
                .contains("the `role-arn` input")
        );
        assert!(hint(web, "UnauthorizedOperation", cli).contains("oidc:sub"));
        // AssumeRole is refused for the base keys, not a token.
        let refused = hint("STS AssumeRole", "UnauthorizedOperation", cli);
        assert!(
            refused.contains("TENCENTCLOUD_SECRET_ID") && !refused.contains("oidc"),
            "{refused}"
        );
        assert!(
            hint("GitHub OIDC token endpoint", "HttpStatus403", cli).contains("id-token: write")
        );
        // Never the DTS advice (a job id, dts: permissions) for a credential failure.
        let unknown = hint(web, "FailedOperation.Other", cli);
        assert!(
            !unknown.contains("DTS_JOB_ID") && !unknown.contains("dts:"),
            "{unknown}"
        );
    }

    #[test]
    fn inside_the_action_hints_name_its_inputs() {
        let hint = service(
            "ResourceNotFound.JobNotExist",
            ApiVersion::V2018,
            Surface::Action,
        );
        assert_eq!(
            hint,
            "check the `job-id` input and the `region` input (the job's own region); if the job was created with the other DTS API generation, set `api-version: 2021-12-06` (now 2018-03-30)"
        );
        assert!(!hint.contains("DTS_"), "{hint}");
        let transport = ApiError::Transport {
            detail: "connection refused".into(),
        };
        let hint = api_error(&transport, ApiVersion::V2018, Surface::Action).unwrap();
        assert!(hint.contains("the `endpoint` input"), "{hint}");
        assert_eq!(
            raise_timeout(Surface::Action),
            "raise the `timeout` input or look at the job in the DTS console"
        );
        assert_eq!(
            create_a_check("CreateMigrateCheckJob", Surface::Action),
            "run CreateMigrateCheckJob first (or set `create-check: true`)"
        );
        assert_eq!(
            create_grace(Surface::Action),
            "see the `create-grace` input"
        );
    }

    #[test]
    fn every_input_is_one_that_action_yml_declares_and_passes_on() {
        let action = include_str!("../action.yml");
        for setting in [
            Setting::JobId,
            Setting::SecretId,
            Setting::SecretKey,
            Setting::Token,
            Setting::Region,
            Setting::Timeout,
            Setting::Endpoint,
            Setting::ApiVersion,
            Setting::CreateCheck,
            Setting::CreateGrace,
            Setting::ReportJson,
            Setting::ReportJunit,
            Setting::ReportDotenv,
            Setting::FailFast,
            Setting::FailOnWarning,
            Setting::DryRun,
            Setting::MaxRequestRate,
            Setting::RoleArn,
            Setting::OidcProviderId,
            Setting::Audience,
            Setting::RoleSessionName,
            Setting::RoleDuration,
        ] {
            let Some(input) = setting.input() else {
                assert!(!action.contains(&format!("{}:", setting.variable())));
                continue;
            };
            assert!(action.contains(&format!("\n  {input}:\n")), "{input}");
            assert!(
                action.contains(&format!("{}: ${{{{ inputs.{input}", setting.variable())),
                "{input} should set {}",
                setting.variable()
            );
        }
    }
}
