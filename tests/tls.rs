//! The real binary over HTTPS against a local server whose certificate a private test CA signed
//! (tests/data/tls), as behind a TLS-inspecting proxy: trusted only through `SSL_CERT_FILE`.

mod common;

use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::*;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
}

/// An HTTPS server on 127.0.0.1 answering every request with `body`; counts the requests that
/// got through the handshake and were answered.
struct TlsServer {
    port: u16,
    answered: Arc<AtomicU32>,
}

impl TlsServer {
    fn start(body: String) -> TlsServer {
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
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let answered = Arc::new(AtomicU32::new(0));
        let count = answered.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (config, body, count) = (config.clone(), body.clone(), count.clone());
                std::thread::spawn(move || {
                    // A client that refuses the certificate ends the handshake: not our error.
                    if serve(stream, config, &body).is_ok() {
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        TlsServer { port, answered }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    fn answered(&self) -> u32 {
        self.answered.load(Ordering::SeqCst)
    }
}

fn serve(
    stream: std::net::TcpStream,
    config: Arc<ServerConfig>,
    body: &str,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, stream));
    read_http_request(&mut tls)?;
    let mut tls = tls.into_inner();
    write!(
        tls,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    tls.flush()?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn passing() -> String {
    answer("finished", 1, "100", 0, "ok")
}

#[test]
fn the_private_ca_in_ssl_cert_file_is_trusted() {
    let server = TlsServer::start(passing());
    let run = Gate::against(&server.url())
        .env("SSL_CERT_FILE", data("ca.pem").to_str().unwrap())
        .env("DTS_TIMEOUT", "5")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    assert_eq!(run.output("result"), "passed");
    assert_eq!(run.output("polls"), "1");
    assert_eq!(server.answered(), 1);
    run.assert_no_secrets();
}

#[test]
fn the_localhost_name_in_the_certificate_works_too() {
    let server = TlsServer::start(passing());
    let run = Gate::against(&format!("https://localhost:{}", server.port))
        .env("SSL_CERT_FILE", data("ca.pem").to_str().unwrap())
        .env("DTS_TIMEOUT", "5")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn without_ssl_cert_file_the_certificate_is_refused_until_the_deadline() {
    let server = TlsServer::start(passing());
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
    assert_eq!(server.answered(), 0, "no request may pass the handshake");
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
    let server = TlsServer::start(passing());
    let run = Gate::against(&server.url())
        .env("SSL_CERT_FILE", leaf_only.to_str().unwrap())
        .env("DTS_TIMEOUT", "1")
        .run();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(server.answered(), 0);
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
    let server = TlsServer::start(passing());
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
    assert_eq!(server.answered(), 0);
}
