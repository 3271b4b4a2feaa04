//! Name resolution without a thread for addresses that need none.
//!
//! ureq's `DefaultResolver` runs every lookup on a fresh thread whenever a timeout applies (and
//! the client always sets one), even for an IP literal such as `127.0.0.1`. Every new
//! connection resolves, so against an endpoint that closes each connection that is a thread per
//! request. This resolver answers IP literals itself and leaves real names (and anything it does
//! not understand, so errors read the same) to the resolver it wraps.

use std::net::SocketAddr;

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Answers IP-literal hosts (`127.0.0.1`, `[::1]`) at once; delegates names to `R`.
#[derive(Debug, Default)]
pub struct LiteralFirst<R = DefaultResolver> {
    names: R,
}

impl LiteralFirst {
    /// Delegates names to ureq's own resolver.
    pub fn new() -> LiteralFirst {
        LiteralFirst::default()
    }
}

impl<R: Resolver> LiteralFirst<R> {
    #[cfg(test)]
    fn wrapping(names: R) -> LiteralFirst<R> {
        LiteralFirst { names }
    }

    /// The socket address `uri` names literally, with the scheme's port when it has none.
    fn literal(uri: &Uri, config: &Config) -> Option<SocketAddr> {
        let host_and_port = DefaultResolver::host_and_port(uri.scheme()?, uri.authority()?)?;
        // `Authority::host` keeps an IPv6 address's brackets, as `SocketAddr` wants them.
        let addr: SocketAddr = host_and_port.parse().ok()?;
        // An address of a family the configuration excludes is the wrapped resolver's to refuse.
        config.ip_family().keep_wanted(std::iter::once(addr)).next()
    }
}

impl<R: Resolver> Resolver for LiteralFirst<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        match Self::literal(uri, config) {
            Some(addr) => {
                let mut addrs = self.empty();
                addrs.push(addr);
                Ok(addrs)
            }
            None => self.names.resolve(uri, config, timeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts what it is asked and answers with a fixed address.
    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    impl Resolver for Counting {
        fn resolve(
            &self,
            _: &Uri,
            _: &Config,
            _: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.0.fetch_add(1, Ordering::SeqCst);
            let mut addrs = self.empty();
            addrs.push("192.0.2.1:443".parse().unwrap());
            Ok(addrs)
        }
    }

    fn resolve(resolver: &LiteralFirst<Counting>, uri: &str) -> Vec<SocketAddr> {
        let uri: Uri = uri.parse().unwrap();
        let addrs = resolver
            .resolve(&uri, &Config::default(), NextTimeout::default())
            .unwrap();
        addrs.iter().copied().collect()
    }

    #[test]
    fn ip_literals_resolve_without_delegating() {
        let resolver = LiteralFirst::wrapping(Counting::default());
        let cases = [
            ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
            ("http://127.0.0.1/", "127.0.0.1:80"),
            ("https://10.1.2.3/", "10.1.2.3:443"),
            ("https://[::1]:8443/", "[::1]:8443"),
            ("https://[2001:db8::7]/", "[2001:db8::7]:443"),
            ("http://[::1]/", "[::1]:80"),
        ];
        for (uri, want) in cases {
            assert_eq!(resolve(&resolver, uri), [want.parse().unwrap()], "{uri}");
        }
        assert_eq!(resolver.names.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn names_are_delegated() {
        let resolver = LiteralFirst::wrapping(Counting::default());
        for uri in [
            "https://dts.tencentcloudapi.com/",
            "http://localhost:8080/",
            "https://dts.ap-guangzhou.tencentcloudapi.com:443/",
        ] {
            assert_eq!(resolve(&resolver, uri), ["192.0.2.1:443".parse().unwrap()]);
        }
        assert_eq!(resolver.names.0.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn an_excluded_family_is_left_to_the_wrapped_resolver() {
        let resolver = LiteralFirst::wrapping(Counting::default());
        let config = Config::builder()
            .ip_family(ureq::config::IpFamily::Ipv4Only)
            .build();
        let uri: Uri = "https://[::1]/".parse().unwrap();
        resolver
            .resolve(&uri, &config, NextTimeout::default())
            .unwrap();
        assert_eq!(resolver.names.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_default_wrapped_resolver_answers_literals_and_refuses_bad_uris() {
        let resolver = LiteralFirst::new();
        let uri: Uri = "http://127.0.0.1:9/".parse().unwrap();
        let addrs = resolver
            .resolve(&uri, &Config::default(), NextTimeout::default())
            .unwrap();
        assert_eq!(addrs.len(), 1);
        let bad: Uri = "foo://some:42/".parse().unwrap();
        let err = resolver
            .resolve(&bad, &Config::default(), NextTimeout::default())
            .unwrap_err();
        assert!(matches!(err, ureq::Error::BadUri(_)), "{err}");
    }
}
