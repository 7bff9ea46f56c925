#!/bin/sh
# One-shot `db-init` job of docker-compose.yml (runs in the postgres image, as the Postgres superuser): makes the
# role the app connects as, a plain login role that is not a superuser and cannot create roles or databases, and
# makes it the owner of the app's database and of everything in its public schema, so migrations can run as that
# role. Idempotent, so it runs on every `docker compose up`: the role's password follows APP_DB_PASSWORD, and an
# install whose tables still belong to the superuser (created before this job existed) has them handed over.
#
# Environment: PGHOST, PGPORT, PGUSER, PGPASSWORD (the superuser, as libpq reads them), APP_DB_NAME, APP_DB_USER,
# APP_DB_PASSWORD.
set -eu

: "${PGUSER:?PGUSER must be the Postgres superuser}"
: "${APP_DB_NAME:?APP_DB_NAME must name the app database}"
: "${APP_DB_USER:?APP_DB_USER must name the role the app connects as}"
: "${APP_DB_PASSWORD:?APP_DB_PASSWORD must hold that role password}"

if [ "$APP_DB_USER" = "$PGUSER" ]; then
  echo "db-init: APP_DB_USER must differ from POSTGRES_USER ($PGUSER): the app does not run as the superuser" >&2
  exit 1
fi

psql_run() { psql -X -q -v ON_ERROR_STOP=1 -v app_user="$APP_DB_USER" -v app_password="$APP_DB_PASSWORD" -v app_db="$APP_DB_NAME" "$@"; }

# Identifiers and the password reach SQL only through format() with %I / %L (quoted), never by string pasting.
psql_run -d postgres <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', :'app_user', :'app_password') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'app_db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'app_db', :'app_user') \gexec
SQL

psql_run -d "$APP_DB_NAME" <<'SQL'
SELECT format('ALTER SCHEMA public OWNER TO %I', :'app_user') \gexec
-- Tables, views and foreign tables (ALTER TABLE takes them all; a table's own sequences follow it).
SELECT format('ALTER TABLE %I.%I OWNER TO %I', n.nspname, c.relname, :'app_user')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND pg_get_userbyid(c.relowner) <> :'app_user' \gexec
-- Sequences that belong to no table column.
SELECT format('ALTER SEQUENCE %I.%I OWNER TO %I', n.nspname, c.relname, :'app_user')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'S' AND pg_get_userbyid(c.relowner) <> :'app_user'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')) \gexec
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, :'app_user')
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> :'app_user' \gexec
SELECT format('ALTER TYPE %I.%I OWNER TO %I', n.nspname, t.typname, :'app_user')
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd', 'c') AND pg_get_userbyid(t.typowner) <> :'app_user'
   AND (t.typrelid = 0 OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c') \gexec
SQL

echo "db-init: role $APP_DB_USER (no superuser, no createdb, no createrole) owns database $APP_DB_NAME"
