//! STS, pure: the requests of `AssumeRoleWithWebIdentity` (unsigned, `Authorization: SKIP`) and
//! `AssumeRole` (TC3-signed with the base credential, service `sts`), and the decoding of their
//! answers into temporary credentials. Service text is scrubbed of our secrets first.

use serde_json::{Value, json};

use super::{HttpAnswer, HttpRequest, Issued, Role, failure};
use crate::api::{ApiError, CONTENT_TYPE, Credentials, Secrets};
use crate::sign;

pub const SERVICE: &str = "sts";
pub const VERSION: &str = "2018-08-13";
pub const WEB_IDENTITY: &str = "AssumeRoleWithWebIdentity";
pub const ASSUME_ROLE: &str = "AssumeRole";

fn headers(
    role: &Role,
    action: &str,
    timestamp: i64,
    authorization: String,
) -> Vec<(&'static str, String)> {
    vec![
        ("Authorization", authorization),
        ("Content-Type", CONTENT_TYPE.to_string()),
        ("Host", role.sts.host.clone()),
        ("X-TC-Action", action.to_string()),
        ("X-TC-Timestamp", timestamp.to_string()),
        ("X-TC-Version", VERSION.to_string()),
        ("X-TC-Region", role.region.clone()),
    ]
}

/// `AssumeRoleWithWebIdentity`: not signed, no `X-TC-Token`; the identity token is the proof.
pub fn web_identity_request(
    role: &Role,
    provider_id: &str,
    jwt: &str,
    timestamp: i64,
) -> HttpRequest {
    let body = json!({
        "ProviderId": provider_id,
        "WebIdentityToken": jwt,
        "RoleArn": role.arn,
        "RoleSessionName": role.session_name,
        "DurationSeconds": role.duration,
    });
    HttpRequest::post(
        &role.sts.url,
        headers(role, WEB_IDENTITY, timestamp, "SKIP".into()),
        body.to_string().into_bytes(),
    )
}

/// `AssumeRole`, signed like every other call with the base credential (and its token).
pub fn assume_role_request(role: &Role, base: &Credentials, timestamp: i64) -> HttpRequest {
    let body = json!({
        "RoleArn": role.arn,
        "RoleSessionName": role.session_name,
        "DurationSeconds": role.duration,
    })
    .to_string()
    .into_bytes();
    let authorization = sign::authorization(
        &base.secret_id,
        &base.secret_key,
        SERVICE,
        timestamp,
        &sign::SignableRequest {
            content_type: CONTENT_TYPE,
            host: &role.sts.host,
            payload: &body,
        },
    );
    let mut headers = headers(role, ASSUME_ROLE, timestamp, authorization);
    if let Some(token) = &base.token {
        headers.push(("X-TC-Token", token.clone()));
    }
    HttpRequest::post(&role.sts.url, headers, body)
}

/// The temporary credentials of an STS answer, or the service's error (scrubbed).
pub fn parse_answer(
    action: &'static str,
    answer: &HttpAnswer,
    secrets: &Secrets,
    now: i64,
) -> Result<Issued, ApiError> {
    let source = if action == WEB_IDENTITY {
        "STS AssumeRoleWithWebIdentity"
    } else {
        "STS AssumeRole"
    };
    let mut value: Value = serde_json::from_slice(&answer.body).map_err(|_| {
        failure(
            source,
            &format!("HttpStatus{}", answer.status),
            "the answer is not JSON",
            None,
            answer.status >= 500,
        )
    })?;
    secrets.scrub_value(&mut value);
    let response = &value["Response"];
    let request_id = response["RequestId"].as_str().map(str::to_string);
    if let Some(error) = response.get("Error") {
        let code = error["Code"].as_str().unwrap_or("UnknownError");
        let message = error["Message"].as_str().unwrap_or_default();
        let transient = code.starts_with("RequestLimitExceeded")
            || code == "InternalError"
            || code.starts_with("ServiceUnavailable");
        return Err(failure(source, code, message, request_id, transient));
    }
    let creds = &response["Credentials"];
    let text = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    match (
        text(&creds["TmpSecretId"]),
        text(&creds["TmpSecretKey"]),
        text(&creds["Token"]),
        response["ExpiredTime"].as_i64(),
    ) {
        (Some(secret_id), Some(secret_key), Some(token), Some(expires_at)) => Ok(Issued {
            credentials: Credentials {
                secret_id,
                secret_key,
                token: Some(token),
            },
            expires_at: Some(expires_at),
            issued_at: now,
        }),
        _ => Err(failure(
            source,
            "MalformedResponse",
            "the answer lacks Response.Credentials.{TmpSecretId, TmpSecretKey, Token} or Response.ExpiredTime",
            request_id,
            answer.status >= 500,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Endpoint;

    fn role() -> Role {
        Role {
            arn: "qcs::cam::uin/100000000001:roleName/ci".into(),
            session_name: "dts-gate-test".into(),
            duration: 3600,
            sts: Endpoint {
                url: "https://sts.tencentcloudapi.com/".into(),
                host: "sts.tencentcloudapi.com".into(),
                is_loopback: false,
            },
            region: "ap-guangzhou".into(),
        }
    }

    fn header<'a>(r: &'a HttpRequest, name: &str) -> Option<&'a str> {
        r.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_web_identity_exchange_is_unsigned_and_carries_every_parameter() {
        let r = web_identity_request(&role(), "github", "eyJ.jwt.sig", 1_700_000_000);
        assert_eq!(r.method, "POST");
        assert_eq!(header(&r, "Authorization"), Some("SKIP"));
        assert_eq!(header(&r, "X-TC-Action"), Some("AssumeRoleWithWebIdentity"));
        assert_eq!(header(&r, "X-TC-Version"), Some("2018-08-13"));
        assert_eq!(header(&r, "X-TC-Timestamp"), Some("1700000000"));
        assert_eq!(header(&r, "X-TC-Region"), Some("ap-guangzhou"));
        assert_eq!(header(&r, "X-TC-Token"), None);
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(
            body,
            json!({"ProviderId": "github", "WebIdentityToken": "eyJ.jwt.sig", "RoleArn": "qcs::cam::uin/100000000001:roleName/ci", "RoleSessionName": "dts-gate-test", "DurationSeconds": 3600})
        );
    }

    #[test]
    fn assume_role_is_signed_for_sts_with_the_base_key_and_token() {
        let base = Credentials {
            secret_id: "AKIDbase".into(),
            secret_key: "base-key-123".into(),
            token: Some("base-token".into()),
        };
        let r = assume_role_request(&role(), &base, 1_700_000_000);
        let auth = header(&r, "Authorization").unwrap();
        let expected = sign::authorization(
            "AKIDbase",
            "base-key-123",
            "sts",
            1_700_000_000,
            &sign::SignableRequest {
                content_type: CONTENT_TYPE,
                host: "sts.tencentcloudapi.com",
                payload: &r.body,
            },
        );
        assert_eq!(auth, expected);
        assert!(auth.starts_with("TC3-HMAC-SHA256 Credential=AKIDbase/2023-11-14/sts/tc3_request, SignedHeaders=content-type;host, Signature="));
        assert_eq!(header(&r, "X-TC-Token"), Some("base-token"));
        assert_eq!(header(&r, "X-TC-Action"), Some("AssumeRole"));
    }

    #[test]
    fn answers_give_credentials_or_a_scrubbed_error() {
        let ok = HttpAnswer {
            status: 200,
            body: br#"{"Response":{"Credentials":{"TmpSecretId":"AKIDtmp","TmpSecretKey":"tmp-key-000","Token":"tmp-token-000"},"ExpiredTime":1700003600,"Expiration":"x","RequestId":"r1"}}"#.to_vec(),
        };
        let issued = parse_answer(WEB_IDENTITY, &ok, &Secrets::default(), 1_700_000_000).unwrap();
        assert_eq!(issued.credentials.secret_id, "AKIDtmp");
        assert_eq!(issued.credentials.token.as_deref(), Some("tmp-token-000"));
        assert_eq!(
            (issued.expires_at, issued.issued_at),
            (Some(1_700_003_600), 1_700_000_000)
        );

        let mut secrets = Secrets::default();
        secrets.add("eyJhbGciOi.secret-jwt");
        let refused = HttpAnswer {
            status: 200,
            body: br#"{"Response":{"Error":{"Code":"InvalidParameter.WebIdentityTokenError","Message":"token eyJhbGciOi.secret-jwt expired"},"RequestId":"r2"}}"#.to_vec(),
        };
        let e = parse_answer(WEB_IDENTITY, &refused, &secrets, 0).unwrap_err();
        assert_eq!(e.code(), "InvalidParameter.WebIdentityTokenError");
        assert!(!e.to_string().contains("secret-jwt"), "{e}");
        assert_eq!(e.request_id(), Some("r2"));
        assert!(!e.is_transient());
        let throttled = HttpAnswer {
            status: 200,
            body:
                br#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"}}}"#
                    .to_vec(),
        };
        assert!(
            parse_answer(ASSUME_ROLE, &throttled, &secrets, 0)
                .unwrap_err()
                .is_transient()
        );
        for bad in [
            &b"<html>"[..],
            br#"{"Response":{"Credentials":{"TmpSecretId":"a"}}}"#,
        ] {
            let e = parse_answer(
                ASSUME_ROLE,
                &HttpAnswer {
                    status: 200,
                    body: bad.to_vec(),
                },
                &secrets,
                0,
            )
            .unwrap_err();
            assert!(e.to_string().starts_with("STS AssumeRole: "), "{e}");
        }
    }
}
