#!/usr/bin/env bash
# Regenerates the test CA and the server certificate it signs (run once; the outputs are
# committed). Valid for 100 years so the tests never expire; for tests only, the keys are public.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$days" -subj "/CN=dts-gate test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days "$days" \
  -extfile <(printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=IP:127.0.0.1,DNS:localhost") \
  -out server.pem
# The CA key is not kept: nothing needs to sign again, and a published CA key plus a CA that
# someone once trusted would be a way in. Rerunning this script makes a fresh pair.
rm -f server.csr ca.srl ca.key
