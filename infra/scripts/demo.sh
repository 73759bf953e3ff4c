#!/usr/bin/env bash
# The main command (`npm run demo`): installs what is missing, starts Temporal and MinIO on
# 127.0.0.1 (reusing servers already up), then runs the demo with in-process workers. Extra
# arguments go to `veil demo` (see `node bin/veil.js demo --help`). The servers stay up so the
# runs can be inspected in the Temporal UI; `node bin/veil.js infra down` stops them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
bash infra/scripts/install.sh
node bin/veil.js infra up
node bin/veil.js demo "$@"
