/** The outputs: the terminal table and the Markdown tables of docs/benchmarks.md. */
import type { MicroResult } from '../micro/cookie.js';
import type { Cell, Row } from './aggregate.js';
import type { GoalResult } from './goals.js';
import type { Workload } from './load.js';
import { isServerCount } from './stats.js';

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const dec = (n: number | undefined, digits = 2) =>
  n !== undefined && Number.isFinite(n) ? n.toFixed(digits) : '—';

/**
 * Store round trips per request as `GET 1.00 · EXPIRE 1.00` (kind prefixes dropped, upper case),
 * then the commands Redis executed when they differ (scripts run several).
 */
export function describeOps(cell: Cell): string {
  const parts = Object.entries(cell.ops)
    .filter(([kind, value]) => value >= 0.005 && !isServerCount(kind))
    .map(([kind, value]) => `${kind.replace(/^[a-z]+:/, '').toUpperCase()} ${value.toFixed(2)}`);
  const text = parts.length === 0 ? '0' : parts.join(' · ');
  const redis = cell.redisCommands;
  return redis > 0 && Math.abs(redis - cell.roundTrips) >= 0.005
    ? `${text} (Redis ran ${redis.toFixed(2)} cmds)`
    : text;
}

function rowCells(row: Row, workload: Workload): string[] {
  const cell = row.cells[workload];
  if (!cell) return [row.label, row.status === 'ok' ? '—' : row.status, '', '', '', '', '', '', ''];
  const flags = cell.non2xx + cell.errors > 0 ? ` ⚠ ${cell.non2xx} non-2xx, ${cell.errors} errors` : '';
  return [
    row.label,
    `${int(cell.rps)}${flags}`,
    dec(cell.p50Ms),
    dec(cell.p99Ms),
    dec(cell.cpuMicrosPerRequest, 1),
    dec(cell.vsBare),
    dec(cell.vsPeer),
    row.store === 'none' ? '—' : describeOps(cell),
    dec(row.peakRssMb, 0),
  ];
}

const HEADERS = [
  'contender',
  'req/s',
  'p50 ms',
  'p99 ms',
  'CPU µs / req',
  '× bare',
  '× peer',
  'store ops / request',
  'peak RSS MB',
];

/** Plain-text table of one workload for the terminal. */
export function terminalTable(rows: readonly Row[], workload: Workload): string {
  const body = rows.map((row) => rowCells(row, workload));
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...body.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 || i === 7 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ');
  return [line(HEADERS), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Markdown table of one workload. */
export function markdownTable(rows: readonly Row[], workload: Workload): string {
  const body = rows.map((row) => rowCells(row, workload));
  const align = HEADERS.map((_, i) => (i === 0 || i === 7 ? '---' : '---:'));
  return [HEADERS, align, ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

/** Markdown table of the goals. */
export function goalsTable(goals: readonly GoalResult[]): string {
  const mark = { met: '✅ met', missed: '❌ missed', 'n/a': '— not measured' } as const;
  return [
    '| # | what | goal | measured | result |',
    '|---|---|---|---|---|',
    ...goals.map((g) => `| ${g.id} | ${g.what} | ${g.goal} | ${g.measured} | ${mark[g.status]} |`),
  ].join('\n');
}

/** Markdown table of the cookie micro-benchmark. */
export function microTable(micro: MicroResult): string {
  const aes = micro.variants.find((v) => v.id === 'aes-gcm');
  const lines = [
    '| variant | seal ops/s | open ops/s | seal vs bare AES-GCM | open vs bare AES-GCM | sealed length |',
    '|---|---:|---:|---:|---:|---:|',
    ...micro.variants.map(
      (v) =>
        `| ${v.label} | ${int(v.sealOpsPerSecond)} | ${int(v.openOpsPerSecond)} | ${dec(
          aes ? v.sealOpsPerSecond / aes.sealOpsPerSecond : undefined,
        )} | ${dec(aes ? v.openOpsPerSecond / aes.openOpsPerSecond : undefined)} | ${v.sealedLength} |`,
    ),
  ];
  for (const [id, reason] of Object.entries(micro.unavailable))
    lines.push(`| ${id}: not available (${reason}) | | | | | |`);
  return lines.join('\n');
}

/** The micro-benchmark for the terminal. */
export function microTerminal(micro: MicroResult): string {
  return micro.variants
    .map(
      (v) =>
        `${v.label.padEnd(68)} seal ${int(v.sealOpsPerSecond).padStart(8)}/s  open ${int(v.openOpsPerSecond).padStart(8)}/s`,
    )
    .concat(Object.entries(micro.unavailable).map(([id, reason]) => `${id}: not available (${reason})`))
    .join('\n');
}
