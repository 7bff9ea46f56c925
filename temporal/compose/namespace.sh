#!/bin/sh
# One-shot `temporal-namespace` job of docker-compose.yml, run in temporalio/admin-tools once the server answers:
# creates flowpanel's namespace with its retention (or applies a changed retention to it), registers the project's
# own search attributes, and exits 0 only when the namespace answers `describe`, so web, worker and the UI start
# against a namespace that exists. Idempotent: it runs on every `docker compose up`.
#
# Environment: TEMPORAL_ADDRESS (host:port of the frontend), NAMESPACE, RETENTION (e.g. 720h),
# SEARCH_ATTRIBUTES ("Name=Type" items separated by commas or spaces, types as `temporal operator search-attribute
# create --type` takes them: Keyword, Text, Int, Double, Bool, Datetime, KeywordList), and the bounds of the waits:
# MAX_ATTEMPTS, SLEEP_SECONDS.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must be the Temporal frontend, host:port}"
: "${NAMESPACE:=default}"
: "${RETENTION:=720h}"
: "${SEARCH_ATTRIBUTES:=}"
: "${MAX_ATTEMPTS:=60}"
: "${SLEEP_SECONDS:=2}"
: "${TEMPORAL_CLI:=temporal}"

cli() { "$TEMPORAL_CLI" "$@" --address "$TEMPORAL_ADDRESS"; }

# retry <what> <command...>: runs the command until it succeeds, at most MAX_ATTEMPTS times.
retry() {
  what=$1
  shift
  attempt=1
  until "$@" >/dev/null 2>&1; do
    if [ "$attempt" -ge "$MAX_ATTEMPTS" ]; then
      echo "temporal-namespace: $what did not succeed after $MAX_ATTEMPTS attempts; last try:" >&2
      "$@" >&2 || true
      exit 1
    fi
    attempt=$((attempt + 1))
    sleep "$SLEEP_SECONDS"
  done
}

retry "the cluster health check at $TEMPORAL_ADDRESS" cli operator cluster health

if cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  existed=true
else
  echo "temporal-namespace: creating namespace $NAMESPACE with retention $RETENTION"
  cli operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --description "flowpanel" >/dev/null
  existed=false
fi
# `describe` reads the database; the other calls go through each service's namespace cache, which learns of a new
# namespace some seconds later (upstream's auto-setup waits the same way).
retry "the namespace cache to know $NAMESPACE" cli operator search-attribute list --namespace "$NAMESPACE"
if [ "$existed" = true ]; then
  echo "temporal-namespace: namespace $NAMESPACE exists; applying retention $RETENTION"
  retry "setting the retention of $NAMESPACE" cli operator namespace update --namespace "$NAMESPACE" --retention "$RETENTION"
fi

for item in $(echo "$SEARCH_ATTRIBUTES" | tr ',' ' '); do
  name=${item%%=*}
  type=${item#*=}
  if [ -z "$name" ] || [ "$name" = "$item" ] || [ -z "$type" ]; then
    echo "temporal-namespace: search attribute \"$item\" is not Name=Type" >&2
    exit 1
  fi
  if cli operator search-attribute list --namespace "$NAMESPACE" | grep -qw -- "$name"; then
    echo "temporal-namespace: search attribute $name is registered"
  else
    echo "temporal-namespace: registering search attribute $name ($type)"
    cli operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type" >/dev/null
  fi
done

echo "temporal-namespace: namespace $NAMESPACE is ready"
