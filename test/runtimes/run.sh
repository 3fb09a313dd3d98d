#!/usr/bin/env bash
# The runtime matrix (called by .ci/run after `npm run build`): installs Node 22, Bun, Deno and
# workerd (miniflare) from the npm registry into test/runtimes/node_modules (its own lock, so the
# root install stays lean), then runs
#   1. sessionkit's adapter conformance suite (sessionkit/testing, built dist) on Node 22, Bun and Deno;
#   2. matrix.test.mjs: each runtime's own server (node:http, Bun.serve, Deno.serve, workerd) with
#      the memory store, cookie-only sessions and Redis through ioredis, checked through real HTTP.
set -euo pipefail
cd "$(dirname "$0")"
test -f ../../dist/adapters/fetch.js || { echo 'dist/ is missing: run `npm run build` first' >&2; exit 1; }
npm ci --no-audit --no-fund
bin=node_modules/.bin
printf 'node %s (Node 22 package), bun %s, deno %s, workerd %s\n' "$($bin/node --version)" "$($bin/bun --version)" \
  "$($bin/deno --version | head -1)" "$($bin/workerd --version)"
echo '--- conformance suite on Node 22'
"$bin/node" --test --test-reporter=dot conformance.test.mjs
echo '--- conformance suite on Bun'
"$bin/bun" test ./conformance.test.mjs
echo '--- conformance suite on Deno'
NO_COLOR=1 "$bin/deno" test -A --no-check conformance.test.mjs
echo '--- runtime matrix (Node 20 and 22, Bun, Deno, workerd × memory, cookie-only, Redis)'
node --test --test-force-exit matrix.test.mjs
