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
  if (stored === undefined || stored.meta.successor !== undefined) return { status: 'missing' };
  if (patch.ifVersion !== undefined && patch.ifVersion !== stored.version) return { status: 'conflict' };
  const data: RecordData = { ...stored.data };
  for (const [key, value] of Object.entries(patch.set)) {
    // defineProperty, not assignment: a key named "__proto__" must become data, not a new prototype.
    Object.defineProperty(data, key, { value, writable: true, enumerable: true, configurable: true });
  }
  for (const key of patch.delete) delete data[key];
  return { status: 'ok', record: { data, version: stored.version + 1, meta: patch.meta } };
}

/** Runs `task` every `intervalSeconds` on a timer that does not keep the process alive; 0 never runs it. */
export function startInterval(intervalSeconds: number, task: () => void): () => void {
  if (intervalSeconds === 0) return () => {};
  const timer = setInterval(task, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
