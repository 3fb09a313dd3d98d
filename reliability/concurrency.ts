/**
 * `npm run concurrency` (`--quick` for the CI-sized run): 200 concurrent clients for 60 seconds against
 * Express + Redis, then against Express + tiered Redis→PostgreSQL (private servers on spare ports), each
 * client doing reads, `set`s and `update`s on its own session with token rotation on and checking it
 * against its own model. Saves the figures to .data/reliability/ and exits 1 on any lost update or
 * foreign data. Bounded: aborts after 6 minutes (2 with --quick).
 */
import { deadline } from '../tools/cleanup.js';
import { flags, markdownTable, saveResult, say } from './lib/cli.js';
import {
  type ConcurrencyResult,
  FULL_CONCURRENCY,
  QUICK_CONCURRENCY,
  runConcurrency,
} from './lib/concurrency-run.js';

const options = flags();
deadline(options.quick ? 2 * 60_000 : 6 * 60_000, 'concurrency');
const settings = options.quick ? QUICK_CONCURRENCY : FULL_CONCURRENCY;
say(
  `concurrency: ${settings.clients} clients for ${settings.durationMs / 1000} s per store, rotation every ${settings.rotateAfterSeconds} s`,
);
const results: ConcurrencyResult[] = [];
for (const kind of ['redis', 'tiered'] as const) {
  const result = await runConcurrency(kind, settings);
  results.push(result);
  say(
    `${result.store}: ${result.requests} requests ${JSON.stringify(result.byStatus)}, final ${JSON.stringify(result.final)}, violations ${JSON.stringify(result.violations)}`,
  );
  for (const example of result.examples.slice(0, 5)) say(`  example: ${example}`);
}
say(
  `\n${markdownTable(
    [
      'stack',
      'clients',
      'seconds',
      'requests',
      'req/s',
      'p50 ms',
      'p99 ms',
      'rotations',
      'sessions equal to model',
      'lost updates / foreign data',
      'result',
    ],
    results.map((r) => [
      r.store,
      r.clients,
      r.durationMs / 1000,
      r.requests,
      r.requestsPerSecond,
      r.p50Ms,
      r.p99Ms,
      r.rotations,
      `${r.final.ok ?? 0}/${r.clients}`,
      `${(r.violations.counter ?? 0) + (r.violations.value ?? 0)} / ${r.violations['foreign-session'] ?? 0}`,
      r.passed ? 'pass' : 'FAIL',
    ]),
  )}`,
);
say(`\nsaved ${saveResult(options.quick ? 'concurrency-quick' : 'concurrency', { settings, results })}`);
process.exit(results.every((r) => r.passed) ? 0 : 1);
