#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, starts the real Temporal and MinIO
# servers on loopback (reusing ones already up), type-checks, lints, and runs every test file
# against those servers. Servers it started itself are stopped at the end.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bash infra/scripts/install.sh
was_up=0
if node bin/veil.js infra status >/dev/null 2>&1; then was_up=1; fi
node bin/veil.js infra up
if [ "$was_up" = 0 ]; then trap 'node bin/veil.js infra down || true' EXIT; fi

echo "== typecheck"; npx --no-install tsc --noEmit -p .
echo "== lint";      npx --no-install eslint .
echo "== tests"
# One file at a time: the machine has 2 cores and the integration tests share one Temporal server.
mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
