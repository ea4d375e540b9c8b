#!/usr/bin/env bash
# Builds the Temporal CLI (whose `temporal server start-dev` is the project's embedded Temporal
# server) into <repo>/.tools/bin/temporal with `go install`. Idempotent: does nothing when the
# binary is already there (pass --force to rebuild).
#
# Pinned to v1.5.1: later tags carry a `replace` directive in go.mod, which `go install pkg@version`
# refuses. A cold build takes about 5 minutes on 2 cores; with a warm Go build cache, seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODULE="github.com/temporalio/cli/cmd/temporal"
VERSION="v1.5.1"
BIN_DIR="$ROOT/.tools/bin"
TARGET="$BIN_DIR/temporal"

if [[ -x "$TARGET" && "${1:-}" != "--force" ]]; then
  echo "Temporal CLI already installed: $TARGET"
  exit 0
fi

GO="$(command -v go || true)"
if [[ -z "$GO" ]]; then
  for candidate in "${GOROOT:-}/bin/go" /usr/local/go/bin/go /usr/lib/go/bin/go; do
    if [[ -x "$candidate" ]]; then GO="$candidate"; break; fi
  done
fi
if [[ -z "$GO" ]]; then
  echo "error: Go is needed to build the Temporal CLI (https://go.dev/dl), or install the CLI yourself and set TEMPORAL_CLI_PATH" >&2
  exit 1
fi

# Go keeps its module cache (GOPATH) and build cache (GOCACHE) under $HOME by default. Without a
# usable HOME (bare containers, some CI runners) keep them inside .tools instead.
if [[ -z "${HOME:-}" || ! -d "${HOME:-}" || ! -w "${HOME:-}" ]]; then
  export GOPATH="${GOPATH:-$ROOT/.tools/go}"
  export GOCACHE="${GOCACHE:-$ROOT/.tools/go-build}"
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw"
fi

mkdir -p "$BIN_DIR"
# Build into a scratch GOBIN and move the result into place, so an interrupted build never
# leaves a half-written .tools/bin/temporal behind.
SCRATCH="$(mktemp -d "$ROOT/.tools/gobin.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

echo "Building the Temporal CLI: GOBIN=$BIN_DIR $GO install $MODULE@$VERSION"
echo "($("$GO" version); GOPATH=$("$GO" env GOPATH), GOCACHE=$("$GO" env GOCACHE))"
echo "This takes a few minutes the first time (about 5 min on 2 cores)."
start=$(date +%s)
( while sleep 60 </dev/null >/dev/null 2>&1; do echo "  ...still building ($(( $(date +%s) - start ))s)"; done ) &
ticker=$!
trap 'kill "$ticker" 2>/dev/null || true; rm -rf "$SCRATCH"' EXIT
GOBIN="$SCRATCH" "$GO" install "$MODULE@$VERSION"
kill "$ticker" 2>/dev/null || true
mv -f "$SCRATCH/temporal" "$TARGET"
elapsed=$(( $(date +%s) - start ))
echo "Temporal CLI built in ${elapsed}s: $TARGET ($("$TARGET" --version))"
