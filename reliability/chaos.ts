/**
 * `npm run chaos` (`--quick` for the CI-sized run, `--only=name,…` for some scenarios): every chaos
 * scenario in reliability/lib/chaos-scenarios.ts, one after another, against private server
 * processes on spare 127.0.0.1 ports. Prints a table, saves the figures to .data/reliability/, and
 * exits 1 if any scenario broke a promise. `--only failover` selects the failover scenarios
 * (reliability/lib/failover-scenarios.ts). Bounded: aborts after 30 minutes (6 with --quick).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deadline } from '../tools/cleanup.js';
import {
  createChaosContext,
  FULL_TIMING,
  QUICK_TIMING,
  runScenario,
  type ScenarioResult,
  scenarios,
} from './lib/chaos-scenarios.js';
import { flags, markdownTable, ROOT, saveResult, say } from './lib/cli.js';
import { failoverChart } from './lib/failover-chart.js';
import { failoverScenarios } from './lib/failover-scenarios.js';
import {
  insideAppNamespace,
  partitionScenarios,
  resultsPath,
  runPartitioned,
} from './lib/partition-scenarios.js';

const options = flags();
deadline(options.quick ? 6 * 60_000 : 30 * 60_000, 'chaos');
const only = options.values.get('only')?.split(',');
const selected = [...scenarios, ...failoverScenarios, ...partitionScenarios].filter((scenario) =>
  only === undefined
    ? !options.quick || scenario.quick
    : only.includes(scenario.name) || (scenario.group !== undefined && only.includes(scenario.group)),
);
const timing = {
  ...(options.quick ? QUICK_TIMING : FULL_TIMING),
  ...(options.values.has('replica-lag-ms') ? { replicaLagMs: options.number('replica-lag-ms', 300) } : {}),
};
say(
  `chaos: ${selected.length} scenarios, ${timing.visitors} visitors, phases ${timing.beforeMs}/${timing.faultMs}/${timing.afterMs} ms, ${timing.failovers} failovers (replica lag ${timing.replicaLagMs} ms)`,
);

// The partition scenarios run in a child inside a network namespace (this process, when it is that child).
const child = insideAppNamespace();
const local = selected.filter((scenario) => child || scenario.group !== 'partition');
const partitioned = child ? [] : selected.filter((scenario) => scenario.group === 'partition');
const context = local.length > 0 ? await createChaosContext() : undefined;
const results: ScenarioResult[] = [];
try {
  for (const scenario of local) {
    if (context === undefined) break;
    say(`\n## ${scenario.name}: ${scenario.title}`);
    const result = await runScenario(scenario, context, timing);
    results.push(result);
    say(
      `requests ${result.requests} ${JSON.stringify(result.byStatus)}; sessions before ${result.sessionsBefore}, lost ${result.sessionsLost}; final ${JSON.stringify(result.final)}`,
    );
    say(
      `recovery ${result.recoveryMs} ms (first success ${result.firstSuccessMs} ms); violations ${JSON.stringify(result.violations)}`,
    );
    for (const [phase, summary] of Object.entries(result.phases)) {
      say(
        `  ${phase}: ${summary.requests} req ${JSON.stringify(summary.byStatus)} p50 ${summary.p50Ms} ms p99 ${summary.p99Ms} ms max ${summary.maxMs} ms`,
      );
    }
    say(`events ${JSON.stringify(result.events)}`);
    if (result.failovers !== undefined) {
      say(`acknowledged writes lost ${result.acknowledgedLost}; late writes ${result.lateWrites}`);
      for (const failover of result.failovers) say(`  failover: ${JSON.stringify(failover)}`);
    }
    for (const example of result.examples.slice(0, 5)) say(`  example: ${example}`);
    say(result.passed ? 'PASS' : `FAIL: ${result.failures.join('; ')}`);
  }
} finally {
  await context?.close();
}
if (partitioned.length > 0) {
  results.push(
    ...(await runPartitioned(
      partitioned.map((scenario) => scenario.name),
      options.quick,
    )),
  );
}
const childResults = resultsPath();
if (child && childResults !== undefined) {
  writeFileSync(childResults, JSON.stringify(results));
  process.exit(0);
}

say(
  `\n${markdownTable(
    [
      'scenario',
      'requests',
      '2xx',
      '503',
      'other',
      'sessions before',
      'lost',
      'acknowledged writes lost',
      'writes back ms (worst failover)',
      'recovery ms',
      'fault p99 ms',
      'result',
    ],
    results.map((r) => {
      const ok = Object.entries(r.byStatus)
        .filter(([s]) => s.startsWith('2'))
        .reduce((n, [, c]) => n + c, 0);
      const unavailable = r.byStatus['503'] ?? 0;
      return [
        r.name,
        r.requests,
        ok,
        unavailable,
        r.requests - ok - unavailable,
        r.sessionsBefore,
        r.sessionsLost,
        r.failovers === undefined ? '-' : r.acknowledgedLost,
        r.failovers === undefined ? '-' : Math.max(0, ...r.failovers.map((f) => f.writesBackMs)),
        r.recoveryMs ?? '-',
        r.phases.fault?.p99Ms ?? '-',
        r.passed ? 'pass' : 'FAIL',
      ];
    }),
  )}`,
);
const chart = failoverChart(
  results,
  `${timing.visitors} users, closed loop; one panel per failover scenario (grey spikes: a master SIGKILLed)`,
);
if (chart !== undefined) {
  const path = options.quick
    ? join(ROOT, '.data', 'reliability', 'chaos-failover-quick.svg')
    : join(ROOT, 'docs', 'reliability-failover.svg');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, chart);
  say(`chart ${path}`);
}
say(`\nsaved ${saveResult(options.quick ? 'chaos-quick' : 'chaos', { timing, results })}`);
process.exit(results.every((r) => r.passed) ? 0 : 1);
