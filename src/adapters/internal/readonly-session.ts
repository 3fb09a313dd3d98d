/**
 * A read-only view of a session, for places where a framework cannot send cookies (a Next.js
 * Server Component render, a proxy that only looks): reading works, every change throws.
 */
import type { Session, SessionDataShape, UntypedSessionData } from '../../core/types.js';
import { SessionStateError } from '../../errors.js';

/** The `Session` members that change nothing. */
export type ReadonlySession<Data extends SessionDataShape = UntypedSessionData> = Pick<
  Session<Data>,
  | 'id'
  | 'isNew'
  | 'userId'
  | 'authenticatedAt'
  | 'createdAt'
  | 'expiresAt'
  | 'idleExpiresAt'
  | 'absoluteExpiresAt'
  | 'version'
  | 'rotations'
  | 'get'
  | 'has'
  | 'keys'
  | 'verifyCsrfToken'
  | 'authAgeSeconds'
>;

/** The `Session` members that change the session; on the view they throw `ERR_SESSION_STATE`. */
const CHANGES = [
  'set',
  'delete',
  'update',
  'flash',
  'consumeFlash',
  'csrfToken',
  'regenerate',
  'login',
  'destroy',
] as const;

/**
 * `session` seen through a view that only reads (live: it follows the session). Calling a method
 * that changes the session (JavaScript callers; TypeScript sees none) throws a `SessionStateError`
 * whose message is `reason`.
 */
export function readonlySession<Data extends SessionDataShape>(
  session: Session<Data>,
  reason: string,
): ReadonlySession<Data> {
  const view: ReadonlySession<Data> = {
    get id() {
      return session.id;
    },
    get isNew() {
      return session.isNew;
    },
    get userId() {
      return session.userId;
    },
    get authenticatedAt() {
      return session.authenticatedAt;
    },
    get createdAt() {
      return session.createdAt;
    },
    get expiresAt() {
      return session.expiresAt;
    },
    get idleExpiresAt() {
      return session.idleExpiresAt;
    },
    get absoluteExpiresAt() {
      return session.absoluteExpiresAt;
    },
    get version() {
      return session.version;
    },
    get rotations() {
      return session.rotations;
    },
    get: (key) => session.get(key),
    has: (key) => session.has(key),
    keys: () => session.keys(),
    verifyCsrfToken: (token) => session.verifyCsrfToken(token),
    authAgeSeconds: () => session.authAgeSeconds(),
  };
  for (const name of CHANGES) {
    Object.defineProperty(view, name, {
      value: () => {
        throw new SessionStateError(`${name}() ${reason}`);
      },
    });
  }
  return Object.freeze(view);
}
