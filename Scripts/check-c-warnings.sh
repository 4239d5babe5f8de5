#!/usr/bin/env bash
# Compiles the C shims with -Wall -Wextra -Werror (SwiftPM's own flags cannot be set from a package
# that others depend on, so the warning gate lives here).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for source in "$ROOT"/Sources/CNGHTTP2Shim/*.c; do
  cc -std=gnu11 -Wall -Wextra -Werror $(pkg-config --cflags libnghttp2 openssl) \
     -I"$ROOT/Sources/CNGHTTP2Shim/include" -c "$source" -o "$out/$(basename "$source").o"
done
for source in "$ROOT"/Sources/CRESTShim/*.c; do
  cc -std=gnu11 -Wall -Wextra -Werror $(pkg-config --cflags libcurl) \
     -I"$ROOT/Sources/CRESTShim/include" -c "$source" -o "$out/rest-$(basename "$source").o"
done
echo "C shims: no warnings"
