#!/usr/bin/env bash
# What the tests need on this machine, made ready the same way for `npm test` and for CI (.ci/run calls npm test):
# PostgreSQL on 127.0.0.1:5432 (trust auth for user postgres), Redis on 127.0.0.1:6379, Chromium for the browser
# tests, Python 3 with venv, then Temporal's official binaries and Docker Compose v2 (both pinned, into .tools/).
# Missing Debian packages are installed with apt-get when running as root; otherwise it stops at once with one line
# naming the command to run. Services that are installed but stopped are started.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test prerequisites: %s\n' "$*"; }
fail() { printf 'test prerequisites: %s\n' "$*" >&2; exit 1; }

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || command -v pg_isready >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || need_apt+=(chromium)
{ command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' >/dev/null 2>&1; } || need_apt+=(python3 python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "missing ${need_apt[*]}: run \`sudo apt-get install -y ${need_apt[*]}\`, then npm test again"
  fi
  say "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  say "starting PostgreSQL"
  command -v pg_ctlcluster >/dev/null 2>&1 || fail "PostgreSQL does not answer on 127.0.0.1:5432: start it, or set TEST_DATABASE_URL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
# The tests connect as postgres without a password (trust auth for local TCP), unless TEST_DATABASE_URL says otherwise.
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  psql -h 127.0.0.1 -U postgres -c 'select 1' >/dev/null 2>&1 ||
    fail "PostgreSQL on 127.0.0.1:5432 refuses user postgres without a password: allow trust auth for 127.0.0.1 in pg_hba.conf, or set TEST_DATABASE_URL"
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

bash bin/setup-temporal.sh
bash bin/setup-compose.sh
