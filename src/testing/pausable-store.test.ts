import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../stores/memory.js';
import { createFakeClock } from './fake-clock.js';
import { pausableStore } from './pausable-store.js';
import { randomKey, sampleRecord } from './records.js';

describe('pausableStore', () => {
  it('holds the matching call before the inner store runs it, until released', async () => {
    const clock = createFakeClock();
    const store = pausableStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
    const [held, other] = [randomKey(), randomKey()];
    const pause = store.pause('set', (call) => call.key === held);
    const slow = store.set(held, sampleRecord(clock, { a: 1 }));
    await pause.reached;
    // Another key runs through; the held one has not reached the store yet.
    await store.set(other, sampleRecord(clock, { b: 2 }));
    assert.equal(await store.get(held), null);
    assert.ok(await store.get(other));
    pause.release();
    await slow;
    await pause.done;
    assert.deepEqual((await store.get(held))?.data, { a: 1 });
  });

  it('with { after: true } runs the call first and holds its result', async () => {
    const clock = createFakeClock();
    const store = pausableStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
    const key = randomKey();
    await store.set(key, sampleRecord(clock, {}));
    const pause = store.pause('destroy', undefined, { after: true });
    let settled = false;
    const destroying = store.destroy(key).then((result) => {
      settled = true;
      return result;
    });
    await pause.reached;
    assert.equal(await store.get(key), null);
    assert.equal(settled, false);
    pause.release();
    assert.deepEqual(await destroying, { successor: null });
  });

  it('holds one call per pause, and a pause released before it is reached holds nothing', async () => {
    const clock = createFakeClock();
    const store = pausableStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
    const unused = store.pause('get');
    unused.release();
    await unused.done;
    assert.equal(await store.get(randomKey()), null);
    const once = store.pause('get');
    const first = store.get(randomKey());
    await once.reached;
    assert.equal(await store.get(randomKey()), null, 'the second get is not held');
    once.release();
    assert.equal(await first, null);
  });
});
