//! GitHub Actions' OIDC token endpoint, pure: the request (`ACTIONS_ID_TOKEN_REQUEST_URL` plus
//! `&audience=`, bearer `ACTIONS_ID_TOKEN_REQUEST_TOKEN`) and its answer `{"value": "<jwt>"}`.

use super::{HttpAnswer, HttpRequest, failure};
use crate::api::ApiError;

pub const SOURCE: &str = "GitHub OIDC token endpoint";

/// The URL already carries a query string (`?api-version=2.0`); the audience is appended.
pub fn token_request(url: &str, bearer: &str, audience: &str) -> HttpRequest {
    let separator = if url.contains('?') { '&' } else { '?' };
    HttpRequest::get(
        &format!("{url}{separator}audience={}", percent_encode(audience)),
        vec![
            ("Authorization", format!("Bearer {bearer}")),
            ("Accept", "application/json".to_string()),
        ],
    )
}

/// The identity token of the endpoint's answer.
pub fn parse_token(answer: &HttpAnswer) -> Result<String, ApiError> {
    if answer.status != 200 {
        return Err(failure(
            SOURCE,
            &format!("HttpStatus{}", answer.status),
            &format!(
                "the runner refused the identity token request (HTTP {})",
                answer.status
            ),
            None,
            answer.status >= 500 || answer.status == 429,
        ));
    }
    serde_json::from_slice::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|v| v["value"].as_str().map(str::to_string))
        .filter(|jwt| !jwt.is_empty() && jwt.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            failure(
                SOURCE,
                "MalformedResponse",
                "the answer has no {\"value\": \"<token>\"}",
                None,
                false,
            )
        })
}

/// RFC 3986 unreserved characters stay, everything else is `%XX`.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audience_is_appended_to_the_runners_url() {
        let r = token_request(
            "https://run.example/token?api-version=2.0",
            "bearer-1",
            "sts.tencentcloudapi.com",
        );
        assert_eq!(
            r.url,
            "https://run.example/token?api-version=2.0&audience=sts.tencentcloudapi.com"
        );
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.headers[0],
            ("Authorization", "Bearer bearer-1".to_string())
        );
        let r = token_request("https://run.example/token", "b", "api://my app");
        assert_eq!(
            r.url,
            "https://run.example/token?audience=api%3A%2F%2Fmy%20app"
        );
    }

    #[test]
    fn the_token_is_the_value_of_the_answer() {
        let ok = HttpAnswer {
            status: 200,
            body: br#"{"count":1,"value":"eyJ.a.b"}"#.to_vec(),
        };
        assert_eq!(parse_token(&ok).unwrap(), "eyJ.a.b");
        let refused = HttpAnswer {
            status: 403,
            body: b"{}".to_vec(),
        };
        let e = parse_token(&refused).unwrap_err();
        assert!(e.to_string().contains("HTTP 403"), "{e}");
        assert!(!e.is_transient());
        let empty = HttpAnswer {
            status: 200,
            body: br#"{"value":""}"#.to_vec(),
        };
        assert!(parse_token(&empty).is_err());
    }
}
