// The store conformance suite under Vitest (npm run test:vitest): proves sessionkit/testing runs on
// a runner other than node:test. The rest of the tests run under node:test (npm test).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      'sessionkit/testing': new URL('../../src/testing/index.ts', import.meta.url).pathname,
      'sessionkit/stores/memory': new URL('../../src/stores/memory.ts', import.meta.url).pathname,
    },
  },
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['*.test.ts'],
    testTimeout: 60_000,
  },
});
