/**
 * Public entry `sessionkit/fastify`: a Fastify 5 plugin that puts the session at `request.session`.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Session, SessionDataShape, SessionManager, UntypedSessionData } from '../core/types.js';
import { SessionConfigError, SessionStateError } from '../errors.js';
import { requestInfo } from './internal/node-http.js';

/**
 * Declaration-merging slot that types `request.session`. Give it a `data` member with your session
 * data type (a `type` alias or object type, not an `interface`):
 * `declare module 'sessionkit/fastify' { interface FastifySessionTypes { data: { cart: string[] } } }`.
 */
// biome-ignore lint/suspicious/noEmptyInterface: users fill it in by declaration merging.
export interface FastifySessionTypes {}

/** The session data type `Types` declares (its `data` member), or any JSON object. */
export type FastifySessionDataOf<Types> = Types extends {
  /** The session data type given by the app. */
  data: infer D extends SessionDataShape;
}
  ? D
  : UntypedSessionData;

/** The data type of `request.session`: `FastifySessionTypes['data']`, or any JSON object by default. */
export type FastifySessionData = FastifySessionDataOf<FastifySessionTypes>;

/** The type of `request.session`. */
export type FastifyRequestSession = Session<FastifySessionData>;

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The request's session (sessionkit). Throws `ERR_SESSION_STATE` on a route that opted out with
     * `config.session: false`. Typed by `FastifySessionTypes`; for several apps with different data in
     * one program, read it as `request.getDecorator<Session<MyData>>('session')`.
     */
    session: FastifyRequestSession;
  }
  interface FastifyContextConfig {
    /** `false` opts the route out of sessionkit: no store I/O, no `request.session`. @default true */
    session?: boolean;
  }
}

/**
 * Options of `sessionPlugin`. Once `FastifySessionTypes` declares the data type, the manager must be
 * one for that data, so `request.session` cannot lie about it.
 */
export interface SessionPluginOptions<Data extends SessionDataShape = FastifySessionData> {
  /** The manager that loads and saves the sessions. */
  manager: FastifySessionTypes extends { data: SessionDataShape }
    ? SessionManager<FastifySessionData>
    : SessionManager<Data>;
}

async function plugin<Data extends SessionDataShape>(
  fastify: FastifyInstance,
  options: SessionPluginOptions<Data>,
): Promise<void> {
  const manager = options.manager;
  if (typeof manager?.load !== 'function' || typeof manager.commit !== 'function') {
    throw new SessionConfigError('manager', 'must be a SessionManager (createSessionManager, …)');
  }
  install(fastify, manager);
}

// Per-request state lives in request fields declared with `decorateRequest`, which Fastify sets in
// its request constructor, so every request keeps one shape; a WeakMap entry per request cost more
// than the rest of the adapter (measured with bench/profile.ts).
const SESSION: unique symbol = Symbol('sessionkit.session');
/** Not to be saved again: committed already, or failed in a handler. */
const SETTLED: unique symbol = Symbol('sessionkit.settled');

type SessionRequest<Data extends SessionDataShape> = FastifyRequest & {
  [SESSION]?: Session<Data> | null;
  [SETTLED]?: boolean;
};

function install<Data extends SessionDataShape>(
  fastify: FastifyInstance,
  manager: SessionManager<Data>,
): void {
  fastify.decorateRequest(SESSION, null);
  fastify.decorateRequest(SETTLED, false);
  // The property's static type comes from FastifySessionTypes (checked against the manager by
  // SessionPluginOptions when declared), so the getter is typed by the manager, not by the property.
  fastify.decorateRequest<Session<Data>, string>('session', {
    getter(this: SessionRequest<Data>) {
      const session = this[SESSION];
      if (session == null) {
        throw new SessionStateError(
          'request.session is not loaded: the route has config.session: false, or this runs before the plugin’s onRequest hook',
        );
      }
      return session;
    },
  });

  fastify.addHook('onRequest', async (request: SessionRequest<Data>) => {
    if (request.routeOptions.config.session === false) return;
    request[SESSION] = await manager.load(request.headers.cookie, requestInfo(request.raw));
  });

  fastify.addHook('onError', async (request: SessionRequest<Data>) => {
    request[SETTLED] = true;
  });

  // onSend runs before anything is written, and again for the error reply if it throws.
  fastify.addHook('onSend', async (request: SessionRequest<Data>, reply: FastifyReply, payload: unknown) => {
    const session = request[SESSION];
    if (session == null || request[SETTLED] === true) return payload;
    request[SETTLED] = true;
    // A 5xx reply is a failed request, like a thrown error: its half-done changes are not saved.
    if (reply.statusCode >= 500) return payload;
    let cookies: string[];
    try {
      cookies = await manager.commit(session);
    } catch (error) {
      // The reply is void, the app's headers with it (its cookies, a redirect): the error handler
      // answers instead.
      for (const name of Object.keys(reply.getHeaders())) reply.removeHeader(name);
      throw error;
    }
    if (cookies.length > 0) {
      // SEC-16: a response carrying a session cookie must never be stored by a cache.
      reply.header('cache-control', 'no-store');
      // Fastify appends every `set-cookie` value to those already set.
      for (const value of cookies) reply.header('set-cookie', value);
    }
    return payload;
  });
}

/**
 * The Fastify plugin: `app.register(sessionPlugin, { manager })`. It loads the session in an
 * `onRequest` hook, exposes it as `request.session`, and saves it in `onSend` (before the reply is
 * written), appending its `Set-Cookie` values and `Cache-Control: no-store`. A handler error (or a
 * 5xx reply) saves nothing; session errors go to Fastify's error handler with their `status` (503
 * for a store failure). A route with `config: { session: false }`, or registered outside the context
 * the plugin was registered in, does no session work at all. The plugin is not encapsulated (like
 * `fastify-plugin`), so its hooks cover the context it is registered in and that context's children.
 * A hijacked reply (`reply.hijack()`) skips `onSend`: its session is not saved.
 * @example
 * import Fastify from 'fastify';
 * import { sessionPlugin } from 'sessionkit/fastify';
 * declare module 'sessionkit/fastify' {
 *   interface FastifySessionTypes { data: { visits: number } }
 * }
 * const app = Fastify();
 * await app.register(sessionPlugin, { manager: sessions });
 * app.get('/', async (request) => {
 *   request.session.set('visits', (request.session.get('visits') ?? 0) + 1);
 *   return { visits: request.session.get('visits') };
 * });
 * app.get('/health', { config: { session: false } }, async () => 'ok');
 */
export const sessionPlugin = Object.defineProperties(plugin, {
  // What fastify-plugin sets: no encapsulation, a name, and the supported Fastify versions.
  [Symbol.for('skip-override')]: { value: true },
  [Symbol.for('fastify.display-name')]: { value: 'sessionkit' },
  [Symbol.for('plugin-meta')]: { value: { name: 'sessionkit', fastify: '5.x' } },
});
