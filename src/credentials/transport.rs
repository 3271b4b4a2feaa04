//! The real I/O behind the credential sources: HTTP through ureq (the proxy and extra CA roots
//! the configuration chose for STS, never a proxy for the link-local metadata service) and the
//! file system.

use std::time::Duration;

use super::{Files, Http, HttpAnswer, HttpRequest};
use crate::api::{ApiError, MAX_RESPONSE_BYTES, USER_AGENT};

pub struct UreqHttp {
    agent: ureq::Agent,
    direct: ureq::Agent,
}

impl UreqHttp {
    /// `proxy` for STS and the OIDC endpoint; the metadata service is always reached directly.
    pub fn new(tls: Option<ureq::tls::TlsConfig>, proxy: Option<ureq::Proxy>) -> UreqHttp {
        let builder = || {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(USER_AGENT)
        };
        let mut with_proxy = builder().proxy(proxy);
        if let Some(tls) = tls {
            with_proxy = with_proxy.tls_config(tls);
        }
        UreqHttp {
            agent: with_proxy.build().into(),
            direct: builder().proxy(None).build().into(),
        }
    }
}

fn is_loopback(url: &str) -> bool {
    [
        "http://127.0.0.1",
        "http://localhost",
        "http://[::1]",
        "https://127.0.0.1",
        "https://localhost",
        "https://[::1]",
    ]
    .iter()
    .any(|p| {
        url.strip_prefix(p)
            .is_some_and(|rest| rest.starts_with([':', '/']))
    })
}

impl Http for UreqHttp {
    fn send(
        &self,
        request: &HttpRequest,
        budget: Duration,
        connect: Option<Duration>,
    ) -> Result<HttpAnswer, ApiError> {
        let agent = if connect.is_some() || is_loopback(&request.url) {
            &self.direct
        } else {
            &self.agent
        };
        let transport = |e: ureq::Error| ApiError::Transport {
            detail: match e {
                ureq::Error::Timeout(_) => "no complete answer in time".to_string(),
                other => other.to_string(),
            },
        };
        let mut response = if request.method == "GET" {
            let mut r = agent
                .get(&request.url)
                .config()
                .timeout_global(Some(budget))
                .timeout_resolve(connect)
                .timeout_connect(connect)
                .build();
            for (name, value) in &request.headers {
                r = r.header(*name, value);
            }
            r.call().map_err(transport)?
        } else {
            let mut r = agent
                .post(&request.url)
                .config()
                .timeout_global(Some(budget))
                .timeout_connect(connect)
                .build();
            for (name, value) in &request.headers {
                r = r.header(*name, value);
            }
            r.send(&request.body[..]).map_err(transport)?
        };
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BYTES)
            .read_to_vec()
            .map_err(transport)?;
        Ok(HttpAnswer { status, body })
    }
}

/// The real file system.
pub struct RealFiles;

impl Files for RealFiles {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        match std::fs::read(path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| "not UTF-8 text".to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }
}
