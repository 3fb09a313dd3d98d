/**
 * The failover chart of docs/reliability.md: per failover scenario, replies per second (2xx, 503) by
 * when they were sent, with a spike marking each SIGKILL of a master.
 */

import { type Panel, timeChart } from '../../tools/svg.js';
import type { ScenarioResult } from './chaos-scenarios.js';
import { TIMELINE_MS } from './tally.js';

/** Buckets per plotted point (1 s). */
const PER_POINT = 1000 / TIMELINE_MS;

function sum(values: readonly number[], from: number): number {
  return values.slice(from, from + PER_POINT).reduce((total, value) => total + value, 0);
}

/** The SVG for the results that have a timeline (the failover scenarios); undefined if none do. */
export function failoverChart(results: readonly ScenarioResult[], subtitle: string): string | undefined {
  const charted = results.filter((result) => result.timeline !== undefined && result.timeline.length > 0);
  if (charted.length === 0) return undefined;
  const length = Math.max(...charted.map((result) => Math.ceil((result.timeline?.length ?? 0) / PER_POINT)));
  const seconds = Array.from({ length }, (_, i) => i);
  const panels: Panel[] = charted.map((result) => {
    const timeline = result.timeline ?? [];
    const ok = seconds.map((s) =>
      sum(
        timeline.map(([value]) => value),
        s * PER_POINT,
      ),
    );
    const unavailable = seconds.map((s) =>
      sum(
        timeline.map(([, value]) => value),
        s * PER_POINT,
      ),
    );
    const kills = new Set((result.failovers ?? []).map((failover) => Math.floor(failover.atMs / 1000)));
    const peak = Math.max(1, ...ok);
    return {
      title: `${result.name}: ${result.acknowledgedLost} acknowledged writes lost, ${result.failovers?.length ?? 0} failovers`,
      unit: 'replies / s',
      series: [
        { name: '2xx', color: '#1b9e77', values: ok, width: 1.5 },
        { name: '503', color: '#d95f02', values: unavailable, width: 1.5 },
        {
          name: 'master SIGKILLed',
          color: '#bbbbbb',
          values: seconds.map((s) => (kills.has(s) ? peak : 0)),
          width: 1,
        },
      ],
    };
  });
  return timeChart(
    'sessionkit under Redis failover: replies per second',
    subtitle,
    seconds,
    'seconds since the load started',
    panels,
  );
}
