/**
 * Turns the bursts into one row per contender: medians over rounds, ratios to the bare framework and
 * to the peer on the same framework and store.
 */
import { bareOf, type Contender } from './contenders.js';
import type { Workload } from './load.js';
import type { ContenderRun, Sample } from './measure.js';
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
  /** The server's CPU time per request in µs (median over rounds; steadier than req/s under load). */
  cpuMicrosPerRequest: number;
  /** Store round trips per request (every kind but the Redis server's own counts). */
  roundTrips: number;
  /** Commands Redis executed per request, including those run inside scripts (0 without Redis). */
  redisCommands: number;
  /** Throughput relative to the bare framework: median over rounds of the same-round ratio. */
  vsBare?: number;
  /** Throughput relative to the peer library on the same framework and store (same-round ratios). */
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

function cellOf(samples: readonly Sample[] | undefined): Cell | undefined {
  if (samples === undefined || samples.length === 0) return undefined;
  const kinds = new Set(samples.flatMap((s) => Object.keys(s.ops)));
  const ops: Record<string, number> = {};
  for (const kind of [...kinds].sort()) ops[kind] = median(samples.map((s) => s.ops[kind] ?? 0));
  return {
    rps: median(samples.map((s) => s.load.rps)),
    p50Ms: median(samples.map((s) => s.load.p50Ms)),
    p99Ms: median(samples.map((s) => s.load.p99Ms)),
    rpsByRound: samples.map((s) => Math.round(s.load.rps)),
    ops,
    cpuMicrosPerRequest: median(samples.map((s) => s.cpuMicrosPerRequest)),
    roundTrips: sum(ops, (kind) => !isServerCount(kind)),
    redisCommands: sum(ops, isServerCount),
    non2xx: samples.reduce((n, s) => n + s.load.non2xx, 0),
    errors: samples.reduce((n, s) => n + s.load.errors, 0),
  };
}

/**
 * The median over rounds of `row`'s req/s divided by `base`'s req/s in the same round: the two were
 * measured seconds apart, so a slow phase of the machine cancels out of each ratio.
 */
function pairedRatio(
  row: readonly Sample[] | undefined,
  base: readonly Sample[] | undefined,
): number | undefined {
  if (row === undefined || base === undefined) return undefined;
  const ratios = row.flatMap((sample) => {
    const other = base.find((b) => b.round === sample.round);
    return other && other.load.rps > 0 ? [sample.load.rps / other.load.rps] : [];
  });
  return ratios.length === 0 ? undefined : median(ratios);
}

/** Rows in contender order, with medians and ratios filled in. */
export function aggregate(
  contenders: readonly Contender[],
  runs: ReadonlyMap<string, ContenderRun>,
  workloads: readonly Workload[],
): Row[] {
  const unrun: ContenderRun = { status: 'unavailable', reason: 'not run', samples: {} };
  const rows = contenders.map((contender): Row => {
    const run = runs.get(contender.id) ?? unrun;
    const row: Row = {
      id: contender.id,
      label: contender.label,
      library: contender.library,
      framework: contender.framework,
      store: contender.store,
      status: run.status,
      cells: {},
    };
    if (contender.peer !== undefined) row.peer = contender.peer;
    if (run.reason !== undefined) row.reason = run.reason;
    if (run.peakRssBytes !== undefined) row.peakRssMb = run.peakRssBytes / 2 ** 20;
    for (const workload of workloads) {
      const cell = cellOf(run.samples[workload]);
      if (cell) row.cells[workload] = cell;
    }
    return row;
  });
  for (const contender of contenders) {
    if (contender.store === 'none') continue;
    const row = rows.find((r) => r.id === contender.id);
    const own = runs.get(contender.id)?.samples;
    const bare = runs.get(bareOf(contender.framework))?.samples;
    const peer = contender.peer === undefined ? undefined : runs.get(contender.peer)?.samples;
    for (const workload of workloads) {
      const cell = row?.cells[workload];
      if (!cell) continue;
      const vsBare = pairedRatio(own?.[workload], bare?.[workload]);
      if (vsBare !== undefined) cell.vsBare = vsBare;
      const vsPeer = pairedRatio(own?.[workload], peer?.[workload]);
      if (vsPeer !== undefined) cell.vsPeer = vsPeer;
    }
  }
  return rows;
}
