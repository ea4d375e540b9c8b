#!/bin/sh
# One-shot job (temporalio/admin-tools image): creates Temporal's two PostgreSQL databases when they are
# missing and brings their schemas to the version this admin-tools release ships. Safe to re-run:
# `create` on an existing database is reported and skipped, `setup-schema -v 0.0` leaves an already
# versioned database alone, and `update-schema` applies only the missing migrations — so the same job
# performs upgrades when the image tags are raised (see docs/production.md).
#
# Environment: POSTGRES_SEEDS (host), DB_PORT, POSTGRES_USER, SQL_PASSWORD (read by temporal-sql-tool),
# TEMPORAL_DB / TEMPORAL_VISIBILITY_DB (database names, default temporal / temporal_visibility).
set -eu

: "${POSTGRES_SEEDS:?POSTGRES_SEEDS (the PostgreSQL host) is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD (the PostgreSQL password, read by temporal-sql-tool) is required}"
PORT="${DB_PORT:-5432}"
SCHEMA_ROOT="${SCHEMA_ROOT:-/etc/temporal/schema/postgresql/v12}"
ATTEMPTS="${SETUP_ATTEMPTS:-30}"

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" "$@"
}

# retry TOLERATED_PATTERN COMMAND...: runs COMMAND until it succeeds (PostgreSQL may still be starting),
# treating output that matches TOLERATED_PATTERN (if not empty) as "already done".
retry() {
  tolerated=$1
  shift
  attempt=1
  while :; do
    if output=$("$@" 2>&1); then
      printf '%s\n' "$output"
      return 0
    fi
    if [ -n "$tolerated" ] && printf '%s\n' "$output" | grep -qiE "$tolerated"; then
      echo "already done: $*"
      return 0
    fi
    if [ "$attempt" -ge "$ATTEMPTS" ]; then
      printf '%s\n' "$output" >&2
      echo "giving up after $attempt attempts: $*" >&2
      return 1
    fi
    echo "attempt $attempt failed, retrying in 2 s: $*" >&2
    attempt=$((attempt + 1))
    sleep 2
  done
}

setup_database() {
  database=$1
  versioned_dir=$2
  echo "== PostgreSQL database $database on $POSTGRES_SEEDS:$PORT"
  retry 'already exists' sql_tool --db "$database" create
  retry '' sql_tool --db "$database" setup-schema -v 0.0
  retry '' sql_tool --db "$database" update-schema -d "$versioned_dir"
}

setup_database "${TEMPORAL_DB:-temporal}" "$SCHEMA_ROOT/temporal/versioned"
setup_database "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" "$SCHEMA_ROOT/visibility/versioned"
echo "Temporal schema is up to date"
