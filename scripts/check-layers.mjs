#!/usr/bin/env node
// Checks that the folder tree is the architecture (docs/architecture.md): every relative import goes
// down a layer or stays inside its unit, never up or sideways, and tooling uses the public entries.
//   src/errors.ts           imports nothing
//   src/core/               imports core and errors only
//   src/stores/internal/    core, errors, stores/internal
//   src/stores/<x>.ts       core, errors, stores/internal — never a sibling store
//   src/adapters/internal/  core, errors, adapters/internal
//   src/adapters/<x>.ts     core, errors, adapters/internal — never a sibling adapter
//   src/testing/            core, errors, stores, testing
//   src/index.ts, src/cookie-session.ts   core, errors, stores (the contract)
//   src/migrate/            core, errors (one public entry per migration source)
//   src/stores/types.ts     re-exports the store contract from core
//   bench/, reliability/, scripts/, demo/ import only src's public entry files (or `sessionkit/...`),
//                           their test files too; test/ is white-box and may import internals
//   tools/                  imports no other top-level folder but src's public entries
//   reliability/, bench/, scripts/, demo/, tools/ never import test/
//   no cycle among the top-level folders test/, bench/, reliability/, scripts/, demo/ and tools/,
//                           counting every file's imports (test files too): shared code goes down to tools/
// Test files (*.test.ts, *.test-d.ts) may import anything else. Usage: node scripts/check-layers.mjs
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const folders = ['src', 'bench', 'reliability', 'scripts', 'demo', 'test', 'tools'];
const importPattern =
  /(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[\s;])import\s*['"]([^'"]+)['"]/g;

/**
 * Imports that still break the layering, until the shared fetch/Redis helpers move into the internal
 * folders (issue 14). Listed so that no new one slips in; the
 * check fails when a listed import is gone, so the list only shrinks.
 */
const knownUpward = new Set([
  'src/adapters/next.ts → src/adapters/fetch.ts',
  'src/stores/internal/redis-replicas.ts → src/stores/redis.ts',
]);

/**
 * Micro benchmarks of internal functions, which no public entry exposes (issue 14 asks tooling to use
 * the public entries, not to export internals for it). Listed so that no new one slips in; the list
 * only shrinks.
 */
const knownInternal = new Set([
  'bench/micro/cookie.ts → src/core/crypto.ts',
  'bench/micro/cookie.ts → src/core/sealed.ts',
  'bench/micro/redis-decode.ts → src/stores/internal/redis-codec.ts',
  'bench/micro/redis-decode.ts → src/stores/types.ts',
]);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name === 'results' || e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) walk(path, out);
    else if (/\.(ts|mts|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const posix = (path) => path.split(sep).join('/');
const isTest = (file) => /\.test(-d)?\.[mc]?[jt]s$/.test(file) || /\.e2e\.ts$/.test(file);

/** The layer of a file under src/, and its unit (a store or adapter file is a unit of its own). */
function layerOf(file) {
  const parts = file.split('/');
  if (parts[0] !== 'src') return { layer: parts[0], unit: parts[0] };
  // A re-export of the store contract (src/core/store-contract.ts) for the stores' imports.
  if (file === 'src/stores/types.ts') return { layer: 'contract', unit: file };
  if (parts.length === 2) return { layer: file === 'src/errors.ts' ? 'errors' : 'entry', unit: file };
  const [, folder, second] = parts;
  if ((folder === 'stores' || folder === 'adapters') && parts.length > 3 && second === 'internal') {
    return { layer: `${folder}/internal`, unit: `${folder}/internal` };
  }
  if (folder === 'stores' || folder === 'adapters') return { layer: folder, unit: file };
  return { layer: folder, unit: folder };
}

const allowed = {
  errors: [],
  contract: ['core', 'errors'],
  core: ['core', 'errors'],
  'stores/internal': ['contract', 'core', 'errors', 'stores/internal'],
  stores: ['contract', 'core', 'errors', 'stores/internal'],
  'adapters/internal': ['contract', 'core', 'errors', 'adapters/internal'],
  adapters: ['contract', 'core', 'errors', 'adapters/internal'],
  testing: ['contract', 'core', 'errors', 'stores', 'stores/internal', 'testing'],
  entry: ['contract', 'core', 'errors', 'stores'],
  migrate: ['contract', 'core', 'errors'],
};
/** White-box code that may import src/ internals: the tests in test/ (and every test file outside tooling). */
const whiteBox = (file) => file.startsWith('test/');
/** Folders whose every file, tests included, imports src/ through its public entries only. */
const tooling = new Set(['bench', 'reliability']);
/** The top-level folders that must not import each other in a circle. */
const acyclic = new Set(['test', 'bench', 'reliability', 'scripts', 'demo', 'tools']);

const publicEntries = new Set(
  Object.values(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).exports)
    .map((target) => (typeof target === 'object' ? target.default : undefined))
    .filter((target) => typeof target === 'string' && target.startsWith('./dist/'))
    .map((target) => `src/${target.slice('./dist/'.length).replace(/\.js$/, '.ts')}`),
);

function resolveImport(file, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const target = posix(relative(root, resolve(root, dirname(file), specifier)));
  return target.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mjs');
}

/** folder → folder → the first file-level import seen between them. */
const folderEdges = new Map();
function noteFolderEdge(file, target) {
  const [from] = file.split('/');
  const [to] = target.split('/');
  if (from === to || !acyclic.has(from) || !acyclic.has(to)) return;
  if (!folderEdges.has(from)) folderEdges.set(from, new Map());
  const out = folderEdges.get(from);
  if (!out.has(to)) out.set(to, `${file} → ${target}`);
}

/** Every cycle of folders, each as one of its edges per step (`a → b`, `b → a`). */
function folderCycles() {
  const reaches = (from, to, seen = new Set()) => {
    for (const next of folderEdges.get(from)?.keys() ?? []) {
      if (next === to) return true;
      if (!seen.has(next)) {
        seen.add(next);
        if (reaches(next, to, seen)) return true;
      }
    }
    return false;
  };
  const cycles = [];
  for (const [from, out] of folderEdges) {
    for (const [to, example] of out) {
      // Each edge that closes a circle, once per pair of folders in it.
      if (reaches(to, from)) cycles.push(`${from}/ → ${to}/ closes a folder cycle (e.g. ${example})`);
    }
  }
  return cycles;
}

const problems = [];
const edgesSeen = [];
for (const file of folders.flatMap((folder) => walk(folder, [])).map(posix)) {
  const text = readFileSync(join(root, file), 'utf8');
  const from = layerOf(file);
  for (const match of text.matchAll(importPattern)) {
    const target = resolveImport(file, match[1] ?? match[2] ?? match[3] ?? '');
    if (target === undefined) continue;
    noteFolderEdge(file, target);
    if (isTest(file) && !tooling.has(from.layer)) continue;
    const to = layerOf(target);
    const edge = `${file} → ${target}`;
    let problem;
    if (isTest(file)) {
      if (target.startsWith('src/') && !publicEntries.has(target))
        problem = 'tooling imports a src/ internal, not a public entry';
    } else if (from.layer in allowed) {
      if (
        to.layer === from.layer &&
        to.unit !== from.unit &&
        (to.layer === 'stores' || to.layer === 'adapters')
      ) {
        problem = `sibling import (a ${to.layer.slice(0, -1)} never imports another)`;
      } else if (to.layer !== from.layer && !allowed[from.layer].includes(to.layer)) {
        problem = `upward import (${from.layer} may import ${allowed[from.layer].join(', ') || 'nothing'})`;
      }
    } else if (target.startsWith('src/')) {
      if (!publicEntries.has(target) && !whiteBox(file))
        problem = 'tooling imports a src/ internal, not a public entry';
    } else if (to.layer === 'test' && from.layer !== 'test') {
      problem = `${from.layer}/ imports test/ (shared helpers live in tools/)`;
    } else if (from.layer === 'tools' && to.layer !== 'tools') {
      problem = 'tools/ imports another top-level folder';
    }
    if (problem === undefined) continue;
    edgesSeen.push(edge);
    if (knownUpward.has(edge) || knownInternal.has(edge)) continue;
    problems.push(`${edge}: ${problem}`);
  }
}
problems.push(...folderCycles());

const seen = new Set(edgesSeen);
for (const edge of knownUpward)
  if (!seen.has(edge)) problems.push(`${edge}: gone — remove it from knownUpward`);
for (const edge of knownInternal)
  if (!seen.has(edge)) problems.push(`${edge}: gone — remove it from knownInternal`);
if (problems.length > 0) {
  console.error(`check-layers: ${problems.length} import(s) break the layering:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
const known = knownUpward.size + knownInternal.size;
console.log(
  `check-layers: no upward, sibling or internal imports, no folder cycle${known ? ` (${known} known, listed in the script)` : ''}`,
);
