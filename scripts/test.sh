#!/usr/bin/env bash
# The whole suite: host setup (idempotent), formatter and linter, type check, then unit,
# integration (real containerd + CNI) and e2e (real kubectl) tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup.sh
export PATH="$ROOT/node_modules/.bin:$PATH"
echo "test: format and lint" >&2
biome ci --colors=off .
echo "test: type check" >&2
tsc --noEmit -p .
echo "test: vitest" >&2
results="$(mktemp)"
status=0
vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# one plain closing line, whatever reporter ran
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)' "$results" || true
rm -f "$results"
exit "$status"
