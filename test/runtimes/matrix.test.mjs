// The runtime matrix: the matrix app (app.mjs, sessionkit by package name) served by each runtime's
// own server — Node 20 (this process's node) and 22, Bun, Deno, workerd — with the memory store,
// cookie-only sessions and (Bun, Deno, Node) Redis through ioredis, checked through real HTTP.
// Run by run.sh after `npm ci` here; under CI=true a missing runtime or Redis is a failure.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const BIN = join(HERE, 'node_modules/.bin');
const IN_CI = process.env.CI === 'true';
const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379);
// miniflare's bundled workerd refuses a compatibility date newer than its own build.
const COMPATIBILITY_DATE = '2026-04-01';

const runtimes = [
  { name: `Node ${process.versions.node}`, command: [process.execPath, 'serve.mjs'], redis: true },
  { name: 'Node 22', command: [join(BIN, 'node'), 'serve.mjs'], redis: true },
  { name: 'Bun', command: [join(BIN, 'bun'), 'serve.mjs'], redis: true },
  { name: 'Deno', command: [join(BIN, 'deno'), 'run', '-A', 'serve.mjs'], redis: true },
  { name: 'workerd', workerd: true, redis: false },
];

function skipUnless(ok, what) {
  if (ok) return false;
  if (IN_CI) throw new Error(`${what} is missing — CI=true requires it (test/runtimes/run.sh installs it)`);
  return `${what} is missing`;
}

const redisUp = await new Promise((resolve) => {
  const socket = createConnection(REDIS_PORT, '127.0.0.1');
  socket.once('connect', () => resolve(socket.end() && true));
  socket.once('error', () => resolve(false));
});

/** Starts `command` with `env`, resolves to its base URL once it prints "listening <port>". */
function spawnServer(command, env) {
  const [file, ...args] = command;
  const child = spawn(file, args, {
    cwd: HERE,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no "listening" line within 20 s:\n${output}`)), 20_000);
    const fail = (error) => {
      clearTimeout(timer);
      child.kill();
      reject(error);
    };
    child.stderr.on('data', (chunk) => (output += chunk));
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const port = /listening (\d+)/.exec(output)?.[1];
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({ url: `http://127.0.0.1:${port}`, close: async () => void child.kill() });
    });
    child.once('exit', (code) => fail(new Error(`exited with ${code}:\n${output}`)));
  });
}

/** Bundles worker.mjs with esbuild and runs it in workerd (miniflare) with the STORE binding. */
async function startWorker(store) {
  const [{ build }, { Miniflare }] = await Promise.all([import('esbuild'), import('miniflare')]);
  const bundle = await build({
    entryPoints: [join(HERE, 'worker.mjs')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'import'],
    mainFields: ['module', 'main'],
    external: ['node:*'],
    logLevel: 'error',
  });
  const mf = new Miniflare({
    modules: true,
    script: bundle.outputFiles[0].text,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: ['nodejs_compat'],
    bindings: { STORE: store },
    host: '127.0.0.1',
    port: 0,
  });
  try {
    return { url: (await mf.ready).origin, close: () => mf.dispose() };
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw error;
  }
}

for (const runtime of runtimes) {
  const installed = runtime.workerd ? existsSync(join(BIN, 'workerd')) : existsSync(runtime.command[0]);
  for (const store of ['memory', 'cookie', 'redis']) {
    if (store === 'redis' && !runtime.redis) continue;
    const skip =
      skipUnless(installed, `${runtime.name} (test/runtimes/node_modules)`) ||
      (store === 'redis' && skipUnless(redisUp, `Redis on 127.0.0.1:${REDIS_PORT}`));
    describe(`${runtime.name} · ${store}`, { skip, timeout: 60_000 }, () => checks(runtime, store));
  }
}

function checks(runtime, store) {
  let server;
  const prefix = `sessionkit-matrix:${process.pid}:${Math.random().toString(36).slice(2)}:`;
  // A runtime that cannot start (workerd refusing a compatibility date) fails here, never hangs.
  before(
    async () => {
      server = runtime.workerd
        ? await startWorker(store)
        : await spawnServer(runtime.command, {
            STORE: store,
            REDIS_PORT: String(REDIS_PORT),
            KEY_PREFIX: prefix,
          });
    },
    { timeout: 30_000 },
  );
  after(() => server?.close());

  async function get(path, cookie) {
    const headers = { 'x-forwarded-proto': 'https' };
    if (cookie !== undefined) headers.cookie = cookie;
    const response = await fetch(server.url + path, { headers });
    const body = await response.json();
    const set = response.headers.getSetCookie().filter((c) => c.startsWith('__Host-sid'));
    return { status: response.status, body, set, cacheControl: response.headers.get('cache-control') };
  }
  const pairOf = (setCookie) => setCookie.split(';', 1)[0];
  const stored = store !== 'cookie';

  it('creates a session: one __Host- cookie, Secure, HttpOnly, SameSite=Lax, Cache-Control: no-store', async () => {
    const reply = await get('/count');
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, { count: 1, n: null, isNew: true, store: stored ? store : 'cookie' });
    assert.equal(reply.set.length, 1);
    assert.match(reply.set[0], /^__Host-sid=[A-Za-z0-9_.-]+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    assert.equal(reply.cacheControl, 'no-store');
  });

  it('finds the session again, and a tampered cookie gets a fresh one', async () => {
    const cookie = pairOf((await get('/count')).set[0]);
    const again = await get('/count', cookie);
    assert.deepEqual([again.body.count, again.body.isNew], [2, false]);
    assert.equal(again.set.length, stored ? 0 : 1, 'a stored session sends no cookie for a data change');
    const value = cookie.slice(cookie.indexOf('=') + 1);
    const tampered = `__Host-sid=${value.startsWith('A') ? 'B' : 'A'}${value.slice(1)}`;
    assert.deepEqual((await get('/read', tampered)).body.isNew, true);
  });

  it('regenerates: a new cookie carries the data', async () => {
    const cookie = pairOf((await get('/count')).set[0]);
    const reply = await get('/regenerate', cookie);
    const renewed = pairOf(reply.set[0]);
    assert.notEqual(renewed, cookie);
    assert.equal((await get('/read', renewed)).body.count, 1);
    // A stored session's old token dies; a sealed copy cannot be recalled (documented).
    if (stored) assert.equal((await get('/read', cookie)).body.isNew, true);
  });

  it('destroys: the cookie is cleared', async () => {
    const cookie = pairOf((await get('/count')).set[0]);
    const reply = await get('/destroy', cookie);
    assert.match(reply.set[0], /^__Host-sid=;.*Max-Age=0/);
    if (stored) assert.equal((await get('/read', cookie)).body.isNew, true);
  });

  it('ends update() from 20 parallel requests at exactly 20', {
    skip: stored ? false : 'a sealed cookie has no shared state',
  }, async () => {
    const cookie = pairOf((await get('/count')).set[0]);
    const replies = await Promise.all(Array.from({ length: 20 }, () => get('/increment', cookie)));
    assert.deepEqual(
      replies.map((r) => r.body.n).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal((await get('/read', cookie)).body.n, 20);
  });
}
