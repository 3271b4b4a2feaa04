#!/usr/bin/env bash
# Benchmarks the release binary against a shell loop around tccli on a simulated HTTPS DTS
# endpoint (bench/fake_dts.py, the test CA in tests/data/tls). Results: BENCHMARKS.md.
# Not part of .ci/run: it takes about a minute and its numbers depend on the machine.
# usage: bash bench/run.sh [--runs N] [--interval SECONDS] [--finish-after SECONDS] ...
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked

venv=target/bench/venv
if [ ! -x "$venv/bin/tccli" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check tccli==3.1.189.1
fi
# tccli's SDK trusts certifi's bundle and ignores SSL_CERT_FILE, so the test CA goes into this
# virtualenv's copy of it (once; the venv is ours, nothing else trusts it).
cacert=$("$venv/bin/python" -c 'import certifi; print(certifi.where())')
if ! grep -q 'dts-gate test CA' "$cacert"; then
  { printf '\n# dts-gate test CA (bench/run.sh)\n'; cat tests/data/tls/ca.pem; } >>"$cacert"
fi

exec python3 bench/bench.py --gate target/release/dts-gate --tccli "$venv/bin/tccli" "$@"
