import { Client } from 'memjs';
import type { MemcachedLike } from './memcached.js';
import { createMemcachedStore } from './memcached.js';

// A real memjs client fits the store's structural contract.
const client: MemcachedLike = Client.create('127.0.0.1:11211');
createMemcachedStore(Client.create('127.0.0.1:11211', { timeout: 0.2 }), { keyPrefix: 'app:' });

// @ts-expect-error a client without perform() does not fit
createMemcachedStore({ seq: 0, incrSeq() {} });

// @ts-expect-error keyPrefix is a string
createMemcachedStore(client, { keyPrefix: 1 });
