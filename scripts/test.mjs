#!/usr/bin/env node
// Runs every *.test.ts under src/, demo/, test/, bench/ and tools/ with node's test runner (TypeScript via tsx).
// Usage: npm test [-- <path filter> ...]   e.g. `npm test -- stores/redis`
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const roots = ['src', 'demo', 'test', 'bench', 'tools'];
const skipDirs = new Set([join('test', 'vitest')]);
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    // test/vitest/ runs under Vitest (npm run test:vitest).
    if (e.name === 'node_modules' || e.name.startsWith('.') || skipDirs.has(join(dir, e.name))) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = roots
  .flatMap((r) => walk(r, []))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Compact output: a dot per test and the details of each failure, then the summary (unless the
// caller picked reporters: `npm test -- --test-reporter=spec`).
const own = flags.some((f) => f.startsWith('--test-reporter'));
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-test-'));
const summaryFile = join(dir, 'summary.txt');
const reporters = own
  ? []
  : [
      '--test-reporter=dot',
      '--test-reporter-destination=stdout',
      `--test-reporter=${join(import.meta.dirname, 'test-summary.mjs')}`,
      `--test-reporter-destination=${summaryFile}`,
    ];
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=120000',
    ...reporters,
    ...flags,
    ...files,
  ],
  { stdio: 'inherit' },
);
if (!own) {
  try {
    process.stdout.write(readFileSync(summaryFile, 'utf8'));
  } catch {
    console.error('the test run ended without a summary');
  }
}
rmSync(dir, { recursive: true, force: true });
process.exit(result.status ?? 1);
