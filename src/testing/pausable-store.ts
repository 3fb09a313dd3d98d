import type { SessionPatch, SessionRecord, SessionStore } from '../stores/types.js';
import type { StoreOperation } from './instrumented-store.js';

/** One store call as a pause matcher sees it (the arguments the call was made with). */
export interface StoreCall {
  operation: StoreOperation;
  /** The store key (`get`, `set`, `patch`, `destroy`). */
  key?: string;
  /** The record of a `set`. */
  record?: SessionRecord;
  /** The patch of a `patch`. */
  patch?: SessionPatch;
  /** The user of `listByUser` / `destroyByUser`. */
  userId?: string;
}

/** A pause armed on one future store call. */
export interface StorePause {
  /** Resolves when a matching call has reached the pause (and is now held). */
  readonly reached: Promise<void>;
  /** Lets the held call go on (safe to call before it is reached: then it is never held). */
  release(): void;
  /** Resolves when the held call has settled after `release()` (whatever its outcome). */
  readonly done: Promise<void>;
}

/** Where a pause holds the call: before it reaches the inner store, or after it ran there. */
export interface PauseOptions {
  /** Hold the call after the inner store has executed it, before its caller sees the result. @default false */
  after?: boolean;
}

/** A store whose individual calls can be held, to interleave concurrent requests deterministically. */
export interface PausableStore extends SessionStore {
  /** The wrapped store. */
  readonly inner: SessionStore;
  /** Every call made through the wrapper, in the order they were made (for assertions). */
  readonly log: StoreCall[];
  /**
   * Arms a pause on the next call of `operation` for which `matcher` (if given) returns true. Each pause
   * holds exactly one call; arm several for several calls. Calls that match no armed pause run through.
   */
  pause(
    operation: StoreOperation,
    matcher?: (call: StoreCall) => boolean,
    options?: PauseOptions,
  ): StorePause;
}

interface Armed {
  operation: StoreOperation;
  matcher: ((call: StoreCall) => boolean) | undefined;
  after: boolean;
  reach: () => void;
  released: Promise<void>;
  settle: () => void;
}

/**
 * Wraps a store so a test can hold the exact store call of one request, run another request, then
 * release the first: the way to test what happens when requests of one session interleave.
 * @example
 * const store = pausableStore(createMemoryStore());
 * const held = store.pause('patch');          // the next patch waits
 * const slow = manager.commit(session);       // reaches the patch and waits
 * await held.reached;
 * await otherRequest();                       // runs while the first is paused
 * held.release();
 * await slow;
 */
export function pausableStore(inner: SessionStore): PausableStore {
  const armed: Armed[] = [];

  function take(call: StoreCall): Armed | undefined {
    const index = armed.findIndex(
      (pause) => pause.operation === call.operation && (pause.matcher === undefined || pause.matcher(call)),
    );
    if (index < 0) return undefined;
    const [pause] = armed.splice(index, 1);
    return pause;
  }

  const log: StoreCall[] = [];

  async function run<T>(call: StoreCall, execute: () => Promise<T>): Promise<T> {
    log.push(call);
    const pause = take(call);
    if (pause === undefined) return execute();
    try {
      if (!pause.after) {
        pause.reach();
        await pause.released;
        return await execute();
      }
      const result = await execute();
      pause.reach();
      await pause.released;
      return result;
    } finally {
      pause.settle();
    }
  }

  const wrapper: PausableStore = {
    kind: inner.kind,
    inner,
    log,
    get: (key) => run({ operation: 'get', key }, () => inner.get(key)),
    set: (key, record) => run({ operation: 'set', key, record }, () => inner.set(key, record)),
    patch: (key, patch) => run({ operation: 'patch', key, patch }, () => inner.patch(key, patch)),
    destroy: (key) => run({ operation: 'destroy', key }, () => inner.destroy(key)),
    pause(operation, matcher, options = {}) {
      let reach = (): void => {};
      let release = (): void => {};
      let settle = (): void => {};
      const reached = new Promise<void>((resolve) => {
        reach = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const done = new Promise<void>((resolve) => {
        settle = resolve;
      });
      const pause: Armed = { operation, matcher, after: options.after ?? false, reach, released, settle };
      armed.push(pause);
      return {
        reached,
        done,
        release: () => {
          // Released before it was reached: disarm it, so it never holds a call.
          const index = armed.indexOf(pause);
          if (index >= 0) {
            armed.splice(index, 1);
            settle();
          }
          release();
        },
      };
    },
  };
  const { listByUser, destroyByUser, prune, close, settle: settleInner } = inner;
  if (settleInner) wrapper.settle = () => settleInner.call(inner);
  if (listByUser) {
    wrapper.listByUser = (userId) =>
      run({ operation: 'listByUser', userId }, () => listByUser.call(inner, userId));
  }
  if (destroyByUser) {
    wrapper.destroyByUser = (userId, exceptKey) =>
      run({ operation: 'destroyByUser', userId }, () => destroyByUser.call(inner, userId, exceptKey));
  }
  if (prune) wrapper.prune = () => run({ operation: 'prune' }, () => prune.call(inner));
  if (close) wrapper.close = () => close.call(inner);
  return wrapper;
}
