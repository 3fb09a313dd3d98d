/** What every topic of the store conformance suite is given: a store harness per test. */
import type { SessionStore } from '../../stores/types.js';
import type { FakeClock } from '../fake-clock.js';
import type { ConformanceContext } from '../runner.js';

export type { ConformanceContext } from '../runner.js';

/** A store under test, the fake clock it was given, and how to dispose of both. */
export interface StoreHarness {
  /** The store, created with `clock` (its factory's `clock` option). */
  store: SessionStore;
  /** The clock the store reads; the suite advances it to expire records. */
  clock: FakeClock;
  /** Closes the store and removes what the harness created (tables, key prefixes, files). */
  cleanup?: () => Promise<void>;
}

/** A test body, given a fresh harness. */
export type Body = (harness: StoreHarness, t: ConformanceContext) => Promise<void>;
/** Wraps a body into a test that sets a harness up and disposes of it. */
export type Run = (body: Body) => (t: ConformanceContext) => Promise<void>;
