#!/usr/bin/env bash
# The one test command (`npm test`): typecheck and build, lint, then every test file.
# Tests import workspace packages through the "source" export condition, so they run the
# TypeScript in src/ directly; the build step is what proves the packages compile.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "# test tools"
# The browser tests run @cloister/core in Debian's Chromium; a no-op when it is installed.
bash scripts/install-chromium.sh
echo "# typecheck + build"
npx tsc -b packages/cli
npx tsc -p tsconfig.test.json
echo "# lint"
npx biome check --error-on-warnings .

mapfile -t files < <(find packages tools bench -name '*.test.ts' -not -path '*/node_modules/*' | sort)
echo "# ${#files[@]} test files"
exec node --conditions=source --import tsx --test "${files[@]}"
