#!/bin/sh
# Restores one backup set of backup/compose-loop.sh: every database dump of the set into the database of the same
# name, and the uploaded receipts into UPLOADS_DIR. docker-compose.yml's `restore` service runs it in the postgres
# image (the same pg_restore as the server), with web, worker, temporal and temporal-ui stopped:
#
#   docker compose --profile restore run --rm restore /backups/flowpanel-20260131T030012Z [--force]
#
# Before touching anything it checks every file against the set's SHA256SUMS. A database that already has tables
# is refused unless --force is given (its tables are then dropped and replaced); each database is restored in one
# transaction. Objects come back owned by the superuser that restores; the db-init job hands the app's database to
# the app's role on the next `docker compose up`.
#
# Connection: PGHOST, PGPORT, PGUSER, PGPASSWORD (the superuser). UPLOADS_DIR: where the receipts go (emptied
# first); unset leaves the uploads alone.
set -eu

usage() { echo "usage: compose-restore.sh <backup set directory> [--force]" >&2; exit 2; }

set_dir=${1:-}
[ -n "$set_dir" ] || usage
force=false
[ "${2:-}" = "--force" ] && force=true
[ $# -le 2 ] || usage
: "${UPLOADS_DIR:=}"

log() { echo "restore: $*"; }
fail() { echo "restore: $*" >&2; exit 1; }

[ -f "$set_dir/SHA256SUMS" ] || fail "$set_dir is not a backup set (no SHA256SUMS); a single .dump file restores with pg_restore"
(cd "$set_dir" && sha256sum -c SHA256SUMS >/dev/null) || fail "files of $set_dir do not match their checksums; nothing was restored"
log "checksums of $set_dir match"

has_tables() { # has_tables <database>: prints the number of user tables, 0 when the database does not exist
  # psql expands :'db' in what it reads from stdin, not in -c.
  exists=$(echo "SELECT count(*) FROM pg_database WHERE datname = :'db'" | psql -X -At -v ON_ERROR_STOP=1 -d postgres -v db="$1")
  if [ "$exists" = 0 ]; then echo 0; return; fi
  psql -X -At -d "$1" -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
}

# Refuse before the first change, so a set is restored whole or not at all.
for dump in "$set_dir"/*.dump; do
  db=$(basename "$dump" .dump)
  n=$(has_tables "$db")
  if [ "$n" != 0 ] && [ "$force" != true ]; then
    fail "database $db already has $n table(s); stop the services and pass --force to replace them"
  fi
done

for dump in "$set_dir"/*.dump; do
  db=$(basename "$dump" .dump)
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -v db="$db" <<'SQL'
SELECT format('CREATE DATABASE %I', :'db') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
  pg_restore --no-owner --exit-on-error --single-transaction --clean --if-exists --dbname="$db" "$dump"
  log "restored database $db"
done

if [ -f "$set_dir/uploads.tar.gz" ]; then
  if [ -n "$UPLOADS_DIR" ]; then
    mkdir -p "$UPLOADS_DIR"
    find "$UPLOADS_DIR" -mindepth 1 -delete
    tar -xzf "$set_dir/uploads.tar.gz" -C "$UPLOADS_DIR"
    log "restored $(find "$UPLOADS_DIR" -type f | wc -l | tr -d ' ') uploaded file(s) into $UPLOADS_DIR"
  else
    log "UPLOADS_DIR is not set: the uploads of the set were not restored"
  fi
fi
log "done; start the services again with: docker compose up -d"
