//! The DTS API: signed requests over ureq, and the pure decoding of the response envelope.
//!
//! Decoding is strict where the verdict depends on it (a finished check must carry an integer
//! `CheckFlag`) and tolerant elsewhere (a missing `Progress` only costs a progress line).
//! Anything that does not decode is an error, never a pass.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::config::{Config, Credentials, Endpoint, Language};
use crate::sign;

/// The product name that signs and routes every DTS action.
pub const SERVICE: &str = "dts";
/// The legacy ("DTS API 2018-03-30") version that `DescribeMigrateCheckJob` belongs to.
pub const VERSION_2018: &str = "2018-03-30";
pub const ACTION_DESCRIBE_CHECK: &str = "DescribeMigrateCheckJob";
/// Sent and signed byte for byte; the SDKs send it without a charset.
pub const CONTENT_TYPE: &str = "application/json";
pub const USER_AGENT: &str = concat!("dts-gate/", env!("CARGO_PKG_VERSION"));
/// A check answer is a few hundred bytes; anything near this is not a DTS answer.
pub const MAX_RESPONSE_BYTES: u64 = 1024 * 1024;
/// No single request may take longer than this, whatever the overall deadline.
pub const MAX_REQUEST_TIME: Duration = Duration::from_secs(30);

/// A decoded `DescribeMigrateCheckJob` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAnswer {
    /// `unavailable`, `starting`, `running`, `finished`, or a value this tool does not know.
    pub status: String,
    /// `1` passed, `0` not passed, `3` not checked. `None` only before the check finished.
    pub check_flag: Option<i64>,
    /// `"0"`..`"100"` as the service sent it.
    pub progress: Option<String>,
    pub error_code: Option<i64>,
    pub error_message: String,
    pub request_id: String,
    /// `Response.DeprecatedWarning`, shown to the user as a warning.
    pub deprecated_warning: Option<String>,
}

/// Why a request did not produce a check answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// No HTTP answer: DNS, connect, TLS, reset, or the request's time budget ran out.
    Transport { detail: String },
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
    /// `Response.Error`: the service refused or failed the request.
    Service {
        code: String,
        message: String,
        request_id: String,
    },
}

impl ApiError {
    /// Transient errors are retried inside the deadline; the rest stop the gate at once.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Transport { .. } | ApiError::HttpStatus { .. } => true,
            ApiError::Malformed { .. } => true,
            ApiError::Service { code, .. } => is_transient_code(code),
        }
    }

    /// A short machine-readable code for outputs: the service's code, or one of ours.
    pub fn code(&self) -> String {
        match self {
            ApiError::Transport { .. } => "NetworkError".to_string(),
            ApiError::HttpStatus { status, .. } => format!("HttpStatus{status}"),
            ApiError::Malformed { .. } => "MalformedResponse".to_string(),
            ApiError::Service { code, .. } => code.clone(),
        }
    }

    /// The human message: the service's, or a description of what went wrong.
    pub fn message(&self) -> String {
        match self {
            ApiError::Transport { detail } => detail.clone(),
            ApiError::HttpStatus { status, .. } => {
                format!("HTTP status {status} instead of 200")
            }
            ApiError::Malformed { detail, .. } => detail.clone(),
            ApiError::Service { message, .. } => message.clone(),
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            ApiError::Transport { .. } => None,
            ApiError::HttpStatus { request_id, .. } | ApiError::Malformed { request_id, .. } => {
                request_id.as_deref()
            }
            ApiError::Service { request_id, .. } => Some(request_id),
        }
    }

    /// What the user should do about this error, when there is a clear answer.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            ApiError::Service { code, .. } => hint_for_code(code),
            // rustls's wording for a chain no trusted root signs: typically an inspecting proxy.
            ApiError::Transport { detail } if detail.contains("invalid peer certificate") => Some(
                "the endpoint's TLS certificate is not trusted; behind a TLS-inspecting proxy, set SSL_CERT_FILE to a PEM file with the proxy's CA certificate",
            ),
            ApiError::Transport { .. } => Some(
                "check the runner's network, DTS_ENDPOINT and HTTPS_PROXY/NO_PROXY; the gate retried until the deadline",
            ),
            ApiError::HttpStatus { .. } | ApiError::Malformed { .. } => Some(
                "the endpoint did not answer like the DTS API; check DTS_ENDPOINT and any proxy in between",
            ),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Transport { detail } => write!(f, "network error: {detail}"),
            ApiError::HttpStatus { status, .. } => write!(f, "HTTP status {status}"),
            ApiError::Malformed { detail, .. } => write!(f, "malformed answer: {detail}"),
            ApiError::Service { code, message, .. } => write!(f, "{code}: {message}"),
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

fn hint_for_code(code: &str) -> Option<&'static str> {
    let family = code.split('.').next().unwrap_or(code);
    Some(match (family, code) {
        (_, "AuthFailure.SignatureExpire") => {
            "the runner's clock is more than 5 minutes off; sync it (NTP) and run again"
        }
        (_, "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId") => {
            "check TENCENTCLOUD_SECRET_ID: the key does not exist or was deleted"
        }
        (_, "AuthFailure.SignatureFailure") => {
            "check that TENCENTCLOUD_SECRET_KEY belongs to TENCENTCLOUD_SECRET_ID"
        }
        (_, "AuthFailure.TokenFailure") => {
            "TENCENTCLOUD_TOKEN is invalid or expired; fetch fresh temporary credentials"
        }
        ("AuthFailure" | "UnauthorizedOperation", _) => {
            "grant the key's CAM user or role permission for dts:DescribeMigrateCheckJob on this job"
        }
        ("ResourceNotFound", _) => {
            "check DTS_JOB_ID and TENCENTCLOUD_REGION (the job's own region); jobs created in the current DTS console are checked with API version 2021-12-06"
        }
        ("InvalidParameter" | "InvalidParameterValue" | "MissingParameter", _) => {
            "check DTS_JOB_ID: it must be the id of a migration job, e.g. dts-1kl0iy0v"
        }
        ("UnsupportedRegion", _) => "check TENCENTCLOUD_REGION: DTS is not offered there",
        ("InvalidAction" | "NoSuchVersion" | "ActionOffline", _) => {
            "DTS no longer serves this API here; check DTS_ENDPOINT and TENCENTCLOUD_REGION"
        }
        _ => return None,
    })
}

/// Who a request is from and where it goes: everything that signs and routes it.
#[derive(Debug, Clone)]
pub struct Target {
    pub endpoint: Endpoint,
    pub credentials: Credentials,
    pub region: String,
    pub language: Language,
}

impl Target {
    pub fn from_config(config: &Config) -> Target {
        Target {
            endpoint: config.endpoint.clone(),
            credentials: config.credentials.clone(),
            region: config.region.clone(),
            language: config.language,
        }
    }

    /// The headers of one signed request, in the order they are sent.
    pub fn request_headers(
        &self,
        action: &str,
        version: &str,
        timestamp: i64,
        payload: &[u8],
    ) -> Vec<(&'static str, String)> {
        let authorization = sign::authorization(
            &self.credentials.secret_id,
            &self.credentials.secret_key,
            SERVICE,
            timestamp,
            &sign::SignableRequest {
                content_type: CONTENT_TYPE,
                host: &self.endpoint.host,
                payload,
            },
        );
        let mut headers = vec![
            ("Authorization", authorization),
            ("Content-Type", CONTENT_TYPE.to_string()),
            ("Host", self.endpoint.host.clone()),
            ("X-TC-Action", action.to_string()),
            ("X-TC-Timestamp", timestamp.to_string()),
            ("X-TC-Version", version.to_string()),
            ("X-TC-Region", self.region.clone()),
            ("X-TC-Language", self.language.header_value().to_string()),
        ];
        if let Some(token) = &self.credentials.token {
            headers.push(("X-TC-Token", token.clone()));
        }
        headers
    }
}

/// The JSON body of a request that names one job. Compact, like serde and the Go SDK.
pub fn job_body(job_id: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "JobId": job_id })).expect("a JSON object encodes")
}

/// Decodes an HTTP answer to `DescribeMigrateCheckJob`.
pub fn parse_check_answer(http_status: u16, body: &[u8]) -> Result<CheckAnswer, ApiError> {
    let response = parse_envelope(http_status, body)?;
    let request_id = response.request_id.clone();
    let malformed = |detail: String| ApiError::Malformed {
        detail,
        request_id: Some(request_id.clone()),
    };
    let fields = &response.fields;

    let status = match fields.get("Status") {
        Some(Value::String(s)) => s.clone(),
        other => {
            return Err(malformed(format!(
                "Response.Status should be a string, got {}",
                describe(other)
            )));
        }
    };
    let check_flag = match fields.get("CheckFlag") {
        Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
        None | Some(Value::Null) if status != "finished" => None,
        other => {
            return Err(malformed(format!(
                "Response.CheckFlag should be an integer, got {}",
                describe(other)
            )));
        }
    };
    let progress = match fields.get("Progress") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let error_code = fields.get("ErrorCode").and_then(Value::as_i64);
    let error_message = fields
        .get("ErrorMessage")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let deprecated_warning = match fields.get("DeprecatedWarning") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    Ok(CheckAnswer {
        status,
        check_flag,
        progress,
        error_code,
        error_message,
        request_id,
        deprecated_warning,
    })
}

/// `{"Response": {...}}` with its `Error` (if any) already turned into an `ApiError`.
struct Envelope {
    fields: serde_json::Map<String, Value>,
    request_id: String,
}

fn parse_envelope(http_status: u16, body: &[u8]) -> Result<Envelope, ApiError> {
    let parsed: Result<Value, _> = serde_json::from_slice(body);
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

fn describe(value: Option<&Value>) -> String {
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
pub struct Client {
    agent: ureq::Agent,
    target: Target,
}

impl Client {
    pub fn new(config: &Config) -> Client {
        let mut builder = ureq::Agent::config_builder()
            // Error bodies carry the service's code and RequestId: read them, don't bail.
            .http_status_as_error(false)
            // A signed API call answered by a redirect is not the API: never follow it.
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .timeout_global(Some(MAX_REQUEST_TIME));
        if config.endpoint.is_loopback {
            builder = builder.proxy(None);
        }
        if let Some(roots) = &config.endpoint.extra_roots {
            builder = builder.tls_config(roots.tls_config());
        }
        Client {
            agent: builder.build().new_agent(),
            target: Target::from_config(config),
        }
    }

    /// Asks for the check result of `job_id`; `budget` caps this one request's time.
    pub fn describe_migrate_check_job(
        &self,
        job_id: &str,
        timestamp: i64,
        budget: Duration,
    ) -> Result<CheckAnswer, ApiError> {
        let (status, body) = self.call(
            ACTION_DESCRIBE_CHECK,
            VERSION_2018,
            &job_body(job_id),
            timestamp,
            budget,
        )?;
        parse_check_answer(status, &body)
    }

    fn call(
        &self,
        action: &str,
        version: &str,
        payload: &[u8],
        timestamp: i64,
        budget: Duration,
    ) -> Result<(u16, Vec<u8>), ApiError> {
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
        Ok((status, body))
    }
}

fn transport_error(error: ureq::Error) -> ApiError {
    let detail = match &error {
        ureq::Error::Timeout(_) => "no complete answer within the request's time budget".into(),
        other => other.to_string(),
    };
    ApiError::Transport { detail }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Result<CheckAnswer, ApiError> {
        parse_check_answer(200, text.as_bytes())
    }

    #[test]
    fn reference_failing_example() {
        let a = body(r#"{"Response":{"Status":"finished","ErrorCode":-1,"ErrorMessage":"选择的库表不存在，请重新选择[存在输入参数table在源实例没有找到]","Progress":"100","CheckFlag":0,"RequestId":"67b4cfcf-6957-48ae-b7ef-ba33209895e3"}}"#).unwrap();
        assert_eq!(a.status, "finished");
        assert_eq!(a.check_flag, Some(0));
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
                status: "finished".into(),
                check_flag: Some(1),
                progress: Some("100".into()),
                error_code: Some(0),
                error_message: "ok".into(),
                request_id: "336448b0".into(),
                deprecated_warning: None,
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
        assert!(e.hint().unwrap().contains("TENCENTCLOUD_SECRET_KEY"));
    }

    #[test]
    fn error_wins_over_other_fields() {
        let e = body(r#"{"Response": {"Status": "finished", "CheckFlag": 1, "Error": {"Code": "InternalError", "Message": "x"}, "RequestId": "r"}}"#).unwrap_err();
        assert!(matches!(e, ApiError::Service { ref code, .. } if code == "InternalError"));
        assert!(e.is_transient());
    }

    #[test]
    fn non_200_is_transient_unless_the_body_names_a_permanent_error() {
        let e = parse_check_answer(502, b"<html>Bad Gateway</html>").unwrap_err();
        assert_eq!(
            e,
            ApiError::HttpStatus {
                status: 502,
                request_id: None
            }
        );
        assert!(e.is_transient());
        let e = parse_check_answer(200, br#"{"Response":{"Status":"finished","CheckFlag":1}}"#);
        assert!(e.is_ok());
        let e = parse_check_answer(503, br#"{"Response":{"Status":"finished","CheckFlag":1}}"#)
            .unwrap_err();
        assert!(matches!(e, ApiError::HttpStatus { status: 503, .. }));
        let e = parse_check_answer(
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
    fn hints_name_what_to_change() {
        let hint = |code: &str| hint_for_code(code).unwrap_or("");
        assert!(hint("AuthFailure.SignatureExpire").contains("clock"));
        assert!(hint("ResourceNotFound.JobNotExist").contains("DTS_JOB_ID"));
        assert!(hint("ResourceNotFound.JobNotExist").contains("2021-12-06"));
        assert!(hint("UnauthorizedOperation.NotEnoughPrivileges").contains("CAM"));
        assert!(hint("UnsupportedRegion").contains("TENCENTCLOUD_REGION"));
        assert_eq!(hint_for_code("FailedOperation.Whatever"), None);
    }

    #[test]
    fn signed_headers_for_a_fixed_time() {
        let target = Target {
            endpoint: crate::config::default_endpoint("ap-guangzhou"),
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
        let headers =
            target.request_headers(ACTION_DESCRIBE_CHECK, VERSION_2018, 1700000000, &payload);
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
}
