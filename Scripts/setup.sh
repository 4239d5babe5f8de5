#!/usr/bin/env bash
# Prepares a machine (fresh Debian 12, run as root in CI) for building and testing this project.
#
#   Scripts/setup.sh
#
# 1. Installs the Debian packages the build and the tests need, but only when one is missing
#    (apt-get update + apt-get install run only then).
# 2. Creates the Python venv $ROOT/.venv (python3 -m venv) if it does not exist.
# 3. Installs Scripts/requirements.txt into it when that file changed since the last install
#    (the sha256 of the requirements is kept in .venv/.requirements.sha256).
# Fast when everything is already in place. Set PYTHON to choose the interpreter for the venv.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/Scripts/requirements.txt"
STAMP="$VENV/.requirements.sha256"
PYTHON=${PYTHON:-python3}
APT_PACKAGES=(pkg-config libnghttp2-dev libssl-dev libprotobuf-c-dev protobuf-c-compiler zlib1g-dev libsqlite3-dev
              libcurl4-openssl-dev libyajl-dev
              nghttp2-client python3-venv openssl valgrind binutils curl)

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo when it is there.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# Prints the apt packages that are not installed, one per line.
missing_apt_packages() {
  local pkg
  for pkg in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      echo "$pkg"
    fi
  done
}

install_apt_packages() {
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script expects Debian"
  local missing
  missing=$(missing_apt_packages)
  if [ -z "$missing" ]; then
    say "apt packages: all present"
    return
  fi
  say "apt packages: installing $(echo $missing)"
  export DEBIAN_FRONTEND=noninteractive
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
    || die "apt-get update failed"
  # shellcheck disable=SC2086
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
    >/dev/null || die "apt-get install failed for: $(echo $missing)"
  missing=$(missing_apt_packages)
  [ -z "$missing" ] || die "still missing after install: $(echo $missing)"
}

create_venv() {
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "venv: $VENV exists"
    return
  fi
  command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found"
  say "venv: creating $VENV with $("$PYTHON" --version 2>&1)"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
}

install_requirements() {
  [ -f "$REQUIREMENTS" ] || die "missing $REQUIREMENTS"
  local want have=""
  want=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
  [ -f "$STAMP" ] && have=$(cat "$STAMP")
  if [ "$want" = "$have" ]; then
    say "python requirements: up to date"
    return
  fi
  say "python requirements: installing Scripts/requirements.txt"
  rm -f "$STAMP"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS" \
    || die "pip install -r Scripts/requirements.txt failed"
  echo "$want" > "$STAMP"
}

install_apt_packages
create_venv
install_requirements
say "done"
