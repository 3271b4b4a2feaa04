//! The real binary over HTTPS against a local server whose certificate a private test CA signed
//! (tests/data/tls), as behind a TLS-inspecting proxy: trusted only through `SSL_CERT_FILE`.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::http::{Reply, Responder};
use common::*;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

/// An HTTPS server on 127.0.0.1 with the test CA's certificate for 127.0.0.1 and localhost,
/// passing every check; it records only the requests that got through the handshake.
fn passing_server() -> Responder {
    let chain = CertificateDer::pem_file_iter(data("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(data("server.key")).unwrap();
    let config = Arc::new(
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap(),
    );
    Responder::start_tls(config, |_| Reply::json(&pass()))
}

#[test]
fn the_private_ca_in_ssl_cert_file_is_trusted() {
    let server = passing_server();
    let run = Gate::against(&server.url())
        .env("SSL_CERT_FILE", data("ca.pem").to_str().unwrap())
        .env("DTS_TIMEOUT", "5")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("result"), "passed");
    assert_eq!(run.output("polls"), "1");
    assert_eq!(server.requests().len(), 1);
    run.assert_no_secrets();
}

#[test]
fn the_localhost_name_in_the_certificate_works_too() {
    let server = passing_server();
    let run = Gate::against(&format!("https://localhost:{}", server.port()))
        .env("SSL_CERT_FILE", data("ca.pem").to_str().unwrap())
        .env("DTS_TIMEOUT", "5")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn without_ssl_cert_file_the_certificate_is_refused_until_the_deadline() {
    let server = passing_server();
    let run = Gate::against(&server.url()).env("DTS_TIMEOUT", "1").run();
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.output("passed"), "false");
    assert_eq!(run.output("result"), "error");
    assert_eq!(run.output("error-code"), "NetworkError");
    let message = run.output("error-message").to_lowercase();
    assert!(
        message.contains("certificate") && message.contains("unknownissuer"),
        "{message}"
    );
    let errors = run.commands_named("error");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].data.contains("set SSL_CERT_FILE to a PEM file"),
        "the error points to the fix: {:?}",
        errors[0].data
    );
    assert_eq!(
        server.requests().len(),
        0,
        "no request may pass the handshake"
    );
    assert!(run.wall < Duration::from_secs(4), "{:?}", run.wall);
}

#[test]
fn a_bundle_without_the_issuing_ca_does_not_trust_the_server() {
    // A common mistake: the proxy's own (leaf) certificate instead of the CA that issued it.
    // Trust is only ever granted through the issuer, so the handshake must still fail.
    let dir = std::env::temp_dir().join(format!("dts-gate-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let leaf_only = dir.join("leaf.pem");
    std::fs::copy(data("server.pem"), &leaf_only).unwrap();
    let server = passing_server();
    let run = Gate::against(&server.url())
        .env("SSL_CERT_FILE", leaf_only.to_str().unwrap())
        .env("DTS_TIMEOUT", "1")
        .run();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(server.requests().len(), 0);
}

#[test]
fn a_bad_ssl_cert_file_is_a_configuration_error_and_nothing_is_sent() {
    let dir = std::env::temp_dir().join(format!("dts-gate-tls-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "no certificates here\n").unwrap();
    let missing = dir.join("missing.pem");
    let cases = [
        (
            empty.to_str().unwrap().to_string(),
            "holds no PEM certificate",
        ),
        (missing.to_str().unwrap().to_string(), "cannot read"),
    ];
    let server = passing_server();
    for (path, expected) in cases {
        let run = Gate::against(&server.url())
            .env("SSL_CERT_FILE", &path)
            .run();
        assert_eq!(run.code, 2, "{path}: {run:?}");
        let errors = run.commands_named("error");
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].data.contains("SSL_CERT_FILE: ") && errors[0].data.contains(expected),
            "{:?}",
            errors[0].data
        );
        assert_eq!(errors[0].data.lines().count(), 1);
        assert_eq!(run.output("error-code"), "InvalidConfiguration");
        assert!(run.output("error-message").contains("SSL_CERT_FILE"));
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(server.requests().len(), 0);
}
