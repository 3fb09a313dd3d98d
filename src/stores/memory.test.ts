import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFakeClock } from '../testing/fake-clock.js';
import { randomKey, randomUserId, sampleMeta, sampleRecord } from '../testing/records.js';
import { describeStoreConformance } from '../testing/store-conformance.js';
import { createMemoryStore } from './memory.js';

describeStoreConformance('memory', async (clock) => {
  const store = createMemoryStore({ clock });
  return { store, clock, cleanup: () => store.close() };
});

describe('createMemoryStore', () => {
  it('evicts the least recently used entry when maxEntries is reached; a read counts as use', async () => {
    const clock = createFakeClock();
    const store = createMemoryStore({ clock, maxEntries: 3, sweepIntervalSeconds: 0 });
    const [a, b, c, d, e] = [randomKey(), randomKey(), randomKey(), randomKey(), randomKey()];
    for (const key of [a, b, c]) await store.set(key, sampleRecord(clock, { key }));
    assert.ok(await store.get(a));
    await store.set(d, sampleRecord(clock, { key: d }));
    assert.equal(store.size, 3);
    assert.equal(await store.get(b), null, 'b was the least recently used');
    assert.ok(await store.get(a));
    assert.ok(await store.get(c));
    assert.ok(await store.get(d));
    await store.patch(a, { set: { touched: true }, delete: [], meta: sampleRecord(clock).meta });
    await store.set(e, sampleRecord(clock, { key: e }));
    assert.equal(await store.get(c), null, 'c was the least recently used once a was patched');
    assert.equal(store.size, 3);
  });

  it('a patch copies only the values it sets: the unchanged values stay the stored ones, changed ones are private', async () => {
    const clock = createFakeClock();
    const store = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    const key = randomKey();
    await store.set(key, sampleRecord(clock, { big: { blob: 'x'.repeat(100_000) }, n: 0 }));
    const before = await store.get(key);
    const counter = { value: 1 };
    const result = await store.patch(key, { set: { n: counter }, delete: [], meta: sampleMeta(clock) });
    assert.equal(result.status, 'ok');
    counter.value = 2;
    const after = await store.get(key);
    assert.equal(after?.data.big, before?.data.big, 'the unchanged value was not copied');
    assert.deepEqual(after?.data.n, { value: 1 }, 'the set value is a private copy');
    assert.ok(Object.isFrozen(after?.data) && Object.isFrozen(after?.data.n) && Object.isFrozen(after?.meta));
  });

  it('drops an evicted entry from the per-user index', async () => {
    const clock = createFakeClock();
    const store = createMemoryStore({ clock, maxEntries: 1, sweepIntervalSeconds: 0 });
    const alice = randomUserId('alice');
    const [first, second] = [randomKey(), randomKey()];
    await store.set(first, sampleRecord(clock, {}, { userId: alice }));
    await store.set(second, sampleRecord(clock, {}, { userId: alice }));
    assert.deepEqual(
      (await store.listByUser(alice)).map((entry) => entry.key),
      [second],
    );
    assert.equal(await store.destroyByUser(alice), 1);
  });

  it('does not return an expired entry and deletes it on read', async () => {
    const clock = createFakeClock();
    const store = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    const key = randomKey();
    const alice = randomUserId('alice');
    await store.set(key, sampleRecord(clock, {}, { userId: alice, expiresAt: clock.now() + 1000 }));
    clock.advance(1000);
    assert.ok(await store.get(key), 'alive up to and including meta.expiresAt');
    clock.advance(1);
    assert.deepEqual(await store.listByUser(alice), []);
    assert.equal(await store.get(key), null);
    assert.equal(store.size, 0);
  });

  it('sweeps expired entries every sweepIntervalSeconds and stops on close()', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const clock = createFakeClock();
    const store = createMemoryStore({ clock, sweepIntervalSeconds: 60 });
    const [expiring, live] = [randomKey(), randomKey()];
    await store.set(expiring, sampleRecord(clock, {}, { expiresAt: clock.now() + 30_000 }));
    await store.set(live, sampleRecord(clock, {}, { expiresAt: clock.now() + 3_600_000 }));
    clock.advanceSeconds(31);
    t.mock.timers.tick(59_999);
    assert.equal(store.size, 2, 'no sweep before the interval');
    t.mock.timers.tick(1);
    assert.equal(store.size, 1, 'the expired entry is gone');
    await store.close();
    clock.advanceSeconds(3600);
    t.mock.timers.tick(600_000);
    assert.equal(store.size, 1, 'no sweep after close()');
    assert.equal(await store.prune(), 1);
    assert.equal(store.size, 0);
  });

  it('warns once per process, with code SESSIONKIT_MEMORY_STORE, when created under NODE_ENV=production', async (t) => {
    const codes: unknown[] = [];
    const onWarning = (warning: Error) => {
      if ('code' in warning && warning.code === 'SESSIONKIT_MEMORY_STORE') codes.push(warning.code);
    };
    const warningsDelivered = () => new Promise((resolve) => setImmediate(resolve));
    process.on('warning', onWarning);
    const previous = process.env.NODE_ENV;
    t.after(() => {
      process.off('warning', onWarning);
      if (previous === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = previous;
    });
    process.env.NODE_ENV = 'development';
    await createMemoryStore().close();
    await warningsDelivered();
    assert.equal(codes.length, 0, 'no warning outside production');
    process.env.NODE_ENV = 'production';
    await createMemoryStore().close();
    await createMemoryStore().close();
    await warningsDelivered();
    assert.deepEqual(codes, ['SESSIONKIT_MEMORY_STORE']);
  });

  it('rejects invalid options with ERR_SESSION_CONFIG naming the option', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => createMemoryStore({ maxEntries }), {
        code: 'ERR_SESSION_CONFIG',
        option: 'maxEntries',
      });
    }
    for (const sweepIntervalSeconds of [-1, 0.5, Number.POSITIVE_INFINITY, 3_000_000]) {
      assert.throws(() => createMemoryStore({ sweepIntervalSeconds }), {
        code: 'ERR_SESSION_CONFIG',
        option: 'sweepIntervalSeconds',
      });
    }
  });

  it('returns to 0 entries after 100,000 sessions expire and are swept (SEC-49)', async (t) => {
    const clock = createFakeClock();
    const store = createMemoryStore({ clock, maxEntries: 100_000, sweepIntervalSeconds: 0 });
    const heap = () => {
      globalThis.gc?.();
      return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
    };
    const before = heap();
    const meta = sampleRecord(clock).meta;
    for (let i = 0; i < 100_000; i++) {
      await store.set(randomKey(), { data: { cart: [{ sku: `sku-${i}`, qty: 1 }] }, version: 1, meta });
    }
    assert.equal(store.size, 100_000);
    const full = heap();
    clock.advance(meta.expiresAt - clock.now() + 1);
    assert.equal(await store.prune(), 100_000);
    assert.equal(store.size, 0);
    const after = heap();
    t.diagnostic(`heapUsed MiB: before ${before}, with 100,000 sessions ${full}, after sweep ${after}`);
  });
});
