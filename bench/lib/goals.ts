/** The goals P1–P9 of issue 7, checked against one run's figures. */
import type { MicroResult } from '../micro/cookie.js';
import type { Cell, Row } from './aggregate.js';
import type { Workload } from './load.js';

/** One goal and how this run did. */
export interface GoalResult {
  id: string;
  what: string;
  goal: string;
  measured: string;
  status: 'met' | 'missed' | 'n/a';
}

const fmt = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
/** Per-request counts are "exactly n" when they round to n at two decimals (edges of the window). */
const exactly = (value: number, n: number) => Math.abs(value - n) < 0.005;

function sumOf(cell: Cell, match: (kind: string) => boolean): number {
  return Object.entries(cell.ops).reduce((total, [kind, value]) => (match(kind) ? total + value : total), 0);
}

/** Evaluates P1–P9; a goal whose contenders did not run is "n/a" with the reason. */
export function evaluateGoals(rows: readonly Row[], micro: MicroResult | undefined): GoalResult[] {
  const byId = new Map(rows.map((row) => [row.id, row]));
  const cell = (id: string, workload: Workload = 'read'): Cell | string => {
    const row = byId.get(id);
    if (row === undefined) return `${id} not run`;
    const found = row.cells[workload];
    if (found && row.status !== 'failed') return found;
    return `${id}: ${row.status === 'ok' ? 'no data' : row.status}${row.reason ? ` (${row.reason.slice(0, 80)})` : ''}`;
  };
  const goals: GoalResult[] = [];
  const ratioGoal = (
    id: string,
    what: string,
    goal: string,
    target: number,
    contender: string,
    ratio: (c: Cell) => number | undefined,
    extra?: (c: Cell) => { ok: boolean; text: string },
  ) => {
    const c = cell(contender);
    if (typeof c === 'string') return goals.push({ id, what, goal, measured: c, status: 'n/a' });
    const value = ratio(c);
    if (value === undefined) return goals.push({ id, what, goal, measured: 'no baseline', status: 'n/a' });
    const more = extra?.(c);
    const measured = `${fmt(value)}${more ? `; ${more.text}` : ''}`;
    const ok = value >= target && (more?.ok ?? true);
    return goals.push({ id, what, goal, measured, status: ok ? 'met' : 'missed' });
  };

  ratioGoal(
    'P1',
    'node:http + memory, read, vs bare node:http',
    '≥ 0.85',
    0.85,
    'sk-node-memory',
    (c) => c.vsBare,
  );
  ratioGoal(
    'P2',
    'Express + Redis, read, vs bare Express',
    '≥ 0.85, exactly 1 Redis command per read',
    0.85,
    'sk-express-redis',
    (c) => c.vsBare,
    (c) => {
      const sent = sumOf(c, (k) => k.startsWith('redis:'));
      return {
        ok: exactly(sent, 1) && exactly(c.redisCommands, 1),
        text: `${fmt(sent)} Redis commands sent and ${fmt(c.redisCommands)} executed per read`,
      };
    },
  );
  ratioGoal(
    'P3',
    'Express + PostgreSQL, read, vs bare Express',
    '≥ 0.6, exactly 1 SELECT and 0 writes per read',
    0.6,
    'sk-express-postgres',
    (c) => c.vsBare,
    (c) => {
      const selects = sumOf(c, (k) => k === 'pg:SELECT');
      const others = sumOf(c, (k) => k.startsWith('pg:') && k !== 'pg:SELECT');
      return {
        ok: exactly(selects, 1) && exactly(others, 0),
        text: `${fmt(selects)} SELECT, ${fmt(others)} other statements per read`,
      };
    },
  );

  // A changed request loads (like a read) and then writes: its write round trips are the difference.
  const writeTrips = (id: string): number | string => {
    const write = cell(id, 'write');
    const read = cell(id, 'read');
    if (typeof write === 'string') return write;
    if (typeof read === 'string') return read;
    return write.roundTrips - read.roundTrips;
  };
  const stores = ['memory', 'sqlite', 'postgres', 'redis'];
  const trips = stores.map((store) => [store, writeTrips(`sk-express-${store}`)] as const);
  const measured = trips.filter((t): t is readonly [string, number] => typeof t[1] === 'number');
  const tiered = writeTrips('sk-express-tiered');
  goals.push({
    id: 'P4',
    what: 'any store, write (sessionkit on Express): round trips of a changed request beyond those of a read',
    goal: 'exactly 1 store round trip per changed request',
    measured:
      measured.map(([store, n]) => `${store} ${fmt(n)}`).join(', ') +
      (typeof tiered === 'number' ? `; tiered ${fmt(tiered)} (both tiers)` : '') +
      (measured.length < stores.length ? ` (${stores.length - measured.length} stores not measured)` : ''),
    status: !measured.every(([, n]) => exactly(n, 1))
      ? 'missed'
      : measured.length === stores.length
        ? 'met'
        : 'n/a',
  });

  ratioGoal(
    'P5',
    'cookie-only read on node:http vs bare node:http',
    '≥ 0.75',
    0.75,
    'sk-node-cookie',
    (c) => c.vsBare,
  );
  ratioGoal(
    'P6',
    'cookie-only on Fastify vs @fastify/secure-session (read)',
    '≥ 1.0',
    1.0,
    'sk-fastify-cookie',
    (c) => c.vsPeer,
  );
  ratioGoal(
    'P7',
    'Fastify + memory vs @fastify/session (read)',
    '≥ 1.5',
    1.5,
    'sk-fastify-memory',
    (c) => c.vsPeer,
  );

  const variant = (id: string) => micro?.variants.find((v) => v.id === id);
  const sk = variant('sessionkit');
  const ironV = variant('iron-session');
  const aes = variant('aes-gcm');
  if (sk && ironV && aes) {
    const vsIron = Math.min(
      sk.sealOpsPerSecond / ironV.sealOpsPerSecond,
      sk.openOpsPerSecond / ironV.openOpsPerSecond,
    );
    const vsAes = Math.max(
      aes.sealOpsPerSecond / sk.sealOpsPerSecond,
      aes.openOpsPerSecond / sk.openOpsPerSecond,
    );
    goals.push({
      id: 'P8',
      what: 'seal + open ops/s vs iron-session and bare AES-256-GCM',
      goal: '≥ 25× iron, within 1.3× of bare AES-GCM',
      measured: `${fmt(vsIron, 1)}× iron (worse of seal/open); bare AES-GCM ${fmt(vsAes)}× faster (worse of seal/open)`,
      status: vsIron >= 25 && vsAes <= 1.3 ? 'met' : 'missed',
    });
  } else {
    goals.push({
      id: 'P8',
      what: 'seal + open ops/s vs iron-session and bare AES-256-GCM',
      goal: '≥ 25× iron, within 1.3× of bare AES-GCM',
      measured: micro ? 'a variant is missing' : 'micro-benchmark not run',
      status: 'n/a',
    });
  }

  const redisRead = cell('sk-node-redis');
  ratioGoal(
    'P9',
    'tiered Redis→PostgreSQL read vs Redis-only read (node:http)',
    '≥ 0.9',
    0.9,
    'sk-node-tiered',
    (c) => (typeof redisRead === 'string' || redisRead.rps <= 0 ? undefined : c.rps / redisRead.rps),
  );
  return goals;
}
