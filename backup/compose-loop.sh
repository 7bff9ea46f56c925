#!/bin/sh
# Daily Postgres backup for docker-compose.yml's `backup` service (runs in the postgres image, so its
# pg_dump always matches the server's major version).
#
# Once a day, at or after BACKUP_HOUR (UTC), writes /backups/flowpanel-YYYYMMDDTHHMMSSZ.dump
# (pg_dump custom format, compressed) unless a dump of that day exists, then deletes dumps older
# than BACKUP_KEEP_DAYS. Same names and format as `npm run cli -- backup run`, so
# `npm run cli -- backup restore <file>` (or pg_restore) reads either. Temporal's own databases
# (BACKUP_EXTRA_DATABASES, default: temporal temporal_visibility) are dumped beside it as
# <name>-YYYYMMDDTHHMMSSZ.dump, so running workflows can be restored too. Connection: PGHOST, PGUSER,
# PGPASSWORD, PGDATABASE from the environment.
set -eu

: "${BACKUP_DIR:=/backups}"
: "${BACKUP_HOUR:=3}"
: "${BACKUP_KEEP_DAYS:=30}"
: "${BACKUP_CHECK_SECONDS:=300}"
: "${BACKUP_EXTRA_DATABASES:=temporal temporal_visibility}"

log() { printf '{"time":"%s","level":"%s","service":"backup","msg":"%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2"; }

dump() { # dump <database> <file name prefix> <stamp>
  target="$BACKUP_DIR/$2-$3.dump"
  if pg_dump --format=custom --compress=6 --no-owner --file="$target.partial" "$1"; then
    mv "$target.partial" "$target"
    log info "wrote $target ($(wc -c <"$target") bytes)"
  else
    rm -f "$target.partial"
    log error "pg_dump of $1 failed; will try again in ${BACKUP_CHECK_SECONDS}s"
    return 1
  fi
}

run_backup() {
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  for db in $BACKUP_EXTRA_DATABASES; do dump "$db" "$db" "$stamp" || true; done
  # The application's dump is written last: its presence marks the day as done.
  dump "$PGDATABASE" flowpanel "$stamp" || return 1
  # -mtime +N matches files modified more than N*24h ago (rounded down): N = keep - 1 keeps BACKUP_KEEP_DAYS days.
  find "$BACKUP_DIR" -maxdepth 1 -name '*-[0-9]*T[0-9]*Z.dump' -mtime +"$((BACKUP_KEEP_DAYS - 1))" -print -delete |
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
