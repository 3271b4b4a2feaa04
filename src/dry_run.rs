//! `--dry-run`: the calls a run would make, printed instead of sent.

use std::io::Write;

use std::time::Duration;

use crate::api::{ApiVersion, CompareOptions, JobKind, compare, complete_body, job_body};
use crate::config::Config;
use crate::credentials::Source;
use crate::duration;
use crate::hints::{Setting, Surface};
use crate::outcome::Outcome;
use crate::report::{Reporter, RunSummary};
use crate::stage::Stage;

/// One request the gate would send, for `--dry-run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCall {
    pub action: &'static str,
    pub version: &'static str,
    pub url: String,
    pub body: String,
    pub when: &'static str,
}

/// Every call a run with `config` would make, in order; no secrets involved.
pub fn plan(config: &Config) -> Vec<PlannedCall> {
    let api = config.api_version;
    let call = |action, job: &str, when| PlannedCall {
        action,
        version: api.as_str(),
        url: config.endpoint.url.clone(),
        body: String::from_utf8(job_body(job)).expect("JSON is UTF-8"),
        when,
    };
    let mut calls = Vec::new();
    // The job's own state: `DescribeMigrationDetail`, or a sync job's `DescribeSyncJobs`.
    let detail = |job: &str, when| PlannedCall {
        action: api.describe_job_action(),
        version: ApiVersion::V2021.as_str(),
        url: config.endpoint.url.clone(),
        body: String::from_utf8(job_body(job)).expect("JSON is UTF-8"),
        when,
    };
    match config.stage {
        Stage::Check => {}
        Stage::Ready => {
            let until = match api.kind() {
                JobKind::Migration => {
                    "every poll interval until readyComplete (within the lag limits, settled), a failed state, or the timeout"
                }
                JobKind::Sync => {
                    "every poll interval until Running in its last step (within the lag limits, settled), a failed state, or the timeout"
                }
            };
            for job in &config.job_ids {
                calls.push(detail(job, until));
            }
            return calls;
        }
        Stage::Compare => {
            let compare = &config.compare;
            let planned = |action, body: Vec<u8>, when| PlannedCall {
                action,
                version: ApiVersion::V2021.as_str(),
                url: config.endpoint.url.clone(),
                body: String::from_utf8(body).expect("JSON is UTF-8"),
                when,
            };
            for job in &config.job_ids {
                let task = match &compare.task_id {
                    Some(task) => task.clone(),
                    None => {
                        let options = CompareOptions {
                            method: compare.method.as_str().to_string(),
                            sample_rate: compare.sample_rate,
                            threads: compare.threads,
                        };
                        calls.push(planned(
                            "CreateCompareTask",
                            compare::create_body(job, &options),
                            "once: a compare task of every migrated object",
                        ));
                        let task = "<CompareTaskId>".to_string();
                        calls.push(planned(
                            "StartCompare",
                            compare::task_body(job, &task),
                            "once, with the CompareTaskId CreateCompareTask answered",
                        ));
                        task
                    }
                };
                calls.push(planned(
                    "DescribeCompareTasks",
                    compare::task_body(job, &task),
                    "every poll interval until success, failed, canceled, or the timeout",
                ));
                calls.push(planned(
                    "DescribeCompareReport",
                    compare::report_body(job, &task),
                    "once the task succeeded: passes only on Conclusion same",
                ));
                if compare.task_id.is_none() {
                    calls.push(planned(
                        "StopCompare",
                        compare::task_body(job, &task),
                        "only if the gate stops early (timeout, cancellation) while its task runs",
                    ));
                }
            }
            return calls;
        }
        Stage::Complete => {
            for job in &config.job_ids {
                calls.push(detail(
                    job,
                    "once: every job must be readyComplete (and within the lag limits)",
                ));
            }
            for job in &config.job_ids {
                calls.push(PlannedCall {
                    action: "CompleteMigrateJob",
                    version: ApiVersion::V2021.as_str(),
                    url: config.endpoint.url.clone(),
                    body: String::from_utf8(complete_body(job, config.complete_mode.as_str()))
                        .expect("JSON is UTF-8"),
                    when: "once, only if every job is ready",
                });
                calls.push(detail(
                    job,
                    "every poll interval until success, a failed state, or the timeout",
                ));
            }
            return calls;
        }
    }
    for job in &config.job_ids {
        if config.create_check {
            calls.push(call(
                api.describe_check_action(),
                job,
                "once, to remember the previous result",
            ));
            calls.push(call(api.create_check_action(), job, "once"));
        }
    }
    for job in &config.job_ids {
        calls.push(call(
            api.describe_check_action(),
            job,
            "every poll interval until the check finishes or the timeout passes",
        ));
        // A sync check's verdict needs its job's own status (`CheckPass`) too.
        if api.kind() == JobKind::Sync {
            calls.push(call(
                api.describe_job_action(),
                job,
                "once the check finished (Status success or failed): the job's Status must be CheckPass",
            ));
        }
    }
    if config.start_jobs {
        for job in &config.job_ids {
            calls.push(call(
                api.start_action(),
                job,
                "once, only if every job's check passed",
            ));
        }
    }
    calls
}

/// Prints the plan of a run without sending anything, then reports the run as a dry run
/// (`result=dry-run`, `passed=false`). One asked for through the variable rather than
/// `--dry-run` exits 2: it checked nothing, and must not look like a pass to a pipeline.
pub fn run<W: Write, E: Write>(
    config: &Config,
    from_command_line: bool,
    reporter: &mut Reporter<W, E>,
) -> Outcome {
    print(config, reporter);
    if !from_command_line {
        reporter.warning(
            "Dry run: nothing was checked",
            &format!(
                "{} asked for a dry run, so nothing was sent and the gate exits 2; pass --dry-run on the command line for a dry run that exits 0",
                dry_run_setting(config.surface)
            ),
        );
    }
    let outcome = Outcome::DryRun { from_command_line };
    reporter.finish(&RunSummary::of_config(config, &outcome, 0, Duration::ZERO));
    outcome
}

/// Prints the plan of a run without sending anything.
fn print<W: Write, E: Write>(config: &Config, reporter: &mut Reporter<W, E>) {
    if let Some(account) = config.credentials.account_id() {
        reporter.mask(&account);
    }
    reporter.info(&format!(
        "dts-gate {} dry run: nothing is sent. Region {}, timeout {}, polling every {}; requests are signed with TC3-HMAC-SHA256",
        env!("CARGO_PKG_VERSION"),
        config.region,
        duration::format(config.timeout),
        duration::format(config.poll_interval),
    ));
    reporter.info(&format!(
        "credentials: {}",
        credentials_plan(&config.credentials)
    ));
    for (i, call) in plan(config).iter().enumerate() {
        reporter.info(&format!(
            "{:>3}. POST {} X-TC-Action: {} X-TC-Version: {} body {} ({})",
            i + 1,
            call.url,
            call.action,
            call.version,
            call.body,
            call.when
        ));
    }
}

/// Which credential source a run would use, and that a dry run fetches nothing from it.
pub fn credentials_plan(source: &Source) -> String {
    let not_asked = match source {
        Source::Keys { .. } => "",
        Source::InstanceRole { .. } => {
            " (not asked in a dry run; a runner without an instance role would exit 2: no credentials)"
        }
        Source::WebIdentity { .. } | Source::AssumeRole { .. } => {
            " (STS is not called in a dry run)"
        }
    };
    format!("{}{not_asked}", source.describe())
}

fn dry_run_setting(surface: Surface) -> String {
    surface.assignment(Setting::DryRun, "true")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &[(&str, &str)]) -> Config {
        let mut vars: Vec<(String, String)> = [
            ("DTS_JOB_ID", "dts-aaa1,dts-bbb2"),
            ("TENCENTCLOUD_SECRET_ID", "AKIDplan"),
            ("TENCENTCLOUD_SECRET_KEY", "plan-secret"),
            ("TENCENTCLOUD_REGION", "ap-shanghai-fsi"),
        ]
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        vars.dedup_by(|a, b| a.0 == b.0);
        Config::from_vars(vars).unwrap()
    }

    #[test]
    fn plans_only_the_describe_calls_by_default() {
        let calls = plan(&config(&[]));
        let actions: Vec<_> = calls.iter().map(|c| (c.action, c.body.as_str())).collect();
        assert_eq!(
            actions,
            [
                ("DescribeMigrateCheckJob", r#"{"JobId":"dts-aaa1"}"#),
                ("DescribeMigrateCheckJob", r#"{"JobId":"dts-bbb2"}"#)
            ]
        );
        assert_eq!(
            calls[0].url,
            "https://dts.ap-shanghai-fsi.tencentcloudapi.com/"
        );
        assert_eq!(calls[0].version, "2018-03-30");
    }

    #[test]
    fn plans_create_and_start_calls() {
        let calls = plan(&config(&[
            ("DTS_CREATE_CHECK", "true"),
            ("DTS_START_MIGRATION", "true"),
            ("DTS_API_VERSION", "2021-12-06"),
        ]));
        let actions: Vec<_> = calls.iter().map(|c| c.action).collect();
        assert_eq!(
            actions,
            [
                "DescribeMigrationCheckJob",
                "CreateMigrateCheckJob",
                "DescribeMigrationCheckJob",
                "CreateMigrateCheckJob",
                "DescribeMigrationCheckJob",
                "DescribeMigrationCheckJob",
                "StartMigrateJob",
                "StartMigrateJob"
            ]
        );
        assert!(calls.iter().all(|c| c.version == "2021-12-06"));
    }

    #[test]
    fn plans_the_sync_check_then_the_job_status_that_completes_its_verdict() {
        let calls = plan(&config(&[("DTS_JOB_ID", "sync-aaa1,sync-bbb2")]));
        let actions: Vec<_> = calls.iter().map(|c| (c.action, c.body.as_str())).collect();
        assert_eq!(
            actions,
            [
                ("DescribeCheckSyncJobResult", r#"{"JobId":"sync-aaa1"}"#),
                ("DescribeSyncJobs", r#"{"JobId":"sync-aaa1"}"#),
                ("DescribeCheckSyncJobResult", r#"{"JobId":"sync-bbb2"}"#),
                ("DescribeSyncJobs", r#"{"JobId":"sync-bbb2"}"#)
            ]
        );
        assert!(calls[1].when.starts_with("once the check finished"));
        assert!(calls.iter().all(|c| c.version == "2021-12-06"));
    }

    #[test]
    fn plans_the_sync_create_and_start_calls() {
        let calls = plan(&config(&[
            ("DTS_JOB_ID", "sync-aaa1"),
            ("DTS_CREATE_CHECK", "true"),
            ("DTS_START_SYNC", "true"),
        ]));
        let actions: Vec<_> = calls.iter().map(|c| c.action).collect();
        assert_eq!(
            actions,
            [
                "DescribeCheckSyncJobResult",
                "CreateCheckSyncJob",
                "DescribeCheckSyncJobResult",
                "DescribeSyncJobs",
                "StartSyncJob"
            ]
        );
    }

    #[test]
    fn plans_describe_sync_jobs_for_the_ready_stage_of_a_sync_job() {
        let mut sync = config(&[("DTS_JOB_ID", "sync-aaa1")]);
        sync.stage = Stage::Ready;
        let calls = plan(&sync);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].action, "DescribeSyncJobs");
        assert_eq!(calls[0].body, r#"{"JobId":"sync-aaa1"}"#);
        assert_eq!(calls[0].version, "2021-12-06");
        assert!(calls[0].when.contains("until Running"), "{}", calls[0].when);
        let mut migration = config(&[("DTS_JOB_ID", "dts-aaa1")]);
        migration.stage = Stage::Ready;
        assert_eq!(plan(&migration)[0].action, "DescribeMigrationDetail");
    }

    #[test]
    fn plans_the_compare_calls_with_a_stop_only_for_a_created_task() {
        let mut created = config(&[("DTS_JOB_ID", "dts-aaa1"), ("DTS_COMPARE_THREADS", "2")]);
        created.stage = Stage::Compare;
        let calls = plan(&created);
        let actions: Vec<_> = calls.iter().map(|c| c.action).collect();
        assert_eq!(
            actions,
            [
                "CreateCompareTask",
                "StartCompare",
                "DescribeCompareTasks",
                "DescribeCompareReport",
                "StopCompare"
            ]
        );
        assert!(
            calls[0].body.contains(
                r#""ObjectMode":"sameAsMigrate","Options":{"Method":"dataCheck","ThreadCount":2}"#
            ),
            "{}",
            calls[0].body
        );
        let mut given = config(&[
            ("DTS_JOB_ID", "dts-aaa1"),
            ("DTS_COMPARE_TASK_ID", "dts-aaa1-cmp-x"),
        ]);
        given.stage = Stage::Compare;
        let calls = plan(&given);
        let actions: Vec<_> = calls.iter().map(|c| c.action).collect();
        assert_eq!(actions, ["DescribeCompareTasks", "DescribeCompareReport"]);
        assert!(calls[0].body.contains("dts-aaa1-cmp-x"));
    }
}
