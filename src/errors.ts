/**
 * Every error sessionkit throws. Callers switch on `code`, never on message text; no message or
 * property ever holds a token, cookie value or secret.
 *
 * @module
 */

/** Stable error codes. */
export type SessionErrorCode =
  | 'ERR_SESSION_CONFIG'
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_TOO_LARGE'
  | 'ERR_SESSION_VALUE'
  | 'ERR_SESSION_STATE'
  | 'ERR_SESSION_CONFLICT'
  | 'ERR_SESSION_LIMIT';

/**
 * Base class of every sessionkit error. Each subclass fixes `C` to its literal code, so a check of
 * `code` on an {@link AnySessionError} narrows to that subclass and its properties.
 */
export class SessionError<C extends SessionErrorCode = SessionErrorCode> extends Error {
  /** Stable machine-readable code. */
  readonly code: C;
  /** HTTP status an adapter sends for this error when the app does not handle it. */
  readonly status: number;

  constructor(code: C, message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** A configuration mistake, thrown at construction. `option` names the offending option. */
export class SessionConfigError extends SessionError<'ERR_SESSION_CONFIG'> {
  readonly option: string;
  constructor(option: string, message: string) {
    super('ERR_SESSION_CONFIG', `sessionkit: invalid option "${option}": ${message}`, 500);
    this.option = option;
  }
}

/** The store failed (unreachable, timed out, refused a write). Adapters answer 503. */
export class SessionStoreError extends SessionError<'ERR_SESSION_STORE'> {
  /** The store operation that failed, e.g. `"get"`. */
  readonly operation: string;
  /** The store's `kind`, e.g. `"redis"`. */
  readonly store: string;
  constructor(store: string, operation: string, options?: { cause?: unknown; message?: string }) {
    super(
      'ERR_SESSION_STORE',
      options?.message ?? `sessionkit: the ${store} store failed during ${operation}`,
      503,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.operation = operation;
    this.store = store;
  }
}

/** A cookie-only session does not fit in the configured number of cookies. */
export class SessionTooLargeError extends SessionError<'ERR_SESSION_TOO_LARGE'> {
  /** Bytes the sealed session needs. */
  readonly size: number;
  /** Bytes available under the configured cookie limits. */
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(
      'ERR_SESSION_TOO_LARGE',
      `sessionkit: the sealed session needs ${size} bytes but the cookies allow ${limit}`,
      413,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** A value given to `session.set()` cannot be stored. `key` names the session key. */
export class SessionValueError extends SessionError<'ERR_SESSION_VALUE'> {
  readonly key: string;
  constructor(key: string, reason: string) {
    super('ERR_SESSION_VALUE', `sessionkit: cannot store session key "${key}": ${reason}`, 500);
    this.key = key;
  }
}

/**
 * The session was used in a way its state does not allow: written after `destroy()` in this request
 * (500, a bug in the app), or revoked or replaced by a parallel request of the same session while this
 * one wrote to it (409: `update()`, `regenerate()` and `login()` were not applied).
 */
export class SessionStateError extends SessionError<'ERR_SESSION_STATE'> {
  constructor(message: string, status: 409 | 500 = 500) {
    super('ERR_SESSION_STATE', `sessionkit: ${message}`, status);
  }
}

/** `update()` could not win its compare-and-set after the configured number of attempts. */
export class SessionConflictError extends SessionError<'ERR_SESSION_CONFLICT'> {
  readonly key: string;
  constructor(key: string, attempts: number) {
    super(
      'ERR_SESSION_CONFLICT',
      `sessionkit: update of key "${key}" lost ${attempts} compare-and-set attempts in a row`,
      503,
    );
    this.key = key;
  }
}

/** `login()` was refused because the user already has `maxSessionsPerUser` sessions (policy "reject"). */
export class SessionLimitError extends SessionError<'ERR_SESSION_LIMIT'> {
  readonly limit: number;
  constructor(limit: number) {
    super('ERR_SESSION_LIMIT', `sessionkit: the user already has the maximum of ${limit} sessions`, 403);
    this.limit = limit;
  }
}

/**
 * Every error sessionkit throws, as a union discriminated by `code`.
 *
 * @example
 * ```ts
 * if (isSessionError(e) && e.code === 'ERR_SESSION_STORE') console.log(e.store, e.operation);
 * ```
 */
export type AnySessionError =
  | SessionConfigError
  | SessionStoreError
  | SessionTooLargeError
  | SessionValueError
  | SessionStateError
  | SessionConflictError
  | SessionLimitError;

const errorClasses = [
  SessionConfigError,
  SessionStoreError,
  SessionTooLargeError,
  SessionValueError,
  SessionStateError,
  SessionConflictError,
  SessionLimitError,
];

/** True when `error` is a sessionkit error (any code); narrows to {@link AnySessionError}. */
export function isSessionError(error: unknown): error is AnySessionError {
  return errorClasses.some((errorClass) => error instanceof errorClass);
}
