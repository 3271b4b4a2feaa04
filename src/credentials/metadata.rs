//! The CVM metadata service, pure: the role-name request, the credential request, and their
//! answers (`TmpSecretId`, `TmpSecretKey`, `Token`, `ExpiredTime`, `Code: "Success"`).

use super::{HttpAnswer, HttpRequest, Issued, failure};
use crate::api::{ApiError, Credentials, Secrets};

pub const SOURCE: &str = "CVM metadata service";
pub const DEFAULT_BASE: &str = "http://metadata.tencentyun.com";
const PATH: &str = "/latest/meta-data/cam/security-credentials/";

pub fn role_request(base: &str) -> HttpRequest {
    HttpRequest::get(&format!("{}{PATH}", base.trim_end_matches('/')), Vec::new())
}

pub fn credentials_request(base: &str, role: &str) -> HttpRequest {
    HttpRequest::get(
        &format!("{}{PATH}{role}", base.trim_end_matches('/')),
        Vec::new(),
    )
}

/// The role bound to the instance; `None` when there is none (404, an empty answer).
pub fn parse_role(answer: &HttpAnswer) -> Option<String> {
    if answer.status != 200 {
        return None;
    }
    let text = String::from_utf8_lossy(&answer.body);
    let role = text.lines().next().unwrap_or_default().trim();
    let valid = !role.is_empty()
        && role
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b));
    valid.then(|| role.to_string())
}

pub fn parse_credentials(
    answer: &HttpAnswer,
    secrets: &Secrets,
    now: i64,
) -> Result<Issued, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let text = |name: &str| {
        value[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match (
        answer.status,
        text("Code").as_deref(),
        text("TmpSecretId"),
        text("TmpSecretKey"),
        text("Token"),
        value["ExpiredTime"].as_i64(),
    ) {
        (
            200,
            Some("Success"),
            Some(secret_id),
            Some(secret_key),
            Some(token),
            Some(expires_at),
        ) => Ok(Issued {
            credentials: Credentials {
                secret_id,
                secret_key,
                token: Some(token),
            },
            expires_at: Some(expires_at),
            issued_at: now,
        }),
        (status, code, ..) => Err(failure(
            SOURCE,
            code.unwrap_or("MalformedResponse"),
            &secrets.scrub(&format!(
                "the instance role's credentials could not be read (HTTP {status}, Code {})",
                code.unwrap_or("missing")
            )),
            None,
            status >= 500,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_then_credentials() {
        assert_eq!(
            role_request("http://127.0.0.1:9/").url,
            "http://127.0.0.1:9/latest/meta-data/cam/security-credentials/"
        );
        assert_eq!(
            credentials_request(DEFAULT_BASE, "ci-role").url,
            "http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/ci-role"
        );
        assert_eq!(
            parse_role(&HttpAnswer {
                status: 200,
                body: b"ci-role\n".to_vec()
            })
            .as_deref(),
            Some("ci-role")
        );
        assert_eq!(
            parse_role(&HttpAnswer {
                status: 404,
                body: b"not found".to_vec()
            }),
            None
        );
        assert_eq!(
            parse_role(&HttpAnswer {
                status: 200,
                body: b"<html>".to_vec()
            }),
            None
        );
        let ok = HttpAnswer {
            status: 200,
            body: br#"{"TmpSecretId":"AKIDcvm","TmpSecretKey":"cvm-key-1","Token":"cvm-token-1","ExpiredTime":1700007200,"Expiration":"x","Code":"Success"}"#.to_vec(),
        };
        let issued = parse_credentials(&ok, &Secrets::default(), 1_700_000_000).unwrap();
        assert_eq!(issued.credentials.token.as_deref(), Some("cvm-token-1"));
        assert_eq!(issued.expires_at, Some(1_700_007_200));
        let failed = HttpAnswer {
            status: 200,
            body: br#"{"Code":"Failure"}"#.to_vec(),
        };
        assert_eq!(
            parse_credentials(&failed, &Secrets::default(), 0)
                .unwrap_err()
                .code(),
            "Failure"
        );
    }
}
