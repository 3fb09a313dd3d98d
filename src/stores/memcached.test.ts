import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectEvents } from '../../test/fixtures/events.js';
import { assertBadMetasRefused, assertLongMetaRead } from '../../test/stores/bad-records.js';
import { type TestMemcachedClient, testMemcachedClient } from '../../tools/memcached-server.js';
import { memcachedCommand, serviceSkip, services } from '../../tools/services.js';
import { randomString } from '../core/crypto.js';
import { isSessionError } from '../errors.js';
import {
  createFakeClock,
  describeStoreConformance,
  randomKey,
  sampleMeta,
  sampleRecord,
} from '../testing/index.js';
import { createMemcachedStore, type MemcachedLike } from './memcached.js';

const { host, port } = services.memcached;
const skip = await serviceSkip('memcached', port, host);
const DAY_MS = 24 * 60 * 60 * 1000;
const connect = (address = `${host}:${port}`, timeoutSeconds = 0.5) =>
  testMemcachedClient(address, timeoutSeconds);

const uniquePrefix = () => `sk-test:${randomString(6)}:`;

describeStoreConformance(
  'memcached',
  async (clock) => {
    const client = connect();
    return {
      store: createMemcachedStore(client, { clock, keyPrefix: uniquePrefix() }),
      clock,
      cleanup: async () => client.close(),
    };
  },
  { skip },
);

/** A real client that lets `beforeCas` run just before every compare-and-set reaches the server. */
function interceptCas(inner: MemcachedLike, beforeCas: () => Promise<void>): MemcachedLike {
  return {
    get seq() {
      return inner.seq;
    },
    incrSeq: () => inner.incrSeq(),
    perform(key, request, seq, callback, retries) {
      const isCas = request.readUInt8(1) === 0x01 && request.readBigUInt64BE(16) !== 0n;
      if (!isCas) return inner.perform(key, request, seq, callback, retries);
      void beforeCas().then(() => inner.perform(key, request, seq, callback, retries));
    },
  };
}

describe('createMemcachedStore', { skip }, () => {
  let client: TestMemcachedClient;
  before(() => {
    client = connect();
  });
  after(() => client.close());

  it('keeps a session with a 31-day expiry readable right after set, its TTL sent as an absolute time (SEC-46)', async () => {
    const clock = createFakeClock(Date.now());
    const keyPrefix = uniquePrefix();
    const store = createMemcachedStore(client, { clock, keyPrefix });
    const key = randomKey();
    const record = sampleRecord(clock, { long: true }, { expiresAt: clock.now() + 31 * DAY_MS });
    await store.set(key, record);
    assert.deepEqual(await store.get(key), record);
    const reply = await memcachedCommand(port, `mg ${keyPrefix}${key} t`);
    const ttlSeconds = Number(/^HD t(\d+)$/.exec(reply)?.[1]);
    assert.ok(Math.abs(ttlSeconds - 31 * 86_400) <= 5, `memcached reports a TTL of ${reply}`);
  });

  it('sends a TTL of 30 days or less as relative seconds', async () => {
    const clock = createFakeClock(Date.UTC(2040, 0, 1));
    const keyPrefix = uniquePrefix();
    const store = createMemcachedStore(client, { clock, keyPrefix });
    const key = randomKey();
    await store.set(key, sampleRecord(clock, {}, { expiresAt: clock.now() + 29 * DAY_MS }));
    const reply = await memcachedCommand(port, `mg ${keyPrefix}${key} t`);
    assert.ok(Math.abs(Number(/^HD t(\d+)$/.exec(reply)?.[1]) - 29 * 86_400) <= 2, reply);
    clock.advanceSeconds(3600);
    const patched = await store.patch(key, { set: {}, delete: [], meta: sampleMeta(clock) });
    assert.equal(patched.status, 'ok');
    const after = await memcachedCommand(port, `mg ${keyPrefix}${key} t`);
    assert.ok(Math.abs(Number(/^HD t(\d+)$/.exec(after)?.[1]) - 1800) <= 2, after);
  });

  it('reads an undecodable value as null and publishes decode-error without the key', async () => {
    const keyPrefix = uniquePrefix();
    const store = createMemcachedStore(client, { keyPrefix });
    const [garbled, wrongShape] = [randomKey(), randomKey()];
    await client.memjs.set(`${keyPrefix}${garbled}`, '{"version":1,"data":', { expires: 60 });
    await client.memjs.set(`${keyPrefix}${wrongShape}`, '{"version":"1","data":{},"meta":{}}', {
      expires: 60,
    });
    const events = await collectEvents(async () => {
      assert.equal(await store.get(garbled), null);
      assert.equal(await store.get(wrongShape), null);
      assert.deepEqual(
        await store.patch(garbled, { set: {}, delete: [], meta: sampleMeta(createFakeClock()) }),
        {
          status: 'missing',
        },
      );
    });
    const decodeErrors = events.filter((event) => event.type === 'decode-error');
    assert.equal(decodeErrors.length, 3);
    assert.deepEqual(decodeErrors[0], { type: 'decode-error', store: 'memcached' });
  });

  it('reads a record whose meta lacks idleExpiresAt as null, so it cannot outlive the idle timeout', async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const store = createMemcachedStore(client, { clock, keyPrefix });
    const key = randomKey();
    const { idleExpiresAt: _dropped, ...meta } = sampleMeta(clock);
    await client.memjs.set(`${keyPrefix}${key}`, JSON.stringify({ version: 1, data: { n: 1 }, meta }), {
      expires: 60,
    });
    const events = await collectEvents(async () => {
      assert.equal(await store.get(key), null);
    });
    assert.deepEqual(
      events.filter((event) => event.type === 'decode-error'),
      [{ type: 'decode-error', store: 'memcached' }],
    );
  });

  it('reads and patches a record in the layout written before ({"version","data","meta"}, long meta)', async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const store = createMemcachedStore(client, { clock, keyPrefix });
    await assertLongMetaRead(store, clock, async (key, meta) => {
      const value = `{"version":1,"data":{"a":1},"meta":${meta}}`;
      await client.memjs.set(`${keyPrefix}${key}`, value, { expires: 60 });
    });
  });

  it('reads a record whose meta breaks the strict check as null', async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const store = createMemcachedStore(client, { clock, keyPrefix });
    await assertBadMetasRefused(store, 'memcached', clock, async (key, meta) => {
      const value = `{"version":1,"data":{"a":1},"meta":${meta}}`;
      await client.memjs.set(`${keyPrefix}${key}`, value, { expires: 60 });
    });
  });

  it('patch retries after losing a compare-and-set and keeps both writes', async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const rival = createMemcachedStore(client, { clock, keyPrefix });
    const key = randomKey();
    await rival.set(key, sampleRecord(clock, { n: 0 }));
    let interleaved = 0;
    const store = createMemcachedStore(
      interceptCas(client, async () => {
        if (interleaved++ === 0)
          await rival.patch(key, { set: { rival: true }, delete: [], meta: sampleMeta(clock) });
      }),
      { clock, keyPrefix },
    );
    const result = await store.patch(key, { set: { mine: true }, delete: [], meta: sampleMeta(clock) });
    assert.equal(interleaved, 2);
    assert.deepEqual(result, {
      status: 'ok',
      record: { data: { n: 0, rival: true, mine: true }, version: 3, meta: sampleMeta(clock) },
    });
    assert.deepEqual(await rival.get(key), result.status === 'ok' ? result.record : null);
  });

  it('rejects with ERR_SESSION_STORE once maxCasAttempts compare-and-sets are lost, changing nothing', async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const rival = createMemcachedStore(client, { clock, keyPrefix });
    const key = randomKey();
    await rival.set(key, sampleRecord(clock, { n: 0 }));
    const meta = sampleMeta(clock);
    const store = createMemcachedStore(
      interceptCas(client, async () => {
        await rival.patch(key, { set: {}, delete: [], meta });
      }),
      { clock, keyPrefix, maxCasAttempts: 3 },
    );
    await assert.rejects(store.patch(key, { set: { lost: true }, delete: [], meta }), (error) => {
      assert.ok(isSessionError(error));
      assert.equal(error.code, 'ERR_SESSION_STORE');
      assert.match(error.message, /lost 3 compare-and-set attempts/);
      return true;
    });
    assert.deepEqual(await rival.get(key), { data: { n: 0 }, version: 4, meta });
  });

  it('keeps every write when two clients patch one session concurrently', async () => {
    const clock = createFakeClock();
    const keyPrefix = uniquePrefix();
    const other = connect();
    try {
      const stores = [
        createMemcachedStore(client, { clock, keyPrefix }),
        createMemcachedStore(other, { clock, keyPrefix }),
      ];
      const key = randomKey();
      const meta = sampleMeta(clock);
      await stores[0]?.set(key, sampleRecord(clock, {}));
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          stores[i % 2]?.patch(key, { set: { [`k${i}`]: i }, delete: [], meta }),
        ),
      );
      const expected = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
      assert.deepEqual(await stores[1]?.get(key), { data: expected, version: 101, meta });
    } finally {
      other.close();
    }
  });

  it('rejects a record above the item size limit instead of dropping it silently', async () => {
    const clock = createFakeClock();
    const store = createMemcachedStore(client, { clock, keyPrefix: uniquePrefix() });
    const key = randomKey();
    await assert.rejects(store.set(key, sampleRecord(clock, { blob: 'x'.repeat(2 * 1024 * 1024) })), {
      code: 'ERR_SESSION_STORE',
    });
    assert.equal(await store.get(key), null);
  });

  it('is created without a reachable server, and its operations then reject with ERR_SESSION_STORE', async () => {
    const down = connect('127.0.0.1:1', 0.2);
    try {
      const store = createMemcachedStore(down);
      await assert.rejects(store.get(randomKey()), {
        code: 'ERR_SESSION_STORE',
        store: 'memcached',
        operation: 'get',
      });
      await assert.rejects(store.set(randomKey(), sampleRecord(createFakeClock())), {
        code: 'ERR_SESSION_STORE',
      });
    } finally {
      down.close();
    }
  });

  it('rejects invalid options with ERR_SESSION_CONFIG naming the option', () => {
    assert.throws(() => createMemcachedStore(client, { keyPrefix: 'has space' }), { option: 'keyPrefix' });
    assert.throws(() => createMemcachedStore(client, { keyPrefix: 'x'.repeat(201) }), {
      option: 'keyPrefix',
    });
    assert.throws(() => createMemcachedStore(client, { maxCasAttempts: 0 }), { option: 'maxCasAttempts' });
    assert.throws(() => createMemcachedStore(client, { maxCasAttempts: 1.5 }), {
      code: 'ERR_SESSION_CONFIG',
    });
  });
});
