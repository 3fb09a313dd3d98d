/**
 * Peer: @fastify/session with its default MemoryStore and documented defaults, except
 * saveUninitialized: false (the production recommendation) and a non-Secure cookie for plain HTTP.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import Fastify from 'fastify';
import { act, countMethods, keyValueAccess, ROUTES, SECRET, serve, sessionOf, start } from './harness.js';

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
