//! Where the gate's credentials come from, in the order the issue and the SDKs try them:
//!
//! 1. keys in the environment (`TENCENTCLOUD_SECRET_ID`/`_SECRET_KEY`, token from
//!    `TENCENTCLOUD_TOKEN`, else `_SECURITY_TOKEN`, else `_SESSION_TOKEN`);
//! 2. web identity (OIDC): `TENCENTCLOUD_ROLE_ARN` + `TENCENTCLOUD_OIDC_PROVIDER_ID` with a token
//!    from `TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE` or GitHub's OIDC endpoint, or TKE's `TKE_*`;
//! 3. `TENCENTCLOUD_ROLE_ARN` alone: STS `AssumeRole` on top of keys from 1, 4 or 5;
//! 4. profile files (the SDKs' INI file, tccli's profile);
//! 5. the CVM instance role (metadata service).
//!
//! [`choose`] picks the source from the variables and the profile files (pure, files through
//! [`Files`]); [`Keyring`] fetches and refreshes credentials from it, with HTTP through [`Http`]
//! and the time passed in, so tests never wait. The per-source protocols are pure modules:
//! `sts`, `github`, `metadata`, `profile`; `transport` holds the real HTTP and files.

pub mod github;
pub mod metadata;
pub mod profile;
pub mod sts;
pub mod transport;

use std::time::Duration;

use crate::api::{ApiError, Credentials, Endpoint, Secrets};
use crate::config::ConfigError;

pub const DEFAULT_AUDIENCE: &str = "sts.tencentcloudapi.com";
/// Seconds; STS allows up to 43200. A refresh keeps a longer wait going.
pub const DEFAULT_DURATION: u32 = 3600;
pub const MAX_DURATION: u32 = 43200;
/// The metadata service is link-local: a runner outside Tencent Cloud must not wait long for it
/// (Terraform uses the same 2 s).
pub const METADATA_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// No credential request may take longer than this.
pub const MAX_FETCH_TIME: Duration = Duration::from_secs(15);
/// Refresh this long before expiry at most (the SDKs' 300 s) ...
const MAX_REFRESH_MARGIN: i64 = 300;
/// ... and at least this long, so a request signed just before expiry still arrives in time.
const MIN_REFRESH_MARGIN: i64 = 5;

/// The variables of every credential source, as read (empty values already dropped).
#[derive(Debug, Clone, Default)]
pub struct CredentialVars {
    pub secret_id: Option<String>,
    pub secret_key: Option<String>,
    pub token: Option<String>,
    pub security_token: Option<String>,
    pub session_token: Option<String>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub role_duration: Option<String>,
    pub oidc_provider_id: Option<String>,
    pub oidc_audience: Option<String>,
    pub web_identity_token_file: Option<String>,
    pub actions_id_token_request_url: Option<String>,
    pub actions_id_token_request_token: Option<String>,
    pub tke_provider_id: Option<String>,
    pub tke_web_identity_token_file: Option<String>,
    pub tke_role_arn: Option<String>,
    pub tke_region: Option<String>,
    pub credentials_file: Option<String>,
    pub tccli_profile: Option<String>,
    pub home: Option<String>,
    pub metadata_endpoint: Option<String>,
    /// For a session name derived from the CI context.
    pub github_repository: Option<String>,
    pub github_run_id: Option<String>,
    pub ci_project_path: Option<String>,
    pub ci_pipeline_id: Option<String>,
}

/// Reads files for [`choose`] and the [`Keyring`]; `Ok(None)` when the file does not exist.
pub trait Files: Send {
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// One HTTP exchange for a credential source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    pub fn get(url: &str, headers: Vec<(&'static str, String)>) -> HttpRequest {
        HttpRequest {
            method: "GET",
            url: url.to_string(),
            headers,
            body: Vec::new(),
        }
    }

    pub fn post(url: &str, headers: Vec<(&'static str, String)>, body: Vec<u8>) -> HttpRequest {
        HttpRequest {
            method: "POST",
            url: url.to_string(),
            headers,
            body,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Where credential requests go. `Err` is a transport failure; `connect` caps connecting
/// (the metadata service's short timeout).
pub trait Http: Send {
    fn send(
        &self,
        request: &HttpRequest,
        budget: Duration,
        connect: Option<Duration>,
    ) -> Result<HttpAnswer, ApiError>;
}

/// Credentials as issued, with when they expire (`None`: long-lived keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub credentials: Credentials,
    pub expires_at: Option<i64>,
    pub issued_at: i64,
}

impl Issued {
    fn lasting(credentials: Credentials) -> Issued {
        Issued {
            credentials,
            expires_at: None,
            issued_at: 0,
        }
    }

    /// Due for a refresh: within a tenth of its lifetime (5 s to 5 min) of expiry.
    pub fn is_due(&self, now: i64) -> bool {
        let Some(expires_at) = self.expires_at else {
            return false;
        };
        let margin =
            ((expires_at - self.issued_at) / 10).clamp(MIN_REFRESH_MARGIN, MAX_REFRESH_MARGIN);
        now >= expires_at - margin
    }

    fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// A failed credential request as an API error (`ApiError::Credentials`).
pub fn failure(
    source: &str,
    code: &str,
    message: &str,
    request_id: Option<String>,
    transient: bool,
) -> ApiError {
    ApiError::Credentials {
        source: source.to_string(),
        code: code.to_string(),
        message: message.to_string(),
        request_id,
        transient,
    }
}

/// A role to take on through STS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub arn: String,
    pub session_name: String,
    pub duration: u32,
    pub sts: Endpoint,
    /// `X-TC-Region` of the STS request.
    pub region: String,
}

/// Where a web identity token comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum IdentityToken {
    /// A file holding the raw JWT, read again at each exchange (TKE and GitLab rotate it).
    File {
        path: String,
        variable: &'static str,
    },
    /// GitHub Actions' OIDC endpoint; a new token is fetched for each exchange.
    GitHub {
        url: String,
        bearer: String,
        audience: String,
    },
}

/// The credential source a run uses. `Debug` shows no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Long-lived (or externally issued) keys: from the environment or a profile file.
    Keys {
        credentials: Credentials,
        origin: String,
    },
    /// The CVM instance role; `missing` is what to report when the runner has none.
    InstanceRole {
        metadata: String,
        missing: Vec<ConfigError>,
    },
    WebIdentity {
        role: Role,
        provider_id: String,
        token: IdentityToken,
        tke: bool,
    },
    AssumeRole {
        role: Role,
        base: Box<Source>,
    },
}

impl std::fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IdentityToken::File { path, .. } => write!(f, "File({path})"),
            IdentityToken::GitHub { audience, .. } => {
                write!(f, "GitHub(audience {audience}, bearer ***)")
            }
        }
    }
}

impl Source {
    /// Keys given directly: the demo's own.
    pub fn keys(credentials: Credentials) -> Source {
        Source::Keys {
            credentials,
            origin: "the demo's own settings".into(),
        }
    }

    /// The secrets known before anything is fetched: keys, tokens, the runner's bearer token.
    pub fn known_secrets(&self) -> Secrets {
        let mut secrets = Secrets::default();
        self.add_secrets(&mut secrets);
        secrets
    }

    fn add_secrets(&self, secrets: &mut Secrets) {
        match self {
            Source::Keys { credentials, .. } => {
                secrets.add(&credentials.secret_key);
                if let Some(token) = &credentials.token {
                    secrets.add(token);
                }
            }
            Source::WebIdentity {
                token: IdentityToken::GitHub { bearer, .. },
                ..
            } => secrets.add(bearer),
            Source::AssumeRole { base, .. } => base.add_secrets(secrets),
            Source::InstanceRole { .. } | Source::WebIdentity { .. } => {}
        }
    }

    /// The keys, when they are known without fetching anything.
    pub fn static_keys(&self) -> Option<&Credentials> {
        match self {
            Source::Keys { credentials, .. } => Some(credentials),
            _ => None,
        }
    }

    /// The role ARN's account id, to mask in logs.
    pub fn account_id(&self) -> Option<String> {
        match self {
            Source::WebIdentity { role, .. } | Source::AssumeRole { role, .. } => {
                account_id(&role.arn).map(str::to_string)
            }
            _ => None,
        }
    }

    /// One phrase for the log and the dry run: which source, and nothing secret.
    pub fn describe(&self) -> String {
        match self {
            Source::Keys {
                credentials,
                origin,
            } => format!(
                "keys from {origin} (SecretId {}…{})",
                credentials.secret_id.chars().take(8).collect::<String>(),
                if credentials.token.is_some() {
                    ", with a session token"
                } else {
                    ""
                }
            ),
            Source::InstanceRole { metadata, .. } => {
                format!("the CVM instance role, from the metadata service at {metadata}")
            }
            Source::WebIdentity {
                role,
                provider_id,
                token,
                tke,
            } => {
                let from = match token {
                    IdentityToken::File { path, variable } => {
                        format!("the identity token file {path} ({variable})")
                    }
                    IdentityToken::GitHub { audience, .. } => {
                        format!("GitHub Actions' OIDC token (audience {audience})")
                    }
                };
                format!(
                    "web identity{}: {from} exchanged with STS AssumeRoleWithWebIdentity at {} for role {} (provider {provider_id}, session {}, {} s)",
                    if *tke { " (TKE)" } else { "" },
                    role.sts.host,
                    masked_arn(&role.arn),
                    role.session_name,
                    role.duration
                )
            }
            Source::AssumeRole { role, base } => format!(
                "role {} assumed with STS AssumeRole at {} (session {}, {} s) with {}",
                masked_arn(&role.arn),
                role.sts.host,
                role.session_name,
                role.duration,
                base.describe()
            ),
        }
    }
}

/// `qcs::cam::uin/<account>:roleName/<name>`'s account id.
fn account_id(arn: &str) -> Option<&str> {
    let rest = arn.split_once("uin/")?.1;
    let id = rest.split(':').next()?;
    (!id.is_empty()).then_some(id)
}

/// The ARN with its account id replaced by `***`.
pub fn masked_arn(arn: &str) -> String {
    match account_id(arn) {
        Some(id) => arn.replacen(&format!("uin/{id}"), "uin/***", 1),
        None => arn.to_string(),
    }
}

/// What the run needs besides the variables to choose a source.
pub struct Context<'a> {
    /// The job's region, for `X-TC-Region` of STS requests.
    pub region: &'a str,
    /// The STS endpoint (`TENCENTCLOUD_STS_ENDPOINT`, or derived from the site).
    pub sts: Endpoint,
}

/// Picks the credential source from `vars` (and the profile files through `files`), in the
/// order documented above. Every problem is one line naming its variable.
pub fn choose(
    vars: &CredentialVars,
    files: &dyn Files,
    context: &Context,
) -> Result<Source, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let keys = env_keys(vars, &mut errors);
    let role = |arn: &str,
                variable: &'static str,
                region: &str,
                errors: &mut Vec<ConfigError>|
     -> Option<Role> {
        let arn = role_arn(arn, variable).map_err(|e| errors.push(e)).ok()?;
        let session_name = session_name(vars).map_err(|e| errors.push(e)).ok()?;
        let duration = duration(vars).map_err(|e| errors.push(e)).ok()?;
        Some(Role {
            arn,
            session_name,
            duration,
            sts: context.sts.clone(),
            region: region.to_string(),
        })
    };
    let source = match (&keys, &vars.role_arn, &vars.oidc_provider_id) {
        (None, None, Some(_)) => {
            errors.push(ConfigError {
                variable: "TENCENTCLOUD_ROLE_ARN",
                problem: "is not set, but TENCENTCLOUD_OIDC_PROVIDER_ID is; expected the ARN of the role to assume with the identity token, e.g. qcs::cam::uin/100000000001:roleName/dts-gate-ci".into(),
            });
            None
        }
        (Some(keys), Some(arn), None) => {
            role(arn, "TENCENTCLOUD_ROLE_ARN", context.region, &mut errors).map(|role| {
                Source::AssumeRole {
                    role,
                    base: Box::new(keys.clone()),
                }
            })
        }
        (Some(keys), _, _) => Some(keys.clone()),
        (None, Some(arn), Some(provider_id)) => {
            let token = identity_token(vars, &mut errors);
            role(arn, "TENCENTCLOUD_ROLE_ARN", context.region, &mut errors)
                .zip(token)
                .map(|(role, token)| Source::WebIdentity {
                    role,
                    provider_id: provider_id.trim().to_string(),
                    token,
                    tke: false,
                })
        }
        (None, arn, None) => {
            if let Some(tke) = tke(vars, context, &mut errors, &role) {
                Some(tke)
            } else if !errors.is_empty() {
                None
            } else {
                let base =
                    profile(vars, files, &mut errors).unwrap_or_else(|| instance_role(vars, None));
                match arn {
                    Some(arn) => role(arn, "TENCENTCLOUD_ROLE_ARN", context.region, &mut errors)
                        .map(|role| Source::AssumeRole {
                            role,
                            base: Box::new(base),
                        }),
                    None => Some(base),
                }
            }
        }
    };
    match source {
        Some(source) if errors.is_empty() => Ok(source),
        _ => Err(errors),
    }
}

/// Source 1, or `None` when neither key variable is set.
fn env_keys(vars: &CredentialVars, errors: &mut Vec<ConfigError>) -> Option<Source> {
    if vars.secret_id.is_none() && vars.secret_key.is_none() {
        return None;
    }
    let id = secret(
        "TENCENTCLOUD_SECRET_ID",
        &vars.secret_id,
        "the SecretId of an API key (CAM console → API Keys)",
    );
    let key = secret(
        "TENCENTCLOUD_SECRET_KEY",
        &vars.secret_key,
        "the SecretKey that belongs to TENCENTCLOUD_SECRET_ID",
    );
    let (token, token_variable) = match (&vars.token, &vars.security_token, &vars.session_token) {
        (Some(t), _, _) => (Some(t), "TENCENTCLOUD_TOKEN"),
        (None, Some(t), _) => (Some(t), "TENCENTCLOUD_SECURITY_TOKEN"),
        (None, None, Some(t)) => (Some(t), "TENCENTCLOUD_SESSION_TOKEN"),
        (None, None, None) => (None, ""),
    };
    let token = match token {
        Some(t) => secret(
            token_variable,
            &Some(t.clone()),
            "the session token of temporary credentials",
        )
        .map(Some),
        None => Ok(None),
    };
    let id = id.map_err(|e| errors.push(e)).ok();
    let key = key.map_err(|e| errors.push(e)).ok();
    let token = token.map_err(|e| errors.push(e)).ok();
    let origin = match token_variable {
        "" => "TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY".to_string(),
        variable => {
            format!("TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY, token from {variable}")
        }
    };
    Some(Source::Keys {
        credentials: Credentials {
            secret_id: id?,
            secret_key: key?,
            token: token?,
        },
        origin,
    })
}

/// Secrets are never echoed, not even in part: the message says what is wrong with them only.
pub fn secret(
    variable: &'static str,
    value: &Option<String>,
    expected: &str,
) -> Result<String, ConfigError> {
    let Some(value) = value else {
        return Err(ConfigError {
            variable,
            problem: format!("is not set; expected {expected}"),
        });
    };
    if value.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(value.clone())
    } else {
        Err(ConfigError {
            variable,
            problem: format!(
                "contains spaces, line breaks or non-ASCII characters (a trailing newline from a file?); expected {expected}, exactly as issued"
            ),
        })
    }
}

fn role_arn(text: &str, variable: &'static str) -> Result<String, ConfigError> {
    let arn = text.trim();
    let valid = arn.starts_with("qcs::cam::uin/")
        && account_id(arn).is_some_and(|id| id.bytes().all(|b| b.is_ascii_digit()))
        && arn.contains(":roleName/")
        && arn.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(arn.to_string())
    } else {
        Err(ConfigError {
            variable,
            problem: format!(
                "got {}; expected a role ARN such as qcs::cam::uin/100000000001:roleName/dts-gate-ci (CAM console → Roles → the role → RoleArn)",
                crate::config::quote(&masked_arn(arn))
            ),
        })
    }
}

fn is_session_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// `TENCENTCLOUD_ROLE_SESSION_NAME`, else `dts-gate-<repository>-<run>` from the CI context:
/// only `[\w+=,.@-]`, at most 64 characters.
pub fn session_name(vars: &CredentialVars) -> Result<String, ConfigError> {
    if let Some(name) = &vars.role_session_name {
        let name = name.trim();
        if (2..=128).contains(&name.len()) && name.chars().all(is_session_char) {
            return Ok(name.to_string());
        }
        return Err(ConfigError {
            variable: "TENCENTCLOUD_ROLE_SESSION_NAME",
            problem: format!(
                "got {}; expected 2 to 128 characters of letters, digits and _+=,.@-",
                crate::config::quote(name)
            ),
        });
    }
    let context = [
        (&vars.github_repository, &vars.github_run_id),
        (&vars.ci_project_path, &vars.ci_pipeline_id),
    ]
    .into_iter()
    .find_map(|(project, run)| project.as_ref().map(|p| (p.clone(), run.clone())));
    let raw = match context {
        Some((project, Some(run))) => format!("dts-gate-{project}-{run}"),
        Some((project, None)) => format!("dts-gate-{project}"),
        None => "dts-gate".to_string(),
    };
    let mut name: String = raw
        .chars()
        .map(|c| if is_session_char(c) { c } else { '-' })
        .collect();
    name.truncate(64);
    Ok(name)
}

fn duration(vars: &CredentialVars) -> Result<u32, ConfigError> {
    let Some(text) = &vars.role_duration else {
        return Ok(DEFAULT_DURATION);
    };
    match crate::duration::parse(text, false).map(|d| d.as_secs()) {
        Some(s) if (1..=u64::from(MAX_DURATION)).contains(&s) => Ok(s as u32),
        _ => Err(ConfigError {
            variable: "TENCENTCLOUD_ROLE_DURATION",
            problem: format!(
                "got {}; expected how long the temporary credentials last, such as 3600, 1h or 2h, at most 12h (43200 s, the STS limit); the gate refreshes them before they expire",
                crate::config::quote(text)
            ),
        }),
    }
}

/// `TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE`, else GitHub's OIDC endpoint.
fn identity_token(vars: &CredentialVars, errors: &mut Vec<ConfigError>) -> Option<IdentityToken> {
    if let Some(path) = &vars.web_identity_token_file {
        return Some(IdentityToken::File {
            path: path.trim().to_string(),
            variable: "TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE",
        });
    }
    let audience = vars
        .oidc_audience
        .as_deref()
        .map(str::trim)
        .unwrap_or(DEFAULT_AUDIENCE)
        .to_string();
    match (
        &vars.actions_id_token_request_url,
        &vars.actions_id_token_request_token,
    ) {
        (Some(url), Some(bearer)) => {
            let url = url.trim();
            let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
                .iter()
                .any(|p| {
                    url.strip_prefix(p)
                        .is_some_and(|rest| rest.starts_with([':', '/']))
                });
            if !url.starts_with("https://") && !loopback {
                errors.push(ConfigError {
                    variable: "ACTIONS_ID_TOKEN_REQUEST_URL",
                    problem:
                        "is not an https:// URL; it is set by the GitHub runner, do not override it"
                            .into(),
                });
                return None;
            }
            Some(IdentityToken::GitHub {
                url: url.to_string(),
                bearer: bearer.trim().to_string(),
                audience,
            })
        }
        _ => {
            errors.push(ConfigError {
                variable: "TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE",
                problem: "is not set and there is no GitHub OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL); expected the path of a file holding the identity token (JWT), or, on GitHub Actions, `permissions: id-token: write` on the job".into(),
            });
            None
        }
    }
}

/// Builds a [`Role`] from an ARN, the variable it came from and the STS region, collecting errors.
type MakeRole<'a> = dyn Fn(&str, &'static str, &str, &mut Vec<ConfigError>) -> Option<Role> + 'a;

/// TKE's convention, when `TKE_PROVIDER_ID` is set.
fn tke(
    vars: &CredentialVars,
    context: &Context,
    errors: &mut Vec<ConfigError>,
    role: &MakeRole<'_>,
) -> Option<Source> {
    let provider_id = vars.tke_provider_id.as_ref()?;
    let needed = [
        ("TKE_ROLE_ARN", &vars.tke_role_arn),
        (
            "TKE_WEB_IDENTITY_TOKEN_FILE",
            &vars.tke_web_identity_token_file,
        ),
    ];
    for (variable, value) in needed {
        if value.is_none() {
            errors.push(ConfigError {
                variable,
                problem: "is not set, but TKE_PROVIDER_ID is; a TKE pod with a service account bound to a CAM role gets TKE_PROVIDER_ID, TKE_ROLE_ARN and TKE_WEB_IDENTITY_TOKEN_FILE together".into(),
            });
        }
    }
    let (arn, path) = (
        vars.tke_role_arn.as_ref()?,
        vars.tke_web_identity_token_file.as_ref()?,
    );
    let region = vars
        .tke_region
        .as_deref()
        .map(str::trim)
        .unwrap_or(context.region);
    let role = role(arn, "TKE_ROLE_ARN", region, errors)?;
    Some(Source::WebIdentity {
        role,
        provider_id: provider_id.trim().to_string(),
        token: IdentityToken::File {
            path: path.trim().to_string(),
            variable: "TKE_WEB_IDENTITY_TOKEN_FILE",
        },
        tke: true,
    })
}

/// The profile files, in order; `None` when neither exists.
fn profile(
    vars: &CredentialVars,
    files: &dyn Files,
    errors: &mut Vec<ConfigError>,
) -> Option<Source> {
    let home = vars.home.as_deref().map(|h| h.trim_end_matches('/'));
    let ini = match &vars.credentials_file {
        Some(path) => Some((path.trim().to_string(), true)),
        None => home.map(|h| (format!("{h}/.tencentcloud/credentials"), false)),
    };
    if let Some((path, explicit)) = ini {
        match files.read(&path) {
            Ok(Some(text)) => match profile::parse_ini(&text) {
                Ok(credentials) => return Some(Source::Keys { credentials, origin: format!("the profile file {path}") }),
                Err(why) => errors.push(ConfigError {
                    variable: "TENCENTCLOUD_CREDENTIALS_FILE",
                    problem: format!("the file {path} {why}; expected an INI file with [default], secret_id = …, secret_key = …"),
                }),
            },
            Ok(None) if explicit => errors.push(ConfigError {
                variable: "TENCENTCLOUD_CREDENTIALS_FILE",
                problem: format!("names {path}, which does not exist; expected the path of the SDKs' INI credentials file"),
            }),
            Ok(None) => {}
            Err(why) => errors.push(ConfigError {
                variable: "TENCENTCLOUD_CREDENTIALS_FILE",
                problem: format!("the file {path} cannot be read ({why})"),
            }),
        }
        if !errors.is_empty() {
            return None;
        }
    }
    let name = vars
        .tccli_profile
        .as_deref()
        .map(str::trim)
        .unwrap_or("default");
    let path = format!("{}/.tccli/{name}.credential", home?);
    match files.read(&path) {
        Ok(Some(text)) => match profile::parse_tccli(&text) {
            Ok(credentials) => Some(Source::Keys {
                credentials,
                origin: format!("the tccli profile {path}"),
            }),
            Err(why) => {
                errors.push(ConfigError {
                    variable: "TCCLI_PROFILE",
                    problem: format!("the profile {path} {why}; run `tccli configure` again"),
                });
                None
            }
        },
        Ok(None) if vars.tccli_profile.is_some() => {
            errors.push(ConfigError {
                variable: "TCCLI_PROFILE",
                problem: format!("names the profile {name}, but {path} does not exist"),
            });
            None
        }
        Ok(None) => None,
        Err(why) => {
            errors.push(ConfigError {
                variable: "TCCLI_PROFILE",
                problem: format!("the profile {path} cannot be read ({why})"),
            });
            None
        }
    }
}

/// Source 5, with what to report (exit 2) if the runner turns out to have no instance role.
fn instance_role(vars: &CredentialVars, why: Option<&str>) -> Source {
    let metadata = vars
        .metadata_endpoint
        .as_deref()
        .map(str::trim)
        .unwrap_or(metadata::DEFAULT_BASE)
        .to_string();
    Source::InstanceRole {
        missing: nothing_found(vars, &metadata, why),
        metadata,
    }
}

/// Exit 2 when no source has credentials: what was looked for, on the two key variables' lines.
pub fn nothing_found(vars: &CredentialVars, metadata: &str, why: Option<&str>) -> Vec<ConfigError> {
    let home = vars.home.as_deref().unwrap_or("~");
    let ini = vars
        .credentials_file
        .clone()
        .unwrap_or_else(|| format!("{home}/.tencentcloud/credentials"));
    let tccli = format!(
        "{home}/.tccli/{}.credential",
        vars.tccli_profile.as_deref().unwrap_or("default")
    );
    let cvm = match why {
        Some(why) => format!("a CVM instance role at {metadata} ({why})"),
        None => {
            format!("a CVM instance role at {metadata} (not asked: fix the other problems first)")
        }
    };
    vec![
        ConfigError {
            variable: "TENCENTCLOUD_SECRET_ID",
            problem: format!(
                "is not set; expected the SecretId of an API key (CAM console → API Keys), or another credential source; none was found: looked for TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY, TENCENTCLOUD_ROLE_ARN with TENCENTCLOUD_OIDC_PROVIDER_ID (web identity), TKE_PROVIDER_ID/TKE_ROLE_ARN/TKE_WEB_IDENTITY_TOKEN_FILE, the profile files {ini} and {tccli}, and {cvm}"
            ),
        },
        ConfigError {
            variable: "TENCENTCLOUD_SECRET_KEY",
            problem: "is not set; expected the SecretKey that belongs to TENCENTCLOUD_SECRET_ID (or set up keyless credentials: README, \"Keyless with GitHub OIDC\")".into(),
        },
    ]
}

/// Fetches credentials from a [`Source`] and refreshes them before they expire. Every secret
/// it obtains joins its [`Secrets`] (scrubbed from every answer) and waits in `unmasked` until
/// the reporter masks it.
pub struct Keyring {
    source: Source,
    http: Box<dyn Http>,
    files: Box<dyn Files>,
    current: Option<Issued>,
    secrets: Secrets,
    unmasked: Vec<String>,
}

/// Why no credentials could be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// The runner has no instance role (and no other source was configured): exit 2.
    NothingFound(Vec<ConfigError>),
    /// A source failed: STS refused, a token could not be had, a network error.
    Failed(ApiError),
}

impl From<ApiError> for FetchError {
    fn from(error: ApiError) -> FetchError {
        FetchError::Failed(error)
    }
}

impl FetchError {
    pub fn into_api_error(self) -> ApiError {
        match self {
            FetchError::Failed(error) => error,
            FetchError::NothingFound(errors) => failure(
                metadata::SOURCE,
                "NoCredentials",
                &errors.first().map(|e| e.to_string()).unwrap_or_default(),
                None,
                false,
            ),
        }
    }
}

impl Keyring {
    pub fn new(source: Source, http: Box<dyn Http>, files: Box<dyn Files>) -> Keyring {
        let secrets = source.known_secrets();
        let current = source.static_keys().cloned().map(Issued::lasting);
        Keyring {
            source,
            http,
            files,
            current,
            secrets,
            unmasked: Vec::new(),
        }
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    /// Every secret seen so far, to scrub from answers.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Secrets obtained since the last call, for `::add-mask::`.
    pub fn take_unmasked(&mut self) -> Vec<String> {
        std::mem::take(&mut self.unmasked)
    }

    /// Credentials to sign a request sent at `now`: the current ones, or new ones when they
    /// are due for a refresh. A failed refresh keeps credentials that have not yet expired.
    pub fn current(&mut self, now: i64, budget: Duration) -> Result<Credentials, FetchError> {
        if let Some(issued) = &self.current
            && !issued.is_due(now)
        {
            return Ok(issued.credentials.clone());
        }
        let budget = budget.min(MAX_FETCH_TIME);
        match fetch(&self.source.clone(), self, now, budget) {
            Ok(issued) => {
                self.learn(&issued.credentials);
                let credentials = issued.credentials.clone();
                self.current = Some(issued);
                Ok(credentials)
            }
            Err(error) => match &self.current {
                Some(issued) if !issued.is_expired(now) => Ok(issued.credentials.clone()),
                _ => Err(error),
            },
        }
    }

    fn learn(&mut self, credentials: &Credentials) {
        self.learn_secret(&credentials.secret_key);
        if let Some(token) = &credentials.token {
            self.learn_secret(token);
        }
    }

    fn learn_secret(&mut self, secret: &str) {
        self.secrets.add(secret);
        if !self.unmasked.iter().any(|s| s == secret) {
            self.unmasked.push(secret.to_string());
        }
    }

    /// One request to `source`; a network failure is that source's (transient) failure.
    fn send(
        &self,
        source: &str,
        request: &HttpRequest,
        budget: Duration,
        connect: Option<Duration>,
    ) -> Result<HttpAnswer, ApiError> {
        self.http
            .send(request, budget, connect)
            .map_err(|e| match e {
                ApiError::Transport { detail } | ApiError::Unreachable { detail } => {
                    failure(source, "NetworkError", &detail, None, true)
                }
                other => other,
            })
    }
}

fn fetch(
    source: &Source,
    keyring: &mut Keyring,
    now: i64,
    budget: Duration,
) -> Result<Issued, FetchError> {
    match source {
        Source::Keys { credentials, .. } => Ok(Issued::lasting(credentials.clone())),
        Source::InstanceRole { metadata, missing } => {
            let connect = Some(METADATA_CONNECT_TIMEOUT);
            let none = |why: &str| {
                let mut errors = missing.clone();
                if let Some(first) = errors.first_mut() {
                    first.problem = first.problem.replace(
                        "(not asked: fix the other problems first)",
                        &format!("({why})"),
                    );
                }
                FetchError::NothingFound(errors)
            };
            let answer = keyring
                .send(
                    metadata::SOURCE,
                    &metadata::role_request(metadata),
                    budget,
                    connect,
                )
                .map_err(|e| none(&format!("not reachable: {}", e.message())))?;
            let role = metadata::parse_role(&answer).ok_or_else(|| {
                none(&format!(
                    "no role bound to this instance: HTTP {}",
                    answer.status
                ))
            })?;
            let answer = keyring.send(
                metadata::SOURCE,
                &metadata::credentials_request(metadata, &role),
                budget,
                connect,
            )?;
            Ok(metadata::parse_credentials(&answer, &keyring.secrets, now)?)
        }
        Source::WebIdentity {
            role,
            provider_id,
            token,
            ..
        } => {
            let jwt = identity_token_value(token, keyring, budget)?;
            keyring.learn_secret(&jwt);
            let answer = keyring.send(
                "STS AssumeRoleWithWebIdentity",
                &sts::web_identity_request(role, provider_id, &jwt, now),
                budget,
                None,
            )?;
            Ok(sts::parse_answer(
                sts::WEB_IDENTITY,
                &answer,
                &keyring.secrets,
                now,
            )?)
        }
        Source::AssumeRole { role, base } => {
            let base = fetch(base, keyring, now, budget)?;
            // Keys given as such are known already (and masked by whoever set them).
            if base.expires_at.is_some() {
                keyring.learn(&base.credentials);
            }
            let answer = keyring.send(
                "STS AssumeRole",
                &sts::assume_role_request(role, &base.credentials, now),
                budget,
                None,
            )?;
            let mut issued = sts::parse_answer(sts::ASSUME_ROLE, &answer, &keyring.secrets, now)?;
            // The role's credentials cannot outlive the base they were assumed with.
            if let (Some(role_expiry), Some(base_expiry)) = (issued.expires_at, base.expires_at) {
                issued.expires_at = Some(role_expiry.min(base_expiry));
            }
            Ok(issued)
        }
    }
}

fn identity_token_value(
    token: &IdentityToken,
    keyring: &Keyring,
    budget: Duration,
) -> Result<String, ApiError> {
    match token {
        IdentityToken::File { path, variable } => {
            let unreadable = |why: String| {
                failure(
                    "identity token file",
                    "IdentityTokenUnavailable",
                    &format!("{variable} names {path}, which {why}"),
                    None,
                    false,
                )
            };
            let text = keyring
                .files
                .read(path)
                .map_err(|e| unreadable(format!("cannot be read ({e})")))?
                .ok_or_else(|| unreadable("does not exist".into()))?;
            let jwt = text.trim().to_string();
            if jwt.is_empty() || !jwt.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(unreadable("does not hold one identity token (JWT)".into()));
            }
            Ok(jwt)
        }
        IdentityToken::GitHub {
            url,
            bearer,
            audience,
        } => {
            let answer = keyring.send(
                github::SOURCE,
                &github::token_request(url, bearer, audience),
                budget,
                None,
            )?;
            github::parse_token(&answer)
        }
    }
}

#[cfg(test)]
mod tests;
