#!/bin/sh
# One-shot job (temporalio/admin-tools image): makes the namespace ready for customer-segments, the same
# way the embedded dev server is prepared (temporal/namespace-setup.ts):
#   - the namespace exists, with a retention of at least TEMPORAL_RETENTION_DAYS (default 400, so a year
#     of monthly runs stays auditable; a longer retention set by an operator is kept);
#   - the project's custom search attributes (common/constants.ts SEARCH_ATTRIBUTES) are registered.
# Safe to re-run. Environment: TEMPORAL_ADDRESS (host:port), TEMPORAL_NAMESPACE, TEMPORAL_RETENTION_DAYS.
set -eu

NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION_DAYS="${TEMPORAL_RETENTION_DAYS:-400}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
ATTEMPTS="${SETUP_ATTEMPTS:-60}"
# name:type, as in common/constants.ts
SEARCH_ATTRIBUTES="SegmentsDataset:Keyword SegmentsRunMonth:Keyword SegmentsStage:Keyword SegmentsK:Int SegmentsOutcome:Keyword"

case "$RETENTION_DAYS" in
  '' | *[!0-9]*) echo "TEMPORAL_RETENTION_DAYS must be a whole number of days, got '$RETENTION_DAYS'" >&2; exit 2 ;;
esac

# Talk to the frontend by IPv4 address: some resolvers return an unreachable IPv6 address first.
host=${ADDRESS%:*}
port=${ADDRESS##*:}
ip=$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }' || true)
export TEMPORAL_ADDRESS="${ip:-$host}:$port"
export TEMPORAL_NAMESPACE="$NAMESPACE"

attempt=1
until temporal operator cluster health >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    temporal operator cluster health || true
    echo "Temporal at $ADDRESS ($TEMPORAL_ADDRESS) is not serving after $attempt attempts" >&2
    exit 1
  fi
  echo "waiting for Temporal at $ADDRESS ($TEMPORAL_ADDRESS) to serve (attempt $attempt)"
  attempt=$((attempt + 1))
  sleep 2
done
echo "Temporal at $ADDRESS is serving"

retention_seconds() {
  temporal operator namespace describe -n "$NAMESPACE" -o json 2>/dev/null |
    tr -d ' \n' | grep -o '"workflowExecutionRetentionTtl":"[0-9.]*s"' | grep -o '[0-9][0-9]*' | head -n 1
}

wanted=$((RETENTION_DAYS * 86400))
if temporal operator namespace describe -n "$NAMESPACE" >/dev/null 2>&1; then
  current=$(retention_seconds || true)
  if [ -z "$current" ] || [ "$current" -lt "$wanted" ]; then
    temporal operator namespace update -n "$NAMESPACE" --retention "${RETENTION_DAYS}d"
    echo "namespace $NAMESPACE: retention raised to $RETENTION_DAYS days"
  else
    echo "namespace $NAMESPACE exists (retention $((current / 86400)) days)"
  fi
else
  temporal operator namespace create -n "$NAMESPACE" --retention "${RETENTION_DAYS}d" \
    --description "customer-segments: segmentation runs"
  echo "namespace $NAMESPACE created (retention $RETENTION_DAYS days)"
fi

# A namespace just created reaches every service's cache within seconds: retry until it is usable.
has_attribute() {
  temporal operator search-attribute list -n "$NAMESPACE" 2>/dev/null | grep -qw "$1"
}
for spec in $SEARCH_ATTRIBUTES; do
  name=${spec%%:*}
  type=${spec#*:}
  attempt=1
  until has_attribute "$name"; do
    if temporal operator search-attribute create -n "$NAMESPACE" --name "$name" --type "$type" >/dev/null 2>&1; then
      echo "search attribute $name ($type) registered"
      break
    fi
    if [ "$attempt" -ge "$ATTEMPTS" ]; then
      temporal operator search-attribute create -n "$NAMESPACE" --name "$name" --type "$type" || true
      echo "could not register the search attribute $name ($type)" >&2
      exit 1
    fi
    attempt=$((attempt + 1))
    sleep 2
  done
done

missing=""
for spec in $SEARCH_ATTRIBUTES; do
  has_attribute "${spec%%:*}" || missing="$missing ${spec%%:*}"
done
if [ -n "$missing" ]; then
  echo "search attributes still missing in $NAMESPACE:$missing" >&2
  exit 1
fi
echo "namespace $NAMESPACE is ready for customer-segments"
