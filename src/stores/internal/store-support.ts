/**
 * Helpers shared by the stores that apply patches in JavaScript (memory, SQLite) and run cleanup timers.
 */
import type { PatchResult, RecordData, SessionPatch, SessionRecord } from '../../core/store-contract.js';

/**
 * Applies `patch` to `stored` by the store contract's rules: absent or rotated-out is `missing`, a
 * version mismatch is `conflict`, otherwise the new record (version + 1). The result shares values with
 * `stored` and `patch`; the caller copies what it keeps.
 */
export function applyPatch(stored: SessionRecord | undefined, patch: SessionPatch): PatchResult {
  if (stored === undefined) return { status: 'missing' };
  return (
    patchRefusal(stored, patch) ?? {
      status: 'ok',
      record: { data: patchedData(stored.data, patch, same), version: stored.version + 1, meta: patch.meta },
    }
  );
}

const MISSING: PatchResult = Object.freeze({ status: 'missing' });
const CONFLICT: PatchResult = Object.freeze({ status: 'conflict' });

/** Why `patch` cannot apply to the stored record (rotated out: `missing`; stale version: `conflict`), or null. */
function patchRefusal(stored: SessionRecord, patch: SessionPatch): PatchResult | null {
  if (stored.meta.successor !== undefined) return MISSING;
  if (patch.ifVersion !== undefined && patch.ifVersion !== stored.version) return CONFLICT;
  return null;
}

function same<T>(value: T): T {
  return value;
}

/** `data` with the patch's values set (each passed through `copy`) and its deletions made, in one new object. */
export function patchedData(
  data: RecordData,
  patch: Pick<SessionPatch, 'set' | 'delete'>,
  copy: <T>(value: T) => T,
): RecordData {
  const next: RecordData = { ...data };
  for (const key in patch.set) {
    if (!Object.hasOwn(patch.set, key)) continue;
    const value = copy(patch.set[key]);
    // A key named "__proto__" must become data, not a new prototype: defineProperty for that one only.
    if (key === '__proto__')
      Object.defineProperty(next, key, { value, writable: true, enumerable: true, configurable: true });
    else next[key] = value;
  }
  for (const key of patch.delete) delete next[key];
  return next;
}

/** Runs `task` every `intervalSeconds` on a timer that does not keep the process alive; 0 never runs it. */
export function startInterval(intervalSeconds: number, task: () => void): () => void {
  if (intervalSeconds === 0) return () => {};
  const timer = setInterval(task, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
