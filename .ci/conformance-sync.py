#!/usr/bin/env python3
"""Data sync jobs against the shared conformance fake: every request the gate sends for a sync
job (CreateCheckSyncJob, DescribeCheckSyncJobResult, DescribeSyncJobs, StartSyncJob) is verified
with the official Tencent Cloud Python SDK's signing, as run.sh does for the migration check.
Run from the project root after `cargo build`: python3 .ci/conformance-sync.py"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "conformance"))
from harness import run, Check, SECRET_KEY  # noqa: E402

JOB = "sync-7r1cz016"
PASSWORD = "db-password-echoed-0042"


def check_result(status, steps):
    return {"Response": {"Status": status, "StepCount": len(steps), "StepCur": len(steps),
                         "Progress": 100 if status == "success" else 50, "StepInfos": steps}}


def step(no, sid, status, errors=(), warnings=()):
    return {"StepNo": no, "StepId": sid, "StepName": sid, "Status": status, "Progress": 100,
            "Errors": list(errors), "Warnings": list(warnings), "StartTime": ""}


def job(status, **detail):
    base = {"StepAll": 4, "StepNow": 4, "Progress": -1, "SecondsBehindMaster": 0,
            "MasterSlaveDistance": 0, "Message": "", "ErrInfo": {"Reason": "", "Message": "", "Solution": ""},
            "StepInfos": [step(n + 1, s, "finished" if n < 3 else "running") for n, s in
                          enumerate(["schema-init", "dumper", "loader", "sinker"])]}
    base.update(detail)
    return {"Response": {"TotalCount": 1, "JobList": [{
        "JobId": JOB, "Status": status, "TradeStatus": "Normal", "Detail": base,
        "DstInfo": {"Ip": "10.0.0.9", "Port": 3306, "User": "root", "Password": PASSWORD}}]}}


ack = {"Response": {}}
steps = [step(1, "ConnectDBCheck", "finished"), step(2, "VersionCheck", "finished"),
         step(3, "SrcPrivilegeCheck", "finished", warnings=[{"Code": "Warning: SrcPrivilegeCheck", "Message": "broader than needed",
                                                             "Solution": "", "HelpDoc": "", "SkipInfo": ""}])]
c = Check("conformance-sync")


def common(r, name):
    bad = [q["problems"] for q in r["requests"] if q["problems"]]
    c.ok(not bad, "%s: signature/headers differ from the official SDK: %s" % (name, bad[:1]))
    c.ok(all(q["headers"].get("x-tc-version") == "2021-12-06" for q in r["requests"]), "%s: not all requests are 2021-12-06" % name)
    everything = r["stdout"] + r["stderr"] + r["output_raw"] + r["summary"]
    c.ok(SECRET_KEY not in everything, "%s: the secret key appears in output" % name)
    c.ok(PASSWORD not in everything, "%s: the echoed database password appears in output" % name)
    return [q["headers"].get("x-tc-action") for q in r["requests"]]


# A fresh check that passes, then the start.
r = run(None, job=JOB, env={"DTS_CREATE_CHECK": "true", "DTS_START_SYNC": "true", "DTS_CREATE_GRACE": "1s"},
        scen_extra={"version": "2021-12-06", "by_action": {
            "CreateCheckSyncJob": {"*": [ack]},
            "DescribeCheckSyncJobResult": {"*": [check_result("notStarted", []), check_result("running", steps[:1]),
                                                 check_result("success", steps)]},
            "DescribeSyncJobs": {"*": [job("CheckPass")]},
            "StartSyncJob": {"*": [ack]}}})
actions = common(r, "pass")
c.ok(r["rc"] == 0, "passing sync check: exit %s, want 0 (stderr: %s)" % (r["rc"], r["stderr"][-300:]))
c.ok(actions[:2] == ["DescribeCheckSyncJobResult", "CreateCheckSyncJob"], "pass: first requests %r" % actions[:2])
c.ok(actions[-2:] == ["DescribeSyncJobs", "StartSyncJob"], "pass: last requests %r" % actions[-2:])
o = r["outputs"] or {}
c.ok(o.get("passed") == "true" and o.get("check-flag") == "CheckPass", "pass: outputs %r" % o)

# A failed check: no start, the step's error annotated.
error = {"Code": "DstEmptyCheck", "Message": "db1.t1 already exists in the target", "Solution": "drop db1.t1",
         "HelpDoc": "https://cloud.tencent.com/document/product/571/58685", "SkipInfo": ""}
r = run(None, job=JOB, env={"DTS_START_SYNC": "true"}, scen_extra={"version": "2021-12-06", "by_action": {
    "DescribeCheckSyncJobResult": {"*": [check_result("failed", steps[:2] + [step(3, "DstEmptyCheck", "failed", errors=[error])])]},
    "DescribeSyncJobs": {"*": [job("CheckNotPass")]},
    "StartSyncJob": {"*": [ack]}}})
actions = common(r, "fail")
c.ok(r["rc"] == 1, "failed sync check: exit %s, want 1" % r["rc"])
c.ok("StartSyncJob" not in actions, "fail: StartSyncJob was sent: %r" % actions)
c.ok(any(x["name"] == "error" and error["Message"] in x["data"] for x in r["commands"]), "fail: no ::error annotation with the step's message")
c.ok((r["outputs"] or {}).get("check-flag") == "CheckNotPass", "fail: outputs %r" % r["outputs"])

# The ready stage: running its incremental sync within the lag.
r = run(None, job=JOB, args=("ready",), env={"DTS_MAX_LAG": "5s", "DTS_LAG_SETTLE": "0s"},
        scen_extra={"version": "2021-12-06", "by_action": {
            "DescribeSyncJobs": {"*": [job("Running", StepNow=2), job("Running", SecondsBehindMaster=40),
                                       job("Running", SecondsBehindMaster=3)]}}})
actions = common(r, "ready")
c.ok(r["rc"] == 0, "ready sync job: exit %s, want 0 (stderr: %s)" % (r["rc"], r["stderr"][-300:]))
c.ok(actions == ["DescribeSyncJobs"] * 3, "ready: requests %r" % actions)
c.done()
