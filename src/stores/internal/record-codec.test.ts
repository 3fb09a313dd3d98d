import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { collectEvents } from '../../../test/fixtures/events.js';
import { badMetas } from '../../../test/stores/bad-records.js';
import { createFakeClock } from '../../testing/fake-clock.js';
import { sampleMeta, sampleRecord } from '../../testing/records.js';
import {
  DecodeError,
  decodeEntries,
  decodeMeta,
  decodeRecordText,
  decodeRow,
  decodeVersion,
  encodeMeta,
  encodeRecordText,
  parseJson,
  reported,
} from './record-codec.js';

const clock = createFakeClock();

describe('record codec', () => {
  it('decodes what it encodes, as one text and as columns', () => {
    const record = sampleRecord(clock, { cart: ['a'], nested: { deep: [1, null] } }, { userId: 'u1' }, 7);
    assert.deepEqual(decodeRecordText(encodeRecordText(record)), record);
    const row = { version: '7', data: JSON.stringify(record.data), meta: encodeMeta(record.meta) };
    assert.deepEqual(decodeRow(row, parseJson), record);
    assert.deepEqual(decodeRow({ ...row, data: record.data, meta: record.meta }), record);
  });

  it('writes a whole record as {"v","m","d"} and still reads {"version","data","meta"}, the shape written before', () => {
    const record = sampleRecord(clock, { a: 1 });
    assert.equal(encodeRecordText(record), `{"v":1,"m":${encodeMeta(record.meta)},"d":{"a":1}}`);
    assert.deepEqual(decodeRecordText(JSON.stringify(record)), record);
  });

  it('writes meta compact: a base time and differences, expiresAt only when it is not the earlier expiry', () => {
    const now = clock.now();
    const meta = sampleMeta(clock, { userId: 'u1', persistent: true });
    assert.equal(
      encodeMeta(meta),
      `{"t":[${now},0,1800000,43200000],"a":"__Host-sid","u":"u1","persistent":true}`,
    );
    const successor = { key: 'next', graceUntil: now + 5000 };
    const retired = sampleMeta(clock, { expiresAt: now + 5000, successor });
    assert.equal(
      encodeMeta(retired),
      `{"t":[${now},0,1800000,43200000,5000],"a":"__Host-sid","successor":{"key":"next","graceUntil":${now + 5000}}}`,
    );
    assert.deepEqual(decodeMeta(JSON.parse(encodeMeta(meta))), meta);
    assert.deepEqual(decodeMeta(JSON.parse(encodeMeta(retired))), retired);
  });

  it('still reads the long meta layout (stored before), and writes it where differences would not be exact', () => {
    const meta = sampleMeta(clock, { userId: 'u1', rotations: 2 });
    assert.deepEqual(decodeMeta(JSON.parse(JSON.stringify(meta))), meta);
    const huge = { ...meta, lastSeenAt: 2 ** 53 + 2, createdAt: 1 };
    assert.equal(encodeMeta(huge), JSON.stringify(huge));
    assert.deepEqual(decodeMeta(JSON.parse(encodeMeta(huge))), huge);
  });

  it('gives back every meta exactly, whatever its numbers and fields', () => {
    const time = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer(),
      fc.maxSafeInteger(),
    );
    const meta = fc.record(
      {
        createdAt: time,
        lastSeenAt: time,
        idleExpiresAt: time,
        absoluteExpiresAt: time,
        expiresAt: time,
        audience: fc.string(),
        userId: fc.string(),
        authenticatedAt: time,
        rotations: fc.nat(),
        persistent: fc.boolean(),
        successor: fc.record({ key: fc.string(), graceUntil: time }),
      },
      {
        requiredKeys: [
          'createdAt',
          'lastSeenAt',
          'idleExpiresAt',
          'absoluteExpiresAt',
          'expiresAt',
          'audience',
        ],
      },
    );
    fc.assert(
      fc.property(meta, (value) => {
        // JSON has no -0: every store gives back 0 for it.
        const expected = JSON.parse(JSON.stringify(value));
        assert.deepEqual(decodeMeta(JSON.parse(encodeMeta(value))), expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a compact meta whose times are not four or five numbers', () => {
    for (const t of [[1, 2, 3], [1, 2, 3, 4, 5, 6], [1, '2', 3, 4], 'nope', null]) {
      assert.ok(decodeMeta({ t, a: 'sid' }) instanceof DecodeError, JSON.stringify(t));
    }
  });

  it('refuses every meta that breaks the strict check, naming the part', () => {
    for (const [name, meta] of Object.entries(badMetas(clock))) {
      const decoded = decodeRow({ version: 1, data: {}, meta });
      assert.ok(decoded instanceof DecodeError, name);
      assert.equal(decoded.part, 'meta', name);
    }
  });

  it('refuses a data that is not an object, a version that is not a safe integer and text that is not JSON', () => {
    const meta = sampleMeta(clock);
    const part = (decoded: unknown) => (decoded instanceof DecodeError ? decoded.part : 'decoded');
    assert.equal(part(decodeRow({ version: 1, data: [1, 2], meta })), 'data');
    assert.equal(part(decodeRow({ version: 1, data: '{"a":1}', meta })), 'data');
    assert.equal(part(decodeRow({ version: 1.5, data: {}, meta })), 'version');
    assert.equal(part(decodeRow({ version: '', data: {}, meta })), 'version');
    assert.equal(part(decodeRow({ version: null, data: {}, meta })), 'version');
    assert.equal(part(decodeRow({ version: 2 ** 53, data: {}, meta })), 'version');
    assert.equal(part(decodeRow('a row')), 'record');
    assert.equal(part(decodeRecordText('{"v":1,"m":')), 'record');
    assert.equal(part(decodeRecordText('[1]')), 'record');
    assert.deepEqual([decodeVersion(12n), decodeVersion('12'), decodeVersion(12)], [12, 12, 12]);
  });

  it('reports a decode error as one decode-error event naming the store, without the stored text', async () => {
    const events = await collectEvents(async () => {
      assert.equal(reported('somewhere', decodeRecordText('{"v":1,"m":{"secret-value":1},"d":{}}')), null);
      const entries = decodeEntries('somewhere', [
        { key: 'k1', meta: sampleMeta(clock) },
        { key: 'k2', meta: { createdAt: 'secret-value' } },
        'not a row',
      ]);
      assert.deepEqual(
        entries.map((entry) => entry.key),
        ['k1'],
      );
    });
    assert.deepEqual(events, Array(3).fill({ type: 'decode-error', store: 'somewhere' }));
  });
});
