/** Adapter conformance: the framework-neutral routes every harness mounts, and what they answer. */
import type { Session } from '../../core/types.js';

/** The session data the conformance routes use. */
export type ConformanceData = { count: number; n: number; note: string };

/** What a route answers; the harness sends it the framework's way. */
export interface RouteResult {
  /** @default 200 */
  status?: number;
  /** Sent as JSON (`application/json`); `undefined` sends `null`. */
  body?: unknown;
  /** Headers the app sets, e.g. its own `Set-Cookie`; set them the framework's usual way. */
  headers?: Record<string, string>;
}

/** A conformance route: gets the request's session, answers a `RouteResult` (or throws). */
export type RouteHandler = (session: Session<ConformanceData>) => Promise<RouteResult> | RouteResult;

/**
 * A streaming route: the harness answers 200 with `text/plain`, calls `handler` with a `write`
 * that sends one chunk at once (flushing the headers), then ends the response with the string the
 * handler resolves to.
 */
export type StreamingHandler = (
  session: Session<ConformanceData>,
  write: (chunk: string) => Promise<void>,
) => Promise<string>;

/** The routes a harness mounts. Every route answers `GET`. */
export interface ConformanceRoutes {
  /** Mount each `GET <path>` through the adapter, keyed by path (e.g. `"/count"`). */
  session: Readonly<Record<string, RouteHandler>>;
  /** Mount `GET <path>` OUTSIDE the session scope, the framework's usual way of skipping the adapter. */
  plain: { path: string; handler: () => RouteResult };
  /** Mount `GET <path>` through the adapter when the suite runs with `streaming: true`. */
  streaming: { path: string; handler: StreamingHandler };
}

function count(session: Session<ConformanceData>): number {
  return session.get('count') ?? 0;
}

function snapshot(session: Session<ConformanceData>): RouteResult {
  return {
    body: {
      count: session.get('count') ?? null,
      n: session.get('n') ?? null,
      note: session.get('note') ?? null,
      isNew: session.isNew,
    },
  };
}

/** The routes every harness mounts. */
export const conformanceRoutes: ConformanceRoutes = {
  session: {
    '/read': snapshot,
    '/count': (session) => {
      session.set('count', count(session) + 1);
      return snapshot(session);
    },
    '/note': (session) => {
      session.set('note', 'saved');
      return snapshot(session);
    },
    '/increment': async (session) => ({ body: { n: await session.update('n', (n) => (n ?? 0) + 1) } }),
    '/regenerate': async (session) => {
      await session.regenerate();
      return snapshot(session);
    },
    '/destroy': async (session) => {
      await session.destroy();
      return { body: { destroyed: true } };
    },
    '/app-cookie': (session) => {
      session.set('note', 'with app cookie');
      return { headers: { 'set-cookie': 'app=1; Path=/; HttpOnly' }, body: { ok: true } };
    },
    '/boom': (session) => {
      session.set('note', 'half-written');
      throw new Error('conformance route failure');
    },
  },
  plain: { path: '/plain', handler: () => ({ body: { plain: true } }) },
  streaming: {
    path: '/stream',
    handler: async (session, write) => {
      session.set('count', count(session) + 1);
      await write('first;');
      session.set('note', 'streamed');
      return 'last';
    },
  },
};
