// The app every runtime of the matrix serves: sessionkit/fetch's withSession over the store named
// by `kind` ("memory", "cookie" for cookie-only sessions, "redis" through ioredis). sessionkit is
// imported by package name (the built dist/, as users import it).
import { createSessionManager } from 'sessionkit';
import { createCookieSessionManager } from 'sessionkit/cookie-session';
import { withSession } from 'sessionkit/fetch';
import { createMemoryStore } from 'sessionkit/stores/memory';
import { createRedisStore } from 'sessionkit/stores/redis';

export const SECRET = 'runtime-matrix-secret-0123456789-abcdefghijklmnop';

/** A Fetch API handler; `redis` is an ioredis client (only for kind "redis"). */
export function createApp(kind, { redis, keyPrefix } = {}) {
  const manager = managerFor(kind, redis, keyPrefix);
  const routes = {
    '/read': (session) => session,
    '/count': (session) => session.set('count', (session.get('count') ?? 0) + 1),
    '/increment': (session) => session.update('n', (n) => (n ?? 0) + 1),
    '/regenerate': (session) => session.regenerate(),
    '/destroy': (session) => session.destroy(),
  };
  const sessioned = withSession(manager, async (request, session) => {
    const route = routes[new URL(request.url).pathname];
    if (route === undefined) return new Response('not found', { status: 404 });
    await route(session);
    return Response.json({
      count: session.get('count') ?? null,
      n: session.get('n') ?? null,
      isNew: session.isNew,
      store: manager.storeKind,
    });
  });
  return { fetch: sessioned, close: () => manager.close?.() };
}

function managerFor(kind, redis, keyPrefix) {
  // The driver talks to the app over plain HTTP and announces HTTPS as a proxy would.
  const common = { trustProxy: true };
  if (kind === 'memory') return createSessionManager({ store: createMemoryStore(), ...common });
  if (kind === 'cookie') return createCookieSessionManager({ secrets: [SECRET], ...common });
  if (kind === 'redis')
    return createSessionManager({ store: createRedisStore(redis, { keyPrefix }), ...common });
  throw new Error(`unknown store kind ${kind}`);
}
