// The memory store's conformance suite, declared with Vitest's describe/it (run by npm run test:vitest).
import { createMemoryStore } from 'sessionkit/stores/memory';
import { describeStoreConformance } from 'sessionkit/testing';
import { describe, it } from 'vitest';

describeStoreConformance(
  'memory (Vitest)',
  async (clock) => {
    const store = createMemoryStore({ clock });
    return { store, clock, cleanup: () => store.close() };
  },
  { runner: { describe, it } },
);
