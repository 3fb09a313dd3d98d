import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { findBinary } from './binaries.js';
import { type RedisServer, startRedisServer } from './redis.js';
import { loudSkip, reachable } from './shared.js';

const skip =
  findBinary('redis-server') === undefined
    ? loudSkip('redis-server is not installed', 'install it to run this suite', 'it')
    : false;

/** A client that fails at once instead of reconnecting or queueing while the server is away. */
function connect(server: RedisServer): Redis {
  const client = new Redis({
    port: server.port,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    lazyConnect: true,
  });
  client.on('error', () => undefined);
  return client;
}

async function valueAfterKill(persistent: boolean): Promise<string | null> {
  const server = await startRedisServer([], { persistent });
  try {
    const before = connect(server);
    await before.connect();
    await before.set('kept', 'yes');
    before.disconnect();
    await server.kill();
    assert.equal(await reachable(server.port), false);
    await server.start();
    const afterRestart = connect(server);
    await afterRestart.connect();
    const value = await afterRestart.get('kept');
    afterRestart.disconnect();
    return value;
  } finally {
    await server.close();
  }
}

describe('startRedisServer', { skip }, () => {
  const servers: RedisServer[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  it('applies extra arguments after its own', async () => {
    const server = await startRedisServer(['--maxmemory', '2mb', '--maxmemory-policy', 'allkeys-lru']);
    servers.push(server);
    const client = connect(server);
    await client.connect();
    assert.deepEqual(await client.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'allkeys-lru']);
    assert.deepEqual(await client.config('GET', 'appendonly'), ['appendonly', 'no']);
    client.disconnect();
  });

  it('keeps acknowledged writes across a SIGKILL when persistent, and loses them when not', async () => {
    assert.equal(await valueAfterKill(true), 'yes');
    assert.equal(await valueAfterKill(false), null);
  });

  it('freezes with its connections open and answers again once thawed', async () => {
    const server = await startRedisServer();
    servers.push(server);
    const client = connect(server);
    await client.connect();
    server.freeze();
    const reply = client.ping();
    const first = await Promise.race([reply, new Promise((resolve) => setTimeout(resolve, 300, 'waiting'))]);
    assert.equal(first, 'waiting');
    server.thaw();
    assert.equal(await reply, 'PONG');
    client.disconnect();
  });
});
