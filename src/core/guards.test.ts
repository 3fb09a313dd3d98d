import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipPrefix, resolveBinding } from './guards.js';

describe('ipPrefix', () => {
  it('keeps the /24 of IPv4 (also IPv4-mapped) and the /64 of IPv6', () => {
    assert.equal(ipPrefix('203.0.113.77'), '203.0.113.0/24');
    assert.equal(ipPrefix('::ffff:203.0.113.77'), '203.0.113.0/24');
    assert.equal(ipPrefix('2001:db8:0:1:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
    assert.equal(ipPrefix('2001:0DB8::1'), '2001:db8:0:0::/64');
    assert.equal(ipPrefix('::1'), '0:0:0:0::/64');
    assert.equal(ipPrefix('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });
});

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
