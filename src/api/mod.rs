//! The DTS API: signed requests over ureq, and the pure decoding of the response envelope.
//!
//! Decoding is strict where the verdict depends on it (a finished check must carry an integer
//! `CheckFlag`) and tolerant elsewhere (a missing `Progress` only costs a progress line).
//! Anything that does not decode is an error, never a pass.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

mod answer;
pub mod compare;
mod detail;
mod legacy;
mod migration;
mod resolve;
mod scrub;
pub mod skew;
mod strict_json;
mod sync;
mod target;

pub use answer::*;
pub use compare::{CompareOptions, CompareReport, CompareTask, Difference, Skipped};
pub use detail::{MigrationDetail, MigrationStep, Tip};
pub use migration::step_progress;
pub use scrub::Secrets;
pub use target::{Credentials, DOMAIN, Endpoint, INTL_DOMAIN, Language, Target};

/// The product name that signs and routes every DTS action.
pub const SERVICE: &str = "dts";
pub const CONTENT_TYPE: &str = "application/json";
pub const USER_AGENT: &str = concat!("dts-gate/", env!("CARGO_PKG_VERSION"));
/// A check answer is a few kilobytes; anything near this is not a DTS answer.
pub const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
/// The most the gate corrects a runner's clock by, from the service's `Date` header. The
/// correction is learned and applied per client, that is, only for the endpoint that taught it.
pub const MAX_CLOCK_CORRECTION: Duration = Duration::from_secs(3600);
/// No single request may take longer than this, whatever the overall deadline.
pub const MAX_REQUEST_TIME: Duration = Duration::from_secs(30);

/// The check API a run talks to: one of the two DTS API generations for migration jobs, or the
/// data sync job actions of 2021-12-06. Jobs created in the current console or with the current
/// API are checked with 2021-12-06; older jobs with 2018-03-30. Same host and service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    /// "DTS API 2018-03-30": `DescribeMigrateCheckJob`.
    V2018,
    /// "NewDTS" 2021-12-06: `DescribeMigrationCheckJob`, with per-step details.
    V2021,
    /// 2021-12-06's data sync jobs (`sync-…`): `DescribeCheckSyncJobResult`, and the job's own
    /// `DescribeSyncJobs` status for the verdict.
    Sync,
}

/// The two job families of DTS: a migration copies a database once, a sync job keeps a target
/// in sync. Their actions and statuses differ; the gate's promises do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JobKind {
    #[default]
    Migration,
    Sync,
}

impl JobKind {
    pub const NAMES: &'static str = "migration or sync";

    pub fn parse(text: &str) -> Option<JobKind> {
        match text.trim() {
            "migration" => Some(JobKind::Migration),
            "sync" => Some(JobKind::Sync),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Migration => "migration",
            JobKind::Sync => "sync",
        }
    }

    /// The kind an id names when none is set: `sync-…` is a sync job, anything else a migration.
    pub fn of_id(id: &str) -> JobKind {
        if id.starts_with("sync-") {
            JobKind::Sync
        } else {
            JobKind::Migration
        }
    }

    /// The action that reads a job's own state (the later stages).
    pub fn describe_job_action(self) -> &'static str {
        match self {
            JobKind::Migration => "DescribeMigrationDetail",
            JobKind::Sync => "DescribeSyncJobs",
        }
    }

    /// What the user calls the job's running: "migration" or "sync job".
    pub fn noun(self) -> &'static str {
        match self {
            JobKind::Migration => "migration",
            JobKind::Sync => "sync job",
        }
    }
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2018 => "2018-03-30",
            ApiVersion::V2021 | ApiVersion::Sync => "2021-12-06",
        }
    }

    /// A migration API version as `DTS_API_VERSION` spells it (sync jobs are chosen by kind).
    pub fn parse(text: &str) -> Option<ApiVersion> {
        match text.trim() {
            "2018-03-30" => Some(ApiVersion::V2018),
            "2021-12-06" => Some(ApiVersion::V2021),
            _ => None,
        }
    }

    pub fn kind(self) -> JobKind {
        match self {
            ApiVersion::V2018 | ApiVersion::V2021 => JobKind::Migration,
            ApiVersion::Sync => JobKind::Sync,
        }
    }

    /// The action that reads a job's check result.
    pub fn describe_check_action(self) -> &'static str {
        match self {
            ApiVersion::V2018 => "DescribeMigrateCheckJob",
            ApiVersion::V2021 => "DescribeMigrationCheckJob",
            ApiVersion::Sync => "DescribeCheckSyncJobResult",
        }
    }

    /// The `Status` values this version documents; others keep the gate polling.
    pub fn known_statuses(self) -> &'static [&'static str] {
        match self {
            ApiVersion::V2018 => &["unavailable", "starting", "running", "finished"],
            ApiVersion::V2021 | ApiVersion::Sync => &["notStarted", "running", "failed", "success"],
        }
    }

    /// The action that creates (re-runs) a job's check.
    pub fn create_check_action(self) -> &'static str {
        match self {
            ApiVersion::V2018 | ApiVersion::V2021 => "CreateMigrateCheckJob",
            ApiVersion::Sync => "CreateCheckSyncJob",
        }
    }

    /// The action that starts a job whose check passed.
    pub fn start_action(self) -> &'static str {
        match self {
            ApiVersion::V2018 | ApiVersion::V2021 => "StartMigrateJob",
            ApiVersion::Sync => "StartSyncJob",
        }
    }

    /// The action that reads the job's own state (the later stages).
    pub fn describe_job_action(self) -> &'static str {
        self.kind().describe_job_action()
    }

    /// The status of a job that has no check (yet).
    pub fn not_started_status(self) -> &'static str {
        match self {
            ApiVersion::V2018 => "unavailable",
            ApiVersion::V2021 | ApiVersion::Sync => "notStarted",
        }
    }

    /// The other migration API version (a sync job has only one).
    pub fn other(self) -> ApiVersion {
        match self {
            ApiVersion::V2018 => ApiVersion::V2021,
            ApiVersion::V2021 => ApiVersion::V2018,
            ApiVersion::Sync => ApiVersion::Sync,
        }
    }
}

/// Why a request did not produce a check answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No HTTP answer: TLS, reset, or the request's time budget ran out.
    Transport { detail: String },
    /// No connection at all: the host name did not resolve, or every address refused. Retried
    /// like any network error, but a run that never reached the service gives up early.
    Unreachable { detail: String },
    /// An HTTP status other than 200 without a service error in the body.
    HttpStatus {
        status: u16,
        request_id: Option<String>,
    },
    /// An answer that is not the documented envelope (bad JSON, wrong types, too large).
    Malformed {
        detail: String,
        request_id: Option<String>,
    },
    /// After the gate created a check, the service kept showing the previous passed result
    /// and never the new check: the previous result is not the new check's.
    CheckNeverAppeared { detail: String },
    /// `Response.Error`: the service refused or failed the request.
    Service {
        code: String,
        message: String,
        request_id: String,
    },
    /// No credentials to sign with: a credential source (STS, an identity token, the metadata
    /// service) failed. `source` names it; `code` is the service's code or one of ours.
    Credentials {
        source: String,
        code: String,
        message: String,
        request_id: Option<String>,
        transient: bool,
    },
}

impl ApiError {
    /// Transient errors are retried inside the deadline; the rest stop the gate at once.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport { .. } | ApiError::Unreachable { .. } => true,
            ApiError::HttpStatus { .. } => true,
            ApiError::CheckNeverAppeared { .. } => false,
            ApiError::Malformed { .. } => true,
            ApiError::Service { code, .. } => is_transient_code(code),
            ApiError::Credentials { transient, .. } => *transient,
        }
    }

    /// The service refused the request for going over its request rate.
    pub fn is_throttling(&self) -> bool {
        matches!(self, ApiError::Service { code, .. } if code.starts_with("RequestLimitExceeded"))
    }

    /// A short machine-readable code for outputs: the service's code, or one of ours.
    pub fn code(&self) -> String {
        match self {
            ApiError::Transport { .. } | ApiError::Unreachable { .. } => "NetworkError".to_string(),
            ApiError::HttpStatus { status, .. } => format!("HttpStatus{status}"),
            ApiError::Malformed { .. } => "MalformedResponse".to_string(),
            ApiError::CheckNeverAppeared { .. } => "CreatedCheckNotSeen".to_string(),
            ApiError::Service { code, .. } | ApiError::Credentials { code, .. } => code.clone(),
        }
    }

    /// The human message: the service's, or a description of what went wrong.
    pub fn message(&self) -> String {
        match self {
            ApiError::Transport { detail }
            | ApiError::Unreachable { detail }
            | ApiError::CheckNeverAppeared { detail } => detail.clone(),
            ApiError::HttpStatus { status, .. } => {
                format!("HTTP status {status} instead of 200")
            }
            ApiError::Malformed { detail, .. } => detail.clone(),
            ApiError::Service { message, .. } | ApiError::Credentials { message, .. } => {
                message.clone()
            }
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Transport { .. }
            | ApiError::Unreachable { .. }
            | ApiError::CheckNeverAppeared { .. } => None,
            ApiError::HttpStatus { request_id, .. }
            | ApiError::Malformed { request_id, .. }
            | ApiError::Credentials { request_id, .. } => request_id.as_deref(),
            ApiError::Service { request_id, .. } => Some(request_id),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Transport { detail } | ApiError::Unreachable { detail } => {
                write!(f, "network error: {detail}")
            }
            ApiError::HttpStatus { status, .. } => write!(f, "HTTP status {status}"),
            ApiError::Malformed { detail, .. } => write!(f, "malformed answer: {detail}"),
            ApiError::CheckNeverAppeared { detail } => {
                write!(f, "the created check never appeared: {detail}")
            }
            ApiError::Service { code, message, .. } => write!(f, "{code}: {message}"),
            ApiError::Credentials {
                source,
                code,
                message,
                ..
            } => write!(f, "{source}: {code}: {message}"),
        }
    }
}

/// Codes worth another try: throttling and the service's own hiccups.
pub fn is_transient_code(code: &str) -> bool {
    const TRANSIENT_PREFIXES: [&str; 4] = [
        "RequestLimitExceeded",
        "InternalError",
        "ServiceUnavailable",
        "ResourceUnavailable",
    ];
    TRANSIENT_PREFIXES.iter().any(|p| {
        code == *p
            || code
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// The JSON body of a request that names one job. Compact, like serde and the Go SDK.
pub fn job_body(job_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "JobId": job_id })).expect("a JSON object encodes")
}

/// The body of `CompleteMigrateJob`.
pub fn complete_body(job_id: &str, mode: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "JobId": job_id, "CompleteMode": mode }))
        .expect("a JSON object encodes")
}

/// Decodes an HTTP answer to the check action of `api`.
pub fn parse_check_answer(
    api: ApiVersion,
    http_status: u16,
    body: &[u8],
) -> Result<CheckAnswer, ApiError> {
    parse_check_answer_scrubbed(api, http_status, body, &Secrets::default())
}

/// [`parse_check_answer`], with `secrets` removed from every string of the answer first.
pub fn parse_check_answer_scrubbed(
    api: ApiVersion,
    http_status: u16,
    body: &[u8],
    secrets: &Secrets,
) -> Result<CheckAnswer, ApiError> {
    let envelope = parse_envelope(http_status, body, secrets)?;
    match api {
        ApiVersion::V2018 => legacy::decode(&envelope),
        ApiVersion::V2021 => migration::decode(&envelope),
        ApiVersion::Sync => sync::decode_check(&envelope),
    }
}

/// Decodes an HTTP answer to `DescribeMigrationDetail` (2021-12-06).
pub fn parse_migration_detail(
    http_status: u16,
    body: &[u8],
    secrets: &Secrets,
) -> Result<MigrationDetail, ApiError> {
    detail::decode(&parse_envelope(http_status, body, secrets)?)
}

/// Decodes an HTTP answer to `DescribeSyncJobs` filtered on `job_id`: that job's state.
pub fn parse_sync_job(
    http_status: u16,
    body: &[u8],
    secrets: &Secrets,
    job_id: &str,
) -> Result<MigrationDetail, ApiError> {
    sync::decode_job(&parse_envelope(http_status, body, secrets)?, job_id)
}

/// Decodes an HTTP answer to `CreateCompareTask`: the new task's id.
pub fn parse_compare_created(
    http_status: u16,
    body: &[u8],
    secrets: &Secrets,
) -> Result<String, ApiError> {
    compare::decode_created(&parse_envelope(http_status, body, secrets)?)
}

/// Decodes an HTTP answer to `DescribeCompareTasks`: the item of `task_id`.
pub fn parse_compare_tasks(
    http_status: u16,
    body: &[u8],
    secrets: &Secrets,
    task_id: &str,
) -> Result<CompareTask, ApiError> {
    compare::decode_tasks(&parse_envelope(http_status, body, secrets)?, task_id)
}

/// Decodes an HTTP answer to `DescribeCompareReport`.
pub fn parse_compare_report(
    http_status: u16,
    body: &[u8],
    secrets: &Secrets,
) -> Result<CompareReport, ApiError> {
    compare::decode_report(&parse_envelope(http_status, body, secrets)?)
}

/// Decodes the answer to an action that returns nothing but its `RequestId` (create, start).
pub fn parse_acknowledgement(
    http_status: u16,
    body: &[u8],
    secrets: &Secrets,
) -> Result<String, ApiError> {
    parse_envelope(http_status, body, secrets).map(|envelope| envelope.request_id)
}

/// `{"Response": {...}}` with its `Error` (if any) already turned into an `ApiError`.
pub(crate) struct Envelope {
    pub(crate) fields: serde_json::Map<String, Value>,
    pub(crate) request_id: String,
}

impl Envelope {
    pub(crate) fn malformed(&self, detail: String) -> ApiError {
        ApiError::Malformed {
            detail,
            request_id: Some(self.request_id.clone()),
        }
    }

    /// `Response.Status`, which every check answer must carry as a string.
    pub(crate) fn status(&self) -> Result<String, ApiError> {
        match self.fields.get("Status") {
            Some(Value::String(s)) => Ok(s.clone()),
            other => Err(self.malformed(format!(
                "Response.Status should be a string, got {}",
                describe(other)
            ))),
        }
    }

    /// An optional string field; `null` and absence are both empty.
    pub(crate) fn text(&self, name: &str) -> String {
        text_of(self.fields.get(name))
    }

    pub(crate) fn deprecated_warning(&self) -> Option<String> {
        match self.fields.get("DeprecatedWarning") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        }
    }
}

/// A string field that may be missing or null (as the 2021 models allow everywhere).
pub(crate) fn text_of(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn parse_envelope(http_status: u16, body: &[u8], secrets: &Secrets) -> Result<Envelope, ApiError> {
    let mut parsed = strict_json::parse(body);
    if let Ok(value) = &mut parsed {
        secrets.scrub_value(value);
    }
    if let Err(e) = &parsed
        && e.is_data()
    {
        // Well-formed JSON that says two things at once (a repeated key): never a verdict.
        return Err(ApiError::Malformed {
            detail: format!("ambiguous answer: {e}"),
            request_id: None,
        });
    }
    let response = match parsed {
        Ok(Value::Object(mut top)) => match top.remove("Response") {
            Some(Value::Object(r)) => Some(r),
            _ => None,
        },
        _ => None,
    };
    let Some(fields) = response else {
        if http_status != 200 {
            return Err(ApiError::HttpStatus {
                status: http_status,
                request_id: None,
            });
        }
        return Err(ApiError::Malformed {
            detail: format!(
                "expected a JSON object {{\"Response\": {{...}}}}, got {}",
                snippet(body)
            ),
            request_id: None,
        });
    };
    let request_id = fields
        .get("RequestId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // The presence of Error means the request failed, whatever else is in the answer.
    if let Some(error) = fields.get("Error") {
        let code = error.get("Code").and_then(Value::as_str);
        let message = error.get("Message").and_then(Value::as_str).unwrap_or("");
        return Err(match code {
            Some(code) if !code.is_empty() => ApiError::Service {
                code: code.to_string(),
                message: message.to_string(),
                request_id,
            },
            _ => ApiError::Malformed {
                detail: "Response.Error has no Code".to_string(),
                request_id: Some(request_id),
            },
        });
    }
    if http_status != 200 {
        return Err(ApiError::HttpStatus {
            status: http_status,
            request_id: Some(request_id),
        });
    }
    Ok(Envelope { fields, request_id })
}

pub(crate) fn describe(value: Option<&Value>) -> String {
    match value {
        None => "nothing (the field is missing)".to_string(),
        Some(v) => {
            let text = v.to_string();
            let short: String = text.chars().take(40).collect();
            if short.len() < text.len() {
                format!("{short}…")
            } else {
                short
            }
        }
    }
}

/// The start of an unexpected body, for the log: a proxy's HTML page is recognisable from it.
fn snippet(body: &[u8]) -> String {
    if body.is_empty() {
        return "an empty body".to_string();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(60)]);
    format!("{:?}{}", text, if body.len() > 60 { "…" } else { "" })
}

/// A signed-request client for one endpoint and key pair.
///
/// Clones share the agent (and its connection pool) and what was learned about clock skew.
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    target: Target,
    /// Seconds to add to the runner's clock to get the service's, learned from a
    /// `SignatureExpire` answer's `Date` header.
    clock_offset: Arc<AtomicI64>,
    /// Removed from every answer before anyone reads it.
    secrets: Secrets,
}

impl Client {
    /// A client sending to `target`, through `proxy` or directly; `tls` replaces the default
    /// TLS settings (extra CA roots).
    pub fn new(
        target: Target,
        tls: Option<ureq::tls::TlsConfig>,
        proxy: Option<ureq::Proxy>,
    ) -> Client {
        let mut builder = ureq::Agent::config_builder()
            // Error bodies carry the service's code and RequestId: read them, don't bail.
            .http_status_as_error(false)
            // A signed API call answered by a redirect is not the API: never follow it.
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .timeout_global(Some(MAX_REQUEST_TIME));
        // The proxy was chosen from the environment by the caller; ureq must not pick another.
        builder = builder.proxy(proxy.filter(|_| !target.endpoint.is_loopback));
        if let Some(tls) = tls {
            builder = builder.tls_config(tls);
        }
        Client {
            // Every new connection resolves its host: answer IP literals without a thread.
            agent: ureq::Agent::with_parts(
                builder.build(),
                ureq::unversioned::transport::DefaultConnector::default(),
                resolve::LiteralFirst::new(),
            ),
            secrets: Secrets::of(&target.credentials),
            target,
            clock_offset: Arc::new(AtomicI64::new(0)),
        }
    }

    /// This client signing with `credentials` instead, scrubbing `secrets` (every secret the
    /// credential source has seen) from its answers. Shares the agent and the clock offset.
    pub fn with_credentials(&self, credentials: Credentials, secrets: &Secrets) -> Client {
        let mut client = self.clone();
        client.target.credentials = credentials;
        client.secrets = secrets.clone();
        client
    }

    /// How many seconds the runner's clock is behind the service's (negative: ahead), as
    /// learned so far; 0 until the service refused a timestamp.
    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    /// Asks for the check result of `job_id`; `budget` caps this one request's time.
    pub fn describe_check(
        &self,
        api: ApiVersion,
        job_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<CheckAnswer, ApiError> {
        let started = Instant::now();
        let (status, body) = self.call(
            api.describe_check_action(),
            api.as_str(),
            &job_body(job_id),
            timestamp,
            budget,
        )?;
        let mut answer = parse_check_answer_scrubbed(api, status, &body, &self.secrets)?;
        // A finished sync check is judged with its job's own status too (`CheckPass`): one
        // more request, to another action (the service's limit is per action).
        if api == ApiVersion::Sync && matches!(answer.status.as_str(), "success" | "failed") {
            let left = budget.saturating_sub(started.elapsed());
            let job = self.describe_sync_job(job_id, timestamp, left)?;
            answer.check_flag = (!job.status.is_empty()).then_some(CheckFlag::Name(job.status));
        }
        Ok(answer)
    }

    /// A sync job's state (`DescribeSyncJobs` filtered on its id).
    pub fn describe_sync_job(
        &self,
        job_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<MigrationDetail, ApiError> {
        let (status, body) = self.call(
            ApiVersion::Sync.describe_job_action(),
            ApiVersion::Sync.as_str(),
            &job_body(job_id),
            timestamp,
            budget,
        )?;
        parse_sync_job(status, &body, &self.secrets, job_id)
    }

    /// Creates a fresh check of `job_id` (`CreateMigrateCheckJob`); returns its `RequestId`.
    pub fn create_check(
        &self,
        api: ApiVersion,
        job_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<String, ApiError> {
        let action = api.create_check_action();
        self.acknowledged(action, api, job_id, timestamp, budget)
    }

    /// Starts the migration of `job_id` (`StartMigrateJob`); returns its `RequestId`.
    pub fn start_migration(
        &self,
        api: ApiVersion,
        job_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<String, ApiError> {
        self.acknowledged(api.start_action(), api, job_id, timestamp, budget)
    }

    /// The migration's state (`DescribeMigrationDetail`, 2021-12-06 only).
    pub fn describe_migration(
        &self,
        job_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<MigrationDetail, ApiError> {
        let version = ApiVersion::V2021.as_str();
        let (status, body) = self.call(
            JobKind::Migration.describe_job_action(),
            version,
            &job_body(job_id),
            timestamp,
            budget,
        )?;
        parse_migration_detail(status, &body, &self.secrets)
    }

    /// Completes the migration (`CompleteMigrateJob`, 2021-12-06) with `mode` (`waitForSync` or
    /// `immediately`); returns its `RequestId`.
    pub fn complete_migration(
        &self,
        job_id: &str,
        mode: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<String, ApiError> {
        let body = complete_body(job_id, mode);
        let version = ApiVersion::V2021.as_str();
        let (status, body) = self.call("CompleteMigrateJob", version, &body, timestamp, budget)?;
        parse_acknowledgement(status, &body, &self.secrets)
    }

    /// Creates a compare task of every migrated object (`CreateCompareTask`); returns its id.
    pub fn create_compare(
        &self,
        job_id: &str,
        options: &CompareOptions,
        timestamp: i64,
        budget: Duration,
    ) -> Result<String, ApiError> {
        let body = compare::create_body(job_id, options);
        let version = ApiVersion::V2021.as_str();
        let (status, body) = self.call("CreateCompareTask", version, &body, timestamp, budget)?;
        parse_compare_created(status, &body, &self.secrets)
    }

    /// `StartCompare` or `StopCompare` on one compare task; returns its `RequestId`.
    pub fn compare_action(
        &self,
        action: &str,
        job_id: &str,
        task_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<String, ApiError> {
        let body = compare::task_body(job_id, task_id);
        let version = ApiVersion::V2021.as_str();
        let (status, body) = self.call(action, version, &body, timestamp, budget)?;
        parse_acknowledgement(status, &body, &self.secrets)
    }

    /// The compare task's state (`DescribeCompareTasks` filtered on its id).
    pub fn describe_compare(
        &self,
        job_id: &str,
        task_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<CompareTask, ApiError> {
        let body = compare::task_body(job_id, task_id);
        let version = ApiVersion::V2021.as_str();
        let (status, body) =
            self.call("DescribeCompareTasks", version, &body, timestamp, budget)?;
        parse_compare_tasks(status, &body, &self.secrets, task_id)
    }

    /// The finished compare task's report (`DescribeCompareReport`).
    pub fn compare_report(
        &self,
        job_id: &str,
        task_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<CompareReport, ApiError> {
        let body = compare::report_body(job_id, task_id);
        let version = ApiVersion::V2021.as_str();
        let (status, body) =
            self.call("DescribeCompareReport", version, &body, timestamp, budget)?;
        parse_compare_report(status, &body, &self.secrets)
    }

    /// Sends an action on one job whose answer is only its `RequestId`.
    fn acknowledged(
        &self,
        action: &str,
        api: ApiVersion,
        job_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<String, ApiError> {
        let (status, body) =
            self.call(action, api.as_str(), &job_body(job_id), timestamp, budget)?;
        parse_acknowledgement(status, &body, &self.secrets)
    }

    /// Sends one signed request, signed at `local_now` plus the known clock offset. When the
    /// service refuses the timestamp as expired and its `Date` header shows the runner's clock
    /// is off, the request is signed again with the service's time and sent once more.
    fn call(
        &self,
        action: &str,
        version: &str,
        payload: &[u8],
        local_now: i64,
        budget: Duration,
    ) -> Result<(u16, Vec<u8>), ApiError> {
        let started = Instant::now();
        let offset = self.clock_offset();
        let (status, date, body) =
            self.send(action, version, payload, local_now + offset, budget)?;
        let expired = match parse_envelope(status, &body, &self.secrets) {
            Err(ApiError::Service {
                code,
                message,
                request_id,
            }) if code == "AuthFailure.SignatureExpire" => Some((code, message, request_id)),
            _ => None,
        };
        if let (Some(server_now), Some((code, message, request_id))) = (date, expired) {
            let corrected = server_now.saturating_sub(local_now);
            if corrected.unsigned_abs() > MAX_CLOCK_CORRECTION.as_secs() {
                // A clock that far off is a broken runner (or a Date header not to be trusted):
                // signing with it would stamp every later request with a time far away.
                return Err(ApiError::Service {
                    code,
                    message: format!(
                        "{message} (the service's Date header puts the runner's clock {} the service's, more than the {} the gate corrects for: fix the runner's clock)",
                        skew::describe_offset(corrected),
                        crate::duration::format(MAX_CLOCK_CORRECTION)
                    ),
                    request_id,
                });
            }
            if corrected != offset {
                self.clock_offset.store(corrected, Ordering::Relaxed);
                let left = budget.saturating_sub(started.elapsed());
                let (status, _, body) =
                    self.send(action, version, payload, local_now + corrected, left)?;
                return Ok((status, body));
            }
        }
        Ok((status, body))
    }

    /// One request: its status, `Date` header (as seconds since the epoch) and body.
    fn send(
        &self,
        action: &str,
        version: &str,
        payload: &[u8],
        timestamp: i64,
        budget: Duration,
    ) -> Result<(u16, Option<i64>, Vec<u8>), ApiError> {
        let headers = self
            .target
            .request_headers(action, version, timestamp, payload);
        let mut request = self
            .agent
            .post(&self.target.endpoint.url)
            .config()
            .timeout_global(Some(budget.min(MAX_REQUEST_TIME)))
            .build();
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let mut response = request.send(payload).map_err(transport_error)?;
        let status = response.status().as_u16();
        let date = response
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .and_then(skew::parse_http_date);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => ApiError::Malformed {
                    detail: format!(
                        "the answer is larger than {} KiB, far more than a DTS answer",
                        MAX_RESPONSE_BYTES / 1024
                    ),
                    request_id: None,
                },
                other => transport_error(other),
            })?;
        Ok((status, date, body))
    }
}

fn transport_error(error: ureq::Error) -> ApiError {
    let detail = match &error {
        ureq::Error::Timeout(_) => "no complete answer within the request's time budget".into(),
        other => other.to_string(),
    };
    if is_unreachable(&error) {
        ApiError::Unreachable { detail }
    } else {
        ApiError::Transport { detail }
    }
}

/// No connection could be made at all: a name that does not resolve (ureq reports the
/// resolver's failure as an I/O error) or a refused connection.
fn is_unreachable(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        ureq::Error::Io(e) => {
            e.kind() == std::io::ErrorKind::ConnectionRefused
                || e.to_string().contains("failed to lookup address")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_with_a_repeated_key_is_malformed_never_a_verdict() {
        for text in [
            r#"{"Response": {"Status": "finished", "CheckFlag": 0, "CheckFlag": 1, "RequestId": "r"}}"#,
            r#"{"Response": {"Status": "running", "Status": "finished", "CheckFlag": 1, "RequestId": "r"}}"#,
            r#"{"Response": {"Status": "running"}, "Response": {"Status": "finished", "CheckFlag": 1}}"#,
        ] {
            let error = body(text).unwrap_err();
            assert!(
                matches!(&error, ApiError::Malformed { detail, .. } if detail.contains("appears twice")),
                "{text}: {error:?}"
            );
        }
    }

    #[test]
    fn no_connection_at_all_is_told_apart_from_other_network_errors() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let lookup = std::io::Error::other(
            "failed to lookup address information: Name or service not known",
        );
        for error in [
            ureq::Error::HostNotFound,
            ureq::Error::ConnectionFailed,
            ureq::Error::Io(refused),
            ureq::Error::Io(lookup),
        ] {
            let e = transport_error(error);
            assert!(matches!(e, ApiError::Unreachable { .. }), "{e:?}");
            assert!(e.is_transient());
            assert_eq!(e.code(), "NetworkError");
        }
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert!(matches!(
            transport_error(ureq::Error::Io(reset)),
            ApiError::Transport { .. }
        ));
    }

    fn body(text: &str) -> Result<CheckAnswer, ApiError> {
        parse_check_answer(ApiVersion::V2018, 200, text.as_bytes())
    }

    fn body_2021(text: &str) -> Result<CheckAnswer, ApiError> {
        parse_check_answer(ApiVersion::V2021, 200, text.as_bytes())
    }

    #[test]
    fn reference_failing_example() {
        let a = body(r#"{"Response":{"Status":"finished","ErrorCode":-1,"ErrorMessage":"选择的库表不存在，请重新选择[存在输入参数table在源实例没有找到]","Progress":"100","CheckFlag":0,"RequestId":"67b4cfcf-6957-48ae-b7ef-ba33209895e3"}}"#).unwrap();
        assert_eq!(a.status, "finished");
        assert_eq!(a.check_flag, Some(CheckFlag::Code(0)));
        assert_eq!(a.error_code, Some(-1));
        assert!(a.error_message.starts_with("选择的库表不存在"));
        assert_eq!(a.progress.as_deref(), Some("100"));
        assert_eq!(a.request_id, "67b4cfcf-6957-48ae-b7ef-ba33209895e3");
    }

    #[test]
    fn passing_answer() {
        let a = body(r#"{"Response": {"Status": "finished", "ErrorCode": 0, "ErrorMessage": "ok", "Progress": "100", "CheckFlag": 1, "RequestId": "336448b0"}}"#).unwrap();
        assert_eq!(
            a,
            CheckAnswer {
                api: ApiVersion::V2018,
                status: "finished".into(),
                check_flag: Some(CheckFlag::Code(1)),
                progress: Some("100".into()),
                error_code: Some(0),
                error_message: "ok".into(),
                request_id: "336448b0".into(),
                deprecated_warning: None,
                steps: Vec::new(),
            }
        );
    }

    #[test]
    fn service_error_envelope() {
        let e = body(r#"{"Response": {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "bad sig"}, "RequestId": "ed93"}}"#).unwrap_err();
        assert_eq!(
            e,
            ApiError::Service {
                code: "AuthFailure.SignatureFailure".into(),
                message: "bad sig".into(),
                request_id: "ed93".into()
            }
        );
        assert!(!e.is_transient());
    }

    #[test]
    fn error_wins_over_other_fields() {
        let e = body(r#"{"Response": {"Status": "finished", "CheckFlag": 1, "Error": {"Code": "InternalError", "Message": "x"}, "RequestId": "r"}}"#).unwrap_err();
        assert!(matches!(e, ApiError::Service { ref code, .. } if code == "InternalError"));
        assert!(e.is_transient());
    }

    #[test]
    fn non_200_is_transient_unless_the_body_names_a_permanent_error() {
        let e =
            parse_check_answer(ApiVersion::V2018, 502, b"<html>Bad Gateway</html>").unwrap_err();
        assert_eq!(
            e,
            ApiError::HttpStatus {
                status: 502,
                request_id: None
            }
        );
        assert!(e.is_transient());
        let e = parse_check_answer(
            ApiVersion::V2018,
            200,
            br#"{"Response":{"Status":"finished","CheckFlag":1}}"#,
        );
        assert!(e.is_ok());
        let e = parse_check_answer(
            ApiVersion::V2018,
            503,
            br#"{"Response":{"Status":"finished","CheckFlag":1}}"#,
        )
        .unwrap_err();
        assert!(matches!(e, ApiError::HttpStatus { status: 503, .. }));
        let e = parse_check_answer(
            ApiVersion::V2018,
            403,
            br#"{"Response":{"Error":{"Code":"UnauthorizedOperation","Message":"no"},"RequestId":"q"}}"#,
        )
        .unwrap_err();
        assert!(!e.is_transient());
    }

    #[test]
    fn malformed_answers_are_errors_not_verdicts() {
        let cases = [
            "",
            "not json",
            "[]",
            r#"{"Status":"finished","CheckFlag":1}"#,
            r#"{"Response": "finished"}"#,
            r#"{"Response": {"Status": "finished"}}"#,
            r#"{"Response": {"Status": "finished", "CheckFlag": "1"}}"#,
            r#"{"Response": {"Status": "finished", "CheckFlag": 1.0}}"#,
            r#"{"Response": {"Status": "finished", "CheckFlag": null}}"#,
            r#"{"Response": {"Status": 3, "CheckFlag": 1}}"#,
            r#"{"Response": {"CheckFlag": 1}}"#,
            r#"{"Response": {"Status": "finished", "CheckFlag": 1}} trailing"#,
            r#"{"Response": {"Error": {"Message": "no code"}}}"#,
        ];
        for text in cases {
            let e = body(text).expect_err(text);
            assert!(
                matches!(e, ApiError::Malformed { .. }),
                "{text}: {e:?} should be Malformed"
            );
            assert!(e.is_transient());
        }
    }

    #[test]
    fn running_answers_may_omit_the_flag_and_progress() {
        let a = body(r#"{"Response": {"Status": "running", "RequestId": "r"}}"#).unwrap();
        assert_eq!((a.check_flag, a.progress), (None, None));
        let a =
            body(r#"{"Response": {"Status": "running", "Progress": 45, "CheckFlag": 3}}"#).unwrap();
        assert_eq!(a.progress.as_deref(), Some("45"));
    }

    #[test]
    fn deprecated_warning_is_kept() {
        let a =
            body(r#"{"Response": {"Status": "running", "DeprecatedWarning": "use 2021-12-06"}}"#)
                .unwrap();
        assert_eq!(a.deprecated_warning.as_deref(), Some("use 2021-12-06"));
    }

    #[test]
    fn transient_codes() {
        for code in [
            "RequestLimitExceeded",
            "RequestLimitExceeded.IPLimitExceeded",
            "RequestLimitExceeded.RequestLimitExceededError",
            "InternalError",
            "InternalError.DatabaseError",
            "ServiceUnavailable",
            "ResourceUnavailable.Busy",
        ] {
            assert!(is_transient_code(code), "{code}");
        }
        for code in [
            "AuthFailure.SignatureExpire",
            "UnauthorizedOperation.NotEnoughPrivileges",
            "InvalidParameter",
            "ResourceNotFound.JobNotExist",
            "FailedOperation.StatusInConflict",
            "InternalErrorX",
            "RequestLimitExceededNot",
            "",
        ] {
            assert!(!is_transient_code(code), "{code}");
        }
    }

    #[test]
    fn signed_headers_for_a_fixed_time() {
        let target = Target {
            endpoint: Endpoint::for_region("ap-guangzhou"),
            credentials: Credentials {
                secret_id: "AKIDEXAMPLEEXAMPLEEXAMPLEEXAMPLE0000".into(),
                secret_key: "EXAMPLEsecretKEYexampleSECRETkey".into(),
                token: Some("EXAMPLE-session-token".into()),
            },
            region: "ap-guangzhou".into(),
            language: Language::EnUs,
        };
        let payload = job_body("dts-1kl0iy0v");
        assert_eq!(payload, br#"{"JobId":"dts-1kl0iy0v"}"#);
        let headers = target.request_headers(
            "DescribeMigrateCheckJob",
            "2018-03-30",
            1700000000,
            &payload,
        );
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        // SDK vector V3: compact body, signed at 1700000000.
        assert!(get("Authorization").ends_with(
            "Signature=b2006eb4af5ebca7c23c129817c6d5f9947328b6f9321b11bec76040d5a18738"
        ));
        assert_eq!(get("Content-Type"), "application/json");
        assert_eq!(get("Host"), "dts.tencentcloudapi.com");
        assert_eq!(get("X-TC-Action"), "DescribeMigrateCheckJob");
        assert_eq!(get("X-TC-Version"), "2018-03-30");
        assert_eq!(get("X-TC-Region"), "ap-guangzhou");
        assert_eq!(get("X-TC-Timestamp"), "1700000000");
        assert_eq!(get("X-TC-Language"), "en-US");
        assert_eq!(get("X-TC-Token"), "EXAMPLE-session-token");
    }

    const SDK_EXAMPLE_2021: &str =
        include_str!("../../tests/data/describe_migration_check_job_example.json");

    #[test]
    fn sdk_example_2021() {
        let a = body_2021(SDK_EXAMPLE_2021).unwrap();
        assert_eq!(a.api, ApiVersion::V2021);
        assert_eq!(a.status, "success");
        assert_eq!(a.check_flag, Some(CheckFlag::Name("checkPass".into())));
        assert_eq!(a.error_message, "success");
        assert_eq!(a.request_id, "11d35c90-01bb-11ed-bad9-7b3bbe11abda");
        assert_eq!(a.steps.len(), 13);
        assert_eq!(a.progress.as_deref(), Some("100"));
        let privilege = &a.steps[2];
        assert_eq!(privilege.step_id, "SrcPrivilegeCheck");
        assert_eq!(privilege.status, "warning");
        assert!(privilege.is_warning() && !privilege.is_failed());
        assert_eq!(privilege.items[0].result, "warning");
        assert_eq!(privilege.items[0].error_log.len(), 1);
        // Empty help links are dropped.
        assert!(privilege.items[0].help_doc.is_empty());
        let skipped = &a.steps[12];
        assert_eq!(
            (skipped.status.as_str(), skipped.has_skipped),
            ("failed", true)
        );
        assert!(skipped.is_warning() && !skipped.is_failed());
    }

    #[test]
    fn answers_2021_tolerate_nulls_but_not_wrong_types() {
        let a = body_2021(r#"{"Response": {"Status": "running", "CheckFlag": null, "StepInfo": null, "BriefMsg": null, "RequestId": "r"}}"#).unwrap();
        assert_eq!((a.check_flag, a.progress, a.steps.len()), (None, None, 0));
        let a = body_2021(r#"{"Response": {"Status": "running", "CheckFlag": "", "StepInfo": [{"StepStatus": "pass"}, {"StepStatus": "notStarted"}, {"StepStatus": "running", "DetailCheckItems": null}]}}"#).unwrap();
        assert_eq!(a.check_flag, None);
        assert_eq!(a.progress.as_deref(), Some("33"));
        for bad in [
            r#"{"Response": {"Status": 1}}"#,
            r#"{"Response": {"Status": "success", "CheckFlag": 1}}"#,
            r#"{"Response": {"Status": "success", "StepInfo": {}}}"#,
            r#"{"Response": {"Status": "success", "StepInfo": [1]}}"#,
            r#"{"Response": {"Status": "success", "StepInfo": [{"DetailCheckItems": "x"}]}}"#,
            r#"{"Response": {"Status": "success", "StepInfo": [{"DetailCheckItems": [null]}]}}"#,
        ] {
            assert!(
                matches!(body_2021(bad), Err(ApiError::Malformed { .. })),
                "{bad}"
            );
        }
    }
}
