#!/usr/bin/env node
// The package as a new user meets it: packs the tarball (`prepack` builds dist/), checks what it
// ships (LICENSE, dist, source maps with their sources, no tests), installs it with the drivers into
// a temporary app OUTSIDE the repository, then takes every TypeScript block of README.md, type-checks
// each one alone against the installed package, and runs each one that is a program (it listens):
// `POST /cart` then `GET /cart` through a cookie jar, and the second must see the first one's write.
// Usage: node scripts/pack-smoke.mjs [--keep]   (--keep leaves the temporary app for inspection)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = realpathSync(join(import.meta.dirname, '..'));
const keep = process.argv.includes('--keep');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const started = Date.now();
const log = (message) =>
  console.log(`pack-smoke [${((Date.now() - started) / 1000).toFixed(0)}s] ${message}`);

/** The version the repository's own tests ran against (installed by `npm ci`). */
function installed(name) {
  assert.ok(pkg.devDependencies[name], `${name} is not a dev dependency`);
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
  return `${name}@${version}`;
}

/**
 * better-sqlite3 downloads a prebuilt binary or compiles for minutes. The app installs it from the
 * registry like any app, but finds the binary `npm ci` already built for this Node.js here, as a
 * local prebuild (prebuild-install's `<package>_local_prebuilds`); without it, it compiles.
 */
function localPrebuilds(dir) {
  const module = join(ROOT, 'node_modules/better-sqlite3');
  const { version } = JSON.parse(readFileSync(join(module, 'package.json'), 'utf8'));
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  execFileSync('mkdir', ['-p', dir]);
  execFileSync('tar', ['-czf', join(dir, name), '-C', module, 'build/Release/better_sqlite3.node']);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}
const DRIVERS = ['better-sqlite3', 'express', 'fastify', 'koa', 'hono', '@hono/node-server'];
const TOOLS = ['tsx', 'typescript', '@types/node', '@types/express', '@types/koa'];

function npm(args, cwd, env = {}) {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** The ```ts blocks of README.md, in order. */
function readmeBlocks() {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

function sparePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A minimal cookie jar: what a browser on http://localhost keeps (it keeps `Secure` cookies there). */
function cookieJar() {
  const jar = new Map();
  return {
    header: () => [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
    take(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair, ...attributes] = line.split(';');
        const name = pair.slice(0, pair.indexOf('=')).trim();
        const value = pair.slice(pair.indexOf('=') + 1).trim();
        if (attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a))) jar.delete(name);
        else jar.set(name, value);
      }
    },
    size: () => jar.size,
  };
}

async function waitForServer(url, child, output) {
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`the example exited with ${child.exitCode}:\n${output()}`);
    try {
      await fetch(url, { method: 'HEAD' });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`the example did not answer on ${url} within 30 s:\n${output()}`);
}

/** Runs one README program and drives it with two requests through a cookie jar. */
async function runProgram(app, file) {
  const port = await sparePort();
  const child = spawn(join(app, 'node_modules/.bin/tsx'), [file], {
    cwd: app,
    env: { ...process.env, PORT: String(port), SESSION_SECRET: randomBytes(32).toString('base64') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.on('data', (chunk) => (text += chunk));
  child.stderr.on('data', (chunk) => (text += chunk));
  const base = `http://localhost:${port}`;
  try {
    await waitForServer(`${base}/cart`, child, () => text);
    const jar = cookieJar();
    const write = await fetch(`${base}/cart`, { method: 'POST', redirect: 'manual' });
    assert.equal(write.status, 200, `${file}: POST /cart answered ${write.status}: ${await write.text()}`);
    jar.take(write);
    assert.ok(jar.size() > 0, `${file}: POST /cart set no cookie (output: ${text})`);
    const read = await fetch(`${base}/cart`, { headers: { cookie: jar.header() }, redirect: 'manual' });
    assert.equal(read.status, 200, `${file}: GET /cart answered ${read.status}`);
    assert.deepEqual(await read.json(), [{ sku: 'tea', qty: 1 }], `${file}: GET /cart did not see the write`);
    assert.match(text, new RegExp(`http://localhost:${port}/cart`), `${file}: printed no URL`);
    assert.doesNotMatch(text, /SESSIONKIT_|Error/, `${file}: unexpected output:\n${text}`);
  } finally {
    child.kill('SIGTERM');
  }
}

function checkTarball(files) {
  assert.ok(files.includes('LICENSE'), 'the package has no LICENSE');
  assert.ok(files.includes('dist/index.js'), 'the package has no dist/index.js (did prepack build?)');
  const tests = files.filter((f) => /\.test(-d)?\.|\/testing\/fixtures\//.test(f));
  assert.deepEqual(tests, [], 'the package ships test files');
  assert.deepEqual(
    files.filter((f) => f.endsWith('.d.ts.map')),
    [],
    'declaration maps point at src/, which is not shipped',
  );
}

/** Every source map in the installed package carries the sources it points at. */
function checkSourceMaps(dir) {
  let maps = 0;
  for (const entry of readdirSync(dir, { recursive: true })) {
    if (!entry.endsWith('.js.map')) continue;
    const map = JSON.parse(readFileSync(join(dir, entry), 'utf8'));
    assert.equal(map.sourcesContent?.length, map.sources.length, `${entry} does not embed its sources`);
    assert.ok(
      map.sourcesContent.every((s) => typeof s === 'string' && s.length > 0),
      `${entry} has an empty source`,
    );
    maps++;
  }
  assert.ok(maps > 0, 'no source maps found');
  return maps;
}

const work = mkdtempSync(join(tmpdir(), 'sessionkit-smoke-'));
const app = join(work, 'app');
assert.ok(relative(ROOT, work).startsWith('..'), 'the temporary app must be outside the repository');
try {
  log('npm pack (prepack builds dist/)');
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', work], ROOT));
  const tarball = join(work, packed.filename);
  checkTarball(packed.files.map((f) => f.path));
  log(`${packed.filename}: ${packed.files.length} files, ${packed.size} bytes`);

  execFileSync('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'smoke-app', private: true, type: 'module' }),
  );
  log(`installing the tarball, ${DRIVERS.join(', ')} and ${TOOLS.join(', ')} into ${app}`);
  const prebuilds = localPrebuilds(join(work, 'prebuilds'));
  npm(
    ['install', '--no-audit', '--no-fund', tarball, ...[...DRIVERS, ...TOOLS].map(installed)],
    app,
    prebuilds,
  );
  log(`${checkSourceMaps(join(app, 'node_modules/sessionkit/dist'))} source maps embed their sources`);

  const blocks = readmeBlocks();
  const programs = [];
  for (const [index, code] of blocks.entries()) {
    const file = `readme-${index + 1}.ts`;
    writeFileSync(join(app, file), code);
    // Each block alone, as pasted: a type error or a missing export fails here.
    execFileSync(
      join(app, 'node_modules/.bin/tsc'),
      [
        '--noEmit',
        '--strict',
        '--target',
        'ES2022',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--types',
        'node',
        '--skipLibCheck',
        file,
      ],
      { cwd: app, stdio: 'inherit' },
    );
    if (/\.listen\(|\bserve\(/.test(code)) programs.push(file);
  }
  log(`${blocks.length} README blocks type-check against the package; ${programs.length} are programs`);
  assert.ok(programs.length >= 6, `expected the six framework programs, found ${programs.length}`);
  for (const file of programs) {
    await runProgram(app, file);
    log(`${file}: POST /cart then GET /cart through a cookie jar: the read sees the write`);
  }
  log('passed');
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
