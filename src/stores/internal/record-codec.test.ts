import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectEvents } from '../../../test/fixtures/events.js';
import { badMetas } from '../../../test/stores/bad-records.js';
import { createFakeClock } from '../../testing/fake-clock.js';
import { sampleMeta, sampleRecord } from '../../testing/records.js';
import {
  DecodeError,
  decodeEntries,
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

  it('reads the joined hash shape {"v","m","d"} and the whole-record shape {"version","data","meta"}', () => {
    const record = sampleRecord(clock, { a: 1 });
    const joined = `{"v":1,"m":${JSON.stringify(record.meta)},"d":{"a":1}}`;
    assert.deepEqual(decodeRecordText(joined), record);
    assert.deepEqual(decodeRecordText(JSON.stringify(record)), record);
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
