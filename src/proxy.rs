//! Which proxy the gate's HTTPS requests go through, chosen the way curl and the SDKs do for
//! an `https://` endpoint: `HTTPS_PROXY` (or `https_proxy`), else `ALL_PROXY`, unless
//! `NO_PROXY` names the host. Chosen here, once, so the log can say which proxy is used and a
//! proxy that cannot be honoured (a SOCKS one, a malformed URL) is an error naming its
//! variable instead of being silently ignored or taking precedence over one that works.

use crate::api::Endpoint;

/// The proxy variables, as set (empty values count as unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyVars {
    vars: Vec<(&'static str, String)>,
}

/// The names read, in order of precedence within each kind.
const HTTPS: [&str; 2] = ["HTTPS_PROXY", "https_proxy"];
const ALL: [&str; 2] = ["ALL_PROXY", "all_proxy"];
const NO_PROXY: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// The proxy chosen for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    /// The variable it came from.
    pub variable: &'static str,
    /// The URL as given, already known to be an HTTP(S) CONNECT proxy ureq accepts.
    pub url: String,
    /// `host[:port]`, for the log: never the credentials a proxy URL may carry.
    pub host: String,
}

/// What cannot be honoured, one line naming the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyError {
    pub variable: &'static str,
    pub problem: String,
}

impl ProxyVars {
    /// Picks the proxy variables out of the environment.
    pub fn from_vars<'a>(vars: impl IntoIterator<Item = &'a (String, String)>) -> ProxyVars {
        let names = HTTPS.iter().chain(&ALL).chain(&NO_PROXY);
        let mut found: Vec<(&'static str, String)> = Vec::new();
        for (key, value) in vars {
            if let Some(name) = names.clone().find(|n| **n == key.as_str())
                && !value.trim().is_empty()
            {
                found.push((name, value.trim().to_string()));
            }
        }
        ProxyVars { vars: found }
    }

    fn first(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names.iter().find_map(|name| {
            self.vars
                .iter()
                .find(|(n, _)| n == name)
                .map(|(n, v)| (*n, v.as_str()))
        })
    }

    /// The proxy for `endpoint`, and a warning for a variable that was set but not used.
    pub fn choose(
        &self,
        endpoint: &Endpoint,
    ) -> Result<(Option<Chosen>, Option<String>), ProxyError> {
        // Loopback endpoints (simulators, tests) never go through a proxy.
        if endpoint.is_loopback || self.bypasses(endpoint) {
            return Ok((None, None));
        }
        let https = self.first(&HTTPS);
        let all = self.first(&ALL);
        let (variable, url) = match (https, all) {
            (Some(https), _) => https,
            (None, Some(all)) => all,
            (None, None) => return Ok((None, None)),
        };
        let ignored = match (https, all) {
            (Some((https_name, _)), Some((all_name, all_url))) if all_url != url => Some(format!(
                "{all_name} is set but not used: {https_name} applies to the https endpoint"
            )),
            _ => None,
        };
        let chosen = validate(variable, url)?;
        Ok((Some(chosen), ignored))
    }

    /// `NO_PROXY` names the endpoint's host: an entry equal to it, a domain it is under
    /// (`.example.com` or `example.com`), or `*`.
    fn bypasses(&self, endpoint: &Endpoint) -> bool {
        let Some((_, list)) = self.first(&NO_PROXY) else {
            return false;
        };
        let host = endpoint
            .host
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(endpoint.host.as_str(), |(host, _)| host);
        list.split(',').map(str::trim).any(|entry| {
            let entry = entry.trim_start_matches('.').to_ascii_lowercase();
            entry == "*"
                || (!entry.is_empty() && (host == entry || host.ends_with(&format!(".{entry}"))))
        })
    }
}

fn validate(variable: &'static str, url: &str) -> Result<Chosen, ProxyError> {
    let fail = |problem: String| ProxyError { variable, problem };
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        None | Some("http" | "https") => {}
        Some(other) => {
            return Err(fail(format!(
                "is a {other} proxy, which the gate cannot use; set HTTPS_PROXY to an HTTP CONNECT proxy (http://host:port), or unset {variable}"
            )));
        }
    }
    let proxy = ureq::Proxy::new(url).map_err(|e| {
        fail(format!(
            "is not a proxy URL the gate can use ({e}); expected http://host:port or http://user:password@host:port"
        ))
    })?;
    let host = match proxy.port() {
        0 => proxy.host().to_string(),
        port => format!("{}:{port}", proxy.host()),
    };
    Ok(Chosen {
        variable,
        url: url.to_string(),
        host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> ProxyVars {
        let owned: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyVars::from_vars(&owned)
    }

    fn public() -> Endpoint {
        Endpoint::for_region("ap-guangzhou")
    }

    #[test]
    fn https_proxy_wins_over_all_proxy_and_says_so() {
        let (chosen, warning) = vars(&[
            ("ALL_PROXY", "socks5h://127.0.0.1:1080"),
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
        ])
        .choose(&public())
        .unwrap();
        let chosen = chosen.unwrap();
        assert_eq!(chosen.variable, "HTTPS_PROXY");
        assert_eq!(chosen.host, "proxy.corp:3128");
        assert_eq!(
            warning.as_deref(),
            Some("ALL_PROXY is set but not used: HTTPS_PROXY applies to the https endpoint")
        );
    }

    #[test]
    fn the_log_never_sees_a_proxys_credentials() {
        let (chosen, _) = vars(&[("https_proxy", "http://user:s3cret@proxy.corp:8080")])
            .choose(&public())
            .unwrap();
        let chosen = chosen.unwrap();
        assert_eq!(chosen.host, "proxy.corp:8080");
        assert!(!chosen.host.contains("s3cret"));
    }

    #[test]
    fn what_cannot_be_honoured_is_an_error_naming_the_variable() {
        let e = vars(&[("ALL_PROXY", "socks5h://127.0.0.1:1080")])
            .choose(&public())
            .unwrap_err();
        assert_eq!(e.variable, "ALL_PROXY");
        assert!(e.problem.contains("socks5h proxy"), "{e:?}");
        let e = vars(&[("HTTPS_PROXY", "http://proxy corp:80")])
            .choose(&public())
            .unwrap_err();
        assert_eq!(e.variable, "HTTPS_PROXY");
        assert!(e.problem.contains("not a proxy URL"), "{e:?}");
    }

    #[test]
    fn no_proxy_and_loopback_go_direct() {
        for no_proxy in [
            "dts.tencentcloudapi.com",
            ".tencentcloudapi.com",
            "tencentcloudapi.com",
            "*",
            "a.b, tencentcloudapi.com",
        ] {
            let chosen = vars(&[("HTTPS_PROXY", "http://proxy:3128"), ("NO_PROXY", no_proxy)])
                .choose(&public())
                .unwrap();
            assert_eq!(chosen, (None, None), "{no_proxy}");
        }
        let chosen = vars(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "cloudapi.com"),
        ])
        .choose(&public())
        .unwrap();
        assert!(
            chosen.0.is_some(),
            "a suffix that is not a domain does not match"
        );
        let loopback = crate::config::parse_endpoint("http://127.0.0.1:9").unwrap();
        let chosen = vars(&[("HTTPS_PROXY", "http://proxy:3128")])
            .choose(&loopback)
            .unwrap();
        assert_eq!(chosen, (None, None));
    }

    #[test]
    fn nothing_set_means_direct() {
        assert_eq!(vars(&[]).choose(&public()).unwrap(), (None, None));
    }
}
