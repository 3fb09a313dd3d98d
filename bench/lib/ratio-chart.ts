/**
 * docs/benchmarks.svg: horizontal bars of each contender's throughput relative to its bare framework,
 * one panel per workload.
 */
import { barChart } from '../../tools/svg.js';
import type { Row } from './aggregate.js';
import type { Workload } from './load.js';

/** The chart for `workloads` (columns) over the rows that have a ratio to their bare framework. */
export function ratioChart(rows: readonly Row[], workloads: readonly Workload[], title: string): string {
  return barChart({
    title,
    subtitle:
      'Requests per second relative to the same framework without sessions (1.0 = no cost). Teal: sessionkit; grey: peer libraries.',
    panels: workloads,
    rows: rows
      .filter((row) => row.store !== 'none')
      .map((row) => ({
        label: row.label,
        color: row.library === 'sessionkit' ? '#138a8a' : '#9a9a9a',
        values: workloads.map((workload) => row.cells[workload]?.vsBare),
        missing: row.status === 'ok' ? '—' : row.status,
      })),
    max: 1.2,
    ticks: [0, 0.25, 0.5, 0.75, 1],
    reference: 1,
  });
}
