/**
 * Public entry `sessionkit/node`: sessions for plain `node:http` (and `node:https`) servers.
 *
 * @module
 */
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Session, SessionDataShape, SessionManager } from '../core/types.js';
import { failResponse, holdResponse, requestInfo, statusOf } from './internal/node-http.js';

/** A request handler that also gets the request's session. */
export type SessionHandler<Data extends SessionDataShape> = (
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<Data>,
) => unknown;

/** Options of `withSession`. */
export interface WithSessionOptions {
  /**
   * Answers a request that failed: a store failure while loading or committing the session
   * (`ERR_SESSION_STORE`) or an error the handler threw. The response's headers have been cleared;
   * no session change was saved. Log the error here.
   * @default answers `error.status` for a `SessionError` (503 for store failures), 500 otherwise,
   * with the status text as a plain-text body
   */
  onError?: (error: unknown, req: IncomingMessage, res: ServerResponse) => unknown;
}

/** Answers `error` with its status and the status text, nothing else (no stack, no details). */
function answerError(error: unknown, res: ServerResponse): void {
  const status = statusOf(error);
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(STATUS_CODES[status] ?? 'Error');
}

/**
 * Wraps a `node:http` request handler: loads the session from the `Cookie` header, runs `handler`,
 * then commits the session before the response ends (its `Set-Cookie` values appended to the
 * app's, with `Cache-Control: no-store`). A handler error or a 5xx response commits nothing.
 * Serve routes that do not need a session without this wrapper: they then cost nothing.
 * @example
 * import { createServer } from 'node:http';
 * import { withSession } from 'sessionkit/node';
 * createServer(withSession(manager, async (req, res, session) => {
 *   session.set('visits', (session.get('visits') ?? 0) + 1);
 *   res.end(`visit ${session.get('visits')}`);
 * })).listen(3000);
 */
export function withSession<Data extends SessionDataShape>(
  manager: SessionManager<Data>,
  handler: SessionHandler<Data>,
  options: WithSessionOptions = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const onError = options.onError;

  function fail(error: unknown, req: IncomingMessage, res: ServerResponse): void {
    failResponse(res, error, () => {
      if (onError === undefined) {
        answerError(error, res);
        return;
      }
      Promise.resolve()
        .then(() => onError(error, req, res))
        .catch(() => res.destroy());
    });
  }

  /** A commit failure of a held response (`res.req` is the request node made it for). */
  function failHeld(error: unknown, res: ServerResponse): void {
    fail(error, res.req, res);
  }

  /** Serves one request; never rejects (what cannot be answered destroys the response). */
  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      let session: Session<Data>;
      try {
        session = await manager.load(req.headers.cookie, requestInfo(req));
      } catch (error) {
        fail(error, req, res);
        return;
      }
      const held = holdResponse(res, manager, session, failHeld, true);
      try {
        await handler(req, res, session);
      } catch (error) {
        held.abandon();
        fail(error, req, res);
        return;
      }
      held.release();
    } catch {
      res.destroy();
    }
  }

  return (req, res) => {
    void serve(req, res);
  };
}
