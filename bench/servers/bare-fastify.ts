/** The limit for Fastify contenders: the same routes, no sessions. */
import Fastify from 'fastify';
import { serve, start } from './harness.js';

start(async () => {
  const app = Fastify({ logger: false });
  for (const path of ['/read', '/write', '/create']) app.get(path, async () => '0');
  await app.ready();
  serve(app.server);
});
