//! Decoding the data sync job actions (2021-12-06): `DescribeCheckSyncJobResult`, the sync
//! check, into the same [`CheckAnswer`] a migration check decodes to (its `Errors` and
//! `Warnings` become failed and warning items, so every report shows them as it shows a
//! migration's check items), and `DescribeSyncJobs`, the job's own state, into a
//! [`MigrationDetail`] for the `ready` stage and for the check's verdict (`CheckPass`).
//!
//! Every field of these models may be null, so absence is tolerated; a value of the wrong type
//! is not (it is not a DTS answer). Only the fields the gate reads are kept: a
//! `DescribeSyncJobs` item also echoes the endpoints' accounts and passwords, which are never
//! decoded, so no report can show them.

use serde_json::{Map, Value};

use super::detail::{decode_tip, integer, lag, list, object, required_object, string};
use super::{
    ApiError, ApiVersion, CheckAnswer, CheckItem, CheckStep, Envelope, ItemResult, JobKind,
    MigrationDetail, MigrationStep, Tip, describe,
};

pub(super) fn decode_check(envelope: &Envelope) -> Result<CheckAnswer, ApiError> {
    let fields = &envelope.fields;
    let status = envelope.status()?;
    let malformed = |what: String| envelope.malformed(what);
    let steps = list(
        fields.get("StepInfos"),
        "Response.StepInfos",
        decode_check_step,
    )
    .map_err(malformed)?;
    let progress = integer(fields.get("Progress"), "Response.Progress")
        .map_err(malformed)?
        .filter(|p| (0..=100).contains(p))
        .map(|p| p.to_string())
        .or_else(|| super::step_progress(&steps));
    Ok(CheckAnswer {
        api: ApiVersion::Sync,
        status,
        // The verdict's second half comes from the job itself (`DescribeSyncJobs`), read by
        // the client once the check has finished.
        check_flag: None,
        progress,
        error_code: None,
        // The service sends no message with a sync check; the gate never makes one up here.
        error_message: String::new(),
        request_id: envelope.request_id.clone(),
        deprecated_warning: envelope.deprecated_warning(),
        steps,
    })
}

fn decode_check_step(value: &Value, at: &str) -> Result<CheckStep, String> {
    let step = required_object(value, at)?;
    let field = |name: &str| string(step.get(name), &format!("{at}.{name}"));
    let tips = |name: &str, result: ItemResult| -> Result<Vec<CheckItem>, String> {
        list(step.get(name), &format!("{at}.{name}"), |v, at| {
            sync_tip(v, at).map(|tip| item(tip, result.clone()))
        })
    };
    let mut items = tips("Errors", ItemResult::Failed)?;
    items.extend(tips("Warnings", ItemResult::Warning)?);
    let step_no = integer(step.get("StepNo"), &format!("{at}.StepNo"))?;
    Ok(CheckStep {
        step_no: step_no.and_then(|n| u64::try_from(n).ok()),
        step_id: field("StepId")?,
        step_name: field("StepName")?,
        status: field("Status")?.into(),
        message: String::new(),
        items,
        has_skipped: false,
    })
}

/// An error or warning of a sync check step (`StepTip`) as a check item: its `Code` names it,
/// its `Message` is the reason.
fn item(SyncTip { tip, skip_info }: SyncTip, result: ItemResult) -> CheckItem {
    CheckItem {
        name: tip.code,
        description: String::new(),
        result,
        failure_reason: tip.message,
        solution: tip.solution,
        error_log: Vec::new(),
        help_doc: [tip.help_doc]
            .into_iter()
            .filter(|h| !h.trim().is_empty())
            .collect(),
        skip_info,
    }
}

/// A sync `StepTip`: a tip with the `SkipInfo` a check item carries too.
struct SyncTip {
    tip: Tip,
    skip_info: String,
}

fn sync_tip(value: &Value, at: &str) -> Result<SyncTip, String> {
    let tip = decode_tip(value, at, "Message")?;
    let skip_info = string(
        required_object(value, at)?.get("SkipInfo"),
        &format!("{at}.SkipInfo"),
    )?;
    Ok(SyncTip { tip, skip_info })
}

/// The job `job_id` of a `DescribeSyncJobs` answer. A list without it is a job that does not
/// exist (the service's own code for that, so hints and exit codes treat it alike); a list
/// with it twice says two things at once and is never a reading.
pub(super) fn decode_job(envelope: &Envelope, job_id: &str) -> Result<MigrationDetail, ApiError> {
    let malformed = |what: String| envelope.malformed(what);
    let jobs = match envelope.fields.get("JobList") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        other => {
            return Err(malformed(format!(
                "Response.JobList should be a list, got {}",
                describe(other)
            )));
        }
    };
    let mut matching = Vec::new();
    for (i, value) in jobs.iter().enumerate() {
        let at = format!("Response.JobList[{i}]");
        let job = required_object(value, &at).map_err(malformed)?;
        if string(job.get("JobId"), &format!("{at}.JobId")).map_err(malformed)? == job_id {
            matching.push((at, job));
        }
    }
    let (at, job) = match matching.as_slice() {
        [] => {
            return Err(ApiError::Service {
                code: "ResourceNotFound.JobNotExist".into(),
                message: format!(
                    "DescribeSyncJobs lists no sync job {job_id} in this region ({} other jobs listed)",
                    jobs.len()
                ),
                request_id: envelope.request_id.clone(),
            });
        }
        [one] => one,
        _ => {
            return Err(malformed(format!(
                "ambiguous answer: Response.JobList lists {job_id} {} times",
                matching.len()
            )));
        }
    };
    decode_job_item(job, at)
        .map(|mut detail| {
            detail.request_id = envelope.request_id.clone();
            detail
        })
        .map_err(malformed)
}

fn decode_job_item(job: &Map<String, Value>, at: &str) -> Result<MigrationDetail, String> {
    let status = match job.get("Status") {
        Some(Value::String(s)) => s.clone(),
        other => {
            return Err(format!(
                "{at}.Status should be a string, got {}",
                describe(other)
            ));
        }
    };
    let trade_status = string(job.get("TradeStatus"), &format!("{at}.TradeStatus"))?;
    let mut detail = MigrationDetail {
        kind: JobKind::Sync,
        status,
        trade_status,
        ..MigrationDetail::default()
    };
    let at = format!("{at}.Detail");
    let Some(info) = object(job.get("Detail"), &at)? else {
        return Ok(detail);
    };
    detail.step_now = integer(info.get("StepNow"), &format!("{at}.StepNow"))?;
    let lag = |name: &str| lag(info.get(name), &format!("{at}.{name}"));
    detail.seconds_behind = lag("SecondsBehindMaster")?;
    detail.distance_mb = lag("MasterSlaveDistance")?;
    detail.steps = list(
        info.get("StepInfos"),
        &format!("{at}.StepInfos"),
        decode_job_step,
    )?;
    let message = string(info.get("Message"), &format!("{at}.Message"))?;
    if let Some(error) = object(info.get("ErrInfo"), &format!("{at}.ErrInfo"))? {
        let field = |name: &str| string(error.get(name), &format!("{at}.ErrInfo.{name}"));
        let tip = Tip {
            code: field("Reason")?,
            message: field("Message")?,
            solution: field("Solution")?,
            help_doc: String::new(),
        };
        if !(tip.code.is_empty() && tip.message.is_empty() && tip.solution.is_empty()) {
            detail.errors.push(tip);
        }
    }
    detail.brief_message = match detail.errors.first() {
        Some(error) if message.is_empty() => [error.code.as_str(), error.message.as_str()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(": "),
        _ => message,
    };
    Ok(detail)
}

fn decode_job_step(value: &Value, at: &str) -> Result<MigrationStep, String> {
    let step = required_object(value, at)?;
    let field = |name: &str| string(step.get(name), &format!("{at}.{name}"));
    let tips = |name: &str| {
        list(step.get(name), &format!("{at}.{name}"), |v, at| {
            decode_tip(v, at, "Message")
        })
    };
    Ok(MigrationStep {
        id: field("StepId")?,
        name: field("StepName")?,
        status: field("Status")?,
        // `-1`: the step does not report its progress.
        percent: integer(step.get("Progress"), &format!("{at}.Progress"))?.filter(|p| *p >= 0),
        message: String::new(),
        errors: tips("Errors")?,
        warnings: tips("Warnings")?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{
        ApiError, ApiVersion, CheckFlag, Secrets, parse_check_answer, parse_sync_job,
    };
    use crate::outcome::{Decision, decide};

    /// The reference's own `DescribeCheckSyncJobResult` example (its last step, cut off in the
    /// reference, completed as finished).
    const CHECK_EXAMPLE: &str =
        include_str!("../../tests/data/describe_check_sync_job_result_example.json");
    /// The reference's own `DescribeSyncJobs` example, cut off there inside `Objects`; the
    /// fields after it are completed as a running job has them.
    const JOBS_EXAMPLE: &str = include_str!("../../tests/data/describe_sync_jobs_example.json");

    fn check(text: &str) -> Result<super::CheckAnswer, ApiError> {
        parse_check_answer(ApiVersion::Sync, 200, text.as_bytes())
    }

    fn job(text: &str, id: &str) -> Result<super::MigrationDetail, ApiError> {
        parse_sync_job(200, text.as_bytes(), &Secrets::default(), id)
    }

    #[test]
    fn the_reference_check_example_decodes_with_its_steps_and_warnings() {
        let answer = check(CHECK_EXAMPLE).unwrap();
        assert_eq!(answer.api, ApiVersion::Sync);
        assert_eq!(answer.status, "success");
        assert_eq!(answer.progress.as_deref(), Some("100"));
        assert_eq!(answer.request_id, "948377d0-b8a2-11ed-b8ff-e9277ed2f336");
        assert_eq!(answer.steps.len(), 14);
        assert!(
            answer
                .steps
                .iter()
                .all(|s| s.is_passed() && s.is_finished())
        );
        let warnings: Vec<_> = answer
            .items()
            .filter(|(_, item)| item.is_warning())
            .map(|(step, item)| {
                (
                    step.step_id.as_str(),
                    item.failure_reason.chars().take(8).collect::<String>(),
                )
            })
            .collect();
        assert_eq!(
            warnings,
            [
                ("SrcPrivilegeCheck", "您的授权情况：G".to_string()),
                ("WarningParamCheck", "对于既没有主键、".to_string()),
                ("WarningParamCheck", "源实例中sql_".to_string()),
            ]
        );
        // Their codes (`Warning: SrcPrivilegeCheck`) are kept, but only repeat the step's id, so
        // titles leave them out.
        let (step, item) = answer.items().next().unwrap();
        assert_eq!(item.name, "Warning: SrcPrivilegeCheck");
        assert_eq!(step.item_title(item), "源实例权限检查 (SrcPrivilegeCheck)");
        let warned: Vec<_> = answer.warning_steps().map(|s| s.step_id.as_str()).collect();
        assert_eq!(warned, ["SrcPrivilegeCheck", "WarningParamCheck"]);
        assert!(answer.has_warnings());
        // The check alone is no verdict: the job's own status is read next.
        assert_eq!(answer.check_flag, None);
        assert_eq!(decide(&answer), Decision::NotPassed);
        let mut judged = answer.clone();
        judged.check_flag = Some(CheckFlag::Name("CheckPass".into()));
        assert_eq!(decide(&judged), Decision::Passed);
    }

    #[test]
    fn errors_become_failed_items_with_their_solution_and_help_link() {
        let answer = check(
            r#"{"Response": {"Status": "failed", "StepCount": 2, "StepCur": 2, "Progress": 100,
                "StepInfos": [
                  {"StepNo": 1, "StepId": "ConnectDBCheck", "StepName": "连接DB检查", "Status": "finished", "Errors": null, "Warnings": null},
                  {"StepNo": 2, "StepId": "DstEmptyCheck", "StepName": "目标实例内容冲突检查", "Status": "failed",
                   "Errors": [{"Code": "DstEmptyCheck", "Message": "db1.t1 exists in the target", "Solution": "drop it", "HelpDoc": "https://cloud.tencent.com/document/product/571/58685", "SkipInfo": ""}],
                   "Warnings": []}],
                "RequestId": "r-1"}}"#,
        )
        .unwrap();
        let failed: Vec<_> = answer.failed_steps().map(|s| s.label()).collect();
        assert_eq!(failed, ["目标实例内容冲突检查 (DstEmptyCheck)"]);
        let (_, item) = answer.items().next().unwrap();
        assert!(item.is_failed());
        assert_eq!(item.failure_reason, "db1.t1 exists in the target");
        assert_eq!(item.solution, "drop it");
        assert_eq!(
            item.help_doc,
            ["https://cloud.tencent.com/document/product/571/58685"]
        );
        assert!(!answer.is_task_failure());
        assert_eq!(decide(&answer), Decision::NotPassed);
    }

    #[test]
    fn a_failed_check_without_any_failed_step_is_the_task_failing() {
        let answer =
            check(r#"{"Response": {"Status": "failed", "StepInfos": null, "RequestId": "r"}}"#)
                .unwrap();
        assert!(answer.is_task_failure());
        assert_eq!(decide(&answer), Decision::NotPassed);
    }

    #[test]
    fn wrong_types_are_malformed_never_a_verdict() {
        for text in [
            r#"{"Response": {"Status": 1, "RequestId": "r"}}"#,
            r#"{"Response": {"Status": "success", "StepInfos": {}, "RequestId": "r"}}"#,
            r#"{"Response": {"Status": "success", "StepInfos": [{"Status": 3}], "RequestId": "r"}}"#,
            r#"{"Response": {"Status": "success", "StepInfos": [{"Status": "finished", "Errors": "no"}], "RequestId": "r"}}"#,
            r#"{"Response": {"Status": "success", "Progress": "100", "RequestId": "r"}}"#,
        ] {
            assert!(
                matches!(check(text), Err(ApiError::Malformed { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn the_reference_jobs_example_reads_as_a_running_job_in_its_last_step() {
        let detail = job(JOBS_EXAMPLE, "sync-09vy1os1").unwrap();
        assert_eq!(detail.kind, super::JobKind::Sync);
        assert_eq!(detail.status, "Running");
        assert_eq!(detail.trade_status, "Normal");
        assert_eq!(detail.step_now, Some(4));
        let steps: Vec<_> = detail.steps.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(steps, ["schema-init", "dumper", "loader", "sinker"]);
        assert!(detail.in_last_step());
        assert_eq!(detail.seconds_behind, Some(0));
        assert_eq!(detail.distance_mb, Some(0));
        // An empty ErrInfo is no error.
        assert!(detail.errors.is_empty());
        assert!(!detail.is_out_of_service());
    }

    #[test]
    fn the_echoed_endpoint_passwords_are_never_decoded() {
        let echoed = JOBS_EXAMPLE
            .replace(r#""Password": """#, r#""Password": "hunter2-db-password""#)
            .replace(
                r#""TmpSecretKey": """#,
                r#""TmpSecretKey": "tmp-secret-key-value""#,
            );
        assert!(echoed.contains("hunter2-db-password"));
        let detail = job(&echoed, "sync-09vy1os1").unwrap();
        let everything = format!("{detail:?}");
        assert!(!everything.contains("hunter2"), "{everything}");
        assert!(!everything.contains("tmp-secret-key-value"), "{everything}");
    }

    #[test]
    fn only_the_asked_job_counts_and_never_twice() {
        let list = |items: &str| {
            format!(
                r#"{{"Response": {{"JobList": [{items}], "TotalCount": 1, "RequestId": "r-9"}}}}"#
            )
        };
        let other = r#"{"JobId": "sync-other", "Status": "CheckPass"}"#;
        let asked = r#"{"JobId": "sync-asked", "Status": "CheckNotPass"}"#;
        assert_eq!(
            job(&list(&format!("{other},{asked}")), "sync-asked")
                .unwrap()
                .status,
            "CheckNotPass"
        );
        match job(&list(other), "sync-asked") {
            Err(ApiError::Service {
                code,
                request_id,
                message,
            }) => {
                assert_eq!(code, "ResourceNotFound.JobNotExist");
                assert_eq!(request_id, "r-9");
                assert!(message.contains("sync-asked"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            job(&list(&format!("{asked},{asked}")), "sync-asked"),
            Err(ApiError::Malformed { .. })
        ));
        assert!(matches!(
            job(
                r#"{"Response": {"JobList": null, "RequestId": "r"}}"#,
                "sync-asked"
            ),
            Err(ApiError::Service { .. })
        ));
    }

    #[test]
    fn negative_lags_are_unknown_and_err_info_is_the_brief_message() {
        let detail = job(
            r#"{"Response": {"JobList": [{"JobId": "sync-a", "Status": "ResumableErr", "TradeStatus": "Normal",
                "Detail": {"StepNow": 4, "SecondsBehindMaster": -1, "MasterSlaveDistance": -1, "Message": "",
                           "ErrInfo": {"Reason": "binlog purged", "Message": "the source purged binlog 0042", "Solution": "recreate the job"},
                           "StepInfos": []}}], "RequestId": "r"}}"#,
            "sync-a",
        )
        .unwrap();
        assert_eq!(detail.seconds_behind, None);
        assert_eq!(detail.distance_mb, None);
        assert_eq!(detail.errors.len(), 1);
        assert_eq!(detail.errors[0].solution, "recreate the job");
        assert_eq!(
            detail.brief_message,
            "binlog purged: the source purged binlog 0042"
        );
        assert!(!detail.in_last_step());
    }
}
