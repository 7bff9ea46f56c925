#!/bin/sh
# One-shot `temporal-schema` job of docker-compose.yml, run in temporalio/admin-tools before the server starts:
# creates Temporal's two databases on the compose Postgres when missing, then brings their schemas to the version
# this admin-tools release ships. Every step is idempotent (an existing database is kept, a schema already at or past
# a version is left alone), so the job runs on every `docker compose up` and after every image upgrade.
#
# Environment: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, SQL_PASSWORD (read by temporal-sql-tool itself),
# TEMPORAL_DB and TEMPORAL_VISIBILITY_DB (database names), TEMPORAL_SCHEMA_DIR (where the image keeps the schemas).
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS must name the Postgres host}"
: "${POSTGRES_USER:?POSTGRES_USER must name the Postgres role Temporal uses}"
: "${SQL_PASSWORD:?SQL_PASSWORD must hold the password of POSTGRES_USER}"
: "${DB_PORT:=5432}"
: "${TEMPORAL_DB:=temporal}"
: "${TEMPORAL_VISIBILITY_DB:=temporal_visibility}"
: "${TEMPORAL_SCHEMA_DIR:=/etc/temporal/schema/postgresql/v12}"
: "${SQL_TOOL:=temporal-sql-tool}"

sql_tool() { # sql_tool <database> <command...>
  db=$1
  shift
  "$SQL_TOOL" --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --db "$db" "$@"
}

setup() { # setup <database> <schema folder>
  echo "temporal-schema: database $1, schema $2"
  sql_tool "$1" create
  sql_tool "$1" setup-schema -v 0.0
  sql_tool "$1" update-schema -d "$TEMPORAL_SCHEMA_DIR/$2/versioned"
}

setup "$TEMPORAL_DB" temporal
setup "$TEMPORAL_VISIBILITY_DB" visibility
echo "temporal-schema: done"
