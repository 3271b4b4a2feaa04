//! The order of the sources, their validation, and the keyring's refresh, against in-memory
//! files and a scripted HTTP: no network, no clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::*;

#[derive(Default, Clone)]
struct MemFiles(HashMap<String, String>);

impl Files for MemFiles {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        Ok(self.0.get(path).cloned())
    }
}

fn files(pairs: &[(&str, &str)]) -> MemFiles {
    MemFiles(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn sts() -> Endpoint {
    Endpoint::sts_on(crate::api::DOMAIN)
}

fn context() -> Context<'static> {
    Context {
        region: "ap-guangzhou",
        sts: sts(),
    }
}

const ARN: &str = "qcs::cam::uin/100000000001:roleName/dts-gate-ci";

fn vars(f: impl FnOnce(&mut CredentialVars)) -> CredentialVars {
    let mut v = CredentialVars::default();
    f(&mut v);
    v
}

fn keys(v: &mut CredentialVars) {
    v.secret_id = Some("AKIDenv".into());
    v.secret_key = Some("env-secret-key".into());
}

fn oidc(v: &mut CredentialVars) {
    v.role_arn = Some(ARN.into());
    v.oidc_provider_id = Some("github-actions".into());
    v.actions_id_token_request_url = Some("https://runner.example/token?api-version=2.0".into());
    v.actions_id_token_request_token = Some("runner-bearer-token".into());
}

fn chosen(v: &CredentialVars, f: &MemFiles) -> Source {
    choose(v, f, &context()).unwrap_or_else(|e| panic!("{e:?}"))
}

fn kind(source: &Source) -> String {
    match source {
        Source::Keys { origin, .. } => format!("keys: {origin}"),
        Source::InstanceRole { .. } => "instance role".into(),
        Source::WebIdentity {
            token: IdentityToken::File { variable, .. },
            tke,
            ..
        } => format!("web identity file {variable} tke={tke}"),
        Source::WebIdentity {
            token: IdentityToken::GitHub { audience, .. },
            ..
        } => format!("web identity github {audience}"),
        Source::AssumeRole { base, .. } => format!("assume role on {}", kind(base)),
    }
}

const INI: &str = "[default]\nsecret_id = AKIDini\nsecret_key = ini-secret-key\n";
const TCCLI: &str = r#"{"secretId": "AKIDcli", "secretKey": "cli-secret-key", "token": ""}"#;

#[test]
fn sources_are_tried_in_order() {
    let all_files = files(&[
        ("/home/ci/.tencentcloud/credentials", INI),
        ("/home/ci/.tccli/default.credential", TCCLI),
    ]);
    let home = |v: &mut CredentialVars| v.home = Some("/home/ci".into());
    // 1. keys in the environment win over everything.
    let v = vars(|v| {
        keys(v);
        home(v);
    });
    assert_eq!(
        kind(&chosen(&v, &all_files)),
        "keys: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"
    );
    // ... and with a role ARN alone they are the base of AssumeRole.
    let v = vars(|v| {
        keys(v);
        v.role_arn = Some(ARN.into());
    });
    assert_eq!(
        kind(&chosen(&v, &all_files)),
        "assume role on keys: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY"
    );
    // 2. web identity: the token file first, else GitHub's endpoint.
    let v = vars(|v| {
        oidc(v);
        home(v);
    });
    assert_eq!(
        kind(&chosen(&v, &all_files)),
        "web identity github sts.tencentcloudapi.com"
    );
    let v = vars(|v| {
        oidc(v);
        v.web_identity_token_file = Some("/run/jwt".into());
        v.oidc_audience = Some("my-aud".into());
    });
    assert_eq!(
        kind(&chosen(&v, &all_files)),
        "web identity file TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE tke=false"
    );
    let v = vars(|v| {
        v.tke_provider_id = Some("tke-oidc".into());
        v.tke_role_arn = Some(ARN.into());
        v.tke_web_identity_token_file = Some("/var/run/secrets/tke/token".into());
        v.tke_region = Some("ap-shanghai".into());
        home(v);
    });
    let tke = chosen(&v, &all_files);
    assert_eq!(
        kind(&tke),
        "web identity file TKE_WEB_IDENTITY_TOKEN_FILE tke=true"
    );
    let Source::WebIdentity { role, .. } = &tke else {
        unreachable!()
    };
    assert_eq!(role.region, "ap-shanghai");
    // 3. a role ARN alone: AssumeRole on a profile file, else on the instance role.
    let v = vars(|v| {
        v.role_arn = Some(ARN.into());
        home(v);
    });
    assert_eq!(
        kind(&chosen(&v, &all_files)),
        "assume role on keys: the profile file /home/ci/.tencentcloud/credentials"
    );
    let v = vars(|v| v.role_arn = Some(ARN.into()));
    assert_eq!(
        kind(&chosen(&v, &files(&[]))),
        "assume role on instance role"
    );
    // 4. profile files: the SDKs' INI file, then tccli's profile.
    let v = vars(home);
    assert_eq!(
        kind(&chosen(&v, &all_files)),
        "keys: the profile file /home/ci/.tencentcloud/credentials"
    );
    let only_tccli = files(&[("/home/ci/.tccli/default.credential", TCCLI)]);
    assert_eq!(
        kind(&chosen(&v, &only_tccli)),
        "keys: the tccli profile /home/ci/.tccli/default.credential"
    );
    let v = vars(|v| {
        home(v);
        v.tccli_profile = Some("ci".into());
        v.credentials_file = Some("/etc/tc".into());
    });
    let named = files(&[("/etc/tc", INI), ("/home/ci/.tccli/ci.credential", TCCLI)]);
    assert_eq!(kind(&chosen(&v, &named)), "keys: the profile file /etc/tc");
    // 5. nothing else: the instance role, with what to say if there is none.
    let source = chosen(&vars(home), &files(&[]));
    let Source::InstanceRole { metadata, missing } = &source else {
        panic!("{source:?}")
    };
    assert_eq!(metadata, "http://metadata.tencentyun.com");
    assert_eq!(
        missing.iter().map(|e| e.variable).collect::<Vec<_>>(),
        ["TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"]
    );
    for looked_for in [
        "TENCENTCLOUD_ROLE_ARN",
        "TKE_PROVIDER_ID",
        "/home/ci/.tencentcloud/credentials",
        "/home/ci/.tccli/default.credential",
        "CVM instance role",
    ] {
        assert!(
            missing[0].problem.contains(looked_for),
            "{looked_for}: {}",
            missing[0]
        );
    }
}

#[test]
fn the_three_token_names_in_order() {
    let token = |f: &dyn Fn(&mut CredentialVars)| {
        let v = vars(|v| {
            keys(v);
            f(v);
        });
        chosen(&v, &files(&[])).static_keys().unwrap().token.clone()
    };
    assert_eq!(
        token(&|v| v.session_token = Some("session".into())).as_deref(),
        Some("session")
    );
    assert_eq!(
        token(&|v| {
            v.session_token = Some("session".into());
            v.security_token = Some("security".into());
        })
        .as_deref(),
        Some("security")
    );
    assert_eq!(
        token(&|v| {
            v.security_token = Some("security".into());
            v.token = Some("tccli".into());
        })
        .as_deref(),
        Some("tccli")
    );
}

#[test]
fn half_configured_sources_name_the_missing_variable() {
    let problems = |v: CredentialVars, f: &MemFiles| -> Vec<&'static str> {
        choose(&v, f, &context())
            .expect_err("should be rejected")
            .iter()
            .map(|e| e.variable)
            .collect()
    };
    let none = files(&[]);
    assert_eq!(
        problems(vars(|v| v.secret_id = Some("AKID".into())), &none),
        ["TENCENTCLOUD_SECRET_KEY"]
    );
    assert_eq!(
        problems(vars(|v| v.oidc_provider_id = Some("p".into())), &none),
        ["TENCENTCLOUD_ROLE_ARN"]
    );
    let v = vars(|v| {
        v.role_arn = Some(ARN.into());
        v.oidc_provider_id = Some("p".into());
    });
    assert_eq!(problems(v, &none), ["TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE"]);
    let v = vars(|v| {
        oidc(v);
        v.role_arn = Some("arn:aws:iam::123:role/x".into());
        v.role_duration = Some("13h".into());
        v.role_session_name = Some("has space".into());
    });
    assert_eq!(problems(v, &none), ["TENCENTCLOUD_ROLE_ARN"]);
    let v = vars(|v| {
        oidc(v);
        v.role_duration = Some("13h".into());
    });
    assert_eq!(problems(v, &none), ["TENCENTCLOUD_ROLE_DURATION"]);
    let v = vars(|v| {
        oidc(v);
        v.role_session_name = Some("has space".into());
    });
    assert_eq!(problems(v, &none), ["TENCENTCLOUD_ROLE_SESSION_NAME"]);
    assert_eq!(
        problems(vars(|v| v.tke_provider_id = Some("p".into())), &none),
        ["TKE_ROLE_ARN", "TKE_WEB_IDENTITY_TOKEN_FILE"]
    );
    assert_eq!(
        problems(vars(|v| v.credentials_file = Some("/nope".into())), &none),
        ["TENCENTCLOUD_CREDENTIALS_FILE"]
    );
    let v = vars(|v| {
        v.home = Some("/h".into());
        v.tccli_profile = Some("prod".into());
    });
    assert_eq!(problems(v, &none), ["TCCLI_PROFILE"]);
    let v = vars(|v| {
        oidc(v);
        v.actions_id_token_request_url = Some("http://evil.example/token".into());
    });
    assert_eq!(problems(v, &none), ["ACTIONS_ID_TOKEN_REQUEST_URL"]);
}

#[test]
fn session_names_come_from_the_ci_context_within_the_sts_rules() {
    let name = |f: &dyn Fn(&mut CredentialVars)| session_name(&vars(f)).unwrap();
    assert_eq!(name(&|_| {}), "dts-gate");
    assert_eq!(
        name(&|v| {
            v.github_repository = Some("octo-org/db-repo".into());
            v.github_run_id = Some("123456".into());
        }),
        "dts-gate-octo-org-db-repo-123456"
    );
    assert_eq!(
        name(&|v| {
            v.ci_project_path = Some("group/sub group/proj".into());
            v.ci_pipeline_id = Some("77".into());
        }),
        "dts-gate-group-sub-group-proj-77"
    );
    let long = name(&|v| v.github_repository = Some(format!("org/{}", "r".repeat(100))));
    assert_eq!(long.len(), 64);
    assert!(long.chars().all(is_session_char));
    assert_eq!(
        name(&|v| v.role_session_name = Some("my.session@ci".into())),
        "my.session@ci"
    );
}

#[test]
fn descriptions_name_the_source_and_mask_the_account() {
    let v = vars(oidc);
    let source = chosen(&v, &files(&[]));
    let text = source.describe();
    assert!(
        text.contains("qcs::cam::uin/***:roleName/dts-gate-ci"),
        "{text}"
    );
    assert!(!text.contains("100000000001"), "{text}");
    assert!(!text.contains("runner-bearer-token"), "{text}");
    assert!(!format!("{source:?}").contains("runner-bearer-token"));
    assert_eq!(source.account_id().as_deref(), Some("100000000001"));
    assert!(text.starts_with("web identity: GitHub Actions' OIDC token (audience sts.tencentcloudapi.com) exchanged with STS AssumeRoleWithWebIdentity at sts.tencentcloudapi.com"), "{text}");
    assert!(
        source
            .known_secrets()
            .scrub("x runner-bearer-token")
            .ends_with("***")
    );
}

/// Answers by URL and action, records every request.
#[derive(Clone, Default)]
struct Scripted {
    requests: Arc<Mutex<Vec<HttpRequest>>>,
    answers: Arc<Mutex<Vec<Result<HttpAnswer, ApiError>>>>,
}

impl Scripted {
    fn then(self, body: &str) -> Self {
        self.answers.lock().unwrap().push(Ok(HttpAnswer {
            status: 200,
            body: body.as_bytes().to_vec(),
        }));
        self
    }

    fn then_error(self, error: ApiError) -> Self {
        self.answers.lock().unwrap().push(Err(error));
        self
    }

    fn actions(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                r.headers
                    .iter()
                    .find(|(n, _)| *n == "X-TC-Action")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| format!("GET {}", r.url))
            })
            .collect()
    }
}

impl Http for Scripted {
    fn send(
        &self,
        request: &HttpRequest,
        _budget: Duration,
        _connect: Option<Duration>,
    ) -> Result<HttpAnswer, ApiError> {
        self.requests.lock().unwrap().push(request.clone());
        let mut answers = self.answers.lock().unwrap();
        assert!(!answers.is_empty(), "unexpected request {request:?}");
        answers.remove(0)
    }
}

fn sts_answer(n: u32, expires: i64) -> String {
    format!(
        r#"{{"Response":{{"Credentials":{{"TmpSecretId":"AKIDtmp{n}","TmpSecretKey":"tmp-secret-key-{n}","Token":"tmp-session-token-{n}"}},"ExpiredTime":{expires},"RequestId":"r{n}"}}}}"#
    )
}

fn jwt(n: u32) -> String {
    format!(r#"{{"value":"eyJhbGciOiJSUzI1NiJ9.claims-{n}.sig"}}"#)
}

const T0: i64 = 1_700_000_000;
const BUDGET: Duration = Duration::from_secs(10);

#[test]
fn web_identity_is_refreshed_before_expiry_with_a_new_identity_token() {
    let http = Scripted::default()
        .then(&jwt(1))
        .then(&sts_answer(1, T0 + 3600))
        .then(&jwt(2))
        .then(&sts_answer(2, T0 + 7200));
    let mut keyring = Keyring::new(
        chosen(&vars(oidc), &files(&[])),
        Box::new(http.clone()),
        Box::new(MemFiles::default()),
    );
    let first = keyring.current(T0, BUDGET).unwrap();
    assert_eq!(first.secret_id, "AKIDtmp1");
    assert_eq!(first.token.as_deref(), Some("tmp-session-token-1"));
    // Reused while far from expiry: nothing more is sent.
    assert_eq!(keyring.current(T0 + 3000, BUDGET).unwrap(), first);
    assert_eq!(http.actions().len(), 2);
    // Within five minutes of expiry: a new identity token, a new exchange.
    let second = keyring.current(T0 + 3301, BUDGET).unwrap();
    assert_eq!(second.secret_id, "AKIDtmp2");
    assert_eq!(
        http.actions(),
        [
            "GET https://runner.example/token?api-version=2.0&audience=sts.tencentcloudapi.com",
            "AssumeRoleWithWebIdentity",
            "GET https://runner.example/token?api-version=2.0&audience=sts.tencentcloudapi.com",
            "AssumeRoleWithWebIdentity"
        ]
    );
    let requests = http.requests.lock().unwrap();
    let body = String::from_utf8_lossy(&requests[3].body).into_owned();
    assert!(
        body.contains("claims-2"),
        "the second exchange uses the new token: {body}"
    );
    // Every secret obtained is scrubbed and waits to be masked.
    let unmasked = keyring.take_unmasked();
    for secret in [
        "eyJhbGciOiJSUzI1NiJ9.claims-1.sig",
        "tmp-secret-key-1",
        "tmp-session-token-1",
        "tmp-secret-key-2",
        "tmp-session-token-2",
    ] {
        assert!(unmasked.iter().any(|s| s == secret), "{secret} not masked");
        assert_eq!(keyring.secrets().scrub(secret), "***");
    }
    assert!(keyring.take_unmasked().is_empty());
}

#[test]
fn a_failed_refresh_keeps_credentials_that_have_not_expired() {
    let http = Scripted::default()
        .then(&jwt(1))
        .then(&sts_answer(1, T0 + 600))
        .then_error(ApiError::Transport { detail: "reset".into() })
        .then(&jwt(2))
        .then(r#"{"Response":{"Error":{"Code":"InvalidParameter.WebIdentityTokenError","Message":"expired"},"RequestId":"x"}}"#);
    let mut keyring = Keyring::new(
        chosen(&vars(oidc), &files(&[])),
        Box::new(http),
        Box::new(MemFiles::default()),
    );
    keyring.current(T0, BUDGET).unwrap();
    // Due (within 60 s of expiry), the refresh fails, the old ones still work.
    assert_eq!(
        keyring.current(T0 + 560, BUDGET).unwrap().secret_id,
        "AKIDtmp1"
    );
    // Expired and refused: the error, naming STS and its code.
    let error = match keyring.current(T0 + 600, BUDGET) {
        Err(FetchError::Failed(e)) => e,
        other => panic!("{other:?}"),
    };
    assert_eq!(error.code(), "InvalidParameter.WebIdentityTokenError");
    assert!(!error.is_transient());
    assert!(
        error
            .to_string()
            .starts_with("STS AssumeRoleWithWebIdentity: "),
        "{error}"
    );
}

#[test]
fn assume_role_signs_with_the_base_keys_and_a_token_file_is_read_at_each_exchange() {
    let http = Scripted::default().then(&sts_answer(1, T0 + 3600));
    let v = vars(|v| {
        keys(v);
        v.role_arn = Some(ARN.into());
    });
    let mut keyring = Keyring::new(
        chosen(&v, &files(&[])),
        Box::new(http.clone()),
        Box::new(MemFiles::default()),
    );
    assert_eq!(keyring.current(T0, BUDGET).unwrap().secret_id, "AKIDtmp1");
    let requests = http.requests.lock().unwrap();
    let auth = &requests[0].headers[0].1;
    assert!(
        auth.starts_with("TC3-HMAC-SHA256 Credential=AKIDenv/2023-11-14/sts/tc3_request"),
        "{auth}"
    );
    drop(requests);

    let http = Scripted::default().then(&sts_answer(1, T0 + 3600));
    let v = vars(|v| {
        v.role_arn = Some(ARN.into());
        v.oidc_provider_id = Some("gitlab".into());
        v.web_identity_token_file = Some("/run/jwt".into());
    });
    let token_files = files(&[("/run/jwt", "eyJfile.token.sig\n")]);
    let mut keyring = Keyring::new(
        chosen(&v, &files(&[])),
        Box::new(http.clone()),
        Box::new(token_files),
    );
    keyring.current(T0, BUDGET).unwrap();
    let body = String::from_utf8_lossy(&http.requests.lock().unwrap()[0].body).into_owned();
    assert!(
        body.contains(r#""WebIdentityToken":"eyJfile.token.sig""#),
        "{body}"
    );
    assert_eq!(keyring.secrets().scrub("eyJfile.token.sig"), "***");

    let mut missing = Keyring::new(
        chosen(&v, &files(&[])),
        Box::new(Scripted::default()),
        Box::new(MemFiles::default()),
    );
    let Err(FetchError::Failed(error)) = missing.current(T0, BUDGET) else {
        panic!()
    };
    assert!(
        error
            .message()
            .contains("TENCENTCLOUD_WEB_IDENTITY_TOKEN_FILE names /run/jwt, which does not exist"),
        "{error}"
    );
}

#[test]
fn the_instance_role_or_nothing_found() {
    let http = Scripted::default()
        .then("ci-role")
        .then(r#"{"TmpSecretId":"AKIDcvm","TmpSecretKey":"cvm-secret-key","Token":"cvm-token-0001","ExpiredTime":1700007200,"Code":"Success"}"#);
    let mut keyring = Keyring::new(
        chosen(&vars(|_| {}), &files(&[])),
        Box::new(http.clone()),
        Box::new(MemFiles::default()),
    );
    assert_eq!(keyring.current(T0, BUDGET).unwrap().secret_id, "AKIDcvm");
    assert_eq!(
        http.actions(),
        [
            "GET http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/",
            "GET http://metadata.tencentyun.com/latest/meta-data/cam/security-credentials/ci-role"
        ]
    );
    let http = Scripted::default().then_error(ApiError::Unreachable {
        detail: "failed to lookup address".into(),
    });
    let mut keyring = Keyring::new(
        chosen(&vars(|_| {}), &files(&[])),
        Box::new(http),
        Box::new(MemFiles::default()),
    );
    let Err(FetchError::NothingFound(errors)) = keyring.current(T0, BUDGET) else {
        panic!()
    };
    assert_eq!(errors[0].variable, "TENCENTCLOUD_SECRET_ID");
    assert!(
        errors[0]
            .problem
            .contains("(not reachable: failed to lookup address)"),
        "{}",
        errors[0]
    );
}
