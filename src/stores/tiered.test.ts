import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectEvents } from '../../test/fixtures/events.js';
import { postgresTable } from '../../test/fixtures/postgres-table.js';
import { testMemcachedClient } from '../../tools/memcached-server.js';
import { type MemcachedServer, serviceSkip, services, startMemcached } from '../../tools/services.js';
import { randomString } from '../core/crypto.js';
import type { SessionEvent } from '../core/diagnostics.js';
import {
  createFakeClock,
  describeStoreConformance,
  type FakeClock,
  randomKey,
  sampleMeta,
  sampleRecord,
} from '../testing/index.js';
import { createMemcachedStore } from './memcached.js';
import { createMemoryStore } from './memory.js';
import { createSqliteStore } from './sqlite.js';
import { createTieredStore } from './tiered.js';
import type { SessionRecord, SessionStore } from './types.js';

const postgresSkip = await serviceSkip('PostgreSQL', services.postgres.port, services.postgres.host);

describeStoreConformance('tiered memory→SQLite', async (clock) => {
  const cache = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
  const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
  return {
    // A short lease: every destroy waits it out (the lease itself is tested below).
    store: createTieredStore({ cache, durable, clock, cacheLeaseMs: 5 }),
    clock,
    cleanup: async () => {
      await cache.close();
      await durable.close();
    },
  };
});

const types = (events: SessionEvent[]) => events.map((event) => event.type);

/** A real store whose next `set` can be held at the door, to line up a race exactly. */
/**
 * A tiered store over a wrapped memory cache and an in-memory SQLite durable store, on a fake clock.
 * The memory cache stands in for a shared cache (Redis, Memcached): these tests are about tombstones.
 */
function overMemory<Cache extends { store: SessionStore }>(
  wrap: (inner: SessionStore) => Cache,
  options: { repairIntervalMs?: number; cacheTimeoutMs?: number } = {},
) {
  const clock = createFakeClock();
  const memory = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
  const cache = wrap(memory);
  const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
  const store = createTieredStore({ cache: cache.store, durable, clock, cacheScope: 'shared', ...options });
  return { clock, memory, cache, durable, store };
}

function gatedStore(inner: SessionStore) {
  let gate: { arrived: () => void; open: Promise<void> } | undefined;
  const store: SessionStore = {
    kind: inner.kind,
    get: (key) => inner.get(key),
    async set(key, record) {
      const held = gate;
      gate = undefined;
      if (held) {
        held.arrived();
        await held.open;
      }
      return inner.set(key, record);
    },
    patch: (key, patch) => inner.patch(key, patch),
    destroy: (key) => inner.destroy(key),
  };
  return {
    store,
    /** Holds the next `set`; `arrived` resolves when it is held; `release()` lets it through. */
    holdNextSet() {
      let release = () => {};
      const open = new Promise<void>((resolve) => {
        release = resolve;
      });
      const arrived = new Promise<void>((resolve) => {
        gate = { arrived: resolve, open };
      });
      return { arrived, release };
    },
  };
}

/** A real store whose operations can be made to reject (or never answer) on demand. */
function faultyStore(inner: SessionStore) {
  const faults = { set: false, setRecords: false, destroy: false, get: false, hang: false };
  const fail = (operation: string) => Promise.reject(new Error(`injected ${operation} failure`));
  const never = new Promise<never>(() => {});
  const store: SessionStore = {
    kind: inner.kind,
    get: (key) => (faults.hang ? never : faults.get ? fail('get') : inner.get(key)),
    set: (key, record) =>
      faults.set || (faults.setRecords && record.version !== Number.MAX_SAFE_INTEGER)
        ? fail('set')
        : inner.set(key, record),
    patch: (key, patch) => inner.patch(key, patch),
    destroy: (key) => (faults.destroy ? fail('destroy') : inner.destroy(key)),
  };
  return { store, faults };
}

/**
 * A real store whose writes can be held unanswered and applied later, in any order: a client that
 * resends a command after a failover (ioredis's Cluster client does) long after its caller gave up.
 */
function resendingStore(inner: SessionStore) {
  let holding = false;
  const held = new Map<string, () => Promise<void>>();
  const hold = <T>(name: string, run: () => Promise<T>): Promise<T> =>
    holding
      ? new Promise<T>((resolve, reject) => {
          held.set(name, () => run().then(resolve, reject));
        })
      : run();
  const store: SessionStore = {
    kind: inner.kind,
    get: (key) => inner.get(key),
    set: (key, record) =>
      hold(record.version === Number.MAX_SAFE_INTEGER ? 'tombstone' : `set v${record.version}`, () =>
        inner.set(key, record),
      ),
    patch: (key, patch) => inner.patch(key, patch),
    destroy: (key) => hold('destroy', () => inner.destroy(key)),
  };
  return {
    store,
    /** From now on writes are held (`true`) or run at once (`false`). */
    holdWrites(on: boolean) {
      holding = on;
    },
    held: () => [...held.keys()],
    /** Applies the held writes named, in this order. */
    async deliver(...names: string[]) {
      for (const name of names) {
        const apply = held.get(name);
        assert.ok(apply, `${name} is held`);
        held.delete(name);
        await apply();
      }
    },
  };
}

describe('createTieredStore', () => {
  it('serves a read from the cache and backfills a miss from the durable store', async () => {
    const clock = createFakeClock();
    const cache = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
    const store = createTieredStore({ cache, durable, clock });
    const key = randomKey();
    const record = sampleRecord(clock, { a: 1 });
    await durable.set(key, record);
    const events = await collectEvents(async () => {
      assert.deepEqual(await store.get(key), record);
      assert.deepEqual(await cache.get(key), record);
      assert.deepEqual(await store.get(key), record);
    });
    assert.deepEqual(types(events), ['cache-miss', 'cache-hit']);
    await durable.destroy(key);
    assert.deepEqual(await store.get(key), record, 'the second read came from the cache');
  });

  it('writes the durable store first and leaves the cache holding the new version', async () => {
    const clock = createFakeClock();
    const cache = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
    const store = createTieredStore({ cache, durable, clock });
    const key = randomKey();
    await store.set(key, sampleRecord(clock, { n: 1 }));
    const result = await store.patch(key, { set: { n: 2 }, delete: [], meta: sampleMeta(clock) });
    assert.equal(result.status, 'ok');
    const expected = { data: { n: 2 }, version: 2, meta: sampleMeta(clock) };
    assert.deepEqual(await durable.get(key), expected);
    assert.deepEqual(await cache.get(key), expected);
  });

  it('caches what the durable store holds when a set carries a lower version than it', async () => {
    const clock = createFakeClock();
    const cache = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
    const store = createTieredStore({ cache, durable, clock });
    const key = randomKey();
    const v5 = sampleRecord(clock, { which: 'v5' }, {}, 5);
    await store.set(key, v5);
    await cache.destroy(key);
    await store.set(key, sampleRecord(clock, { which: 'v3' }, {}, 3));
    assert.deepEqual(await store.get(key), v5);
  });

  it('rejects when the durable store fails, leaving the cache unchanged', async () => {
    const clock = createFakeClock();
    const cache = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    const sqlite = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
    const durable: SessionStore = {
      ...pick(sqlite),
      patch: () => Promise.reject(new Error('injected durable failure')),
    };
    const store = createTieredStore({ cache, durable, clock });
    const key = randomKey();
    const record = sampleRecord(clock, { n: 1 });
    await store.set(key, record);
    await assert.rejects(store.patch(key, { set: { n: 2 }, delete: [], meta: sampleMeta(clock) }), {
      message: 'injected durable failure',
    });
    assert.deepEqual(await store.get(key), record);
  });

  it('rejects invalid options with ERR_SESSION_CONFIG naming the option', () => {
    const clock = createFakeClock();
    const cache = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
    const memcached = createMemcachedStore(testMemcachedClient('127.0.0.1:1'));
    assert.throws(() => createTieredStore({ cache, durable: memcached }), { option: 'durable' });
    assert.throws(() => createTieredStore({ cache, durable: cache }), { option: 'cache' });
    assert.throws(() => createTieredStore({ cache, durable, cacheTimeoutMs: 0 }), {
      option: 'cacheTimeoutMs',
    });
    assert.throws(() => createTieredStore({ cache, durable, repairIntervalMs: Number.NaN }), {
      option: 'repairIntervalMs',
    });
    assert.throws(() => createTieredStore({ cache, durable, tombstoneSeconds: -1 }), {
      option: 'tombstoneSeconds',
    });
    // @ts-expect-error a JavaScript caller may pass anything
    assert.throws(() => createTieredStore({ cache, durable, cacheScope: 'global' }), {
      option: 'cacheScope',
    });
    assert.throws(() => createTieredStore({ cache, durable, cacheLeaseMs: -1 }), { option: 'cacheLeaseMs' });
  });

  // Two tiered stores, each with its own memory cache, over one durable store: two processes in one.
  describe('with a process-local cache, the entries are leases', () => {
    function twoProcesses(cacheLeaseMs: number) {
      const clock = createFakeClock();
      const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
      const [a, b] = [0, 1].map(() => {
        const cache = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
        return createTieredStore({ cache, durable, clock, cacheLeaseMs });
      });
      if (a === undefined || b === undefined) throw new Error('unreachable');
      return { clock, durable, a, b };
    }

    it('once a destroy in one process resolved, the other no longer serves its cached copy', async () => {
      const { clock, a, b } = twoProcesses(50);
      const key = randomKey();
      await a.set(key, sampleRecord(clock, { n: 1 }));
      assert.equal((await a.get(key))?.version, 1);
      await b.destroy(key);
      assert.equal(await a.get(key), null);
    });

    it('a login or rotation (a patch linking a successor) kills the old key in every process', async () => {
      const { clock, a, b } = twoProcesses(50);
      const [key, next] = [randomKey(), randomKey()];
      await a.set(key, sampleRecord(clock, { n: 1 }));
      assert.equal((await a.get(key))?.version, 1);
      const successor = { key: next, graceUntil: clock.now(), regenerated: true as const };
      const meta = sampleMeta(clock, { successor });
      assert.equal((await b.patch(key, { set: {}, delete: ['n'], meta, ifVersion: 1 })).status, 'ok');
      assert.deepEqual((await a.get(key))?.meta.successor, successor);
    });

    it('after its lease a cached entry is read again from the durable store', async () => {
      const { clock, a, b } = twoProcesses(20);
      const key = randomKey();
      await a.set(key, sampleRecord(clock, { n: 1 }));
      assert.equal((await a.get(key))?.version, 1);
      await b.patch(key, { set: { n: 2 }, delete: [], meta: sampleMeta(clock) });
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.deepEqual((await a.get(key))?.data, { n: 2 });
    });

    it('a shared cache scope keeps serving the cached copy (tombstones, no lease)', async () => {
      const clock = createFakeClock();
      const cache = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
      const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
      const store = createTieredStore({ cache, durable, clock, cacheScope: 'shared', cacheLeaseMs: 1 });
      const key = randomKey();
      await store.set(key, sampleRecord(clock, { n: 1 }));
      await durable.destroy(key);
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal((await store.get(key))?.version, 1, 'served from the cache');
    });
  });

  describe('once a write has returned, no later read returns an older version', () => {
    it('a backfill that read the old version before a patch cannot put it back in the cache', async () => {
      const { clock, memory, cache, durable, store } = overMemory(gatedStore);
      const key = randomKey();
      await durable.set(key, sampleRecord(clock, { n: 1 }));
      const backfill = cache.holdNextSet();
      const racingRead = store.get(key);
      await backfill.arrived;
      const written = await store.patch(key, { set: { n: 2 }, delete: [], meta: sampleMeta(clock) });
      assert.equal(written.status, 'ok');
      backfill.release();
      assert.equal((await racingRead)?.version, 1, 'the racing read started before the write');
      assert.equal((await store.get(key))?.version, 2);
      assert.equal((await memory.get(key))?.version, 2);
    });

    it('a backfill that read the session before destroy cannot resurrect it', async () => {
      const { clock, cache, durable, store } = overMemory(gatedStore);
      const key = randomKey();
      await durable.set(key, sampleRecord(clock, { n: 1 }));
      const backfill = cache.holdNextSet();
      const racingRead = store.get(key);
      await backfill.arrived;
      await store.destroy(key);
      backfill.release();
      assert.equal((await racingRead)?.version, 1);
      assert.equal(await store.get(key), null);
      assert.deepEqual(await store.patch(key, { set: {}, delete: [], meta: sampleMeta(clock) }), {
        status: 'missing',
      });
    });

    it('a cache that refuses the new version is blocked for that key instead of serving the old one', async () => {
      const { clock, memory, cache, store } = overMemory(faultyStore);
      const key = randomKey();
      await store.set(key, sampleRecord(clock, { n: 1 }));
      cache.faults.setRecords = true;
      const events = await collectEvents(async () => {
        await store.patch(key, { set: { n: 2 }, delete: [], meta: sampleMeta(clock) });
        assert.equal((await store.get(key))?.version, 2);
      });
      assert.deepEqual(types(events), ['cache-error', 'cache-miss']);
      cache.faults.setRecords = false;
      clock.advanceSeconds(61);
      assert.equal((await store.get(key))?.version, 2, 'after the tombstone expired: a backfill');
      assert.equal((await memory.get(key))?.version, 2);
    });

    it('a cache that refuses every write has the old version deleted', async () => {
      const { clock, memory, cache, store } = overMemory(faultyStore);
      const key = randomKey();
      await store.set(key, sampleRecord(clock, { n: 1 }));
      cache.faults.set = true;
      await store.patch(key, { set: { n: 2 }, delete: [], meta: sampleMeta(clock) });
      assert.equal(await memory.get(key), null);
      assert.equal((await store.get(key))?.version, 2);
    });
    it('cache writes given up on that land later, out of order, cannot bring back an older version', async () => {
      // A failover: the cache write of v2 and the tombstone and delete that follow it time out, and the
      // client delivers them seconds later in another order, after the cache took v3.
      const { clock, memory, cache, durable, store } = overMemory(resendingStore, {
        cacheTimeoutMs: 20,
        repairIntervalMs: 60_000,
      });
      try {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { n: 1 }));
        cache.holdWrites(true);
        await store.patch(key, { set: { n: 2 }, delete: [], meta: sampleMeta(clock) });
        assert.ok(cache.held().includes('set v2'));
        cache.holdWrites(false);
        await store.patch(key, { set: { n: 3 }, delete: [], meta: sampleMeta(clock) });
        assert.equal((await memory.get(key))?.version, 3, 'the cache took v3');
        // The worst order: the tombstone first, then the delete (if the store sent one), then v2.
        await cache.deliver(
          ...['tombstone', 'destroy', 'set v2'].filter((name) => cache.held().includes(name)),
        );
        assert.equal((await durable.get(key))?.version, 3);
        assert.equal((await store.get(key))?.version, 3, 'no read returns v2 after v3 was written');
        assert.equal((await store.get(key))?.version, 3);
      } finally {
        await store.close?.();
      }
    });
    it('a write whose cached copy can be neither updated nor removed is repaired once the cache answers', async () => {
      const { clock, memory, cache, durable, store } = overMemory(faultyStore, { repairIntervalMs: 5 });
      // Another process sharing both stores.
      const elsewhere = createTieredStore({ cache: memory, durable, clock, cacheScope: 'shared' });
      try {
        const key = randomKey();
        await store.set(key, sampleRecord(clock, { n: 1 }));
        cache.faults.set = true;
        cache.faults.destroy = true;
        await store.patch(key, { set: { n: 2 }, delete: [], meta: sampleMeta(clock) });
        assert.equal((await memory.get(key))?.version, 1, 'the cache still holds the old version');
        assert.equal((await store.get(key))?.version, 2, 'this process skips the stale copy');
        assert.equal((await elsewhere.get(key))?.version, 1, 'another process sees it until the repair');
        cache.faults.set = false;
        cache.faults.destroy = false;
        for (let waited = 0; (await memory.get(key))?.version !== Number.MAX_SAFE_INTEGER; waited++) {
          assert.ok(waited < 1000, 'the repair blocks the key within 1,000 turns');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        assert.equal((await elsewhere.get(key))?.version, 2);
        assert.equal((await store.get(key))?.version, 2);
      } finally {
        await store.close?.();
      }
    });
  });

  describe('with a failing cache', () => {
    it('answers from the durable store and publishes cache-error when a cache read fails', async () => {
      const clock = createFakeClock();
      const cache = faultyStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
      const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
      const store = createTieredStore({ cache: cache.store, durable, clock });
      const key = randomKey();
      const record = sampleRecord(clock, { a: 1 });
      await store.set(key, record);
      cache.faults.get = true;
      const events = await collectEvents(async () => {
        assert.deepEqual(await store.get(key), record);
      });
      assert.deepEqual(types(events), ['cache-error', 'cache-miss']);
      assert.deepEqual(events[0], {
        type: 'cache-error',
        store: 'tiered',
        reason: 'get',
        error: { message: 'injected get failure' },
        detail: { cache: 'memory', durable: 'sqlite' },
      });
    });

    it('gives up on a cache that does not answer within cacheTimeoutMs', async () => {
      const clock = createFakeClock();
      const cache = faultyStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
      const durable = createSqliteStore(':memory:', { clock, pruneIntervalSeconds: 0 });
      const store = createTieredStore({ cache: cache.store, durable, clock, cacheTimeoutMs: 20 });
      const key = randomKey();
      const record = sampleRecord(clock, { a: 1 });
      await store.set(key, record);
      cache.faults.hang = true;
      const events = await collectEvents(async () => {
        assert.deepEqual(await store.get(key), record);
      });
      assert.equal(events[0]?.type, 'cache-error');
      assert.match(events[0]?.error?.message ?? '', /timed out/);
    });
  });
});

describe('createTieredStore with memcached as the cache', { skip: postgresSkip }, () => {
  let memcached: MemcachedServer;
  before(async () => {
    memcached = await startMemcached({ memoryMb: 16 });
  });
  after(() => memcached.stop());

  async function setup() {
    const clock = createFakeClock();
    const client = testMemcachedClient(memcached.address);
    const durable = postgresTable(clock);
    const cache = createMemcachedStore(client, { clock, keyPrefix: `sk-test:${randomString(6)}:` });
    const store = createTieredStore({ cache, durable: durable.store, clock });
    return {
      clock,
      client,
      cache,
      store,
      cleanup: async () => {
        client.close();
        await durable.drop();
      },
    };
  }

  async function writeSessions(store: SessionStore, clock: FakeClock, count: number) {
    const written = new Map<string, SessionRecord>();
    for (let i = 0; i < count; i++) {
      const key = randomKey();
      await store.set(key, sampleRecord(clock, { i }));
      const result = await store.patch(key, { set: { cart: [i] }, delete: [], meta: sampleMeta(clock) });
      assert.equal(result.status, 'ok');
      if (result.status === 'ok') written.set(key, result.record);
    }
    return written;
  }

  it('loses no session when the cache is flushed', async () => {
    const h = await setup();
    try {
      const written = await writeSessions(h.store, h.clock, 200);
      await h.client.memjs.flush();
      assert.equal(await h.cache.get([...written.keys()][0] ?? ''), null, 'the cache is empty');
      for (const [key, record] of written) assert.deepEqual(await h.store.get(key), record);
      for (const [key, record] of written) assert.deepEqual(await h.cache.get(key), record, 'backfilled');
    } finally {
      await h.cleanup();
    }
  });

  it('keeps reading and writing through the durable store while memcached is down, then recovers', async () => {
    const h = await setup();
    try {
      const written = await writeSessions(h.store, h.clock, 20);
      await memcached.stop();
      const events = await collectEvents(async () => {
        for (const [key, record] of written) assert.deepEqual(await h.store.get(key), record);
        const more = await writeSessions(h.store, h.clock, 5);
        for (const [key, record] of more) written.set(key, record);
        for (const [key] of written) {
          const result = await h.store.patch(key, {
            set: { down: true },
            delete: [],
            meta: sampleMeta(h.clock),
          });
          assert.equal(result.status, 'ok');
          if (result.status === 'ok') written.set(key, result.record);
        }
        const [gone] = written.keys();
        assert.ok(gone);
        await h.store.destroy(gone);
        written.delete(gone);
        assert.equal(await h.store.get(gone), null);
      });
      assert.ok(types(events).includes('cache-error'));
      assert.ok(types(events).every((type) => type === 'cache-error' || type === 'cache-miss'));
      await memcached.restart();
      for (const [key, record] of written) assert.deepEqual(await h.store.get(key), record);
    } finally {
      await h.cleanup();
    }
  });

  it('keeps working against a memcached that was never reachable', async () => {
    const clock = createFakeClock();
    const client = testMemcachedClient('127.0.0.1:1');
    const durable = postgresTable(clock);
    try {
      const store = createTieredStore({
        cache: createMemcachedStore(client, { clock }),
        durable: durable.store,
        clock,
      });
      const key = randomKey();
      const events = await collectEvents(async () => {
        await store.set(key, sampleRecord(clock, { a: 1 }));
        assert.equal(
          (await store.patch(key, { set: { b: 2 }, delete: [], meta: sampleMeta(clock) })).status,
          'ok',
        );
        assert.deepEqual((await store.get(key))?.data, { a: 1, b: 2 });
      });
      assert.ok(types(events).filter((type) => type === 'cache-error').length >= 3);
    } finally {
      client.close();
      await durable.drop();
    }
  });
});

/** The four contract methods of a store, as an object that spreads cleanly. */
function pick(store: SessionStore): SessionStore {
  return {
    kind: store.kind,
    get: (key) => store.get(key),
    set: (key, record) => store.set(key, record),
    patch: (key, patch) => store.patch(key, patch),
    destroy: (key) => store.destroy(key),
  };
}
