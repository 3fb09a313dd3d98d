import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../stores/memory.js';
import { DIAGNOSTICS_CHANNEL, getCounters, observed, type SessionEvent } from './diagnostics.js';
import { createSessionManager } from './manager.js';

const count = (name: string) => getCounters()[name] ?? 0;
const isEvent = (value: unknown): value is SessionEvent =>
  typeof value === 'object' && value !== null && typeof Reflect.get(value, 'type') === 'string';

describe('diagnostics', () => {
  it('observed() counts every event and is true only while someone subscribes', (t) => {
    const before = count('cache-hit');
    assert.equal(observed('cache-hit'), false);
    const listener = () => undefined;
    subscribe(DIAGNOSTICS_CHANNEL, listener);
    t.after(() => unsubscribe(DIAGNOSTICS_CHANNEL, listener));
    assert.equal(observed('cache-hit'), true);
    assert.equal(count('cache-hit'), before + 2);
  });

  it('the manager counts created, saved and loaded without subscribers and delivers them with the id to subscribers', async (t) => {
    const store = createMemoryStore();
    t.after(() => store.close());
    const manager = createSessionManager({ store, insecureDevCookies: true });
    const counts = () => ['created', 'loaded', 'saved'].map(count);
    const start = counts();
    const fresh = await manager.load(undefined);
    fresh.set('n', 1);
    const [cookie = ''] = await manager.commit(fresh);
    const header = cookie.split(';', 1)[0];
    const quiet = await manager.load(header);
    quiet.set('n', 2);
    await manager.commit(quiet);
    assert.deepEqual(
      counts().map((n, i) => n - (start[i] ?? 0)),
      [1, 1, 1],
    );

    const events: SessionEvent[] = [];
    const listener = (event: unknown) => {
      if (isEvent(event)) events.push(event);
    };
    subscribe(DIAGNOSTICS_CHANNEL, listener);
    t.after(() => unsubscribe(DIAGNOSTICS_CHANNEL, listener));
    const watched = await manager.load(header);
    watched.set('n', 3);
    await manager.commit(watched);
    const ours = events.filter((e) => e.store === 'memory').map((e) => [e.type, e.id]);
    assert.deepEqual(ours, [
      ['loaded', watched.id],
      ['saved', watched.id],
    ]);
  });
});
