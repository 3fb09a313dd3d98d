/**
 * The test runner a conformance suite declares its tests with: node:test by default, or the
 * `describe`/`it` (and `before`/`after`) of Vitest, Jest or any runner with the same shape.
 *
 * @module
 */
import { createRequire } from 'node:module';

/** A test body as the conformance suites hand it to the runner (the runner's test context, if any, first). */
export type ConformanceTestBody = (context?: unknown) => Promise<void>;

/**
 * The test functions of a runner. Pass Vitest's or Jest's own: `{ describe, it, before: beforeAll,
 * after: afterAll }`. Without `before`/`after`, the adapter suite starts a server per test.
 */
export interface ConformanceRunner {
  /** Declares a group of tests. */
  describe: ((name: string, body: () => void) => unknown) & {
    /** Declares a skipped group; without it a skipped group is left out. */
    skip?: (name: string, body: () => void) => unknown;
  };
  /** Declares one test. A test context with `skip(note)` (Vitest's, node:test's) reports a skip. */
  it: ((name: string, body: ConformanceTestBody) => unknown) & {
    /** Declares a skipped test; without it a skipped test is left out. */
    skip?: (name: string, body: ConformanceTestBody) => unknown;
  };
  /** Runs once before the group's tests (node:test `before`, Vitest/Jest `beforeAll`). */
  before?: (body: () => Promise<void>) => unknown;
  /** Runs once after the group's tests (node:test `after`, Vitest/Jest `afterAll`). */
  after?: (body: () => Promise<void>) => unknown;
}

/** What a test body can do besides assert: report itself skipped (and return), or note something. */
export interface ConformanceContext {
  skip(reason: string): void;
  diagnostic(message: string): void;
}

/** The runner-neutral calls the suites are written against. */
export interface Suite {
  describe(name: string, body: () => void, skip?: string | false): void;
  it(name: string, body: (t: ConformanceContext) => Promise<void>, skip?: string | false): void;
  /** `before`/`after` of the runner, when it has both. */
  hooks: { before(body: () => Promise<void>): void; after(body: () => Promise<void>): void } | undefined;
}

/** The suite calls for `runner`, or for node:test (loaded only then, so other runners never import it). */
export function suiteFor(runner: ConformanceRunner | undefined): Suite {
  return runner === undefined ? nodeTestSuite() : runnerSuite(runner);
}

function nodeTestSuite(): Suite {
  const nodeTest: typeof import('node:test') = createRequire(import.meta.url)('node:test');
  return {
    describe: (name, body, skip = false) => void nodeTest.describe(name, { skip }, body),
    it: (name, body, skip = false) => void nodeTest.it(name, { skip }, (t) => body(t)),
    hooks: { before: (body) => nodeTest.before(body), after: (body) => nodeTest.after(body) },
  };
}

function runnerSuite(runner: ConformanceRunner): Suite {
  const { before, after } = runner;
  return {
    describe: (name, body, skip = false) => {
      if (skip === false) runner.describe(name, body);
      else runner.describe.skip?.(`${name} (${skip})`, body);
    },
    it: (name, body, skip = false) => {
      // Rest parameters keep the body's length 0, so Jest does not take it for a done-callback test.
      const wrapped: ConformanceTestBody = (...context: unknown[]) => body(skipContextOf(context[0]));
      if (skip === false) runner.it(name, wrapped);
      else runner.it.skip?.(`${name} (${skip})`, wrapped);
    },
    hooks:
      before === undefined || after === undefined
        ? undefined
        : { before: (body) => void before(body), after: (body) => void after(body) },
  };
}

/** Vitest's context reports a skip through `skip(note)`; without such a context the test just returns. */
function skipContextOf(context: unknown): ConformanceContext {
  if (typeof context === 'object' && context !== null && 'skip' in context) {
    const skip = context.skip;
    if (typeof skip === 'function') {
      return { skip: (reason) => void Reflect.apply(skip, context, [reason]), diagnostic: () => {} };
    }
  }
  return { skip: () => {}, diagnostic: () => {} };
}
