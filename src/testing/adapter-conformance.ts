/**
 * The conformance suite every framework adapter runs: the same framework-neutral routes, mounted
 * through the adapter by a small harness, checked with real HTTP requests.
 *
 * @module
 */
import { describeCommitTiming } from './adapter/commit.js';
import { describeCookieRules } from './adapter/cookies.js';
import { describeErrors } from './adapter/errors.js';
import { adapterSuite, type MountAdapter } from './adapter/harness.js';
import { describeLifecycle } from './adapter/lifecycle.js';
import { describeStoreIo } from './adapter/store-io.js';
import { type ConformanceRunner, suiteFor } from './runner.js';

export { type AdapterHarness, listenHarness, type MountAdapter } from './adapter/harness.js';
export {
  type ConformanceData,
  type ConformanceRoutes,
  conformanceRoutes,
  type RouteHandler,
  type RouteResult,
  type StreamingHandler,
} from './adapter/routes.js';

/** How `describeAdapterConformance` runs. */
export interface AdapterConformanceOptions {
  /** Skip the whole suite, with the reason shown in the report. @default false */
  skip?: false | string;
  /** Also check a route that flushes its headers before it changes the session. @default false */
  streaming?: boolean;
  /**
   * The runner to declare the tests with, e.g. Vitest's `{ describe, it, before: beforeAll, after: afterAll }`.
   * @default node:test
   */
  runner?: ConformanceRunner;
}

/**
 * Declares `describe("<name> adapter conformance")`: builds a manager (memory store behind a
 * call-counting spy, a fake clock, `trustProxy: true`), lets `mount` start an app with the
 * conformance routes, and checks the adapter's behaviour with real HTTP requests that announce
 * HTTPS through `X-Forwarded-Proto`.
 * @example
 * describeAdapterConformance('node:http', async (manager, routes) => {
 *   const sessioned = withSession(manager, (req, res, session) => answer(routes, req, res, session));
 *   return listenHarness(createServer((req, res) => (req.url === routes.plain.path ? plain(res) : sessioned(req, res))));
 * });
 */
export function describeAdapterConformance(
  name: string,
  mount: MountAdapter,
  options: AdapterConformanceOptions = {},
): void {
  const suite = suiteFor(options.runner);
  suite.describe(
    `${name} adapter conformance`,
    () => {
      const adapter = adapterSuite(suite, mount);
      describeCookieRules(adapter);
      describeStoreIo(adapter);
      describeLifecycle(adapter);
      describeErrors(adapter);
      describeCommitTiming(adapter, options.streaming === true);
    },
    options.skip ?? false,
  );
}
