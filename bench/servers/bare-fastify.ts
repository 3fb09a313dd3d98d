/** The limit for Fastify contenders: the same routes, no sessions. */
import Fastify from 'fastify';
import { ROUTES, serve, start } from './harness.js';

start(async () => {
  const app = Fastify({ logger: false });
  // Answered the way the session servers answer (status and type set, the body returned), so the
  // ratio measures the session work only.
  for (const path of ROUTES) {
    app.get(path, async (_request, reply) => {
      reply.code(200).type('text/plain');
      return '0';
    });
  }
  await app.ready();
  serve(app.server);
});
