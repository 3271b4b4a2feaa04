#!/usr/bin/env python3
"""Measures dts-gate against a shell loop around tccli, on the same simulated DTS endpoint.

Run through bench/run.sh, which builds the release binary and prepares tccli. Per run, each
client waits for a check that finishes FINISH_AFTER seconds after its first poll, polling every
INTERVAL seconds, over HTTPS with the test CA. Measured per run, from the kernel's accounting of
the client process and everything it started (os.wait4):

  cpu/poll   (user + sys CPU time) / polls the server answered
  max RSS    the largest resident set of the process or any of its children (GNU time %M)
  exit lag   process exit minus the moment the server first answered `finished`
  done lag   process exit minus the moment the check finished (the next poll had to see it)

plus the binary's size and the wall time of `dts-gate --version` (start-up).
Standard library only.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TLS = os.path.join(ROOT, "tests", "data", "tls")
JOB_ID = "dts-1kl0iy0v"
GNU_TIME = "/usr/bin/time"
FAKE_ENV = {
    "TENCENTCLOUD_SECRET_ID": "AKIDbenchmark0000000000000000000000",
    "TENCENTCLOUD_SECRET_KEY": "benchmark-secret-key-not-real",
    "TENCENTCLOUD_REGION": "ap-guangzhou",
}

# The obvious alternative: poll with tccli until the check finishes, then judge CheckFlag.
# tccli prints indented JSON, so the textual match is exact for its output.
TCCLI_LOOP = r"""
while :; do
  if out=$("$TCCLI" dts DescribeMigrateCheckJob --version 2018-03-30 --region ap-guangzhou \
             --JobId "$JOB_ID" --endpoint "$ENDPOINT" 2>&1); then
    case $out in *'"Status": "finished"'*) break ;; esac
  fi
  sleep "$INTERVAL"
done
case $out in *'"CheckFlag": 1'*) exit 0 ;; *) exit 1 ;; esac
"""


def start_server(tmp, finish_after):
    portfile = os.path.join(tmp, "port")
    logfile = os.path.join(tmp, "requests.log")
    server = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "bench", "fake_dts.py"),
         os.path.join(TLS, "server.pem"), os.path.join(TLS, "server.key"),
         str(finish_after), portfile, logfile],
    )
    deadline = time.time() + 10
    while not os.path.exists(portfile):
        if time.time() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit("the simulated endpoint did not start")
        time.sleep(0.02)
    with open(portfile) as f:
        return server, int(f.read()), logfile


def run_once(kind, args, tmp):
    server, port, logfile = start_server(tmp, args.finish_after)
    try:
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "LANG": "C.UTF-8"}
        base.update(FAKE_ENV)
        if kind == "dts-gate":
            env = dict(base, DTS_JOB_ID=JOB_ID, DTS_ENDPOINT="https://127.0.0.1:%d" % port,
                       SSL_CERT_FILE=os.path.join(TLS, "ca.pem"),
                       DTS_POLL_INTERVAL="%gs" % args.interval, DTS_TIMEOUT="5m")
            argv = [args.gate]
        else:
            env = dict(base, TCCLI=args.tccli, JOB_ID=JOB_ID, ENDPOINT="127.0.0.1:%d" % port,
                       INTERVAL="%g" % args.interval)
            argv = ["bash", "-c", TCCLI_LOOP]
        # Peak memory comes from GNU time, not from our own wait4: a process Python spawns
        # starts as a (v)fork of this interpreter, and Linux carries that pre-exec peak into the
        # child's max RSS (about 14 MiB here). time's own child is a fork of the small time.
        rssfile = os.path.join(tmp, "maxrss")
        argv = [GNU_TIME, "-f", "%M", "-o", rssfile] + argv
        with open(os.path.join(tmp, kind + ".out"), "w") as out:
            child = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
            _, status, usage = os.wait4(child.pid, 0)
            exited = time.time()
            child.returncode = os.waitstatus_to_exitcode(status)
    finally:
        server.terminate()
        server.wait()
    with open(logfile) as f:
        lines = [line.split() for line in f if line.strip()]
    polls = len(lines)
    finished = [float(t) for t, s in lines if s == "finished"]
    errors = sum(1 for _, s in lines if s == "error")
    if child.returncode != 0 or not finished or errors:
        with open(os.path.join(tmp, kind + ".out")) as f:
            sys.stderr.write(f.read()[-2000:])
        raise SystemExit("%s: exit %d, %d finished answers, %d refused requests"
                         % (kind, child.returncode, len(finished), errors))
    with open(rssfile) as f:
        max_rss_kib = int(f.read().split()[-1])
    # Includes GNU time's own start, about 0.8 ms once per run: an overstatement, not a saving.
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "polls": polls,
        "cpu_s": cpu,
        "cpu_per_poll_ms": 1000 * cpu / polls,
        "max_rss_mib": max_rss_kib / 1024,
        "exit_lag_ms": 1000 * (exited - finished[0]),
        # The check itself finished finish_after seconds after the first poll reached the server
        # (logged a fraction of a millisecond later): this lag includes the wait for the next poll.
        "exit_after_check_done_ms": 1000 * (exited - float(lines[0][0]) - args.finish_after),
    }


def startup(argv, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True)
        times.append(1000 * (time.perf_counter() - t))
    times.sort()
    return {"runs": runs, "median_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (runs - 1))], "min_ms": times[0]}


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "rustc": rustc, "python": platform.python_version()}


def summarize(runs, key):
    values = [r[key] for r in runs]
    return statistics.median(values), min(values), max(values)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gate", required=True)
    p.add_argument("--tccli", required=True)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--interval", type=float, default=1.0)
    # Not a whole number of intervals: a check rarely finishes just before a poll.
    p.add_argument("--finish-after", type=float, default=9.5)
    p.add_argument("--startup-runs", type=int, default=200)
    p.add_argument("--json", default=os.path.join(ROOT, "target", "bench", "results.json"))
    args = p.parse_args()
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit("needs GNU time at %s for peak memory (Debian/Ubuntu: apt-get install time)" % GNU_TIME)

    results = {"machine": machine(), "settings": vars(args).copy(), "clients": {}}
    for kind in ("dts-gate", "tccli loop"):
        runs = []
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="dts-gate-bench-") as tmp:
                r = run_once(kind, args, tmp)
            print("%-10s run %d: %s" % (kind, i + 1, json.dumps(r)), flush=True)
            runs.append(r)
        results["clients"][kind] = runs
    results["binary_bytes"] = os.path.getsize(args.gate)
    results["startup"] = {
        "dts-gate --version": startup([args.gate, "--version"], args.startup_runs),
        "tccli --version": startup([args.tccli, "--version"], max(5, args.startup_runs // 20)),
    }
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(results, f, indent=2)

    m = results["machine"]
    print()
    print("machine: %d CPUs, %s, Linux %s; %s; Python %s"
          % (m["nproc"], m["cpu"], m["kernel"], m["rustc"], m["python"]))
    print("settings: %d runs per client, poll every %gs, check finishes %gs after the first poll"
          % (args.runs, args.interval, args.finish_after))
    print()
    print("| client | polls | CPU per poll | max RSS | exit after first `finished` answer | exit after the check finished |")
    print("|---|---|---|---|---|---|")
    for kind, runs in results["clients"].items():
        polls = summarize(runs, "polls")
        cpu = summarize(runs, "cpu_per_poll_ms")
        rss = summarize(runs, "max_rss_mib")
        lag = summarize(runs, "exit_lag_ms")
        done = summarize(runs, "exit_after_check_done_ms")
        print("| %s | %d | %.2f ms (%.2f–%.2f) | %.1f MiB (%.1f–%.1f) | %.1f ms (%.1f–%.1f) | %.0f ms (%.0f–%.0f) |"
              % (kind, polls[0], *cpu, *rss, *lag, *done))
    print()
    print("| start-up | median | p95 | min | runs |")
    print("|---|---|---|---|---|")
    for name, s in results["startup"].items():
        print("| `%s` | %.2f ms | %.2f ms | %.2f ms | %d |"
              % (name, s["median_ms"], s["p95_ms"], s["min_ms"], s["runs"]))
    print()
    print("release binary: %d bytes (%.2f MiB)" % (results["binary_bytes"], results["binary_bytes"] / 2**20))
    print("(medians, range in parentheses; raw numbers in %s)" % os.path.relpath(args.json, ROOT))


if __name__ == "__main__":
    main()
