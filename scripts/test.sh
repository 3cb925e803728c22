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
echo "[test] typecheck"; node_modules/.bin/tsc -p tsconfig.json --noEmit && node_modules/.bin/tsc -p console/tsconfig.json
echo "[test] lint"; node_modules/.bin/eslint .
# the browser tests drive the built console: build it when missing or older than its sources
node scripts/build-console.mjs --if-stale
echo "[test] tap"
# terse: failures in full, passes as counts (every result is kept in .tap/test-results)
log=$(mktemp)
set +e
node_modules/.bin/tap --reporter=terse "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# tap's closing summary, e.g. "# { total: 12, pass: 11, fail: 1 }", as one plain line for CI
summary=$(grep -a -o '# { total: [^}]*}' "$log" | tail -n 1 || true)
rm -f "$log"
pass=$(grep -o 'pass: [0-9]*' <<<"$summary" | grep -o '[0-9]*' || true)
fail=$(grep -o 'fail: [0-9]*' <<<"$summary" | grep -o '[0-9]*' || true)
echo "tap: ${pass:-0} passed, ${fail:-0} failed"
exit "$status"
