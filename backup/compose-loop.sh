#!/bin/sh
# Daily backup of docker-compose.yml's `backup` service (runs in the postgres image, so its pg_dump always matches
# the server's major version).
#
# Once a day, at or after BACKUP_HOUR (UTC), writes one backup set, the directory
#   /backups/flowpanel-YYYYMMDDTHHMMSSZ/
#     <database>.dump    pg_dump custom format, compressed, for each of BACKUP_DATABASES (the app's database first,
#                        then Temporal's two, so running workflows come back with the money they belong to)
#     uploads.tar.gz     the uploaded receipts (BACKUP_UPLOADS_DIR), when set
#     manifest.json      what the set holds: each file's size and SHA-256, the uploads' file count, the time
#     SHA256SUMS         the same checksums in `sha256sum -c` form
# then deletes sets (and single-file dumps of older versions) older than BACKUP_KEEP_DAYS. A set is written into
# <name>.partial and renamed only when every part succeeded, so a set without `.partial` is complete. A part that
# fails is tried again BACKUP_ATTEMPTS times, BACKUP_RETRY_SECONDS apart; when it still fails, the set is dropped
# and the whole set is tried again at the next check (every BACKUP_CHECK_SECONDS) until one is written that day.
# `npm run cli -- backup restore <set>` restores all of it.
#
# Connection: PGHOST, PGPORT, PGUSER, PGPASSWORD from the environment. BACKUP_ONCE=1 writes one set now and exits
# with its status (used by the tests and for a backup before an upgrade).
set -eu

: "${BACKUP_DIR:=/backups}"
: "${BACKUP_HOUR:=3}"
: "${BACKUP_KEEP_DAYS:=30}"
: "${BACKUP_CHECK_SECONDS:=300}"
: "${BACKUP_DATABASES:=flowpanel temporal temporal_visibility}"
: "${BACKUP_UPLOADS_DIR:=}"
: "${BACKUP_ATTEMPTS:=3}"
: "${BACKUP_RETRY_SECONDS:=30}"
: "${BACKUP_ONCE:=}"

pause() { sleep "$1" & wait $!; }

log() { printf '{"time":"%s","level":"%s","service":"backup","msg":"%s"}\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2"; }

# attempt <what> <command...>: runs the command up to BACKUP_ATTEMPTS times.
attempt() {
  what=$1
  shift
  n=1
  until "$@"; do
    if [ "$n" -ge "$BACKUP_ATTEMPTS" ]; then
      log error "$what failed $n times; giving up on this set"
      return 1
    fi
    log warn "$what failed (attempt $n of $BACKUP_ATTEMPTS); trying again in ${BACKUP_RETRY_SECONDS}s"
    n=$((n + 1))
    pause "$BACKUP_RETRY_SECONDS"
  done
}

dump() { # dump <database> <file>
  rm -f "$2"
  pg_dump --format=custom --compress=6 --no-owner --file="$2" "$1"
}

archive_uploads() { # archive_uploads <file>
  rm -f "$1"
  tar -czf "$1" -C "$BACKUP_UPLOADS_DIR" .
}

entry() { # entry <file>: one manifest object for a file of the set
  printf '{"file":"%s","bytes":%s,"sha256":"%s"}' "$(basename "$1")" "$(wc -c <"$1" | tr -d ' ')" "$(sha256sum "$1" | cut -d' ' -f1)"
}

run_backup() {
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  set_dir="$BACKUP_DIR/flowpanel-$stamp"
  work="$set_dir.partial"
  rm -rf "$work"
  mkdir -p "$work"
  databases=""
  for db in $BACKUP_DATABASES; do
    attempt "pg_dump of $db" dump "$db" "$work/$db.dump" || { rm -rf "$work"; return 1; }
    databases="$databases${databases:+,}{\"name\":\"$db\",$(entry "$work/$db.dump" | sed 's/^{//')"
  done
  uploads=null
  if [ -n "$BACKUP_UPLOADS_DIR" ]; then
    attempt "archiving $BACKUP_UPLOADS_DIR" archive_uploads "$work/uploads.tar.gz" || { rm -rf "$work"; return 1; }
    files=$(find "$BACKUP_UPLOADS_DIR" -type f | wc -l | tr -d ' ')
    uploads="$(entry "$work/uploads.tar.gz" | sed 's/}$//'),\"files\":$files}"
  fi
  app_db=${BACKUP_DATABASES%% *}
  printf '{"format":"flowpanel-backup-set/1","takenAt":"%s","appDatabase":"%s","databases":[%s],"uploads":%s}\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$app_db" "$databases" "$uploads" >"$work/manifest.json" || { rm -rf "$work"; return 1; }
  # The same checksums for sha256sum -c (backup/compose-restore.sh checks them before restoring anything).
  (cd "$work" && sha256sum -- *.dump $([ -f uploads.tar.gz ] && echo uploads.tar.gz) >SHA256SUMS) || { rm -rf "$work"; return 1; }
  mv "$work" "$set_dir" || { rm -rf "$work"; return 1; }
  log info "wrote $set_dir ($(du -sk "$set_dir" | cut -f1) KiB)"
  # -mtime +N matches entries modified more than N*24h ago (rounded down): N = keep - 1 keeps BACKUP_KEEP_DAYS days.
  find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 \( -name 'flowpanel-*Z' -o -name '*-[0-9]*T[0-9]*Z.dump' \) \
    -mtime +"$((BACKUP_KEEP_DAYS - 1))" -print | while read -r old; do
    rm -rf "$old"
    log info "pruned $old"
  done
}

mkdir -p "$BACKUP_DIR"
if [ -n "$BACKUP_ONCE" ]; then
  run_backup
  exit $?
fi
log info "daily backups at or after ${BACKUP_HOUR}:00 UTC into $BACKUP_DIR, kept ${BACKUP_KEEP_DAYS} days"
trap 'log info "stopping"; exit 0' TERM INT
while :; do
  today=$(date -u +%Y%m%d)
  hour=$(date -u +%H | sed 's/^0//')
  if [ "${hour:-0}" -ge "$BACKUP_HOUR" ] && ! ls -d "$BACKUP_DIR"/flowpanel-"$today"T*Z >/dev/null 2>&1; then
    run_backup || log error "no backup set today yet; trying again in ${BACKUP_CHECK_SECONDS}s"
  fi
  pause "$BACKUP_CHECK_SECONDS"
done
