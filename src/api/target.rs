//! Who a request is from and where it goes: the key, the endpoint, the region and the language
//! of the service's messages. The application builds these from its configuration; the API
//! layer needs nothing else of it.

use std::fmt;

use super::{CONTENT_TYPE, SERVICE};
use crate::sign;

/// The public host; a Finance region must use its own regional host (the zones are isolated).
const PUBLIC_HOST: &str = "dts.tencentcloudapi.com";
/// The root domain of the China site; international-site accounts use [`INTL_DOMAIN`].
pub const DOMAIN: &str = "tencentcloudapi.com";
pub const INTL_DOMAIN: &str = "intl.tencentcloudapi.com";

/// The API key pair and optional session token. `Debug` never shows the secret parts.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: String,
    pub token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &"***")
            .field("secret_key", &"***")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Where requests go. `host` is the `Host` header exactly as sent (and signed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://host[:port]/` (or `http://` for loopback).
    pub url: String,
    /// `host[:port]`, the port only when it is not the scheme's default.
    pub host: String,
    /// Loopback endpoints (simulators, tests) never go through a proxy.
    pub is_loopback: bool,
}

/// `X-TC-Language`: the language of the service's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    EnUs,
    ZhCn,
}

impl Language {
    pub fn header_value(self) -> &'static str {
        match self {
            Language::EnUs => "en-US",
            Language::ZhCn => "zh-CN",
        }
    }
}

impl Endpoint {
    /// `dts.tencentcloudapi.com`, or `dts.<region>.tencentcloudapi.com` for Finance regions.
    pub fn for_region(region: &str) -> Endpoint {
        Endpoint::for_region_on(region, DOMAIN)
    }

    /// DTS on the site of `domain` ([`DOMAIN`] or [`INTL_DOMAIN`]): `dts.<domain>`; Finance
    /// regions keep their own regional host.
    pub fn for_region_on(region: &str, domain: &str) -> Endpoint {
        let host = if region.ends_with("-fsi") {
            format!("dts.{region}.tencentcloudapi.com")
        } else if domain == DOMAIN {
            PUBLIC_HOST.to_string()
        } else {
            format!("dts.{domain}")
        };
        Endpoint::https(host)
    }

    /// STS on the site of `domain`: `sts.tencentcloudapi.com` or `sts.intl.tencentcloudapi.com`.
    pub fn sts_on(domain: &str) -> Endpoint {
        Endpoint::https(format!("sts.{domain}"))
    }

    fn https(host: String) -> Endpoint {
        Endpoint {
            url: format!("https://{host}/"),
            host,
            is_loopback: false,
        }
    }
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
