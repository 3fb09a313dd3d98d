/** A time source. Everything in sessionkit reads time through one, so tests can inject a fake. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
}

/** The real wall clock. */
export const systemClock: Clock = { now: () => Date.now() };
