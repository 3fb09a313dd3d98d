import type { Clock } from '../core/clock.js';

/** A clock for tests: time stands still until you advance it. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Moves time forward by `seconds` seconds. */
  advanceSeconds(seconds: number): void;
  /** Sets the current time (epoch ms). */
  set(epochMs: number): void;
}

/**
 * Creates a fake clock starting at `startAt` (epoch ms).
 * @example
 * const clock = createFakeClock();
 * const manager = createSessionManager({ store, clock });
 * clock.advanceSeconds(31 * 60); // past the idle timeout, without sleeping
 */
export function createFakeClock(startAt = Date.UTC(2030, 0, 1)): FakeClock {
  let now = startAt;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
    advanceSeconds(seconds) {
      now += seconds * 1000;
    },
    set(epochMs) {
      now = epochMs;
    },
  };
}
