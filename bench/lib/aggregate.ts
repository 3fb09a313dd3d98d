/**
 * Turns the rounds into one row per contender: medians over rounds, ratios to the bare framework and
 * to the peer on the same framework and store.
 */
import { bareOf, type Contender } from './contenders.js';
import type { Workload } from './load.js';
import type { RoundResult } from './measure.js';
import { isServerCount, median } from './stats.js';

/** One workload of one contender, over all rounds. */
export interface Cell {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Requests per second of each round (the spread shows the noise). */
  rpsByRound: number[];
  /** Store operations per request, by kind (median over rounds; see `Sample.ops`). */
  ops: Record<string, number>;
  /** Store round trips per request (every kind but the Redis server's own counts). */
  roundTrips: number;
  /** Commands Redis executed per request, including those run inside scripts (0 without Redis). */
  redisCommands: number;
  /** Throughput relative to the bare framework (its read run). */
  vsBare?: number;
  /** Throughput relative to the peer library on the same framework and store. */
  vsPeer?: number;
  non2xx: number;
  errors: number;
}

/** One contender over all rounds. */
export interface Row {
  id: string;
  label: string;
  library: string;
  framework: Contender['framework'];
  store: Contender['store'];
  peer?: string;
  status: 'ok' | 'unavailable' | 'failed';
  reason?: string;
  peakRssMb?: number;
  cells: Partial<Record<Workload, Cell>>;
}

function sum(ops: Record<string, number>, match: (kind: string) => boolean): number {
  return Object.entries(ops).reduce((total, [kind, value]) => (match(kind) ? total + value : total), 0);
}

function cellOf(results: readonly RoundResult[], workload: Workload): Cell | undefined {
  const samples = results.flatMap((r) =>
    r.status === 'ok' && r.samples[workload] ? [r.samples[workload]] : [],
  );
  if (samples.length === 0) return undefined;
  const kinds = new Set(samples.flatMap((s) => Object.keys(s.ops)));
  const ops: Record<string, number> = {};
  for (const kind of [...kinds].sort()) ops[kind] = median(samples.map((s) => s.ops[kind] ?? 0));
  return {
    rps: median(samples.map((s) => s.load.rps)),
    p50Ms: median(samples.map((s) => s.load.p50Ms)),
    p99Ms: median(samples.map((s) => s.load.p99Ms)),
    rpsByRound: samples.map((s) => Math.round(s.load.rps)),
    ops,
    roundTrips: sum(ops, (kind) => !isServerCount(kind)),
    redisCommands: sum(ops, isServerCount),
    non2xx: samples.reduce((n, s) => n + s.load.non2xx, 0),
    errors: samples.reduce((n, s) => n + s.load.errors, 0),
  };
}

/** Rows in contender order, with medians and ratios filled in. */
export function aggregate(
  contenders: readonly Contender[],
  results: ReadonlyMap<string, readonly RoundResult[]>,
  workloads: readonly Workload[],
): Row[] {
  const rows = contenders.map((contender): Row => {
    const runs = results.get(contender.id) ?? [];
    const ok = runs.filter((r) => r.status === 'ok');
    const problem = runs.find((r) => r.status !== 'ok');
    const row: Row = {
      id: contender.id,
      label: contender.label,
      library: contender.library,
      framework: contender.framework,
      store: contender.store,
      status: problem?.status === 'failed' ? 'failed' : ok.length > 0 ? 'ok' : 'unavailable',
      cells: {},
    };
    if (contender.peer !== undefined) row.peer = contender.peer;
    if (problem !== undefined) row.reason = problem.reason;
    const rss = ok.flatMap((r) => (Number.isFinite(r.peakRssBytes) ? [r.peakRssBytes] : []));
    if (rss.length > 0) row.peakRssMb = Math.max(...rss) / 2 ** 20;
    for (const workload of workloads) {
      const cell = cellOf(runs, workload);
      if (cell) row.cells[workload] = cell;
    }
    return row;
  });
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const row of rows) {
    if (row.store === 'none') continue;
    const bare = byId.get(bareOf(row.framework))?.cells.read?.rps;
    const peer = row.peer === undefined ? undefined : byId.get(row.peer);
    for (const workload of workloads) {
      const cell = row.cells[workload];
      if (!cell) continue;
      if (bare !== undefined && bare > 0) cell.vsBare = cell.rps / bare;
      const peerRps = peer?.cells[workload]?.rps;
      if (peerRps !== undefined && peerRps > 0) cell.vsPeer = cell.rps / peerRps;
    }
  }
  return rows;
}
