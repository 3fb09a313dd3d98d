/**
 * Counting for the load runs: replies by phase and status, latency percentiles, contract violations
 * (with a few examples each), and the recovery time after a fault ends.
 */
import { percentile, round } from '../../tools/stats.js';
import type { Reply } from './http.js';

/** Replies of one phase of a run. */
export interface PhaseSummary {
  requests: number;
  /** Replies by HTTP status; `"none"` for requests that got no HTTP response. */
  byStatus: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

// Enough samples for a stable p99 without holding millions of numbers.
const MAX_SAMPLES = 200_000;

class Phase {
  requests = 0;
  byStatus = new Map<string, number>();
  latencies: number[] = [];
  maxMs = 0;

  add(reply: Reply): void {
    this.requests++;
    const status = reply.status === 0 ? 'none' : String(reply.status);
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    const ms = reply.endedAt - reply.startedAt;
    if (ms > this.maxMs) this.maxMs = ms;
    if (this.latencies.length < MAX_SAMPLES) this.latencies.push(ms);
    else this.latencies[Math.floor(Math.random() * MAX_SAMPLES)] = ms;
  }

  summary(): PhaseSummary {
    // A phase without replies reports 0 ms, not NaN (which JSON would write as null).
    const at = (p: number) => (this.latencies.length === 0 ? 0 : round(percentile(this.latencies, p)));
    return {
      requests: this.requests,
      byStatus: Object.fromEntries([...this.byStatus].sort()),
      p50Ms: at(50),
      p99Ms: at(99),
      maxMs: round(this.maxMs, 0),
    };
  }
}

/** Width of a timeline bucket in milliseconds. */
export const TIMELINE_MS = 250;

/** Everything a load run counts. */
export class Tally {
  /** The phase new requests are counted in. */
  phase = 'run';
  readonly #phases = new Map<string, Phase>();
  readonly #all = new Phase();
  readonly #violations = new Map<string, number>();
  readonly #examples: string[] = [];
  /** Replies per `TIMELINE_MS` bucket of the time they were sent: 2xx, 503, other. */
  readonly timeline = new Map<number, { ok: number; unavailable: number; other: number }>();
  /** [sent, answered] of every failed reply (bounded), to measure outages around a moment. */
  readonly failures: Array<[number, number]> = [];
  #restoredAt: number | undefined;
  #lastFailureAfterRestore: number | undefined;
  #firstSuccessAfterRestore: number | undefined;

  /** Counts a reply in the phase that was current when it was sent. */
  record(reply: Reply, phase: string): void {
    let bucket = this.#phases.get(phase);
    if (bucket === undefined) {
      bucket = new Phase();
      this.#phases.set(phase, bucket);
    }
    bucket.add(reply);
    this.#all.add(reply);
    const slot = Math.floor(reply.startedAt / TIMELINE_MS);
    const counts = this.timeline.get(slot) ?? { ok: 0, unavailable: 0, other: 0 };
    const ok = reply.status >= 200 && reply.status < 300;
    if (ok) counts.ok++;
    else if (reply.status === 503) counts.unavailable++;
    else counts.other++;
    this.timeline.set(slot, counts);
    if (!ok && this.failures.length < MAX_SAMPLES) this.failures.push([reply.startedAt, reply.endedAt]);
    const restoredAt = this.#restoredAt;
    if (restoredAt !== undefined && reply.startedAt >= restoredAt) {
      if (reply.status >= 200 && reply.status < 300) {
        this.#firstSuccessAfterRestore ??= reply.endedAt;
      } else {
        this.#lastFailureAfterRestore = Math.max(this.#lastFailureAfterRestore ?? 0, reply.endedAt);
      }
    }
  }

  /** Counts a broken promise of the library; keeps the first examples. */
  violation(kind: string, detail: string): void {
    this.#violations.set(kind, (this.#violations.get(kind) ?? 0) + 1);
    if (this.#examples.length < 20) this.#examples.push(`${kind}: ${detail}`);
  }

  /** Keeps an example that explains a count other than a violation (a lost session, say). */
  note(detail: string): void {
    if (this.#examples.length < 20) this.#examples.push(detail);
  }

  /** Marks the moment the fault ended (server back, delay removed): recovery is measured from here. */
  restored(at: number): void {
    this.#restoredAt = at;
  }

  get violations(): Record<string, number> {
    return Object.fromEntries(this.#violations);
  }

  get violationCount(): number {
    let total = 0;
    for (const count of this.#violations.values()) total += count;
    return total;
  }

  get examples(): readonly string[] {
    return this.#examples;
  }

  /**
   * Milliseconds from the end of the fault until the last failed request (one sent after the fault
   * ended) completed: 0 when every request sent after the fault succeeded.
   */
  get recoveryMs(): number | null {
    if (this.#restoredAt === undefined) return null;
    return round(Math.max(0, (this.#lastFailureAfterRestore ?? this.#restoredAt) - this.#restoredAt), 0);
  }

  /** Milliseconds from the end of the fault until the first successful reply to a request sent after it. */
  get firstSuccessMs(): number | null {
    if (this.#restoredAt === undefined || this.#firstSuccessAfterRestore === undefined) return null;
    return round(this.#firstSuccessAfterRestore - this.#restoredAt, 0);
  }

  phases(): Record<string, PhaseSummary> {
    return Object.fromEntries([...this.#phases].map(([name, phase]) => [name, phase.summary()]));
  }

  total(): PhaseSummary {
    return this.#all.summary();
  }
}

/** Statuses other than `allowed` in a byStatus record, summed. */
export function countOther(byStatus: Record<string, number>, allowed: readonly string[]): number {
  let total = 0;
  for (const [status, count] of Object.entries(byStatus)) if (!allowed.includes(status)) total += count;
  return total;
}
