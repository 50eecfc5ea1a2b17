#!/usr/bin/env bash
# The whole suite: host setup (idempotent), type check, then unit,
# integration (real containerd + CNI) and e2e (real kubectl) tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
export PATH="$ROOT/node_modules/.bin:$PATH"
echo "test: type check" >&2
tsc --noEmit -p .
echo "test: vitest" >&2
exec vitest run "$@"
