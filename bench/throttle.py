#!/usr/bin/env python3
"""Capacity benchmark: several gates of many jobs against one sub-account's request limit.

A loopback fake DTS (plain HTTP, which the gate accepts for loopback endpoints only) enforces
the service's limit across all its clients: at most LIMIT answered requests per second per
action (a sliding one-second window), and `RequestLimitExceeded.RequestLimitExceededError`
beyond it, as DTS answers. Each job's check runs until a fixed moment (5 to 25 s after the run
starts, spread by job), then passes. For 1, 4 and 8 concurrent gates of 100 jobs each, polling
every second, it reports: requests, throttled answers (share in the first 10 s and after), the
peak per-second rate the fake saw (all gates, and the busiest single gate), job failures, and
the delay between a check finishing and its gate seeing it (median, worst).

usage: python3 bench/throttle.py [--gate target/release/dts-gate] [--gates 1,4,8] [--jobs 100]
       [--interval 1s] [--limit 20]
Signatures are not verified here (the conformance suite does that); the fake only counts.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Fake:
    def __init__(self, limit, start):
        self.limit = limit
        self.start = start
        self.lock = threading.Lock()
        self.windows = defaultdict(deque)  # action -> times of answered requests, last second
        self.log = []  # (time, gate, job, throttled, finished)

    def finish_at(self, job):
        # Spread over 5..25 s by the job number: deterministic, the same for every run.
        n = int(job.rsplit("j", 1)[1])
        return self.start + 5 + (n * 7919 % 2000) / 100.0

    def answer(self, action, job):
        now = time.time()
        with self.lock:
            window = self.windows[action]
            while window and window[0] <= now - 1.0:
                window.popleft()
            throttled = len(window) >= self.limit
            if not throttled:
                window.append(now)
            finished = not throttled and now >= self.finish_at(job)
            self.log.append((now, job.split("j")[0], job, throttled, finished))
        if throttled:
            return {"Response": {"Error": {"Code": "RequestLimitExceeded.RequestLimitExceededError",
                                           "Message": "request limit exceeded"}, "RequestId": "t"}}
        if finished:
            return {"Response": {"Status": "finished", "CheckFlag": 1, "Progress": "100",
                                 "ErrorCode": 0, "ErrorMessage": "ok", "RequestId": "f"}}
        return {"Response": {"Status": "running", "Progress": "50", "ErrorCode": 0,
                             "ErrorMessage": "", "RequestId": "r"}}


def serve(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            job = json.loads(body or b"{}").get("JobId", "g0j0")
            answer = json.dumps(fake.answer(self.headers.get("X-TC-Action", ""), job)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run(gate_bin, gates, jobs, interval, limit):
    fake = Fake(limit, time.time())
    server = serve(fake)
    url = "http://127.0.0.1:%d" % server.server_address[1]
    procs = []
    for g in range(gates):
        env = {
            "PATH": os.environ.get("PATH", ""),
            "DTS_JOB_ID": " ".join("dts-g%dj%d" % (g, n) for n in range(jobs)),
            "TENCENTCLOUD_SECRET_ID": "AKIDbench", "TENCENTCLOUD_SECRET_KEY": "bench-secret-key",
            "TENCENTCLOUD_REGION": "ap-guangzhou", "DTS_ENDPOINT": url,
            "DTS_POLL_INTERVAL": interval, "DTS_TIMEOUT": "5m",
        }
        procs.append(subprocess.Popen([gate_bin], env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    codes = [p.wait() for p in procs]
    server.shutdown()
    t0 = fake.start
    log = fake.log
    per_second = defaultdict(int)
    per_gate_second = defaultdict(int)
    seen = {}
    for at, gate, job, throttled, finished in log:
        per_second[int(at - t0)] += 1
        per_gate_second[(gate, int(at - t0))] += 1
        if finished and job not in seen:
            seen[job] = at - fake.finish_at(job)
    early = [t for at, _, _, t, _ in log if at - t0 < 10]
    late = [t for at, _, _, t, _ in log if at - t0 >= 10]
    delays = sorted(seen.values())
    return {
        "gates": gates, "jobs": gates * jobs,
        "requests": len(log),
        "throttled": sum(1 for e in log if e[3]),
        "throttled_first_10s": "%.0f%%" % (100.0 * sum(early) / max(len(early), 1)),
        "throttled_after_10s": "%.0f%%" % (100.0 * sum(late) / max(len(late), 1)),
        "peak_rps_all": max(per_second.values()),
        "peak_rps_one_gate": max(per_gate_second.values()),
        "failed_gates": sum(1 for c in codes if c != 0),
        "jobs_seen_finished": len(seen),
        "delay_median_s": round(statistics.median(delays), 1) if delays else None,
        "delay_worst_s": round(delays[-1], 1) if delays else None,
        "wall_s": round(max(at for at, *_ in log) - t0, 1),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gate", default="target/release/dts-gate")
    parser.add_argument("--gates", default="1,4,8")
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--interval", default="1s")
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    rows = [run(args.gate, int(g), args.jobs, args.interval, args.limit)
            for g in args.gates.split(",")]
    keys = list(rows[0].keys())
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    sys.exit(0 if all(r["failed_gates"] == 0 for r in rows) else 1)


if __name__ == "__main__":
    main()
