import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toStorable } from './values.js';

describe('toStorable', () => {
  it('copies and deep-freezes JSON data', () => {
    const input = { a: [1, { b: 'x' }], c: null, d: true };
    const out = toStorable('k', input);
    assert.deepEqual(out, input);
    assert.notEqual(out, input);
    assert.ok(Object.isFrozen(out));
    input.a.push(2);
    assert.deepEqual(out, { a: [1, { b: 'x' }], c: null, d: true });
  });

  it('refuses what JSON cannot keep, naming the key', () => {
    const cases: Array<[unknown, RegExp]> = [
      [() => 1, /function/],
      [Symbol('s'), /symbol/],
      [1n, /bigint/],
      [undefined, /delete\(\)/],
      [Number.POSITIVE_INFINITY, /Infinity/],
      [new Map(), /Map/],
      [new Date(0), /Date/],
      [Object.assign([1], { length: 3 }), /sparse/],
      ['a\u0000b', /U\+0000/],
      ['broken \ud800 pair', /well-formed/],
      [JSON.parse('{"__proto__": {"polluted": true}}'), /__proto__/],
    ];
    for (const [value, reason] of cases) {
      assert.throws(
        () => toStorable('cart', value),
        (error: Error & { code?: string; key?: string }) => {
          assert.equal(error.code, 'ERR_SESSION_VALUE');
          assert.equal(error.key, 'cart');
          assert.match(error.message, reason);
          return true;
        },
      );
    }
  });

  it('refuses cycles but accepts shared references', () => {
    const shared = { x: 1 };
    assert.deepEqual(toStorable('k', [shared, shared]), [{ x: 1 }, { x: 1 }]);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    assert.throws(() => toStorable('k', cyclic), /cycle/);
  });
});
