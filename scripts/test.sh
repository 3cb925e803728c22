#!/usr/bin/env bash
# `npm test`: everything the tests need, then every check. On a fresh Debian/Ubuntu machine (as root) it installs
# radosgw and PostgreSQL itself; afterwards it only makes sure both are running.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/local-s3.sh status 2>/dev/null; then
  command -v radosgw >/dev/null || bash scripts/local-s3.sh install
  bash scripts/local-s3.sh start
fi
bash scripts/ensure-postgres.sh
echo "[test] typecheck"; npx tsc -p tsconfig.json --noEmit
echo "[test] lint"; npx eslint .
echo "[test] tap"; npx tap "$@"
