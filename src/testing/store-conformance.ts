/**
 * The conformance suite every `SessionStore` runs: the rules of the store contract
 * (`sessionkit` `SessionStore`), as tests against a real backend (node:test, Vitest or Jest).
 *
 * @module
 */
import { createFakeClock, type FakeClock } from './fake-clock.js';
import { describeLifecycleRaces } from './lifecycle-conformance.js';
import { type ConformanceContext, type ConformanceRunner, suiteFor } from './runner.js';
import { describeSessionBehaviour } from './session-conformance.js';
import { describeConcurrency } from './store/concurrency.js';
import type { Body, StoreHarness } from './store/harness.js';
import { describePatchRules } from './store/patch-rules.js';
import { describePrune } from './store/prune.js';
import { describeRecordRules } from './store/record-rules.js';
import { describeUserIndex } from './store/user-index.js';

export type { StoreHarness } from './store/harness.js';

/** How `describeStoreConformance` runs. */
export interface StoreConformanceOptions {
  /** Skip the whole suite, with the reason shown in the report (e.g. from `serviceSkip`). @default false */
  skip?: false | string;
  /**
   * Whether the store must have a per-user index (`listByUser` and `destroyByUser`). `false` skips those
   * tests; `true` fails them if the methods are missing. @default whether the store has `listByUser`
   */
  perUserIndex?: boolean;
  /**
   * The runner to declare the tests with, e.g. Vitest's `{ describe, it }`.
   * @default node:test
   */
  runner?: ConformanceRunner;
}

/** Creates an isolated store harness around the given fake clock (once per test). */
export type StoreSetup = (clock: FakeClock) => Promise<StoreHarness>;

/**
 * Declares `describe("<name> store conformance")` with the store contract's tests. `setup` runs once per
 * test with a fresh fake clock and must return a store isolated from every other harness (its own table,
 * key prefix or file), because `prune` and `destroyByUser` act on everything the store can see.
 * @example
 * describeStoreConformance('memory', async (clock) => {
 *   const store = createMemoryStore({ clock });
 *   return { store, clock, cleanup: () => store.close() };
 * });
 */
export function describeStoreConformance(
  name: string,
  setup: StoreSetup,
  options: StoreConformanceOptions = {},
): void {
  const suite = suiteFor(options.runner);
  suite.describe(
    `${name} store conformance`,
    () => {
      // A harness per test, disposed in `finally`: node 20 skips afterEach hooks for tests that call t.skip().
      const run =
        (body: Body) =>
        async (t: ConformanceContext): Promise<void> => {
          const harness = await setup(createFakeClock());
          try {
            await body(harness, t);
          } finally {
            await harness.cleanup?.();
          }
        };
      describeRecordRules(suite, run);
      describePatchRules(suite, run);
      describeConcurrency(suite, run);
      describeUserIndex(suite, run, options.perUserIndex);
      describePrune(suite, run);
      describeSessionBehaviour(suite, run);
      describeLifecycleRaces(suite, run);
    },
    options.skip ?? false,
  );
}
