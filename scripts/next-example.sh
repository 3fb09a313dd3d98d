#!/usr/bin/env bash
# Installs and builds the Next.js example (examples/next, its own package.json and lock, so the root
# install stays lean) against this checkout's built dist/, then drives it in Chromium
# (test/next-example/shop.e2e.ts starts `next start` on a spare port). Run after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
test -f dist/adapters/next.js || { echo 'dist/ is missing: run `npm run build` first' >&2; exit 1; }
export NEXT_TELEMETRY_DISABLED=1
(cd examples/next && npm ci --no-audit --no-fund && npm run build)
node --import tsx --test test/next-example/shop.e2e.ts
