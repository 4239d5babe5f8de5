#!/usr/bin/env bash
# Generates a throw-away PKI for the TLS tests into DIR (never committed):
#   ca.pem/ca.key            the test CA
#   server.pem/server.key    for 127.0.0.1, ::1 and localhost, signed by the CA
#   other.pem/other.key      for "other.example" only (host-name mismatch)
#   expired.pem/expired.key  for 127.0.0.1, expired in 2020
#   client.pem/client.key    a client certificate signed by the CA (mutual TLS)
#   rogue-ca.pem             an unrelated CA (wrong trust anchor)
set -euo pipefail
dir=${1:?usage: make-test-certificates.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -subj "/CN=conductor test CA" -days 2 -out ca.pem 2>/dev/null
key rogue-ca.key
openssl req -x509 -new -key rogue-ca.key -subj "/CN=rogue CA" -days 2 -out rogue-ca.pem 2>/dev/null

# A minimal `openssl ca` setup so that validity dates can be set exactly.
mkdir -p ca-db
: > ca-db/index.txt
echo 1000 > ca-db/serial
cat > ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
serial = ca-db/serial
new_certs_dir = ca-db
certificate = ca.pem
private_key = ca.key
default_md = sha256
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
CNF

issue() { # name, subjectAltName, extendedKeyUsage, start, end
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$1" -addext "subjectAltName=$2" -addext "extendedKeyUsage=$3" \
    -out "$1.csr" 2>/dev/null
  openssl ca -batch -config ca.cnf -in "$1.csr" -out "$1.pem" -startdate "$4" -enddate "$5" -notext 2>/dev/null
}

now=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)
later=$(date -u -d '+2 days' +%y%m%d%H%M%SZ)
issue server "IP:127.0.0.1,IP:::1,DNS:localhost" serverAuth "$now" "$later"
issue other "DNS:other.example" serverAuth "$now" "$later"
issue expired "IP:127.0.0.1,DNS:localhost" serverAuth 190101000000Z 200101000000Z
issue client "DNS:conductor-client" clientAuth "$now" "$later"
echo "certificates in $dir"
