/**
 * Public entry `sessionkit/testing`: the store conformance suite, record helpers, a fake clock and a
 * pausable store wrapper (to interleave concurrent requests deterministically), so
 * users can test their own stores with the assertions sessionkit's stores pass.
 *
 * @module
 */

export {
  type AdapterConformanceOptions,
  type AdapterHarness,
  type ConformanceData,
  type ConformanceRoutes,
  conformanceRoutes,
  describeAdapterConformance,
  listenHarness,
  type MountAdapter,
  type RouteHandler,
  type RouteResult,
  type StreamingHandler,
} from './adapter-conformance.js';
export { createFakeClock, type FakeClock } from './fake-clock.js';
export { type InstrumentedStore, instrumentStore, type StoreOperation } from './instrumented-store.js';
export {
  type PausableStore,
  type PauseOptions,
  pausableStore,
  type StoreCall,
  type StorePause,
} from './pausable-store.js';
export { randomKey, randomUserId, SAMPLE_AUDIENCE, sampleMeta, sampleRecord } from './records.js';
export type { ConformanceRunner, ConformanceTestBody } from './runner.js';
export {
  describeStoreConformance,
  type StoreConformanceOptions,
  type StoreHarness,
  type StoreSetup,
} from './store-conformance.js';
