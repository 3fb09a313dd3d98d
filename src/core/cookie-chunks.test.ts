import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleValue, chunkCapacity, chunkSlots, splitValue } from './cookie-chunks.js';
import { SEAL_OVERHEAD_BYTES, sealedLength } from './sealed.js';

describe('splitValue / assembleValue', () => {
  const name = '__Host-sid';
  const single = 'A'.repeat(4096 - name.length);
  const long = 'B'.repeat(9000);

  it('keeps a value that fits one cookie (name + value ≤ 4096 bytes) whole', () => {
    assert.deepEqual(splitValue(name, single, 4), [[name, single]]);
    assert.equal(splitValue(name, `${single}A`, 4)?.length, 2);
  });

  it('fits the SECURITY.md budget: 3031 plaintext bytes in one __Host-sid cookie, 3032 not', () => {
    assert.equal(SEAL_OVERHEAD_BYTES, 33);
    assert.equal(splitValue(name, 'A'.repeat(sealedLength(3031)), 4)?.length, 1);
    assert.equal(splitValue(name, 'A'.repeat(sealedLength(3032)), 4)?.length, 2);
  });

  it('splits a long value into <name>, <name>.1, … with the __Host- prefix on every chunk', () => {
    const parts = splitValue(name, long, 4);
    assert.ok(parts);
    assert.deepEqual(
      parts.map(([n]) => n),
      ['__Host-sid', '__Host-sid.1', '__Host-sid.2'],
    );
    for (const [n, v] of parts)
      assert.ok(n.length + v.length <= 4096, `${n} is ${n.length + v.length} bytes`);
    assert.ok(parts[0]?.[1].startsWith('3.'));
  });

  it('returns null when the value needs more than maxCookies cookies', () => {
    assert.equal(splitValue(name, long, 2), null);
    assert.equal(splitValue(name, 'C'.repeat(chunkCapacity(name, 3) + 1), 3), null);
    assert.equal(splitValue(name, 'C'.repeat(chunkCapacity(name, 3)), 3)?.length, 3);
  });

  it('reassembles chunks in any header order', () => {
    const parts = splitValue(name, long, 4) ?? [];
    const [first, ...rest] = parts;
    assert.ok(first);
    const assembled = assembleValue(name, first[1], rest.reverse(), 4);
    assert.deepEqual(assembled, { ok: true, value: long, chunks: 3 });
  });

  it('reports a missing chunk as malformed, a duplicated one as duplicate, too many as oversized', () => {
    const parts = splitValue(name, long, 4) ?? [];
    const [first, second, third] = parts;
    assert.ok(first && second && third);
    assert.deepEqual(assembleValue(name, first[1], [third], 4), { ok: false, reason: 'malformed' });
    assert.deepEqual(assembleValue(name, first[1], [second, third, [second[0], 'other']], 4), {
      ok: false,
      reason: 'duplicate',
    });
    assert.deepEqual(assembleValue(name, first[1], [second, third], 2), { ok: false, reason: 'oversized' });
    assert.deepEqual(assembleValue(name, `1.${first[1].slice(2)}`, [], 4), {
      ok: false,
      reason: 'malformed',
    });
    assert.deepEqual(assembleValue(name, 'D'.repeat(chunkCapacity(name, 1) + 1), [], 1), {
      ok: false,
      reason: 'oversized',
    });
  });

  it('counts the chunk slots a request carries, ignoring unrelated cookies', () => {
    assert.equal(chunkSlots(name, []), 1);
    assert.equal(
      chunkSlots(name, [
        ['__Host-sid.3', 'x'],
        ['__Host-sid.x', 'y'],
        ['__Host-sid.10', 'z'],
      ]),
      4,
    );
  });
});
