/**
 * SEC-27 and SEC-48 against a real Redis: expired sessions are purged, and a store outage is answered
 * the configured way and recovered from without restarting the app. The outage is a TCP proxy in
 * front of the shared Redis being cut; the shared server itself is never stopped or reconfigured.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { randomString, tokenKey } from '../../src/core/crypto.js';
import { createSessionManager, type SessionManagerOptions, type SessionStore } from '../../src/index.js';
import { createRedisStore } from '../../src/stores/redis.js';
import { createFakeClock } from '../../src/testing/index.js';
import { serviceSkip, services } from '../../tools/services.js';
import {
  type AppData,
  appHandler,
  type Browser,
  cookiesNamed,
  json,
  SESSION_COOKIE,
  serve,
} from './harness.js';

const skip = await serviceSkip('Redis', services.redis.port, services.redis.host);

/** Deletes every key under `prefix`. */
async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}

describe('expired sessions in Redis (SEC-27)', { skip }, () => {
  let client: Redis;
  const keyPrefix = `sk-sec27:${randomString(6)}:`;
  before(() => {
    client = new Redis(services.redis);
  });
  after(async () => {
    await dropPrefix(client, keyPrefix);
    await client.quit();
  });

  it('SEC-27: gives every write a TTL of at most the idle or absolute time left, and deletes a session the moment it is found expired', async () => {
    const clock = createFakeClock();
    const redisStore = createRedisStore(client, { keyPrefix, clock, checkEvictionPolicy: false });
    // The manager deletes an expired record without making the request wait; the test waits for it.
    const cleanups: Promise<unknown>[] = [];
    const store: SessionStore = {
      ...redisStore,
      destroy: (key) => {
        const done = redisStore.destroy(key);
        cleanups.push(done);
        return done;
      },
    };
    const manager = createSessionManager<AppData>({
      store,
      clock,
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 3600,
      rotateAfterSeconds: 0,
    });
    const start = clock.now();
    const at = (seconds: number) => clock.set(start + seconds * 1000);
    const pttlOf = (token: string) => client.pttl(`${keyPrefix}s:${tokenKey(token)}`);
    const create = async () => {
      const session = await manager.load(undefined);
      session.set('n', 1);
      const line = (await manager.commit(session))[0] ?? '';
      return line.slice(SESSION_COOKIE.length + 1, line.indexOf(';'));
    };
    const visit = async (token: string) => {
      const session = await manager.load(`${SESSION_COOKIE}=${token}`);
      await manager.commit(session);
      await Promise.all(cleanups);
      return session;
    };

    const token = await create();
    const idleToken = await create();
    assert.ok((await pttlOf(token)) > 0 && (await pttlOf(token)) <= 1800_000);
    at(1700);
    assert.equal((await visit(token)).isNew, false);
    const afterTouch = await pttlOf(token);
    assert.ok(afterTouch > 1700_000 && afterTouch <= 1800_000, `after a touch: ${afterTouch} ms`);
    at(3000);
    assert.equal((await visit(token)).isNew, false);
    const nearTheEnd = await pttlOf(token);
    assert.ok(
      nearTheEnd > 0 && nearTheEnd <= 600_000,
      `600 s of absolute lifetime left, TTL ${nearTheEnd} ms`,
    );

    // Redis counts TTLs in real time, so it still holds both records; the core deletes them on sight.
    assert.ok((await pttlOf(idleToken)) > 0);
    assert.equal((await visit(idleToken)).isNew, true);
    assert.equal(await pttlOf(idleToken), -2);
    at(3600);
    assert.ok((await pttlOf(token)) > 0);
    assert.equal((await visit(token)).isNew, true);
    assert.equal(await pttlOf(token), -2);
  });
});

/** A TCP proxy to the shared Redis that a test can cut (dropping every connection) and restore on the same port. */
interface CuttableProxy {
  readonly port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
}

/** Resolves on `event`; unlike `events.once`, the connection errors of a reconnecting client do not reject it. */
function when(client: Redis, event: 'ready' | 'close'): Promise<void> {
  return new Promise((resolve) => client.once(event, () => resolve()));
}

async function cuttableProxy(): Promise<CuttableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const next = createServer((downstream) => {
        const upstream = connect(services.redis.port, services.redis.host);
        const drop = () => {
          downstream.destroy();
          upstream.destroy();
          sockets.delete(downstream);
          sockets.delete(upstream);
        };
        for (const socket of [downstream, upstream]) {
          sockets.add(socket);
          socket.on('error', drop);
          socket.on('close', drop);
        }
        downstream.pipe(upstream);
        upstream.pipe(downstream);
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        server = next;
        const address = next.address();
        resolve(typeof address === 'object' && address !== null ? address.port : 0);
      });
    });
  const port = await listen(0);
  return {
    port,
    async cut() {
      const current = server;
      server = undefined;
      if (current === undefined) return;
      const closed = once(current, 'close');
      current.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      await listen(port);
    },
  };
}

describe('a Redis outage (SEC-48)', { skip }, () => {
  const keyPrefix = `sk-sec48:${randomString(6)}:`;
  after(async () => {
    const cleanup = new Redis(services.redis);
    await dropPrefix(cleanup, keyPrefix);
    await cleanup.quit();
  });

  /** Serves the test app over a Redis reached through a proxy; `outage` runs while the proxy is cut. */
  async function throughOutage(
    options: Partial<SessionManagerOptions>,
    outage: (user: Browser) => Promise<void>,
  ): Promise<void> {
    const proxy = await cuttableProxy();
    const client = new Redis({
      host: '127.0.0.1',
      port: proxy.port,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 20,
    });
    client.on('error', () => {});
    await when(client, 'ready');
    const clock = createFakeClock();
    const store = createRedisStore(client, { keyPrefix, clock, checkEvictionPolicy: false });
    const manager = createSessionManager<AppData>({ store, clock, trustProxy: true, ...options });
    const app = await serve(manager, appHandler);
    try {
      const user = app.browser();
      await user.request('/count');
      const token = user.cookie();
      assert.ok(token);
      const disconnected = when(client, 'close');
      await proxy.cut();
      await disconnected;
      await outage(user);
      assert.equal(user.cookie(), token, 'the outage cost the user their cookie');
      const reconnected = when(client, 'ready');
      await proxy.restore();
      await reconnected;
      assert.deepEqual(json(await user.request('/read')).data, { n: 1 }, 'no recovery after the outage');
      assert.deepEqual(json(await user.request('/count')).data, { n: 2 });
    } finally {
      await app.close();
      client.disconnect();
      await proxy.cut();
    }
  }

  it('SEC-48: by default answers 503 without Set-Cookie while Redis is unreachable, then serves the session again once it is back', async () => {
    await throughOutage({}, async (user) => {
      const read = await user.request('/read');
      assert.equal(read.status, 503);
      assert.deepEqual(read.setCookies, []);
      assert.equal((await user.request('/count')).status, 503);
    });
  });

  it('SEC-48: with onStoreError "anonymous" serves an anonymous session that leaves the cookie alone, then the session again', async () => {
    await throughOutage({ onStoreError: 'anonymous' }, async (user) => {
      const read = await user.request('/read');
      assert.equal(read.status, 200);
      assert.equal(json(read).isNew, true);
      assert.deepEqual(cookiesNamed(read), []);
    });
  });
});
