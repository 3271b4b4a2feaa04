//! `--demo` for data sync jobs (`DTS_JOB_KIND=sync`): the real binary against its own
//! simulated endpoint, which must play a sync check (`DescribeCheckSyncJobResult`, then the
//! job's `DescribeSyncJobs` status) and a sync job on its way to its incremental sync, through
//! the same signing, polling and reporting as a real run.

mod common;

use common::*;

fn sync_demo(args: &[&str]) -> Gate {
    args.iter()
        .fold(Gate::bare(), |gate, arg| gate.arg(arg))
        .env("DTS_JOB_KIND", "sync")
        .env("DTS_POLL_INTERVAL", "100ms")
}

#[test]
fn the_sync_check_demo_passes_with_a_warning_and_fails_on_a_failed_step() {
    let runs = run_together([sync_demo(&["--demo"]), sync_demo(&["--demo=fail"])]);
    let (pass, fail) = (&runs[0], &runs[1]);

    assert_eq!(pass.code, 0, "{pass:?}");
    // The verdict is the job's own DescribeSyncJobs status, after the sync check's action.
    assert_eq!(pass.output("check-flag"), "CheckPass");
    // The warning of the source privilege step is shown with its solution.
    let warnings = pass.commands_named("warning");
    assert!(
        warnings
            .iter()
            .any(|w| w.properties[0].1.contains("(SrcPrivilegeCheck)")
                && w.data.contains("Solution: ")
                && w.data.contains("Help: https://")),
        "{warnings:?}"
    );
    pass.assert_stdout_has(&[
        "DescribeCheckSyncJobResult",
        "sync-demo0001",
        "sync job Status CheckPass (passed)",
    ]);
    // One line per step as it finishes, the six of them.
    assert_eq!(pass.stdout.matches(" step ").count(), 6, "{}", pass.stdout);

    assert_eq!(fail.code, 1, "{fail:?}");
    assert_eq!(fail.output("check-flag"), "CheckNotPass");
    assert_eq!(fail.output("failed-steps"), "DstEmptyCheck");
    let error = fail
        .commands_named("error")
        .into_iter()
        .find(|e| e.data.contains("Solution: "))
        .unwrap_or_else(|| panic!("no error with a solution: {fail:?}"));
    assert!(
        error.data.contains("shop.orders") && error.data.contains("Help: https://"),
        "{error:?}"
    );
}

#[test]
fn the_sync_ready_demo_reaches_the_incremental_sync_or_stops_on_an_error() {
    let runs = run_together([
        sync_demo(&["ready", "--demo"]),
        sync_demo(&["ready", "--demo=fail"]),
    ]);
    let (pass, fail) = (&runs[0], &runs[1]);

    assert_eq!(pass.code, 0, "{pass:?}");
    assert_eq!(pass.output("result"), "passed");
    assert_eq!(pass.output("stage"), "ready");
    // Through the full phase to the last step, then within the demo's lag.
    pass.assert_stdout_has(&[
        "sync-demo0001: Running, step schema-init",
        "sync-demo0001: Running, step loader",
        "sync-demo0001: Running, step sinker, lag 60s",
        "sync-demo0001: Running, step sinker, lag 1s",
    ]);

    assert_eq!(fail.code, 1, "{fail:?}");
    assert_eq!(fail.output("result"), "not-passed");
    fail.assert_stdout_has(&["sync-demo0001: ResumableErr, step sinker"]);
    let error = fail.first_error();
    assert!(
        error.contains("ResumableErr") && error.contains("binlog"),
        "{error}"
    );
}
