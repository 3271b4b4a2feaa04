#!/usr/bin/env python3
"""A simulated DTS endpoint for bench/bench.py: HTTPS on 127.0.0.1, a check that finishes by the
clock (not by poll count), so both clients are measured against the same moment.

usage: fake_dts.py CERT KEY FINISH_AFTER_SECONDS PORTFILE LOGFILE

The check is `running` until FINISH_AFTER seconds after the first request, then `finished` with
CheckFlag 1. Every answered request is one line in LOGFILE: `<unix time> <status>`, written just
before the answer, so the first `finished` line is the moment the check was first seen finished.
Requests that are not a TC3-signed DescribeMigrateCheckJob get an AuthFailure: the benchmark
only counts well-formed polls (signatures themselves are checked by the conformance suite).
"""
import json
import ssl
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    cert, key, finish_after, portfile, logfile = sys.argv[1:6]
    finish_after = float(finish_after)
    log = open(logfile, "a", buffering=1)
    lock = threading.Lock()
    state = {"first": None}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            now = time.time()
            with lock:
                if state["first"] is None:
                    state["first"] = now
                started = state["first"]
            well_formed = (
                self.headers.get("X-TC-Action") == "DescribeMigrateCheckJob"
                and self.headers.get("X-TC-Version") == "2018-03-30"
                and (self.headers.get("Authorization") or "").startswith("TC3-HMAC-SHA256 Credential=")
                and b"JobId" in body
            )
            if not well_formed:
                status = "error"
                answer = {"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "not a signed DescribeMigrateCheckJob"}}
            elif now - started >= finish_after:
                status = "finished"
                answer = {"Status": "finished", "CheckFlag": 1, "Progress": "100", "ErrorCode": 0, "ErrorMessage": "ok"}
            else:
                status = "running"
                progress = str(int(100 * (now - started) / finish_after))
                answer = {"Status": "running", "CheckFlag": 3, "Progress": progress, "ErrorCode": 0, "ErrorMessage": ""}
            answer["RequestId"] = str(uuid.uuid4())
            data = json.dumps({"Response": answer}).encode()
            log.write("%.6f %s\n" % (time.time(), status))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    # Renamed into place so the driver never reads a half-written port.
    import os
    os.replace(portfile + ".tmp", portfile)
    server.serve_forever()


if __name__ == "__main__":
    main()
