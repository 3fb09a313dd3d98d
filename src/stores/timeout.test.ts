import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it, type TestContext } from 'node:test';
import { DIAGNOSTICS_CHANNEL, type SessionEvent } from '../core/diagnostics.js';
import { createSessionManager } from '../core/manager.js';
import { SessionConfigError, SessionStoreError } from '../errors.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { randomKey, sampleRecord } from '../testing/records.js';
import { describeStoreConformance } from '../testing/store-conformance.js';
import { createMemoryStore } from './memory.js';
import { withTimeout } from './timeout.js';
import type { SessionStore } from './types.js';

/** A store whose calls wait, while `held`, until `release()`; `fail` makes released calls reject. */
function gatedStore(inner: SessionStore): SessionStore & { held: boolean; fail: boolean; release(): void } {
  let waiting: Array<() => void> = [];
  const gate = async <T>(run: () => Promise<T>): Promise<T> => {
    if (store.held) await new Promise<void>((resolve) => waiting.push(resolve));
    if (store.fail) throw new Error('backend refused');
    return run();
  };
  const store = {
    kind: inner.kind,
    held: false,
    fail: false,
    release() {
      const released = waiting;
      waiting = [];
      for (const resume of released) resume();
    },
    get: (key: string) => gate(() => inner.get(key)),
    set: (key: string, record: Parameters<SessionStore['set']>[1]) => gate(() => inner.set(key, record)),
    patch: (key: string, patch: Parameters<SessionStore['patch']>[1]) => gate(() => inner.patch(key, patch)),
    destroy: (key: string) => gate(() => inner.destroy(key)),
    listByUser: (userId: string) => gate(() => inner.listByUser?.(userId) ?? Promise.resolve([])),
    prune: () => gate(() => inner.prune?.() ?? Promise.resolve(0)),
  };
  return store;
}

function isEvent(message: unknown): message is SessionEvent {
  return typeof message === 'object' && message !== null && 'type' in message;
}

function setup(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const clock = createFakeClock();
  const memory = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
  const gated = gatedStore(memory);
  const events: SessionEvent[] = [];
  const listener = (event: unknown) => {
    if (isEvent(event)) events.push(event);
  };
  subscribe(DIAGNOSTICS_CHANNEL, listener);
  t.after(() => unsubscribe(DIAGNOSTICS_CHANNEL, listener));
  return { clock, memory, gated, store: withTimeout(gated, { timeoutMs: 500 }), events };
}

describeStoreConformance('withTimeout(memory)', async (clock) => {
  const inner = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
  return { store: withTimeout(inner, { timeoutMs: 10_000 }), clock, cleanup: () => inner.close() };
});

describe('withTimeout', () => {
  it('rejects a call still pending after timeoutMs with ERR_SESSION_STORE (503) naming store and operation', async (t) => {
    const { gated, store } = setup(t);
    gated.held = true;
    const pending = store.get(randomKey());
    let settled = false;
    pending.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    t.mock.timers.tick(499);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'still pending before the timeout');
    t.mock.timers.tick(1);
    const error: unknown = await pending.then(
      () => null,
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof SessionStoreError);
    assert.equal(error.code, 'ERR_SESSION_STORE');
    assert.equal(error.status, 503);
    assert.equal(error.store, 'memory');
    assert.equal(error.operation, 'get');
    assert.match(error.message, /did not complete get within 500 ms/);
    gated.release();
  });

  it('publishes a store-error event with reason "timeout", the operation and the timeout', async (t) => {
    const { gated, store, events } = setup(t);
    gated.held = true;
    const pending = store.patch(randomKey(), {
      set: {},
      delete: [],
      meta: sampleRecord(createFakeClock()).meta,
    });
    t.mock.timers.tick(500);
    await assert.rejects(pending, SessionStoreError);
    assert.deepEqual(
      events.filter((event) => event.type === 'store-error'),
      [
        {
          type: 'store-error',
          store: 'memory',
          reason: 'timeout',
          detail: { operation: 'patch', timeoutMs: 500 },
        },
      ],
    );
    gated.release();
  });

  it('resolves with the result of a call that completes in time, and publishes nothing', async (t) => {
    const { clock, gated, store, events } = setup(t);
    const key = randomKey();
    const record = sampleRecord(clock, { n: 1 });
    await store.set(key, record);
    gated.held = true;
    const pending = store.get(key);
    t.mock.timers.tick(499);
    gated.release();
    assert.deepEqual(await pending, record);
    t.mock.timers.tick(1000);
    assert.equal(events.length, 0);
  });

  it('passes a rejection that comes in time through unchanged', async (t) => {
    const { gated, store } = setup(t);
    gated.fail = true;
    await assert.rejects(store.destroy(randomKey()), { message: 'backend refused' });
  });

  it('turns a store method that throws synchronously into a rejection', async (t) => {
    const { memory } = setup(t);
    const throwing: SessionStore = {
      ...memory,
      kind: 'memory',
      get: () => {
        throw new Error('sync failure');
      },
    };
    await assert.rejects(withTimeout(throwing).get(randomKey()), { message: 'sync failure' });
  });

  it('ignores a call that settles after its timeout, a late rejection included', async (t) => {
    const { gated, store } = setup(t);
    let unhandled = 0;
    const count = () => unhandled++;
    process.on('unhandledRejection', count);
    t.after(() => process.off('unhandledRejection', count));
    gated.held = true;
    gated.fail = true;
    const pending = store.get(randomKey());
    t.mock.timers.tick(500);
    await assert.rejects(pending, SessionStoreError);
    gated.release();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(unhandled, 0);
  });

  it("passes destroy's result (the removed record's successor) through", async () => {
    const inner: SessionStore = {
      ...createMemoryStore({ sweepIntervalSeconds: 0 }),
      destroy: async () => ({ successor: 'next-key' }),
    };
    assert.deepEqual(await withTimeout(inner).destroy(randomKey()), { successor: 'next-key' });
  });

  it('bounds the optional calls the store has and adds none it lacks', async (t) => {
    const { gated, store } = setup(t);
    assert.equal(typeof store.listByUser, 'function');
    assert.equal(typeof store.prune, 'function');
    assert.equal(store.destroyByUser, undefined);
    assert.equal(store.close, undefined);
    gated.held = true;
    const list = store.listByUser?.('alice');
    const prune = store.prune?.();
    t.mock.timers.tick(500);
    await assert.rejects(Promise.resolve(list), { operation: 'listByUser' });
    await assert.rejects(Promise.resolve(prune), { operation: 'prune' });
    gated.release();
  });

  it('makes a session load fail with ERR_SESSION_STORE instead of hanging when the store does not answer', async (t) => {
    const { clock, gated, store } = setup(t);
    const manager = createSessionManager({ store, clock, rotateAfterSeconds: 0 });
    const session = await manager.load(undefined);
    session.set('n', 1);
    const [cookie] = await manager.commit(session);
    assert.ok(cookie);
    gated.held = true;
    const pending = manager.load(cookie.split(';')[0]);
    t.mock.timers.tick(500);
    await assert.rejects(pending, { code: 'ERR_SESSION_STORE', status: 503 });
    gated.release();
  });

  it('throws ERR_SESSION_CONFIG for a timeoutMs that is not a positive number of milliseconds', () => {
    const store = createMemoryStore({ sweepIntervalSeconds: 0 });
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      assert.throws(
        () => withTimeout(store, { timeoutMs }),
        (error: unknown) => {
          return error instanceof SessionConfigError && error.option === 'timeoutMs';
        },
      );
    }
    assert.throws(() => Reflect.apply(withTimeout, undefined, [{}]), { code: 'ERR_SESSION_CONFIG' });
  });
});
