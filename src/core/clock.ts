import { SessionConfigError } from '../errors.js';

/** A time source. Everything in sessionkit reads time through one, so tests can inject a fake. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** The `clock` option of a manager or store: the system clock by default, else an object with `now()`. */
export function resolveClock(clock: Clock | undefined): Clock {
  if (clock === undefined) return systemClock;
  if (typeof clock?.now !== 'function') throw new SessionConfigError('clock', 'must have a now() method');
  return clock;
}
