/** Peer: @fastify/secure-session (libsodium secretbox cookie) with a precomputed 32-byte key. */
import fastifySecureSession from '@fastify/secure-session';
import Fastify from 'fastify';
import { act, keyValueAccess, SECRET, serve, sessionOf, start } from './harness.js';

start(async () => {
  const app = Fastify({ logger: false });
  await app.register(fastifySecureSession, {
    key: Buffer.from(SECRET).subarray(0, 32),
    cookie: { path: '/', httpOnly: true, secure: false },
  });
  app.get('/*', async (request, reply) => {
    const session = sessionOf(request);
    const outcome = act(request.url, keyValueAccess(session));
    return reply.code(outcome.status).type('text/plain').send(outcome.body);
  });
  await app.ready();
  serve(app.server);
});
