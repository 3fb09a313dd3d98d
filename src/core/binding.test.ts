import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveBinding } from './binding.js';

describe('resolveBinding', () => {
  it('names the bad option', () => {
    assert.throws(() => resolveBinding({ onMismatch: 'ignore' as 'event' }), {
      option: 'binding.onMismatch',
    });
    assert.throws(() => resolveBinding({ userAgent: 'yes' as unknown as boolean }), {
      option: 'binding.userAgent',
    });
  });
});
