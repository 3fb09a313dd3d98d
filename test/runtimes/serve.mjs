// Serves the matrix app with the runtime's own server (Bun.serve, Deno.serve, node:http) on
// 127.0.0.1, a free port, and prints "listening <port>". STORE picks the store ("memory",
// "cookie", "redis"); for redis, REDIS_PORT and KEY_PREFIX.
import process from 'node:process';
import { createApp } from './app.mjs';
import { fetchServer } from './node-bridge.mjs';

const kind = process.env.STORE ?? 'memory';
let redis;
if (kind === 'redis') {
  const { Redis } = await import('ioredis');
  redis = new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT ?? 6379), lazyConnect: false });
}
const app = createApp(kind, { redis, keyPrefix: process.env.KEY_PREFIX });

if (globalThis.Bun) {
  const server = globalThis.Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch });
  console.log(`listening ${server.port}`);
} else if (globalThis.Deno) {
  globalThis.Deno.serve(
    { hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) },
    app.fetch,
  );
} else {
  const server = fetchServer(app.fetch);
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
}
