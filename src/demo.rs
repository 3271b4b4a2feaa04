//! `--demo`: a simulated DTS endpoint on loopback, inside the process, and the real gate run
//! against it. The simulator checks every request's TC3 signature and headers and plays a
//! check from `starting` through `running` to `finished`, so the demo exercises the same
//! signing, HTTP, polling and reporting code as a real run. With `DTS_JOB_KIND=sync` it plays a
//! data sync job instead: its check (`DescribeCheckSyncJobResult`, then the job's own
//! `DescribeSyncJobs` status) or, for `ready`, the job running through to its incremental sync.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use crate::api::{ApiVersion, CONTENT_TYPE, SERVICE};
use crate::api::{Credentials, Language};
use crate::config::{Config, DemoMode, DemoSettings, parse_endpoint};
use crate::credentials::Source;
use crate::gate;
use crate::hints::Surface;
use crate::outcome::Outcome;
use crate::report::Reporter;
use crate::sign;
use crate::stage::{LagLimit, Stage};

/// Demo credentials: known to the simulator, worthless anywhere else.
const DEMO_SECRET_ID: &str = "AKIDdemo0000000000000000000000000000";
const DEMO_SECRET_KEY: &str = "demo-secret-key-not-a-real-one";
const DEMO_JOB_ID: &str = "dts-demo0001";
/// The demo's sync job: sync jobs are `sync-…`, and the gate reads the kind from the id too.
const DEMO_SYNC_JOB_ID: &str = "sync-demo0001";
const DEMO_REGION: &str = "ap-guangzhou";
/// The reference's own failing example, in English.
pub const DEMO_FAILURE_MESSAGE: &str = "The database table you selected does not exist. Please re-select. [The input parameter table cannot be found in the source instance]";

/// The poll interval of a demo run unless `DTS_POLL_INTERVAL` says otherwise: the whole check
/// then plays over about three seconds.
pub const DEMO_POLL_INTERVAL: Duration = Duration::from_millis(500);
pub const DEMO_TIMEOUT: Duration = Duration::from_secs(60);

/// The simulated check's answer to the `poll`-th well-signed request (from 1).
pub fn simulated_answer(api: ApiVersion, mode: DemoMode, poll: u32) -> serde_json::Value {
    match api {
        ApiVersion::V2018 => legacy_answer(mode, poll),
        ApiVersion::V2021 => migration_answer(mode, poll),
        ApiVersion::Sync => sync_check_answer(mode, poll),
    }
}

/// 2018-03-30: starting, then running 10% to 90%, then finished from the seventh poll on.
fn legacy_answer(mode: DemoMode, poll: u32) -> serde_json::Value {
    let (status, progress, flag, code, message) = match poll {
        0 | 1 => ("starting", 0, 3, 0, ""),
        2..=6 => ("running", 10 + (poll - 2) * 20, 3, 0, ""),
        _ => match mode {
            DemoMode::Pass => ("finished", 100, 1, 0, "ok"),
            DemoMode::Fail => ("finished", 100, 0, -1, DEMO_FAILURE_MESSAGE),
        },
    };
    serde_json::json!({"Response": {
        "Status": status,
        "Progress": progress.to_string(),
        "CheckFlag": flag,
        "ErrorCode": code,
        "ErrorMessage": message,
        "RequestId": format!("demo-request-{poll}"),
    }})
}

/// The steps of the simulated 2021-12-06 check, as the service names them.
const DEMO_STEPS: [(&str, &str); 6] = [
    ("ConnectDBCheck", "Database connection check"),
    ("VersionCheck", "Version check"),
    ("SrcPrivilegeCheck", "Source instance privilege check"),
    ("DstPrivilegeCheck", "Target instance privilege check"),
    ("DstEmptyCheck", "Target instance content conflict check"),
    ("BinlogParamCheck", "Binlog parameter check"),
];

/// 2021-12-06: `notStarted`, then one more step done per poll, then `success` from the eighth
/// poll on. Passing, it has a warning step (as the SDK's own example has); failing, the source
/// privilege step fails with a reason, a solution and a help link.
fn migration_answer(mode: DemoMode, poll: u32) -> serde_json::Value {
    let done = (poll.saturating_sub(1) as usize).min(DEMO_STEPS.len());
    let finished = poll > DEMO_STEPS.len() as u32 + 1;
    let steps: Vec<serde_json::Value> = DEMO_STEPS
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            let (status, items) = match (i < done, *id, mode) {
                (false, _, _) => ("notStarted", serde_json::json!([])),
                (true, "SrcPrivilegeCheck", DemoMode::Fail) => ("failed", serde_json::json!([{
                    "CheckItemName": "REPLICATION CLIENT privilege",
                    "CheckResult": "failed",
                    "Description": "The source account needs replication privileges",
                    "FailureReason": "The source account dts_user lacks the REPLICATION CLIENT and REPLICATION SLAVE privileges.",
                    "Solution": "Run GRANT REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO 'dts_user'@'%'; on the source instance, then create the check again.",
                    "ErrorLog": ["SHOW GRANTS FOR 'dts_user'@'%': GRANT SELECT, SHOW VIEW ON *.* TO 'dts_user'@'%'"],
                    "HelpDoc": ["https://www.tencentcloud.com/document/product/571/42587"],
                    "SkipInfo": "",
                }])),
                (true, "BinlogParamCheck", DemoMode::Pass) => ("warning", serde_json::json!([{
                    "CheckItemName": "binlog_row_image",
                    "CheckResult": "warning",
                    "Description": "",
                    "FailureReason": "binlog_row_image is MINIMAL; FULL is recommended.",
                    "Solution": "Set binlog_row_image=FULL on the source instance.",
                    "ErrorLog": [],
                    "HelpDoc": ["https://www.tencentcloud.com/document/product/571/42587"],
                    "SkipInfo": "",
                }])),
                (true, _, _) => ("pass", serde_json::json!([])),
            };
            serde_json::json!({
                "StepNo": i,
                "StepId": id,
                "StepName": name,
                "StepStatus": status,
                "StepMessage": "",
                "DetailCheckItems": items,
                "HasSkipped": false,
            })
        })
        .collect();
    let (status, flag) = match (poll, finished, mode) {
        (0 | 1, _, _) => ("notStarted", ""),
        (_, false, _) => ("running", ""),
        (_, true, DemoMode::Pass) => ("success", "checkPass"),
        (_, true, DemoMode::Fail) => ("success", "checkNotPass"),
    };
    serde_json::json!({"Response": {
        "Status": status,
        "BriefMsg": if finished { "success" } else { "" },
        "CheckFlag": flag,
        "StepInfo": steps,
        "RequestId": format!("demo-request-{poll}"),
    }})
}

/// The poll from which the simulated sync check has finished: one step more per poll after
/// the first (`notStarted`), so the last of [`DEMO_STEPS`] finishes on this one.
const SYNC_CHECK_DONE: u32 = DEMO_STEPS.len() as u32 + 1;

/// 2021-12-06 `DescribeCheckSyncJobResult`: `notStarted`, then `running` with one more step
/// `finished` per poll (the next one `running`), then from [`SYNC_CHECK_DONE`] on `success`
/// (passing) or `failed` (failing). The source privilege step always finishes with a warning,
/// as in the reference's example; failing, the target content conflict step fails with an
/// error. `StepCur`, `StepCount` and `Progress` agree with the steps, as the service's do.
fn sync_check_answer(mode: DemoMode, poll: u32) -> serde_json::Value {
    let count = DEMO_STEPS.len();
    let finished = poll >= SYNC_CHECK_DONE;
    let done = if finished {
        count
    } else {
        poll.saturating_sub(1) as usize
    };
    let steps: Vec<serde_json::Value> = DEMO_STEPS
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            let (status, progress) = match i.cmp(&done) {
                std::cmp::Ordering::Less => ("finished", 100),
                std::cmp::Ordering::Equal if poll > 1 => ("running", 50),
                _ => ("notStarted", 0),
            };
            let mut errors = serde_json::json!([]);
            let mut warnings = serde_json::json!([]);
            match (status, *id, mode) {
                ("finished", "SrcPrivilegeCheck", _) => {
                    warnings = serde_json::json!([{
                        // The service's own spelling of a code (the reference's example).
                        "Code": "Warning: SrcPrivilegeCheck",
                        "Message": "The source account dts_user has more privileges than the sync needs (GRANT ALL PRIVILEGES ON *.*); DTS uses only the ones it needs.",
                        "Solution": "Grant dts_user only the privileges the sync needs, following the least-privilege principle.",
                        "HelpDoc": "https://www.tencentcloud.com/document/product/571/42587",
                        "SkipInfo": "",
                    }]);
                }
                ("finished", "DstEmptyCheck", DemoMode::Fail) => {
                    errors = serde_json::json!([{
                        "Code": "Error: DstEmptyCheck",
                        "Message": "The target instance already has tables of the objects to sync: shop.orders, shop.customers.",
                        "Solution": "Drop or rename those tables on the target, or remove them from the sync objects, then run the check again.",
                        "HelpDoc": "https://www.tencentcloud.com/document/product/571/42587",
                        "SkipInfo": "",
                    }]);
                }
                _ => {}
            }
            let status = if errors.as_array().is_some_and(|e| !e.is_empty()) {
                "failed"
            } else {
                status
            };
            serde_json::json!({
                "StepNo": i + 1,
                "StepId": id,
                "StepName": name,
                "Status": status,
                "Progress": progress,
                "StartTime": "",
                "Errors": errors,
                "Warnings": warnings,
            })
        })
        .collect();
    let status = match (poll, finished, mode) {
        (0 | 1, _, _) => "notStarted",
        (_, false, _) => "running",
        (_, true, DemoMode::Pass) => "success",
        (_, true, DemoMode::Fail) => "failed",
    };
    // The step being run (1-based), or the last one once all are done.
    let current = match (poll, finished) {
        (0 | 1, _) => 0,
        (_, true) => count,
        (_, false) => done + 1,
    };
    serde_json::json!({"Response": {
        "Status": status,
        "StepCount": count,
        "StepCur": current,
        "Progress": done * 100 / count,
        "StepInfos": steps,
        "RequestId": format!("demo-request-{poll}"),
    }})
}

/// The steps of a running sync job, as `DescribeSyncJobs` names them: structure, full export,
/// full import, then the incremental sync that never ends.
const SYNC_JOB_STEPS: [(&str, &str); 4] = [
    ("schema-init", "Incremental schema initialization"),
    ("dumper", "Full export"),
    ("loader", "Full import"),
    ("sinker", "Incremental sync"),
];

/// The simulated `DescribeSyncJobs` of the demo's sync job after `poll` well-signed requests
/// of the stage (from 1).
///
/// `check`: the job is `Checking` while its check runs (`poll` counts the check's answers),
/// then `CheckPass` or `CheckNotPass` from the poll the check is done. (The gate also waits out
/// a job status that lags the check's, but the demo does not play that: its log would show a
/// finished check "not CheckPass" just before passing.)
///
/// `ready`: `Running` one step per poll through the full phase (no lag yet), then in the
/// incremental sync with the lag shrinking: passing, to within the demo's 5 s; failing, the
/// lag grows and the job stops at `ResumableErr` with its `ErrInfo`.
pub fn simulated_sync_job(stage: Stage, mode: DemoMode, poll: u32) -> serde_json::Value {
    let last = SYNC_JOB_STEPS.len();
    // (Status, StepNow, lag in seconds: -1 unknown)
    let (status, step_now, lag): (&str, usize, i64) = match (stage, mode) {
        (Stage::Check, DemoMode::Pass) if poll >= SYNC_CHECK_DONE => ("CheckPass", 0, -1),
        (Stage::Check, DemoMode::Fail) if poll >= SYNC_CHECK_DONE => ("CheckNotPass", 0, -1),
        (Stage::Check, _) => ("Checking", 0, -1),
        (_, _) if poll < last as u32 => ("Running", poll.max(1) as usize, -1),
        (_, DemoMode::Pass) => (
            "Running",
            last,
            [60, 20, 4, 2]
                .get(poll as usize - last)
                .copied()
                .unwrap_or(1),
        ),
        (_, DemoMode::Fail) => match poll as usize - last {
            0 => ("Running", last, 60),
            1 => ("Running", last, 75),
            _ => ("ResumableErr", last, -1),
        },
    };
    let failed = status == "ResumableErr";
    let steps: Vec<serde_json::Value> = SYNC_JOB_STEPS
        .iter()
        .enumerate()
        .map(|(i, (id, name))| {
            let status = match (i + 1).cmp(&step_now) {
                std::cmp::Ordering::Less => "finished",
                std::cmp::Ordering::Equal if failed => "failed",
                std::cmp::Ordering::Equal => "running",
                std::cmp::Ordering::Greater => "notStarted",
            };
            serde_json::json!({
                "StepNo": i + 1,
                "StepId": id,
                "StepName": name,
                "Status": status,
                "Progress": -1,
                "StartTime": "",
                "Errors": null,
                "Warnings": [],
            })
        })
        .collect();
    let error = if failed {
        serde_json::json!({
            "Reason": "Binlog purged on the source",
            "Message": "The source instance purged binlog mysql-bin.000042 before DTS read it.",
            "Solution": "Keep binlogs longer on the source (binlog_expire_logs_seconds), then reset and restart the sync job.",
        })
    } else {
        serde_json::json!({"Reason": "", "Message": "", "Solution": ""})
    };
    serde_json::json!({"Response": {
        "TotalCount": 1,
        "JobList": [{
            "JobId": DEMO_SYNC_JOB_ID,
            "JobName": "dts-gate demo",
            "Status": status,
            "TradeStatus": "Normal",
            "PayMode": "PostPay",
            "RunMode": "Immediate",
            "SrcRegion": DEMO_REGION,
            "SrcDatabaseType": "mysql",
            "DstRegion": DEMO_REGION,
            "DstDatabaseType": "mysql",
            "Detail": {
                "StepAll": last,
                "StepNow": step_now,
                "Progress": -1,
                "CurrentStepProgress": 0,
                "SecondsBehindMaster": lag,
                "MasterSlaveDistance": if lag < 0 { -1 } else { lag / 10 },
                // Said apart from the `ErrInfo`, so the verdict does not repeat its reason.
                "Message": if failed { "The incremental sync stopped on an error." } else { "" },
                "ErrInfo": error,
                "StepInfos": steps,
            },
            // The service echoes the endpoints, with the password blanked; the gate never
            // decodes them.
            "DstInfo": {
                "Region": DEMO_REGION,
                "InstanceId": "cdb-demo0002",
                "Ip": "",
                "Port": 3306,
                "User": "dts_user",
                "Password": "",
                "DbName": "",
            },
        }],
        "RequestId": format!("demo-request-{poll}"),
    }})
}

/// The simulated `DescribeMigrationDetail` of the `poll`-th well-signed request (from 1);
/// `completed`: polls since `CompleteMigrateJob`. `ready`: running and catching up (the lag
/// falling), then `readyComplete` from the fourth poll on; failing, the job fails there with
/// its `ErrorInfo`. `complete`: passing, a ready job that is `completing` then `success`;
/// failing, a job still running, so the gate refuses to complete it.
pub fn simulated_detail(
    stage: Stage,
    mode: DemoMode,
    poll: u32,
    completed: Option<u32>,
) -> serde_json::Value {
    let (status, lag) = match (stage, mode, completed) {
        (Stage::Complete, _, Some(1)) => ("completing", 0),
        (Stage::Complete, _, Some(_)) => ("success", 0),
        (Stage::Complete, DemoMode::Pass, None) => ("readyComplete", 0),
        (Stage::Complete, DemoMode::Fail, None) => ("running", 42),
        (_, _, _) if poll <= 3 => ("running", 90 / i64::from(poll.max(1)) - 20),
        (_, DemoMode::Pass, _) => ("readyComplete", 0),
        (_, DemoMode::Fail, _) => ("failed", -1),
    };
    let failed = status == "failed";
    let errors = if failed {
        serde_json::json!([{
            "Code": "FailedOperation.BinlogPurged",
            "ErrorLog": "The source instance purged binlog mysql-bin.000042 before DTS read it.",
            "Solution": "Keep binlogs longer on the source (binlog_expire_logs_seconds), then recreate the migration job.",
            "HelpDoc": "https://www.tencentcloud.com/document/product/571/42587",
        }])
    } else {
        serde_json::json!([])
    };
    serde_json::json!({"Response": {
        "JobId": DEMO_JOB_ID,
        "Status": status,
        "BriefMsg": if failed { "binlog purged on the source" } else { "" },
        "TradeInfo": {"TradeStatus": "normal"},
        "StepInfo": {
            "StepAll": 3,
            "StepNow": 3,
            "SecondsBehindMaster": lag,
            "MasterSlaveDistance": if lag < 0 { -1 } else { lag / 10 },
            "StepInfo": [
                {"StepNo": 1, "StepId": "StructureMigration", "StepName": "Structure migration", "Status": "success", "Percent": 100, "Errors": [], "Warnings": []},
                {"StepNo": 2, "StepId": "FullDataMigration", "StepName": "Full data migration", "Status": "success", "Percent": 100, "Errors": [], "Warnings": []},
                {"StepNo": 3, "StepId": "IncrementalMigration", "StepName": "Incremental sync", "Status": if failed { "failed" } else { "running" }, "Percent": if failed { 40 } else { 100 }, "Errors": [], "Warnings": []},
            ],
        },
        "ErrorInfo": errors,
        "RequestId": format!("demo-request-{poll}"),
    }})
}

/// Why a request would be refused by the real service: `None` when it is well signed.
pub fn verify_request(
    api: ApiVersion,
    headers: &[(String, String)],
    body: &[u8],
    now_unix: i64,
) -> Option<(&'static str, String)> {
    verify_request_for(&[api.describe_check_action()], api, headers, body, now_unix)
}

/// [`verify_request`] for a request that may name any of `actions`.
pub fn verify_request_for(
    actions: &[&str],
    api: ApiVersion,
    headers: &[(String, String)],
    body: &[u8],
    now_unix: i64,
) -> Option<(&'static str, String)> {
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    if !actions.contains(&get("X-TC-Action")) {
        return Some((
            "InvalidParameter",
            format!(
                "X-TC-Action is {:?}, expected one of {actions:?}",
                get("X-TC-Action")
            ),
        ));
    }
    for (header, want) in [
        ("X-TC-Version", api.as_str()),
        ("X-TC-Region", DEMO_REGION),
        ("Content-Type", CONTENT_TYPE),
    ] {
        if get(header) != want {
            return Some((
                "InvalidParameter",
                format!("{header} is {:?}, expected {want:?}", get(header)),
            ));
        }
    }
    let Ok(timestamp) = get("X-TC-Timestamp").parse::<i64>() else {
        return Some(("MissingParameter", "X-TC-Timestamp is missing".into()));
    };
    if (timestamp - now_unix).abs() > 300 {
        return Some((
            "AuthFailure.SignatureExpire",
            "the timestamp is more than 5 minutes off".into(),
        ));
    }
    let expected = sign::authorization(
        DEMO_SECRET_ID,
        DEMO_SECRET_KEY,
        SERVICE,
        timestamp,
        &sign::SignableRequest {
            content_type: get("Content-Type"),
            host: get("Host"),
            payload: body,
        },
    );
    if get("Authorization") != expected {
        return Some((
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature is correct.".into(),
        ));
    }
    None
}

/// A running simulator: its address and how many requests it verified.
pub struct Simulator {
    pub endpoint: String,
}

impl Simulator {
    /// Binds `127.0.0.1` on a free port and serves in a background thread for the life of the
    /// process (the demo is a one-shot run).
    pub fn start(api: ApiVersion, mode: DemoMode) -> io::Result<Simulator> {
        Simulator::start_stage(Stage::Check, api, mode)
    }

    /// The simulator of `stage`: the check, or a migration on its way to `readyComplete`
    /// (and, once completed, to `success`); for sync jobs, the sync check (with the job's
    /// `DescribeSyncJobs` status) or a sync job on its way to its incremental sync.
    pub fn start_stage(stage: Stage, api: ApiVersion, mode: DemoMode) -> io::Result<Simulator> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        std::thread::spawn(move || {
            let mut state = Played::default();
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, stage, api, mode, &mut state);
            }
        });
        Ok(Simulator { endpoint })
    }
}

/// Answers one request on `stream`, then closes it.
/// What the simulator has seen: well-signed polls, and polls since `CompleteMigrateJob`.
#[derive(Default)]
struct Played {
    polls: u32,
    completed: Option<u32>,
}

fn serve(
    stream: TcpStream,
    stage: Stage,
    api: ApiVersion,
    mode: DemoMode,
    state: &mut Played,
) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
            break;
        }
        if let Some((k, v)) = line.trim_end().split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
        .min(64 * 1024);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;

    // A finished sync check is judged with its job's own status too (`DescribeSyncJobs`).
    let check_actions = [api.describe_check_action(), api.describe_job_action()];
    let job_action = [api.describe_job_action()];
    let actions: &[&str] = match stage {
        Stage::Check if api == ApiVersion::Sync => &check_actions,
        Stage::Check => &check_actions[..1],
        Stage::Ready => &job_action,
        Stage::Complete => &["DescribeMigrationDetail", "CompleteMigrateJob"],
        Stage::Compare => &[
            "CreateCompareTask",
            "StartCompare",
            "DescribeCompareTasks",
            "DescribeCompareReport",
            "StopCompare",
        ],
    };
    let action = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("X-TC-Action"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let answer = match verify_request_for(actions, api, &headers, &body, crate::dts::unix_now()) {
        Some((code, message)) => serde_json::json!({"Response": {
            "Error": {"Code": code, "Message": message},
            "RequestId": "demo-rejected",
        }}),
        // The job's status follows the check's polls: it counts none of its own.
        None if stage == Stage::Check && action == api.describe_job_action() => {
            simulated_sync_job(stage, mode, state.polls)
        }
        None if stage == Stage::Check => {
            state.polls += 1;
            simulated_answer(api, mode, state.polls)
        }
        None if stage == Stage::Compare => {
            if action == "DescribeCompareTasks" {
                state.polls += 1;
            }
            simulated_compare(&action, mode, state.polls)
        }
        None if action == "CompleteMigrateJob" => {
            state.completed = Some(0);
            serde_json::json!({"Response": {"RequestId": "demo-complete"}})
        }
        None if api == ApiVersion::Sync => {
            state.polls += 1;
            simulated_sync_job(stage, mode, state.polls)
        }
        None => {
            state.polls += 1;
            if let Some(after) = &mut state.completed {
                *after += 1;
            }
            simulated_detail(stage, mode, state.polls, state.completed)
        }
    };
    let text = answer.to_string();
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    stream.flush()
}

/// The configuration of a demo run: the simulator's endpoint and credentials.
pub fn demo_config(endpoint: &str, settings: DemoSettings) -> Config {
    Config {
        job_ids: vec![
            match settings.api_version {
                ApiVersion::Sync => DEMO_SYNC_JOB_ID,
                ApiVersion::V2018 | ApiVersion::V2021 => DEMO_JOB_ID,
            }
            .to_string(),
        ],
        credentials: Source::keys(Credentials {
            secret_id: DEMO_SECRET_ID.to_string(),
            secret_key: DEMO_SECRET_KEY.to_string(),
            token: None,
        }),
        region: DEMO_REGION.to_string(),
        timeout: settings.timeout,
        poll_interval: settings.poll_interval,
        endpoint: parse_endpoint(endpoint).expect("a loopback endpoint is valid"),
        language: Language::EnUs,
        api_version: settings.api_version,
        create_check: false,
        create_grace: Duration::ZERO,
        start_jobs: false,
        fail_fast: true,
        fail_on_warning: false,
        max_request_rate: crate::pace::DEFAULT_BUDGET,
        extra_roots: None,
        warnings: Vec::new(),
        surface: Surface::default(),
        proxy: None,
        credential_proxy: None,
        stage: settings.stage,
        // The demo shows the lag rule: within 5 s, held for a second.
        lag: match settings.stage {
            Stage::Check => LagLimit::default(),
            _ => LagLimit {
                max_seconds: Some(5),
                max_mb: None,
                settle: Duration::from_secs(1),
            },
        },
        complete_mode: crate::stage::CompleteMode::WaitForSync,
        compare: crate::stage::CompareSettings::default(),
    }
}

/// The simulated compare task's answers: created, started, running for two polls, then a
/// success whose report finds the same data (passing) or one table that differs (failing).
pub fn simulated_compare(action: &str, mode: DemoMode, poll: u32) -> serde_json::Value {
    let task = format!("{DEMO_JOB_ID}-cmp-demo0001");
    let conclusion = match mode {
        DemoMode::Pass => "same",
        DemoMode::Fail => "different",
    };
    match action {
        "CreateCompareTask" => serde_json::json!({"Response": {
            "CompareTaskId": task, "RequestId": "demo-create-compare"}}),
        "DescribeCompareTasks" => {
            let (status, conclusion) = if poll <= 2 {
                ("running", "")
            } else {
                ("success", conclusion)
            };
            serde_json::json!({"Response": {"TotalCount": 1, "Items": [{
                "CompareTaskId": task, "Status": status, "Conclusion": conclusion,
                "Method": "dataCheck", "Message": "",
                "CompareProcess": {"Percent": (poll * 40).min(100), "Message": ""}}],
                "RequestId": format!("demo-request-{poll}")}})
        }
        "DescribeCompareReport" => {
            let items = match mode {
                DemoMode::Pass => serde_json::json!([]),
                DemoMode::Fail => serde_json::json!([{
                    "Db": "shop", "Schema": "", "Table": "orders", "Chunk": 3,
                    "IndexName": "PRIMARY", "LowerBoundary": "20001", "UpperBoundary": "30000",
                    "SrcItem": "9f2c", "DstItem": "41ab"}]),
            };
            let differing = i64::from(mode == DemoMode::Fail);
            serde_json::json!({"Response": {
                "Abstract": {"Conclusion": conclusion, "Status": "success", "TotalTables": 12,
                    "CheckedTables": 12, "DifferentTables": differing, "SkippedTables": 0,
                    "DifferentRows": differing * 17},
                "Detail": {"Difference": {"TotalCount": differing, "Items": items},
                    "Skipped": {"TotalCount": 0, "Items": []}},
                "RequestId": "demo-report"}})
        }
        _ => serde_json::json!({"Response": {"RequestId": format!("demo-{action}")}}),
    }
}

/// Starts the simulator and runs the real gate against it, with the given timing.
pub fn run<W: Write, E: Write>(
    mode: DemoMode,
    settings: DemoSettings,
    reporter: &mut Reporter<W, E>,
    cancellation: &gate::Cancellation,
) -> Outcome {
    reporter.demo();
    let simulator = match Simulator::start_stage(settings.stage, settings.api_version, mode) {
        Ok(s) => s,
        Err(e) => {
            return gate::reject(
                vec![crate::config::ConfigError {
                    variable: "DTS_DEMO",
                    problem: format!(
                        "the simulated endpoint could not listen on 127.0.0.1 ({e}); run without --demo"
                    ),
                }],
                Surface::default(),
                reporter,
            );
        }
    };
    reporter.info(&format!(
        "dts-gate demo: a simulated DTS endpoint at {} verifies each request's TC3 signature and plays a {} {} that will {}.",
        simulator.endpoint,
        settings.api_version.as_str(),
        match (settings.stage, settings.api_version) {
            (Stage::Check, ApiVersion::Sync) => "data sync check",
            (Stage::Ready, ApiVersion::Sync) => "sync job on its way to its incremental sync",
            (Stage::Check, _) => "check",
            (Stage::Ready, _) => "migration on its way to readyComplete",
            (Stage::Complete, _) => "completion",
            (Stage::Compare, _) => "data-consistency check",
        },
        match mode {
            DemoMode::Pass => "pass",
            DemoMode::Fail => "not pass",
        }
    ));
    gate::run(
        &demo_config(&simulator.endpoint, settings),
        reporter,
        cancellation,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{CheckFlag, parse_check_answer};
    use crate::outcome::{Decision, decide};

    fn settings(api: ApiVersion) -> DemoSettings {
        DemoSettings {
            timeout: DEMO_TIMEOUT,
            poll_interval: DEMO_POLL_INTERVAL,
            api_version: api,
            stage: Stage::Check,
        }
    }

    fn signed_headers(api: ApiVersion, body: &[u8], timestamp: i64) -> Vec<(String, String)> {
        let target = demo_config("http://127.0.0.1:4000", settings(api)).target();
        target
            .request_headers(api.describe_check_action(), api.as_str(), timestamp, body)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    }

    #[test]
    fn accepts_a_well_signed_request_and_refuses_tampering() {
        let body = br#"{"JobId":"dts-demo0001"}"#;
        let now = 1_700_000_000;
        let v18 = ApiVersion::V2018;
        assert_eq!(
            verify_request(v18, &signed_headers(v18, body, now), body, now),
            None
        );
        let tampered = br#"{"JobId":"dts-demo0002"}"#;
        assert_eq!(
            verify_request(v18, &signed_headers(v18, body, now), tampered, now).map(|r| r.0),
            Some("AuthFailure.SignatureFailure")
        );
        assert_eq!(
            verify_request(v18, &signed_headers(v18, body, now), body, now + 301).map(|r| r.0),
            Some("AuthFailure.SignatureExpire")
        );
        // A 2018 request to a 2021 simulator names the wrong action.
        assert_eq!(
            verify_request(
                ApiVersion::V2021,
                &signed_headers(v18, body, now),
                body,
                now
            )
            .map(|r| r.0),
            Some("InvalidParameter")
        );
    }

    fn decoded(api: ApiVersion, mode: DemoMode, poll: u32) -> crate::api::CheckAnswer {
        let body = simulated_answer(api, mode, poll).to_string();
        parse_check_answer(api, 200, body.as_bytes()).unwrap()
    }

    #[test]
    fn plays_starting_running_finished_in_2018() {
        let at =
            |poll| simulated_answer(ApiVersion::V2018, DemoMode::Fail, poll)["Response"].clone();
        assert_eq!(at(1)["Status"], "starting");
        assert_eq!(at(2)["Status"], "running");
        assert_eq!(at(4)["Progress"], "50");
        assert_eq!(at(6)["Progress"], "90");
        assert_eq!(at(7)["Status"], "finished");
        assert_eq!(at(7)["ErrorMessage"], DEMO_FAILURE_MESSAGE);
        let v18 = ApiVersion::V2018;
        assert_eq!(
            decide(&decoded(v18, DemoMode::Fail, 7)),
            Decision::NotPassed
        );
        assert_eq!(
            decide(&decoded(v18, DemoMode::Pass, 6)),
            Decision::KeepPolling
        );
        assert_eq!(decide(&decoded(v18, DemoMode::Pass, 7)), Decision::Passed);
    }

    #[test]
    fn plays_a_2021_check_step_by_step() {
        let v21 = ApiVersion::V2021;
        let first = decoded(v21, DemoMode::Pass, 1);
        assert_eq!(
            (first.status.as_str(), first.progress.as_deref()),
            ("notStarted", Some("0"))
        );
        let middle = decoded(v21, DemoMode::Pass, 4);
        assert_eq!(middle.status, "running");
        assert_eq!(middle.progress.as_deref(), Some("50"));
        assert_eq!(decide(&middle), Decision::KeepPolling);
        let last_running = decoded(v21, DemoMode::Pass, 7);
        assert_eq!(
            (
                last_running.status.as_str(),
                last_running.progress.as_deref()
            ),
            ("running", Some("100"))
        );
        let pass = decoded(v21, DemoMode::Pass, 8);
        assert_eq!(decide(&pass), Decision::Passed);
        assert!(pass.steps.iter().any(|s| s.status == "warning"));
        let fail = decoded(v21, DemoMode::Fail, 8);
        assert_eq!(decide(&fail), Decision::NotPassed);
        assert_eq!(
            fail.check_flag,
            Some(CheckFlag::Name("checkNotPass".into()))
        );
        let failed: Vec<_> = fail.steps.iter().filter(|s| s.is_failed()).collect();
        assert_eq!(failed.len(), 1);
        let item = &failed[0].items[0];
        assert!(!item.failure_reason.is_empty() && !item.solution.is_empty());
        assert!(item.help_doc[0].starts_with("https://"));
    }

    #[test]
    fn plays_a_migration_to_ready_and_its_completion() {
        use crate::api::{Secrets, parse_migration_detail};
        use crate::stage::{Reading, complete_reading, ready_reading};
        let read = |stage, mode, poll, completed| {
            let body = simulated_detail(stage, mode, poll, completed).to_string();
            parse_migration_detail(200, body.as_bytes(), &Secrets::default()).unwrap()
        };
        let first = read(Stage::Ready, DemoMode::Pass, 1, None);
        assert_eq!(ready_reading(&first), Reading::Waiting);
        assert_eq!(first.seconds_behind, Some(70));
        let ready = read(Stage::Ready, DemoMode::Pass, 4, None);
        assert_eq!(ready_reading(&ready), Reading::Reached);
        assert_eq!(ready.seconds_behind, Some(0));
        let failed = read(Stage::Ready, DemoMode::Fail, 4, None);
        assert_eq!(ready_reading(&failed), Reading::Failed);
        assert_eq!(failed.seconds_behind, None);
        assert!(!failed.errors[0].solution.is_empty());
        let not_ready = read(Stage::Complete, DemoMode::Fail, 1, None);
        assert_eq!(ready_reading(&not_ready), Reading::Waiting);
        let done = read(Stage::Complete, DemoMode::Pass, 3, Some(2));
        assert_eq!(complete_reading(&done), Reading::Reached);
        // The simulator accepts only the stage's actions, signed.
        let body = br#"{"JobId":"dts-demo0001"}"#;
        let headers = signed_headers(ApiVersion::V2021, body, 1_700_000_000);
        assert_eq!(
            verify_request_for(
                &["DescribeMigrationDetail"],
                ApiVersion::V2021,
                &headers,
                body,
                1_700_000_000
            )
            .map(|r| r.0),
            Some("InvalidParameter")
        );
    }

    /// The sync check as `Client::describe_check` reads it: the check's answer and, once it
    /// has finished, the job's `DescribeSyncJobs` status as its flag.
    fn sync_check(mode: DemoMode, poll: u32) -> crate::api::CheckAnswer {
        let mut answer = decoded(ApiVersion::Sync, mode, poll);
        if matches!(answer.status.as_str(), "success" | "failed") {
            let job = sync_job(Stage::Check, mode, poll);
            answer.check_flag = Some(CheckFlag::Name(job.status));
        }
        answer
    }

    fn sync_job(stage: Stage, mode: DemoMode, poll: u32) -> crate::api::MigrationDetail {
        let body = simulated_sync_job(stage, mode, poll).to_string();
        crate::api::parse_sync_job(
            200,
            body.as_bytes(),
            &crate::api::Secrets::default(),
            DEMO_SYNC_JOB_ID,
        )
        .unwrap()
    }

    #[test]
    fn plays_a_sync_check_one_step_per_poll_that_passes_with_a_warning() {
        use crate::api::{ItemResult, StepStatus};
        let first = sync_check(DemoMode::Pass, 1);
        assert_eq!(
            (first.status.as_str(), first.progress.as_deref()),
            ("notStarted", Some("0"))
        );
        // Every answer's counters agree with its steps, as the service's do.
        for poll in 1..=SYNC_CHECK_DONE + 1 {
            let raw = &simulated_answer(ApiVersion::Sync, DemoMode::Pass, poll)["Response"];
            let steps = raw["StepInfos"].as_array().unwrap();
            let finished = steps.iter().filter(|s| s["Status"] == "finished").count();
            let running = steps.iter().filter(|s| s["Status"] == "running").count();
            assert_eq!(raw["StepCount"], steps.len(), "poll {poll}");
            assert_eq!(raw["Progress"], finished * 100 / steps.len(), "poll {poll}");
            assert_eq!(
                finished,
                (poll as usize - 1).min(steps.len()),
                "poll {poll}"
            );
            assert_eq!(
                running,
                usize::from(raw["Status"] == "running"),
                "poll {poll}"
            );
            let cur = if running == 1 { finished + 1 } else { finished };
            assert_eq!(raw["StepCur"], cur, "poll {poll}");
        }
        let middle = sync_check(DemoMode::Pass, 4);
        assert_eq!(middle.status, "running");
        assert_eq!(middle.progress.as_deref(), Some("50"));
        assert_eq!(middle.check_flag, None);
        assert_eq!(decide(&middle), Decision::KeepPolling);
        // The job is checking while its check runs.
        assert_eq!(sync_job(Stage::Check, DemoMode::Pass, 4).status, "Checking");
        let last_running = sync_check(DemoMode::Pass, SYNC_CHECK_DONE - 1);
        assert_eq!(decide(&last_running), Decision::KeepPolling);
        let pass = sync_check(DemoMode::Pass, SYNC_CHECK_DONE);
        assert_eq!(pass.status, "success");
        assert_eq!(pass.check_flag, Some(CheckFlag::Name("CheckPass".into())));
        assert_eq!(decide(&pass), Decision::Passed);
        assert!(pass.steps.iter().all(|s| s.status == StepStatus::Finished));
        let warned: Vec<_> = pass
            .steps
            .iter()
            .filter(|s| s.items.iter().any(|i| i.result == ItemResult::Warning))
            .collect();
        assert_eq!(warned.len(), 1);
        assert_eq!(warned[0].step_id, "SrcPrivilegeCheck");
        let item = &warned[0].items[0];
        assert!(!item.failure_reason.is_empty() && !item.solution.is_empty());
        assert!(item.help_doc[0].starts_with("https://"));
    }

    #[test]
    fn a_failing_sync_check_fails_one_step_with_an_error_and_its_job_does_not_pass() {
        let running = sync_check(DemoMode::Fail, SYNC_CHECK_DONE - 1);
        assert_eq!(decide(&running), Decision::KeepPolling);
        let fail = sync_check(DemoMode::Fail, SYNC_CHECK_DONE);
        assert_eq!(fail.status, "failed");
        assert_eq!(
            fail.check_flag,
            Some(CheckFlag::Name("CheckNotPass".into()))
        );
        assert_eq!(decide(&fail), Decision::NotPassed);
        let failed: Vec<_> = fail.steps.iter().filter(|s| s.is_failed()).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].step_id, "DstEmptyCheck");
        let item = &failed[0].items[0];
        assert!(item.is_failed());
        assert!(!item.failure_reason.is_empty() && !item.solution.is_empty());
        assert!(item.help_doc[0].starts_with("https://"));
        // Even with the job's CheckPass, the failed step alone would not pass.
        let mut flagged = fail.clone();
        flagged.status = "success".into();
        flagged.check_flag = Some(CheckFlag::Name("CheckPass".into()));
        assert_eq!(decide(&flagged), Decision::NotPassed);
    }

    #[test]
    fn the_sync_demo_job_looks_like_a_real_describe_sync_jobs_item() {
        let job = &simulated_sync_job(Stage::Ready, DemoMode::Pass, 1)["Response"]["JobList"][0];
        assert!(job["JobId"].as_str().unwrap().starts_with("sync-"));
        assert_eq!(job["TradeStatus"], "Normal");
        // The service echoes the endpoints with the password blanked.
        assert_eq!(job["DstInfo"]["Password"], "");
        for field in ["StepAll", "StepNow", "Progress", "SecondsBehindMaster"] {
            assert!(job["Detail"][field].is_i64(), "{field}");
        }
        for field in ["MasterSlaveDistance", "Message", "ErrInfo", "StepInfos"] {
            assert!(!job["Detail"][field].is_null(), "{field}");
        }
        let config = demo_config("http://127.0.0.1:4000", settings(ApiVersion::Sync));
        assert_eq!(config.job_ids, [DEMO_SYNC_JOB_ID]);
        // The migration demo keeps its own id.
        let config = demo_config("http://127.0.0.1:4000", settings(ApiVersion::V2021));
        assert_eq!(config.job_ids, [DEMO_JOB_ID]);
    }

    #[test]
    fn plays_a_sync_job_to_its_incremental_sync_within_the_lag_or_to_an_error() {
        use crate::stage::{Reading, ready_reading};
        let steps: Vec<_> = (1..=4)
            .map(|poll| sync_job(Stage::Ready, DemoMode::Pass, poll))
            .collect();
        let ids: Vec<_> = steps
            .iter()
            .map(|job| job.current_step().unwrap().id.as_str())
            .collect();
        assert_eq!(ids, ["schema-init", "dumper", "loader", "sinker"]);
        // Running through the full phase is not ready; the lag means nothing yet.
        for job in &steps[..3] {
            assert_eq!(job.status, "Running");
            assert_eq!(ready_reading(job), Reading::Waiting);
            assert_eq!(job.seconds_behind, None);
        }
        assert_eq!(ready_reading(&steps[3]), Reading::Reached);
        // In the last step the lag shrinks to within the demo's 5 s, and stays there.
        let lags: Vec<_> = (4..=9)
            .map(|poll| {
                sync_job(Stage::Ready, DemoMode::Pass, poll)
                    .seconds_behind
                    .unwrap()
            })
            .collect();
        assert!(lags.windows(2).all(|w| w[1] <= w[0]), "{lags:?}");
        assert!(lags[0] > 5 && lags[2..].iter().all(|l| *l <= 5), "{lags:?}");
        // Failing, the job stops on an error that says why and what to do.
        let failed = sync_job(Stage::Ready, DemoMode::Fail, 6);
        assert_eq!(failed.status, "ResumableErr");
        assert_eq!(ready_reading(&failed), Reading::Failed);
        assert_eq!(failed.seconds_behind, None);
        let error = &failed.errors[0];
        assert!(!error.code.is_empty() && !error.message.is_empty() && !error.solution.is_empty());
        assert!(
            sync_job(Stage::Ready, DemoMode::Fail, 5)
                .seconds_behind
                .unwrap()
                > 5
        );
    }

    #[test]
    fn the_compare_demo_runs_then_finds_the_same_data_or_a_differing_table() {
        let running = simulated_compare("DescribeCompareTasks", DemoMode::Pass, 1);
        assert_eq!(running["Response"]["Items"][0]["Status"], "running");
        let done = simulated_compare("DescribeCompareTasks", DemoMode::Pass, 3);
        assert_eq!(done["Response"]["Items"][0]["Conclusion"], "same");
        let same = simulated_compare("DescribeCompareReport", DemoMode::Pass, 3);
        assert_eq!(same["Response"]["Abstract"]["DifferentTables"], 0);
        let different = simulated_compare("DescribeCompareReport", DemoMode::Fail, 3);
        assert_eq!(different["Response"]["Abstract"]["Conclusion"], "different");
        assert_eq!(
            different["Response"]["Detail"]["Difference"]["Items"][0]["Table"],
            "orders"
        );
    }
}
