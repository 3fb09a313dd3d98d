/**
 * Public entry `sessionkit/testing`: the store conformance suite, record helpers and a fake clock, so
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
export { randomKey, randomUserId, sampleMeta, sampleRecord } from './records.js';
export {
  describeStoreConformance,
  type StoreConformanceOptions,
  type StoreHarness,
  type StoreSetup,
} from './store-conformance.js';
