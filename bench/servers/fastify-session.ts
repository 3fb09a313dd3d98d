/**
 * Peer: @fastify/session with its default MemoryStore and documented defaults, except
 * saveUninitialized: false (the production recommendation) and a non-Secure cookie for plain HTTP.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify from 'fastify';
import { act, countMethods, keyValueAccess, SECRET, serve, sessionOf, start } from './harness.js';

start(async () => {
  const app = Fastify({ logger: false });
  const store = countMethods(new fastifySession.MemoryStore(), 'memory:', ['get', 'set', 'destroy']);
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    secret: SECRET,
    store,
    saveUninitialized: false,
    cookie: { secure: false },
  });
  app.get('/*', async (request, reply) => {
    const session = sessionOf(request);
    const outcome = act(request.url, keyValueAccess(session));
    return reply.code(outcome.status).type('text/plain').send(outcome.body);
  });
  await app.ready();
  serve(app.server);
});
