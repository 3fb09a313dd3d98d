#!/usr/bin/env node
// Checks that package.json `exports` lists exactly the public entry files present under src/, and that every
// export's targets exist in dist/ (so run it after `npm run build`). src/core/ is internal and never exported.
// Usage: node scripts/check-exports.mjs            check (exit 1 listing every difference)
//        node scripts/check-exports.mjs --print    print the expected `exports` map as JSON
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const isTestFile = (name) => /\.test(-d)?\.ts$/.test(name);

/** Source files (relative to src/, without `.ts`) of one folder that are public entries. */
function entryFiles(folder, exclude = []) {
  const dir = join(root, 'src', folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !isTestFile(e.name))
    .map((e) => e.name.slice(0, -'.ts'.length))
    .filter((name) => !exclude.includes(name))
    .sort()
    .map((name) => `${folder}/${name}`);
}

/** Public subpath → source module (relative to src/, without `.ts`), computed from the files present. */
function expectedEntries() {
  const entries = [];
  const single = (subpath, source) => {
    if (existsSync(join(root, 'src', `${source}.ts`))) entries.push([subpath, source]);
  };
  single('.', 'index');
  single('./cookie-session', 'cookie-session');
  for (const source of entryFiles('stores', ['types'])) entries.push([`./${source}`, source]);
  // Migrations from other session libraries: `sessionkit/migrate/express-session`.
  for (const source of entryFiles('migrate')) entries.push([`./${source}`, source]);
  // Adapters are exported at the top level: `sessionkit/express`, not `sessionkit/adapters/express`.
  for (const source of entryFiles('adapters'))
    entries.push([`./${source.slice('adapters/'.length)}`, source]);
  single('./testing', 'testing/index');
  return entries;
}

function expectedExports() {
  const map = {};
  for (const [subpath, source] of expectedEntries()) {
    map[subpath] = { types: `./dist/${source}.d.ts`, default: `./dist/${source}.js` };
  }
  map['./package.json'] = './package.json';
  return map;
}

function compare(actual, expected) {
  const problems = [];
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
    return ['package.json has no `exports` object'];
  }
  for (const key of Object.keys(expected)) {
    if (!(key in actual))
      problems.push(`missing export "${key}" (expected ${JSON.stringify(expected[key])})`);
  }
  for (const key of Object.keys(actual)) {
    if (!(key in expected)) {
      problems.push(
        `unexpected export "${key}": no matching public source file (src/core is never exported)`,
      );
      continue;
    }
    // Key order matters for conditions: "types" must come first or TypeScript never sees it.
    if (JSON.stringify(actual[key]) !== JSON.stringify(expected[key])) {
      problems.push(
        `export "${key}" is ${JSON.stringify(actual[key])}, expected ${JSON.stringify(expected[key])}`,
      );
    }
  }
  return problems;
}

function missingTargets(exportsMap) {
  const problems = [];
  for (const [key, value] of Object.entries(exportsMap)) {
    const targets = typeof value === 'string' ? [value] : Object.values(value ?? {});
    for (const target of targets) {
      if (typeof target !== 'string' || !existsSync(join(root, target))) {
        problems.push(
          `export "${key}" points to ${JSON.stringify(target)}, which does not exist (run the build)`,
        );
      }
    }
  }
  return problems;
}

function checkFallbackFields(pkg, expected) {
  const rootEntry = expected['.'];
  if (rootEntry === undefined) return [];
  const problems = [];
  if (pkg.main !== rootEntry.default) problems.push(`"main" should be "${rootEntry.default}"`);
  if (pkg.types !== rootEntry.types) problems.push(`"types" should be "${rootEntry.types}"`);
  return problems;
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const expected = expectedExports();

if (process.argv.includes('--print')) {
  process.stdout.write(`${JSON.stringify(expected, null, 2)}\n`);
  process.exit(0);
}

const problems = [
  ...compare(pkg.exports, expected),
  ...checkFallbackFields(pkg, expected),
  ...missingTargets(pkg.exports ?? {}),
];
if (problems.length > 0) {
  console.error(`check-exports: ${problems.length} problem(s):`);
  for (const p of problems) console.error(`  - ${p}`);
  console.error(
    '\nTo write the expected map: flock /tmp/npm.lock npm pkg set --json exports="$(node scripts/check-exports.mjs --print)"',
  );
  process.exit(1);
}
console.log(`check-exports: ${Object.keys(expected).length} exports match src/ and exist in dist/`);
