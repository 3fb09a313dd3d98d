/** Peer: @fastify/secure-session (libsodium secretbox cookie) with a precomputed 32-byte key. */
import fastifySecureSession from '@fastify/secure-session';
import Fastify from 'fastify';
import { act, keyValueAccess, ROUTES, SECRET, serve, sessionOf, start } from './harness.js';

start(async () => {
  const app = Fastify({ logger: false });
  await app.register(fastifySecureSession, {
    key: Buffer.from(SECRET).subarray(0, 32),
    cookie: { path: '/', httpOnly: true, secure: false },
  });
  for (const path of ROUTES) {
    app.get(path, async (request, reply) => {
      const outcome = act(request.url, keyValueAccess(sessionOf(request)));
      reply.code(outcome.status).type('text/plain');
      return outcome.body;
    });
  }
  await app.ready();
  serve(app.server);
});
