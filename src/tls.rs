//! Extra trust roots from `SSL_CERT_FILE`, for runners behind a TLS-inspecting proxy.
//!
//! The built-in Mozilla roots stay trusted: the file adds the proxy's (or a private) CA, it does
//! not replace the public ones, so a bundle that only holds the proxy's CA cannot break a runner
//! that sometimes bypasses the proxy. The file is read and every certificate checked once, during
//! configuration, so a bad file is exit 2 with one line naming the variable, never a TLS error
//! on every poll.

use std::fmt;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig, parse_pem};

/// Why a CA bundle cannot be used. The configuration layer names the variable and says what
/// to do; this only says what is wrong with the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertFileError {
    /// The file could not be read at all.
    Unreadable { path: String, reason: String },
    /// The file was read but does not hold usable CA certificates.
    Invalid { path: String, reason: String },
}

impl fmt::Display for CertFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CertFileError::Unreadable { path, reason } => {
                write!(f, "cannot read {path:?} ({reason})")
            }
            CertFileError::Invalid { path, reason } => write!(f, "{path:?} {reason}"),
        }
    }
}

/// The CA certificates of one `SSL_CERT_FILE`, each already known to be a usable trust anchor.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtraRoots {
    path: String,
    ders: Vec<Vec<u8>>,
}

/// The path and a count: a bundle's bytes are of no use in a log line.
impl fmt::Debug for ExtraRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExtraRoots")
            .field("path", &self.path)
            .field("certificates", &self.ders.len())
            .finish()
    }
}

impl ExtraRoots {
    /// Reads `path` and checks it with [`ExtraRoots::from_pem`].
    pub fn load(path: &str) -> Result<ExtraRoots, CertFileError> {
        let pem = std::fs::read(path).map_err(|e| CertFileError::Unreadable {
            path: path.to_string(),
            reason: e.to_string(),
        })?;
        ExtraRoots::from_pem(path, &pem)
    }

    /// Takes every certificate in `pem` (other PEM blocks, such as a key, are skipped). Fails
    /// when the PEM is damaged, when a certificate cannot be a trust anchor (rustls would
    /// otherwise drop it silently and the proxy would stay untrusted), or when there is none.
    pub fn from_pem(path: &str, pem: &[u8]) -> Result<ExtraRoots, CertFileError> {
        let fail = |reason: String| CertFileError::Invalid {
            path: path.to_string(),
            reason,
        };
        let mut ders = Vec::new();
        for item in parse_pem(pem) {
            match item {
                Ok(PemItem::Certificate(cert)) => {
                    let der = cert.der().to_vec();
                    let mut probe = RootCertStore::empty();
                    probe
                        .add(CertificateDer::from(der.as_slice()))
                        .map_err(|e| {
                            fail(format!(
                                "holds a certificate (number {}) that is not a valid X.509 certificate ({e})",
                                ders.len() + 1
                            ))
                        })?;
                    ders.push(der);
                }
                Ok(_) => {}
                Err(e) => return Err(fail(format!("is not valid PEM ({e})"))),
            }
        }
        if ders.is_empty() {
            return Err(fail("holds no PEM certificate".to_string()));
        }
        Ok(ExtraRoots {
            path: path.to_string(),
            ders,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.ders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ders.is_empty()
    }

    /// ureq's TLS settings trusting the Mozilla roots plus these. ureq takes either its built-in
    /// roots or a list of certificates, not both, so the same Mozilla snapshot comes in as
    /// certificates (webpki-root-certs, the sibling of the webpki-roots ureq compiles in).
    pub fn tls_config(&self) -> TlsConfig {
        let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| Certificate::from_der(c.as_ref()));
        let extra = self
            .ders
            .iter()
            .map(|d| Certificate::from_der(d).to_owned());
        let roots: Vec<Certificate<'static>> = mozilla.chain(extra).collect();
        TlsConfig::builder()
            .root_certs(RootCerts::Specific(Arc::new(roots)))
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = include_str!("../tests/data/tls/ca.pem");
    const SERVER_KEY: &str = include_str!("../tests/data/tls/server.key");

    #[test]
    fn a_bundle_adds_its_certificates_to_the_mozilla_roots() {
        let roots = ExtraRoots::from_pem("ca.pem", CA.as_bytes()).unwrap();
        assert_eq!(roots.len(), 1);
        let config = roots.tls_config();
        let RootCerts::Specific(certs) = config.root_certs() else {
            panic!("expected specific roots, got {:?}", config.root_certs());
        };
        let mozilla = webpki_root_certs::TLS_SERVER_ROOT_CERTS.len();
        assert!(mozilla > 100, "the Mozilla snapshot looks empty: {mozilla}");
        assert_eq!(certs.len(), mozilla + 1);
        assert_eq!(certs.last().unwrap().der(), roots.ders[0].as_slice());
    }

    #[test]
    fn keys_and_text_around_the_certificates_are_skipped() {
        let mixed = format!("# proxy CA\n{SERVER_KEY}\nsome text\n{CA}\n{CA}");
        let roots = ExtraRoots::from_pem("mixed.pem", mixed.as_bytes()).unwrap();
        assert_eq!(roots.len(), 2);
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        for text in ["", "not a pem file\n", SERVER_KEY] {
            let e = ExtraRoots::from_pem("/etc/proxy.pem", text.as_bytes()).unwrap_err();
            assert_eq!(
                e,
                CertFileError::Invalid {
                    path: "/etc/proxy.pem".into(),
                    reason: "holds no PEM certificate".into()
                }
            );
        }
    }

    #[test]
    fn a_damaged_certificate_is_refused_not_skipped() {
        let garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let e = ExtraRoots::from_pem("bad.pem", format!("{CA}{garbage}").as_bytes()).unwrap_err();
        assert!(e.to_string().contains("(number 2)"), "{e}");
        assert!(
            e.to_string().contains("not a valid X.509 certificate"),
            "{e}"
        );

        let truncated = &CA[..CA.len() / 2];
        let e = ExtraRoots::from_pem("cut.pem", truncated.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("is not valid PEM"), "{e}");
    }

    #[test]
    fn a_missing_file_names_the_path_and_the_reason() {
        let e = ExtraRoots::load("/nonexistent/dts-gate/ca.pem").unwrap_err();
        assert!(matches!(e, CertFileError::Unreadable { .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("cannot read \"/nonexistent/dts-gate/ca.pem\" ("),
            "{e}"
        );
        assert_eq!(e.to_string().lines().count(), 1);
    }

    #[test]
    fn debug_shows_the_path_and_count_only() {
        let roots = ExtraRoots::from_pem("ca.pem", CA.as_bytes()).unwrap();
        assert_eq!(
            format!("{roots:?}"),
            r#"ExtraRoots { path: "ca.pem", certificates: 1 }"#
        );
    }
}
