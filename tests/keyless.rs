//! Keyless credentials (issue 12), end to end: the real binary against one loopback responder
//! that plays GitHub's OIDC token endpoint, STS, the CVM metadata service and DTS. It checks
//! that `AssumeRoleWithWebIdentity` is unsigned and well-formed, that `AssumeRole` is TC3-signed
//! for `sts` with the base keys, that every DTS request after an exchange is signed with the
//! temporary key and carries its token, that credentials are refreshed before they expire, the
//! order of the sources, every STS error, and that no secret leaks anywhere.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use common::http::{Reply, Request, Responder, refused_url};
use common::*;
use dts_gate::sign;

const ROLE: &str = "qcs::cam::uin/100000000001:roleName/dts-gate-ci";
const ACCOUNT: &str = "100000000001";
const BEARER: &str = "runner-bearer-token-0042";
const PROVIDER: &str = "github-actions";

fn jwt(n: u32) -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.identity-claims-{n}.signature-{n}")
}
fn tmp_id(n: u32) -> String {
    format!("AKIDtemporary{n:04}")
}
fn tmp_key(n: u32) -> String {
    format!("temporary-secret-key-{n:04}")
}
fn tmp_token(n: u32) -> String {
    format!("temporary-session-token-{n:04}")
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// How the fake cloud behaves.
#[derive(Clone)]
struct Cloud {
    /// Seconds the issued credentials last (1: due for a refresh at once).
    ttl: i64,
    /// `Some(code)`: STS refuses every exchange with it, quoting the request's token.
    sts_error: Option<&'static str>,
    /// The DTS answers, in order; the last repeats.
    dts: Vec<String>,
    /// Status line of the OIDC endpoint's answers.
    oidc_status: &'static str,
}

impl Default for Cloud {
    fn default() -> Cloud {
        Cloud {
            ttl: 3600,
            sts_error: None,
            dts: vec![pass()],
            oidc_status: "200 OK",
        }
    }
}

impl Cloud {
    fn start(self) -> Responder {
        let issued = Arc::new(AtomicU32::new(0));
        let jwts = Arc::new(AtomicU32::new(0));
        let dts_calls = Arc::new(AtomicU32::new(0));
        Responder::start(move |r: &Request| {
            if r.method == "GET" && r.path.starts_with("/oidc") {
                if self.oidc_status != "200 OK" {
                    return Reply::status(self.oidc_status, "application/json", "{}");
                }
                let n = jwts.fetch_add(1, Ordering::SeqCst) + 1;
                return Reply::json(&format!(r#"{{"count":1,"value":"{}"}}"#, jwt(n)));
            }
            if r.method == "GET" && r.path.contains("cam/security-credentials") {
                if r.path.ends_with("security-credentials/") {
                    return Reply::status("200 OK", "text/plain", "cvm-ci-role");
                }
                let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                return Reply::json(&format!(
                    r#"{{"TmpSecretId":"{}","TmpSecretKey":"{}","Token":"{}","ExpiredTime":{},"Expiration":"x","Code":"Success"}}"#,
                    tmp_id(n),
                    tmp_key(n),
                    tmp_token(n),
                    now() + self.ttl
                ));
            }
            match r.header("X-TC-Action") {
                Some("AssumeRoleWithWebIdentity" | "AssumeRole") => {
                    if let Some(code) = self.sts_error {
                        let echoed = r.body_text().replace('"', "'");
                        return Reply::json(&format!(
                            r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"refused {echoed}"}},"RequestId":"sts-req-1"}}}}"#
                        ));
                    }
                    let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
                    Reply::json(&format!(
                        r#"{{"Response":{{"Credentials":{{"TmpSecretId":"{}","TmpSecretKey":"{}","Token":"{}"}},"ExpiredTime":{},"Expiration":"x","RequestId":"sts-{n}"}}}}"#,
                        tmp_id(n),
                        tmp_key(n),
                        tmp_token(n),
                        now() + self.ttl
                    ))
                }
                _ => {
                    let i = dts_calls.fetch_add(1, Ordering::SeqCst) as usize;
                    Reply::json(&self.dts[i.min(self.dts.len() - 1)])
                }
            }
        })
    }
}

/// The gate with no keys, against `cloud` for DTS and STS.
fn keyless(cloud: &Responder) -> Gate {
    Gate::against(&cloud.url())
        .without("TENCENTCLOUD_SECRET_ID")
        .without("TENCENTCLOUD_SECRET_KEY")
        .env("TENCENTCLOUD_STS_ENDPOINT", &cloud.url())
}

fn github_oidc(cloud: &Responder) -> Gate {
    keyless(cloud)
        .env("TENCENTCLOUD_ROLE_ARN", ROLE)
        .env("TENCENTCLOUD_OIDC_PROVIDER_ID", PROVIDER)
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            &format!("{}/oidc?api-version=2.0", cloud.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", BEARER)
}

fn of_kind<'a>(requests: &'a [Request], kind: &str) -> Vec<&'a Request> {
    requests
        .iter()
        .filter(|r| match kind {
            "oidc" => r.path.starts_with("/oidc"),
            "metadata" => r.path.contains("security-credentials"),
            "sts" => matches!(
                r.header("X-TC-Action"),
                Some("AssumeRoleWithWebIdentity" | "AssumeRole")
            ),
            _ => {
                r.method == "POST"
                    && r.header("X-TC-Action")
                        .is_some_and(|a| a.contains("Migrat"))
            }
        })
        .collect()
}

fn body_json(r: &Request) -> serde_json::Value {
    serde_json::from_slice(&r.body).unwrap()
}

/// The request carries a valid TC3 signature for `service` by `id`/`key`.
fn assert_signed(r: &Request, service: &str, id: &str, key: &str) {
    let timestamp: i64 = r.header("X-TC-Timestamp").unwrap().parse().unwrap();
    let expected = sign::authorization(
        id,
        key,
        service,
        timestamp,
        &sign::SignableRequest {
            content_type: r.header("Content-Type").unwrap(),
            host: r.header("Host").unwrap(),
            payload: &r.body,
        },
    );
    assert_eq!(r.header("Authorization"), Some(expected.as_str()), "{r:?}");
}

/// No secret of `secrets` anywhere a person or runner reads, but in `::add-mask::` commands.
fn assert_nothing_leaks(run: &Run, secrets: &[String]) {
    run.assert_no_secrets();
    let without_masks = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with("::add-mask::"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let texts = [
        without_masks(&run.stdout),
        without_masks(&run.stderr),
        run.output_raw.clone(),
        run.summary.clone(),
    ];
    let reports = [&run.reports.json, &run.reports.junit, &run.reports.dotenv];
    for text in texts.iter().chain(reports.into_iter().flatten()) {
        for secret in secrets {
            assert!(!text.contains(secret.as_str()), "{secret} leaked:\n{text}");
        }
        assert!(!text.contains(BEARER), "bearer leaked:\n{text}");
    }
}

fn masked(run: &Run) -> Vec<String> {
    run.commands_named("add-mask")
        .into_iter()
        .map(|c| c.data)
        .collect()
}

#[test]
fn github_oidc_is_exchanged_unsigned_and_dts_is_signed_with_the_temporary_key() {
    let cloud = Cloud::default().start();
    let run = github_oidc(&cloud)
        .env("GITHUB_REPOSITORY", "octo-org/db-migrations")
        .env("GITHUB_RUN_ID", "987654")
        .with_reports()
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.output("passed"), "true");
    let requests = cloud.requests();
    // The runner's token endpoint: its bearer, the default audience.
    let oidc = of_kind(&requests, "oidc");
    assert_eq!(oidc.len(), 1, "{requests:?}");
    assert_eq!(
        oidc[0].path,
        "/oidc?api-version=2.0&audience=sts.tencentcloudapi.com"
    );
    assert_eq!(
        oidc[0].header("Authorization"),
        Some(format!("Bearer {BEARER}").as_str())
    );
    // STS: unsigned, every parameter, the derived session name.
    let sts = of_kind(&requests, "sts");
    assert_eq!(sts.len(), 1);
    let exchange = sts[0];
    assert_eq!(
        exchange.header("X-TC-Action"),
        Some("AssumeRoleWithWebIdentity")
    );
    assert_eq!(exchange.header("Authorization"), Some("SKIP"));
    assert_eq!(exchange.header("X-TC-Version"), Some("2018-08-13"));
    assert_eq!(exchange.header("X-TC-Region"), Some("ap-guangzhou"));
    assert_eq!(exchange.header("X-TC-Token"), None);
    assert!(
        exchange
            .header("X-TC-Timestamp")
            .unwrap()
            .parse::<i64>()
            .is_ok()
    );
    assert_eq!(
        body_json(exchange),
        serde_json::json!({
            "ProviderId": PROVIDER,
            "WebIdentityToken": jwt(1),
            "RoleArn": ROLE,
            "RoleSessionName": "dts-gate-octo-org-db-migrations-987654",
            "DurationSeconds": 3600,
        })
    );
    // DTS: the temporary key signs, its token rides along.
    let dts = of_kind(&requests, "dts");
    assert!(!dts.is_empty());
    for r in &dts {
        assert_signed(r, "dts", &tmp_id(1), &tmp_key(1));
        assert_eq!(r.header("X-TC-Token"), Some(tmp_token(1).as_str()));
    }
    // The log says which source, with the account masked; GitHub is told to mask the rest.
    assert!(
        run.stdout.contains("credentials: web identity: GitHub Actions' OIDC token (audience sts.tencentcloudapi.com) exchanged with STS AssumeRoleWithWebIdentity"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("qcs::cam::uin/***:roleName/dts-gate-ci")
    );
    let masks = masked(&run);
    for secret in [ACCOUNT.to_string(), jwt(1), tmp_key(1), tmp_token(1)] {
        assert!(masks.contains(&secret), "{secret} not masked: {masks:?}");
    }
    // The masks come before anything else the gate says about the credentials.
    let first_mask = run.stdout.find("::add-mask::").unwrap();
    assert!(first_mask < run.stdout.find("credentials:").unwrap());
    assert_nothing_leaks(
        &run,
        &[jwt(1), tmp_key(1), tmp_token(1), ACCOUNT.to_string()],
    );
}

#[test]
fn credentials_are_refreshed_before_they_expire_with_a_new_identity_token() {
    // Credentials that last one second are due at once: every request gets fresh ones.
    let cloud = Cloud {
        ttl: 1,
        dts: vec![running("10"), running("60"), pass()],
        ..Cloud::default()
    }
    .start();
    let run = github_oidc(&cloud).run();
    assert_eq!(run.code, 0, "{run:?}");
    let requests = cloud.requests();
    let dts = of_kind(&requests, "dts");
    assert_eq!(dts.len(), 3, "{requests:?}");
    let sts = of_kind(&requests, "sts");
    assert_eq!(sts.len(), 4, "one before the wait, one per request");
    // Each exchange used a new identity token; each request the credentials issued just before it.
    for (i, exchange) in sts.iter().enumerate() {
        assert_eq!(body_json(exchange)["WebIdentityToken"], jwt(i as u32 + 1));
    }
    for (i, r) in dts.iter().enumerate() {
        let n = i as u32 + 2;
        assert_signed(r, "dts", &tmp_id(n), &tmp_key(n));
        assert_eq!(r.header("X-TC-Token"), Some(tmp_token(n).as_str()));
    }
    let masks = masked(&run);
    let secrets: Vec<String> = (1..=4)
        .flat_map(|n| [jwt(n), tmp_key(n), tmp_token(n)])
        .collect();
    for secret in &secrets {
        assert!(masks.contains(secret), "{secret} not masked");
    }
    assert_nothing_leaks(&run, &secrets);
}

#[test]
fn assume_role_is_signed_with_the_keys_and_dts_with_the_role() {
    let cloud = Cloud::default().start();
    let run = Gate::against(&cloud.url())
        .env("TENCENTCLOUD_STS_ENDPOINT", &cloud.url())
        .env("TENCENTCLOUD_ROLE_ARN", ROLE)
        .env("TENCENTCLOUD_ROLE_SESSION_NAME", "nightly-gate")
        .env("TENCENTCLOUD_ROLE_DURATION", "2h")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let requests = cloud.requests();
    let sts = of_kind(&requests, "sts");
    assert_eq!(sts.len(), 1);
    assert_eq!(sts[0].header("X-TC-Action"), Some("AssumeRole"));
    assert_eq!(sts[0].header("X-TC-Version"), Some("2018-08-13"));
    assert_signed(sts[0], "sts", SECRET_ID, SECRET_KEY);
    assert_eq!(
        body_json(sts[0]),
        serde_json::json!({"RoleArn": ROLE, "RoleSessionName": "nightly-gate", "DurationSeconds": 7200})
    );
    for r in of_kind(&requests, "dts") {
        assert_signed(r, "dts", &tmp_id(1), &tmp_key(1));
        assert_eq!(r.header("X-TC-Token"), Some(tmp_token(1).as_str()));
    }
    assert!(
        run.stdout.contains(
            "credentials: role qcs::cam::uin/***:roleName/dts-gate-ci assumed with STS AssumeRole"
        ),
        "{}",
        run.stdout
    );
    assert_nothing_leaks(&run, &[tmp_key(1), tmp_token(1)]);
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dts-gate-keyless-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn token_files_profiles_tke_and_the_instance_role() {
    let dir = temp_dir("sources");
    let token_file = dir.join("gitlab-jwt");
    std::fs::write(&token_file, format!("{}\n", jwt(7))).unwrap();
    let home = dir.join("home");
    std::fs::create_dir_all(home.join(".tencentcloud")).unwrap();
    std::fs::create_dir_all(home.join(".tccli")).unwrap();
    std::fs::write(
        home.join(".tencentcloud/credentials"),
        format!("[default]\nsecret_id = {SECRET_ID}\nsecret_key = {SECRET_KEY}\n"),
    )
    .unwrap();
    std::fs::write(
        home.join(".tccli/ci.credential"),
        format!(
            r#"{{"secretId": "AKIDtccli0001", "secretKey": "{SECRET_KEY}", "token": "{TOKEN}"}}"#
        ),
    )
    .unwrap();
    let clouds: Vec<Responder> = (0..5).map(|_| Cloud::default().start()).collect();
    let gitlab = keyless(&clouds[0])
        .env("TENCENTCLOUD_ROLE_ARN", ROLE)
        .env("TENCENTCLOUD_OIDC_PROVIDER_ID", "gitlab")
        .env(
            "TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE",
            token_file.to_str().unwrap(),
        )
        .env("CI_PROJECT_PATH", "group/project")
        .env("CI_PIPELINE_ID", "42");
    let tke = keyless(&clouds[1])
        .env("TKE_PROVIDER_ID", "tke-provider")
        .env("TKE_ROLE_ARN", ROLE)
        .env("TKE_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .env("TKE_REGION", "ap-shanghai");
    let ini = keyless(&clouds[2]).env("HOME", home.to_str().unwrap());
    let tccli = keyless(&clouds[3])
        .env("HOME", home.to_str().unwrap())
        .env("TCCLI_PROFILE", "ci");
    let cvm = keyless(&clouds[4]).env("TENCENTCLOUD_METADATA_ENDPOINT", &clouds[4].url());
    // Without the INI file, tccli's profile is next.
    let runs = run_together([gitlab, tke, ini]);
    std::fs::remove_file(home.join(".tencentcloud/credentials")).unwrap();
    let runs: Vec<Run> = runs.into_iter().chain(run_together([tccli, cvm])).collect();
    for run in &runs {
        assert_eq!(run.code, 0, "{run:?}");
        assert_nothing_leaks(run, &[jwt(7), tmp_key(1), tmp_token(1)]);
    }

    let gitlab = clouds[0].requests();
    let sts = of_kind(&gitlab, "sts");
    assert_eq!(body_json(sts[0])["WebIdentityToken"], jwt(7));
    assert_eq!(body_json(sts[0])["ProviderId"], "gitlab");
    assert_eq!(
        body_json(sts[0])["RoleSessionName"],
        "dts-gate-group-project-42"
    );
    assert_eq!(sts[0].header("Authorization"), Some("SKIP"));
    assert!(
        runs[0]
            .stdout
            .contains("TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE"),
        "{}",
        runs[0].stdout
    );

    let tke = clouds[1].requests();
    let sts = of_kind(&tke, "sts");
    assert_eq!(sts[0].header("X-TC-Region"), Some("ap-shanghai"));
    assert_eq!(body_json(sts[0])["ProviderId"], "tke-provider");
    assert!(
        runs[1].stdout.contains("web identity (TKE)"),
        "{}",
        runs[1].stdout
    );

    for r in of_kind(&clouds[2].requests(), "dts") {
        assert_signed(r, "dts", SECRET_ID, SECRET_KEY);
    }
    assert!(
        runs[2].stdout.contains("keys from the profile file"),
        "{}",
        runs[2].stdout
    );
    for r in of_kind(&clouds[3].requests(), "dts") {
        assert_signed(r, "dts", "AKIDtccli0001", SECRET_KEY);
        assert_eq!(r.header("X-TC-Token"), Some(TOKEN));
    }
    assert!(
        runs[3].stdout.contains("the tccli profile"),
        "{}",
        runs[3].stdout
    );

    let cvm = clouds[4].requests();
    let metadata = of_kind(&cvm, "metadata");
    assert_eq!(
        metadata[0].path,
        "/latest/meta-data/cam/security-credentials/"
    );
    assert_eq!(
        metadata[1].path,
        "/latest/meta-data/cam/security-credentials/cvm-ci-role"
    );
    for r in of_kind(&cvm, "dts") {
        assert_signed(r, "dts", &tmp_id(1), &tmp_key(1));
        assert_eq!(r.header("X-TC-Token"), Some(tmp_token(1).as_str()));
    }
    assert!(
        runs[4].stdout.contains("the CVM instance role"),
        "{}",
        runs[4].stdout
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn keys_in_the_environment_come_first() {
    let cloud = Cloud::default().start();
    let run = github_oidc(&cloud)
        .env("TENCENTCLOUD_SECRET_ID", SECRET_ID)
        .env("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)
        .env("TENCENTCLOUD_SESSION_TOKEN", TOKEN)
        .env("TENCENTCLOUD_METADATA_ENDPOINT", &cloud.url())
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    let requests = cloud.requests();
    assert!(of_kind(&requests, "sts").is_empty() && of_kind(&requests, "oidc").is_empty());
    for r in of_kind(&requests, "dts") {
        assert_signed(r, "dts", SECRET_ID, SECRET_KEY);
        assert_eq!(r.header("X-TC-Token"), Some(TOKEN));
    }
    assert!(
        run.stdout.contains("token from TENCENTCLOUD_SESSION_TOKEN"),
        "{}",
        run.stdout
    );
    let warnings = run.commands_named("warning");
    assert!(
        warnings.iter().any(|w| w
            .data
            .starts_with("TENCENTCLOUD_OIDC_PROVIDER_ID is ignored")),
        "{warnings:?}"
    );
}

#[test]
fn no_credentials_at_all_is_exit_2_listing_what_was_looked_for() {
    let dts = Cloud::default().start();
    let run = keyless(&dts)
        .env("TENCENTCLOUD_METADATA_ENDPOINT", &refused_url())
        .env("HOME", "/nonexistent-home")
        .run();
    assert_eq!(run.code, 2, "{run:?}");
    assert!(cloud_was_not_called(&dts));
    let error = run.first_error();
    for looked_for in [
        "TENCENTCLOUD_SECRET_ID",
        "TENCENTCLOUD_ROLE_ARN with TENCENTCLOUD_OIDC_PROVIDER_ID",
        "TKE_PROVIDER_ID",
        "/nonexistent-home/.tencentcloud/credentials",
        "/nonexistent-home/.tccli/default.credential",
        "a CVM instance role at http://127.0.0.1:",
        "not reachable",
    ] {
        assert!(error.contains(looked_for), "{looked_for} missing: {error}");
    }
    assert_eq!(run.output("error-code"), "InvalidConfiguration");
}

fn cloud_was_not_called(cloud: &Responder) -> bool {
    of_kind(&cloud.requests(), "dts").is_empty() && of_kind(&cloud.requests(), "sts").is_empty()
}

#[test]
fn every_sts_error_is_exit_3_with_a_hint_naming_the_setting() {
    let cases: [(&str, &str); 6] = [
        (
            "InvalidParameter.WebIdentityTokenError",
            "TENCENTCLOUD_OIDC_AUDIENCE must equal the client id",
        ),
        (
            "InvalidParameter.ParamError",
            "check TENCENTCLOUD_OIDC_PROVIDER_ID",
        ),
        (
            "InternalError.GetRoleError",
            "check TENCENTCLOUD_ROLE_ARN: no such role",
        ),
        (
            "ResourceNotFound.RoleNotFound",
            "check TENCENTCLOUD_ROLE_ARN: no such role",
        ),
        (
            "UnauthorizedOperation",
            "oidc:sub condition must match this repository and branch",
        ),
        (
            "InvalidParameter.OverTimeError",
            "lower TENCENTCLOUD_ROLE_DURATION",
        ),
    ];
    let clouds: Vec<Responder> = cases
        .iter()
        .map(|(code, _)| {
            Cloud {
                sts_error: Some(code),
                ..Cloud::default()
            }
            .start()
        })
        .collect();
    let runs = run_together(clouds.iter().map(|c| github_oidc(c).with_reports()));
    for (((code, hint), run), cloud) in cases.iter().zip(&runs).zip(&clouds) {
        assert_eq!(run.code, 3, "{code}: {run:?}");
        assert!(
            of_kind(&cloud.requests(), "dts").is_empty(),
            "{code}: DTS was called"
        );
        let error = run.first_error();
        assert!(error.contains(code), "{code}: {error}");
        assert!(error.contains(hint), "{code}: {error}");
        assert!(!error.contains('\n'));
        assert_eq!(run.output("error-code"), *code);
        assert_eq!(run.output("result"), "error");
        // The service quoted the identity token back: scrubbed everywhere.
        assert_nothing_leaks(run, &[jwt(1)]);
    }
    // Inside the action the hint names the inputs.
    let cloud = Cloud {
        sts_error: Some("InternalError.GetRoleError"),
        ..Cloud::default()
    }
    .start();
    let run = github_oidc(&cloud).env("DTS_GATE_SURFACE", "action").run();
    assert!(
        run.first_error().contains("check the `role-arn` input"),
        "{}",
        run.first_error()
    );
}

#[test]
fn a_runner_without_id_token_permission_is_told_so() {
    let cloud = Cloud {
        oidc_status: "403 Forbidden",
        ..Cloud::default()
    }
    .start();
    let run = github_oidc(&cloud).run();
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.first_error().contains("permissions: id-token: write"),
        "{}",
        run.first_error()
    );
    assert!(of_kind(&cloud.requests(), "sts").is_empty());
    assert_nothing_leaks(&run, &[]);
}

#[test]
fn a_dry_run_names_the_source_and_calls_nothing() {
    let cloud = Cloud::default().start();
    let run = github_oidc(&cloud).arg("--dry-run").run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(cloud.requests().is_empty(), "{:?}", cloud.requests());
    assert!(
        run.stdout
            .contains("credentials: web identity: GitHub Actions' OIDC token")
            && run.stdout.contains("(STS is not called in a dry run)"),
        "{}",
        run.stdout
    );
    assert!(masked(&run).contains(&ACCOUNT.to_string()));
    assert_nothing_leaks(&run, &[ACCOUNT.to_string()]);
    let run = keyless(&cloud)
        .env("TENCENTCLOUD_METADATA_ENDPOINT", &cloud.url())
        .arg("--dry-run")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(cloud.requests().is_empty());
    assert!(
        run.stdout.contains("the CVM instance role")
            && run.stdout.contains("not asked in a dry run"),
        "{}",
        run.stdout
    );
}

#[test]
fn half_configured_keyless_settings_are_exit_2_naming_the_variable() {
    let cloud = Cloud::default().start();
    let cases = [
        (
            keyless(&cloud).env("TENCENTCLOUD_OIDC_PROVIDER_ID", PROVIDER),
            "TENCENTCLOUD_ROLE_ARN: is not set",
        ),
        (
            keyless(&cloud)
                .env("TENCENTCLOUD_ROLE_ARN", ROLE)
                .env("TENCENTCLOUD_OIDC_PROVIDER_ID", PROVIDER),
            "TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE: is not set",
        ),
        (
            github_oidc(&cloud).env("TENCENTCLOUD_ROLE_DURATION", "24h"),
            "TENCENTCLOUD_ROLE_DURATION: got \"24h\"",
        ),
        (
            github_oidc(&cloud).env("TENCENTCLOUD_ROLE_ARN", "not-an-arn"),
            "TENCENTCLOUD_ROLE_ARN: got \"not-an-arn\"",
        ),
        (
            github_oidc(&cloud).env("TENCENTCLOUD_STS_ENDPOINT", "http://sts.example.com"),
            "TENCENTCLOUD_STS_ENDPOINT: got",
        ),
        (
            github_oidc(&cloud).env("TENCENTCLOUD_DOMAIN", "example.com"),
            "TENCENTCLOUD_DOMAIN: got \"example.com\"",
        ),
    ];
    let expected: Vec<&str> = cases.iter().map(|(_, e)| *e).collect();
    let runs = run_together(cases.into_iter().map(|(g, _)| g));
    for (run, expected) in runs.iter().zip(expected) {
        assert_eq!(run.code, 2, "{expected}: {run:?}");
        assert!(
            run.first_error().contains(expected),
            "{expected}: {}",
            run.first_error()
        );
        assert_nothing_leaks(run, &[]);
    }
    assert!(cloud.requests().is_empty());
}

#[test]
fn the_international_site_moves_dts_and_sts() {
    let run = Gate::bare()
        .env("DTS_JOB_ID", JOB_ID)
        .env("TENCENTCLOUD_REGION", "ap-singapore")
        .env("TENCENTCLOUD_ROLE_ARN", ROLE)
        .env("TENCENTCLOUD_OIDC_PROVIDER_ID", PROVIDER)
        .env("TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE", "/run/jwt")
        .env("TENCENTCLOUD_DOMAIN", "intl.tencentcloudapi.com")
        .arg("--dry-run")
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("POST https://dts.intl.tencentcloudapi.com/"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("at sts.intl.tencentcloudapi.com"),
        "{}",
        run.stdout
    );
}
