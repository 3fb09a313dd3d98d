import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { serviceSkip, services } from '../tools/services.js';

async function startApps(
  kind: string,
  name: string,
  count: number,
): Promise<{ ports: number[]; stop: () => Promise<void> }> {
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fixtures/shared-store-app.ts', kind, name],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    const [chunk] = await once(child.stdout ?? child, 'data');
    ports.push(Number(String(chunk).trim()));
  }
  return {
    ports,
    stop: async () => {
      await Promise.all(
        children.map((c) => {
          const exited = once(c, 'exit');
          c.kill('SIGTERM');
          return exited;
        }),
      );
    },
  };
}

/** Sends `rounds` requests round-robin across the apps, keeping the latest cookie like a browser. */
async function roundRobin(ports: number[], rounds: number) {
  let cookie = '';
  const cookies = new Set<string>();
  const seen: Array<{ pid: number; n: number; isNew: boolean }> = [];
  for (let i = 0; i < rounds; i++) {
    const port = ports[i % ports.length];
    const path = i % 2 === 0 ? '/write' : '/read';
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: { cookie, 'x-forwarded-proto': 'https' },
    });
    assert.equal(response.status, 200);
    const set = response.headers.getSetCookie().find((c) => c.startsWith('__Host-sid='));
    if (set) cookie = set.split(';')[0] ?? '';
    cookies.add(cookie);
    seen.push((await response.json()) as { pid: number; n: number; isNew: boolean });
    // Cross a rotation (2 s) midway, with requests still round-robin.
    if (i === rounds / 2) await new Promise((resolve) => setTimeout(resolve, 2200));
  }
  return { seen, tokens: cookies.size };
}

function assertContinuous({ seen, tokens }: Awaited<ReturnType<typeof roundRobin>>): void {
  assert.ok(tokens >= 2, 'the token rotated at least once');
  assert.equal(new Set(seen.map((s) => s.pid)).size, 3);
  seen.forEach((s, i) => {
    // Writes on even requests: the counter read on every process is the number of writes so far.
    assert.equal(s.n, Math.floor(i / 2) + 1, `request ${i} on pid ${s.pid}`);
    assert.equal(s.isNew, i === 0, `request ${i} on pid ${s.pid}`);
  });
}

describe('three app processes sharing one store', () => {
  it('continue one session on every process over Redis, across a token rotation', async (t) => {
    const skip = await serviceSkip('Redis', services.redis.port);
    if (skip) return t.skip(skip);
    const prefix = `sk-multi-${process.pid}:`;
    const apps = await startApps('redis', prefix, 3);
    try {
      assertContinuous(await roundRobin(apps.ports, 24));
    } finally {
      await apps.stop();
      const redis = new Redis(services.redis.port, services.redis.host);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  it('continue one session on every process over PostgreSQL, across a token rotation', async (t) => {
    const skip = await serviceSkip('PostgreSQL', services.postgres.port);
    if (skip) return t.skip(skip);
    const table = `sk_multi_${process.pid}`;
    const apps = await startApps('postgres', table, 3);
    try {
      assertContinuous(await roundRobin(apps.ports, 24));
    } finally {
      await apps.stop();
      const pool = new pg.Pool(services.postgres);
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await pool.end();
    }
  });
});
