/**
 * The eviction experiment (`npm run experiment:eviction`): how many sessions a memory-starved
 * memcached loses, alone and as the cache of a tiered store in front of PostgreSQL.
 *
 * Starts its own memcached (`-m 4`, the brief's "small": memcached refuses less than 2 MB with its
 * 1 MB item limit) on a spare 127.0.0.1 port, writes 20,000 sessions of about 1 KB through each
 * store's API, reads every one back, and reports sessions lost and read latency. Writes the table
 * into docs/stores.md between the eviction markers. Bounded: aborts after 2 minutes.
 */
import { subscribe } from 'node:diagnostics_channel';
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Client } from 'memjs';
import pg from 'pg';
import type { SessionRecord, SessionStore } from '../src/index.js';
import { DIAGNOSTICS_CHANNEL } from '../src/index.js';
import { createMemcachedStore } from '../src/stores/memcached.js';
import { createPostgresStore } from '../src/stores/postgres.js';
import { createTieredStore } from '../src/stores/tiered.js';
import { randomKey, sampleRecord } from '../src/testing/index.js';
import { type MemcachedServer, services, startMemcached } from '../tools/services.js';

const SESSIONS = 20_000;
const MEMCACHED_MB = 4;
const WRITE_CONCURRENCY = 32;
const HOT_SESSIONS = 2_000;
const DEADLINE_MS = 120_000;
const DOC = new URL('../docs/stores.md', import.meta.url);
const START = '<!-- eviction:start -->';
const END = '<!-- eviction:end -->';

interface Row {
  store: string;
  read: number;
  lost: number;
  p50: number;
  p99: number;
  hitRatio?: number;
}

const clock = { now: () => Date.now() };
const cacheEvents = { hit: 0, miss: 0 };
subscribe(DIAGNOSTICS_CHANNEL, (event) => {
  if (typeof event !== 'object' || event === null || !('type' in event)) return;
  if (event.type === 'cache-hit') cacheEvents.hit++;
  if (event.type === 'cache-miss') cacheEvents.miss++;
});

/** A session of about 1 KB of JSON, shaped like a shop's: a cart, a profile and some padding. */
function session(i: number): SessionRecord {
  const cart = Array.from({ length: 5 }, (_, n) => ({ sku: `SKU-${i}-${n}`, qty: n + 1, price: 9.99 }));
  return sampleRecord(clock, {
    cart,
    profile: { name: `Visitor ${i}`, locale: 'en-GB', theme: 'dark' },
    history: 'p'.repeat(640),
  });
}

async function writeAll(store: SessionStore): Promise<string[]> {
  const keys = Array.from({ length: SESSIONS }, () => randomKey());
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < SESSIONS; i = next++) {
      const key = keys[i];
      if (key !== undefined) await store.set(key, session(i));
    }
  };
  await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
  return keys;
}

/** Reads every key back one at a time (so each latency is one request's, not a queue's). */
async function readAll(name: string, store: SessionStore, keys: string[]): Promise<Row> {
  const latencies: number[] = [];
  let lost = 0;
  cacheEvents.hit = 0;
  cacheEvents.miss = 0;
  for (const key of keys) {
    const started = performance.now();
    const record = await store.get(key);
    latencies.push(performance.now() - started);
    if (record === null) lost++;
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const lookups = cacheEvents.hit + cacheEvents.miss;
  const row: Row = { store: name, read: keys.length, lost, p50: at(0.5), p99: at(0.99) };
  if (lookups > 0) row.hitRatio = cacheEvents.hit / lookups;
  return row;
}

function table(rows: Row[], memcachedStats: string): string {
  const lines = [
    `${SESSIONS.toLocaleString('en-US')} sessions of about 1 KB each, written, then all read back once in the order written, on one machine over 127.0.0.1; memcached started with \`-m ${MEMCACHED_MB}\` (${memcachedStats}).`,
    '',
    '| store | sessions read | sessions lost | lost % | read p50 (ms) | read p99 (ms) | cache hit ratio |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (row) =>
        `| ${row.store} | ${row.read.toLocaleString('en-US')} | ${row.lost.toLocaleString('en-US')} | ${((100 * row.lost) / row.read).toFixed(1)} % | ${row.p50.toFixed(3)} | ${row.p99.toFixed(3)} | ${row.hitRatio === undefined ? '—' : `${(100 * row.hitRatio).toFixed(1)} %`} |`,
    ),
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with Node ${process.version}; run \`npm run experiment:eviction\` to reproduce.`,
  ];
  return lines.join('\n');
}

async function memcachedEvictions(port: number): Promise<string> {
  const client = Client.create(`127.0.0.1:${port}`, { logger: { log() {} } });
  const stats = await new Promise<Record<string, string>>((resolve, reject) => {
    client.stats((error, _server, values) => (error || !values ? reject(error) : resolve(values)));
  });
  client.close();
  return `${stats.curr_items ?? '?'} items held at the end, ${stats.evictions ?? '?'} evicted`;
}

async function writeDoc(text: string): Promise<void> {
  const doc = await readFile(DOC, 'utf8').catch(() => '# Stores\n');
  const block = `${START}\n${text}\n${END}`;
  const start = doc.indexOf(START);
  const end = doc.indexOf(END);
  const next =
    start >= 0 && end > start
      ? doc.slice(0, start) + block + doc.slice(end + END.length)
      : `${doc.trimEnd()}\n\n## The eviction experiment\n\n${block}\n`;
  await writeFile(DOC, next);
}

async function main(): Promise<void> {
  let memcached: MemcachedServer | undefined;
  const pool = new pg.Pool({ ...services.postgres, max: WRITE_CONCURRENCY });
  const pgTable = `sk_eviction_${process.pid}`;
  const deadline = setTimeout(() => {
    process.stderr.write(`eviction experiment: over ${DEADLINE_MS / 1000} s, aborting\n`);
    void memcached?.stop().finally(() => process.exit(1));
  }, DEADLINE_MS);
  try {
    memcached = await startMemcached({ memoryMb: MEMCACHED_MB });
    const client = Client.create(memcached.address, { logger: { log() {} } });
    const rows: Row[] = [];

    const alone = createMemcachedStore(client, { clock });
    process.stdout.write(`memcached (-m ${MEMCACHED_MB}) alone: writing ${SESSIONS} sessions…\n`);
    rows.push(await readAll(`memcached alone (\`-m ${MEMCACHED_MB}\`)`, alone, await writeAll(alone)));
    const stats = await memcachedEvictions(memcached.port);

    await memcached.restart();
    const durable = createPostgresStore(pool, { table: pgTable, clock });
    await durable.migrate();
    const tiered = createTieredStore({ cache: createMemcachedStore(client, { clock }), durable, clock });
    process.stdout.write('tiered memcached → PostgreSQL: writing…\n');
    const tieredKeys = await writeAll(tiered);
    rows.push(await readAll(`tiered: memcached (\`-m ${MEMCACHED_MB}\`) → PostgreSQL`, tiered, tieredKeys));
    // The full pass left the most recently read sessions in the cache: the hot set of a real site.
    const hot = tieredKeys.slice(-HOT_SESSIONS);
    rows.push(
      await readAll(`tiered, again: the ${HOT_SESSIONS.toLocaleString('en-US')} most recent`, tiered, hot),
    );
    process.stdout.write('PostgreSQL alone (same table, for the latency baseline): reading…\n');
    rows.push(await readAll('PostgreSQL alone (baseline)', durable, tieredKeys));
    client.close();

    const text = table(rows, stats);
    process.stdout.write(`\n${text}\n`);
    await writeDoc(text);
    process.stdout.write(`\nwritten to ${DOC.pathname}\n`);
    if (rows.slice(1).some((row) => row.lost !== 0)) {
      process.stderr.write('FAILED: the tiered store lost sessions\n');
      process.exitCode = 1;
    }
  } finally {
    clearTimeout(deadline);
    await pool.query(`DROP TABLE IF EXISTS "${pgTable}"`).catch(() => undefined);
    await pool.end();
    await memcached?.stop();
  }
}

await main();
