/** sessionkit on Fastify (`sessionPlugin` → `request.session`), store from BENCH_STORE. */
import Fastify from 'fastify';
import type { FastifySessionData } from 'sessionkit/fastify';
import { act, keyValueAccess, ROUTES, serve, sessionOf, start } from './harness.js';
import { createBenchManager } from './sessionkit-manager.js';

start(async () => {
  const { sessionPlugin } = await import('sessionkit/fastify');
  // Typed by the program-wide FastifySessionTypes declaration (sessionkit's type tests declare one).
  const { manager, close } = await createBenchManager<FastifySessionData>();
  const app = Fastify({ logger: false });
  await app.register(sessionPlugin, { manager });
  for (const path of ROUTES) {
    app.get(path, async (request, reply) => {
      const outcome = act(request.url, keyValueAccess(sessionOf(request)));
      reply.code(outcome.status).type('text/plain');
      return outcome.body;
    });
  }
  await app.ready();
  serve(app.server, close);
});
