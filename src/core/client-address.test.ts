import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clientBucket, ipPrefix } from './client-address.js';

describe('ipPrefix', () => {
  it('keeps the /24 of IPv4 (also IPv4-mapped) and the /64 of IPv6', () => {
    assert.equal(ipPrefix('203.0.113.77'), '203.0.113.0/24');
    assert.equal(ipPrefix('::ffff:203.0.113.77'), '203.0.113.0/24');
    assert.equal(ipPrefix('2001:db8:0:1:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
    assert.equal(ipPrefix('2001:0DB8::1'), '2001:db8:0:0::/64');
    assert.equal(ipPrefix('::1'), '0:0:0:0::/64');
    assert.equal(ipPrefix('fe80::1%eth0'), 'fe80:0:0:0::/64');
  });

  it('expands "::" around a dotted IPv4 tail as two groups, and reads IPv4-mapped addresses in hex too', () => {
    assert.equal(ipPrefix('::1:2:3:4:5:1.2.3.4'), '0:1:2:3::/64');
    assert.equal(ipPrefix('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
    assert.equal(ipPrefix('::ffff:cb00:714d'), '203.0.113.0/24');
    assert.equal(ipPrefix('0:0:0:0:0:FFFF:203.0.113.77'), '203.0.113.0/24');
  });
});

describe('clientBucket', () => {
  it('counts IPv4 per address and IPv6 per /64, IPv4-mapped IPv6 as its IPv4 address', () => {
    assert.equal(clientBucket('203.0.113.77'), '203.0.113.77');
    assert.equal(clientBucket('::ffff:203.0.113.77'), '203.0.113.77');
    assert.equal(clientBucket('::ffff:cb00:714d'), '203.0.113.77');
    const one = ['2001:db8:0:1::1', '2001:0db8:0000:0001:ffff:ffff:ffff:ffff', '2001:db8::1:0:0:0:9%eth0'];
    assert.deepEqual(new Set(one.map(clientBucket)), new Set(['2001:db8:0:1::/64']));
    assert.equal(clientBucket('2001:db8:0:2::1'), '2001:db8:0:2::/64');
    assert.equal(clientBucket('not an address'), 'not an address');
  });
});
