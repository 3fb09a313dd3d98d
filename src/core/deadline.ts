/**
 * Bounding a store call in time (used by the manager's `storeTimeoutMs` and by `withTimeout`).
 */
import { SessionStoreError } from '../errors.js';

/** setTimeout fires at once for delays above 2^31 - 1 ms. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Runs `run` and rejects with `ERR_SESSION_STORE` if it has not settled after `timeoutMs`; a call
 * that settles later is ignored, its rejection included (no unhandled rejection). `onTimeout` runs
 * once when the deadline passes.
 */
export function withinDeadline<T>(
  store: string,
  operation: string,
  timeoutMs: number,
  run: () => Promise<T>,
  onTimeout?: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      onTimeout?.();
      reject(
        new SessionStoreError(store, operation, {
          message: `sessionkit: the ${store} store did not complete ${operation} within ${timeoutMs} ms`,
        }),
      );
    }, timeoutMs);
    const settle = (finish: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      finish();
    };
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (error) {
      settle(() => reject(error));
      return;
    }
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
