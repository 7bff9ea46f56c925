#!/bin/sh
# Daily Postgres backup for docker-compose.yml's `backup` service (runs in the postgres image, so its
# pg_dump always matches the server's major version).
#
# Once a day, at or after BACKUP_HOUR (UTC), writes /backups/flowpanel-YYYYMMDDTHHMMSSZ.dump
# (pg_dump custom format, compressed) unless a dump of that day exists, then deletes dumps older
# than BACKUP_KEEP_DAYS. Same names and format as `npm run cli -- backup run`, so
# `npm run cli -- backup restore <file>` (or pg_restore) reads either. Connection: PGHOST, PGUSER,
# PGPASSWORD, PGDATABASE from the environment.
set -eu

: "${BACKUP_DIR:=/backups}"
: "${BACKUP_HOUR:=3}"
: "${BACKUP_KEEP_DAYS:=30}"
: "${BACKUP_CHECK_SECONDS:=300}"

log() { printf '{"time":"%s","level":"%s","service":"backup","msg":"%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2"; }

run_backup() {
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  target="$BACKUP_DIR/flowpanel-$stamp.dump"
  if pg_dump --format=custom --compress=6 --no-owner --file="$target.partial" "$PGDATABASE"; then
    mv "$target.partial" "$target"
    log info "wrote $target ($(wc -c <"$target") bytes)"
  else
    rm -f "$target.partial"
    log error "pg_dump failed; will try again in ${BACKUP_CHECK_SECONDS}s"
    return 1
  fi
  # -mtime +N matches files modified more than N*24h ago (rounded down): N = keep - 1 keeps BACKUP_KEEP_DAYS days.
  find "$BACKUP_DIR" -maxdepth 1 -name 'flowpanel-*.dump' -mtime +"$((BACKUP_KEEP_DAYS - 1))" -print -delete |
    while read -r old; do log info "pruned $old"; done
}

mkdir -p "$BACKUP_DIR"
log info "daily backups at or after ${BACKUP_HOUR}:00 UTC into $BACKUP_DIR, kept ${BACKUP_KEEP_DAYS} days"
trap 'log info "stopping"; exit 0' TERM INT
while :; do
  today=$(date -u +%Y%m%d)
  hour=$(date -u +%H | sed 's/^0//')
  if [ "${hour:-0}" -ge "$BACKUP_HOUR" ] && ! ls "$BACKUP_DIR"/flowpanel-"$today"T*.dump >/dev/null 2>&1; then
    run_backup || true
  fi
  sleep "$BACKUP_CHECK_SECONDS" &
  wait $!
done
