import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { syncBuiltinESMExports } from 'node:module';
import { describe, it, type TestContext } from 'node:test';
import { createMemoryStore } from '../../stores/memory.js';
import { createFakeClock, type FakeClock } from '../../testing/fake-clock.js';
import { type InstrumentedStore, instrumentStore } from '../../testing/instrumented-store.js';
import { randomToken } from '../crypto.js';
import { DIAGNOSTICS_CHANNEL, getCounters, type SessionEvent } from '../diagnostics.js';
import { createSessionManager, type StoreSessionManager } from '../manager.js';

const count = (name: string) => getCounters()[name] ?? 0;
const isEvent = (value: unknown): value is SessionEvent =>
  typeof value === 'object' && value !== null && typeof Reflect.get(value, 'type') === 'string';

interface Setup {
  clock: FakeClock;
  store: InstrumentedStore;
  manager: StoreSessionManager<{ n: number }>;
  /** The Cookie header of a stored session holding n = 1. */
  cookie: string;
}

async function setup(t: TestContext): Promise<Setup> {
  const clock = createFakeClock();
  // The store keeps real time, so the core's expiry verdict (not the store's TTL) refuses the record.
  const store = instrumentStore(createMemoryStore());
  const manager = createSessionManager<{ n: number }>({
    store,
    clock,
    insecureDevCookies: true,
    idleTimeoutSeconds: 600,
  });
  t.after(() => manager.close());
  const session = await manager.load(undefined);
  session.set('n', 1);
  const [setCookie = ''] = await manager.commit(session);
  store.reset();
  return { clock, store, manager, cookie: setCookie.split(';', 1)[0] ?? '' };
}

/** Counts the SHA-256 digests sessionkit computes (node:crypto's one-shot `hash`: token → store key). */
function countHashes(t: TestContext): () => number {
  const real = crypto.hash;
  let hashes = 0;
  Reflect.set(crypto, 'hash', function counting(this: unknown, ...args: unknown[]) {
    hashes++;
    return Reflect.apply(real, this, args);
  });
  syncBuiltinESMExports();
  t.after(() => {
    Reflect.set(crypto, 'hash', real);
    syncBuiltinESMExports();
  });
  return () => hashes;
}

/** Counts the events handed to the diagnostics channel, subscribed or not. */
function countPublished(t: TestContext): () => number {
  const events = channel(DIAGNOSTICS_CHANNEL);
  const real = events.publish;
  let published = 0;
  Reflect.set(events, 'publish', function counting(this: unknown, ...args: unknown[]) {
    published++;
    return Reflect.apply(real, events, args);
  });
  t.after(() => Reflect.deleteProperty(events, 'publish'));
  return () => published;
}

function collect(t: TestContext): SessionEvent[] {
  const events: SessionEvent[] = [];
  const listener = (event: unknown) => {
    if (isEvent(event) && event.store === 'memory') events.push(event);
  };
  subscribe(DIAGNOSTICS_CHANNEL, listener);
  t.after(() => unsubscribe(DIAGNOSTICS_CHANNEL, listener));
  return events;
}

describe('createSessionManager: the store-backed read path', () => {
  it('reads the store once and hashes the token once, and hands no event to an unsubscribed channel', async (t) => {
    const { store, manager, cookie, clock } = await setup(t);
    const unknown = `${cookie.split('=', 1)[0]}=${randomToken()}`;
    const hashes = countHashes(t);
    const published = countPublished(t);
    const before = ['loaded', 'rejected:unknown', 'expired', 'rejected:expired-idle'].map(count);

    const session = await manager.load(cookie);
    assert.equal(session.get('n'), 1);
    assert.deepEqual(await manager.commit(session), []);
    assert.deepEqual([store.total(), store.calls.get, hashes()], [1, 1, 1]);

    assert.equal((await manager.load(unknown)).isNew, true);
    assert.deepEqual([store.total(), hashes()], [2, 2]);

    clock.advanceSeconds(601);
    assert.equal((await manager.load(cookie)).isNew, true);
    assert.deepEqual([store.calls.get, hashes()], [3, 3]);

    assert.equal(published(), 0);
    const counted = ['loaded', 'rejected:unknown', 'expired', 'rejected:expired-idle'].map(
      (name, i) => count(name) - (before[i] ?? 0),
    );
    assert.deepEqual(counted, [1, 1, 1, 1]);
  });

  it('delivers the same reads to a subscriber, with the public id, at the same cost', async (t) => {
    const { store, manager, cookie, clock } = await setup(t);
    const unknown = `${cookie.split('=', 1)[0]}=${randomToken()}`;
    const events = collect(t);
    const hashes = countHashes(t);

    const session = await manager.load(cookie);
    await manager.commit(session);
    await manager.load(unknown);
    clock.advanceSeconds(601);
    await manager.load(cookie);

    assert.deepEqual([store.calls.get, hashes()], [3, 3]);
    assert.deepEqual(
      events.map((e) => [e.type, e.reason, e.id]),
      [
        ['loaded', undefined, session.id],
        ['rejected', 'unknown', undefined],
        ['expired', 'expired-idle', session.id],
        ['rejected', 'expired-idle', session.id],
      ],
    );
  });
});
