import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionConfigError } from '../errors.js';
import { createMemoryStore } from '../stores/memory.js';
import { type Clock, resolveClock, systemClock } from './clock.js';
import { createSessionManager } from './manager.js';

describe('resolveClock', () => {
  it('returns the system clock when none is given and the given clock otherwise', () => {
    const fake: Clock = { now: () => 42 };
    assert.equal(resolveClock(undefined), systemClock);
    assert.equal(resolveClock(fake), fake);
  });

  it('refuses a clock without now(), naming the option, in the managers and the stores', () => {
    const bad = { now: 5 } as unknown as Clock;
    const isClockError = (e: unknown) => e instanceof SessionConfigError && e.message.includes('clock');
    assert.throws(() => resolveClock(bad), isClockError);
    assert.throws(() => createMemoryStore({ clock: bad }), isClockError);
    assert.throws(() => createSessionManager({ store: createMemoryStore(), clock: bad }), isClockError);
  });
});
