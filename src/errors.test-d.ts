/** Type tests (compiled by `tsc`, never run): a check of `code` narrows a sessionkit error to its class. */
import { type AnySessionError, isSessionError, type SessionErrorCode } from './index.js';

export function narrowsByCode(e: unknown): void {
  if (isSessionError(e) && e.code === 'ERR_SESSION_STORE') {
    const operation: string = e.operation;
    const store: string = e.store;
    void operation;
    void store;
  }
  if (isSessionError(e) && e.code === 'ERR_SESSION_TOO_LARGE') {
    const sizes: [number, number] = [e.size, e.limit];
    void sizes;
  }
  if (isSessionError(e) && e.code === 'ERR_SESSION_CONFIG') {
    const option: string = e.option;
    // @ts-expect-error a config error has no operation: the check narrowed to SessionConfigError
    void e.operation;
    void option;
  }
  if (isSessionError(e)) {
    const status: number = e.status;
    void status;
    // @ts-expect-error without a check of code, only the common properties are known
    void e.operation;
    switch (e.code) {
      case 'ERR_SESSION_VALUE':
      case 'ERR_SESSION_CONFLICT':
        void e.key;
        break;
      case 'ERR_SESSION_LIMIT':
        void e.limit;
        break;
      default:
        break;
    }
  }
}

/** Every code has its class in the union (a new code without one fails here). */
export const everyCodeHasAClass: [Exclude<SessionErrorCode, AnySessionError['code']>] extends [never]
  ? true
  : false = true;
