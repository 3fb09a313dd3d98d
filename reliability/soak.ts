/**
 * `npm run soak` (`--quick` for the CI-sized run): 10 minutes of session churn (create, use, log out or
 * abandon, expire) on the node, Express, Fastify, Koa, Hono and Fetch adapters at once, each with its
 * own memory store, sampling resident memory, heap (after a forced GC when node runs with --expose-gc)
 * and entry counts. Writes the chart to docs/reliability-soak.svg (full run) or .data/reliability/
 * (--quick), saves the figures, and exits 1 if entries were not bounded. Bounded: aborts after 13 minutes.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadline } from '../tools/cleanup.js';
import { timeChart } from '../tools/svg.js';
import { flags, markdownTable, ROOT, saveResult, say } from './lib/cli.js';
import { ADAPTERS } from './lib/soak-apps.js';
import { FULL_SOAK, QUICK_SOAK, runSoak } from './lib/soak-run.js';

const options = flags();
deadline(options.quick ? 2 * 60_000 : 13 * 60_000, 'soak');
const settings = options.quick ? QUICK_SOAK : FULL_SOAK;
if (typeof Reflect.get(globalThis, 'gc') !== 'function')
  say('note: run node with --expose-gc for heap samples after a full GC');
say(
  `soak: ${settings.durationMs / 1000} s, ${settings.visitorsPerAdapter} shoppers per adapter, clock x${settings.speedup}, idle timeout ${settings.idleTimeoutSeconds} s simulated`,
);
const result = await runSoak(settings);

const every = Math.max(1, Math.round(result.samples.length / 12));
say(
  markdownTable(
    ['t (s)', 'RSS MB', 'heap MB', 'entries', 'requests', 'sessions created'],
    result.samples
      .filter((_, i) => i % every === 0 || i === result.samples.length - 1)
      .map((s) => [s.t, s.rssMb, s.heapUsedMb, s.totalEntries, s.requests, s.sessionsCreated]),
  ),
);
say(
  `\nrequests ${result.requests} ${JSON.stringify(result.byStatus)}; sessions created ${result.sessionsCreated}, logged out ${result.loggedOut}, abandoned ${result.abandoned}, lost in use ${result.lostInUse}`,
);
say(
  `heap growth (last quarter / second quarter) x${result.heapGrowth}, RSS x${result.rssGrowth}; entries after expiry ${result.entriesAfterExpiry}, heap then ${result.heapAfterExpiryMb} MB; samples above the entry bound ${result.samplesAboveBound}`,
);

const minutes = result.samples.map((s) => s.t / 60);
const colors = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02'];
const svg = timeChart(
  `sessionkit soak: ${settings.durationMs / 60_000} minutes of session churn on six adapters`,
  `${result.requests.toLocaleString('en-US')} requests, ${result.sessionsCreated.toLocaleString('en-US')} sessions created; idle timeout ${settings.idleTimeoutSeconds / 60} min on a clock running x${settings.speedup}; memory store per adapter`,
  minutes,
  'minutes since the load started',
  [
    {
      title: 'Process memory (after a forced GC)',
      unit: 'MB',
      series: [
        { name: 'RSS', color: '#333333', values: result.samples.map((s) => s.rssMb), width: 2 },
        { name: 'heap used', color: '#1f78b4', values: result.samples.map((s) => s.heapUsedMb), width: 2 },
      ],
    },
    {
      title: 'Entries in each adapter’s memory store',
      unit: 'entries',
      series: ADAPTERS.map((adapter, i) => ({
        name: adapter,
        color: colors[i] ?? '#999999',
        values: result.samples.map((s) => s.entries[adapter] ?? 0),
      })),
    },
  ],
);
const chart = options.quick
  ? join(ROOT, '.data', 'reliability', 'soak-quick.svg')
  : join(ROOT, 'docs', 'reliability-soak.svg');
saveResult(options.quick ? 'soak-quick' : 'soak', result);
writeFileSync(chart, svg);
say(`chart ${chart}`);
say(result.passed ? 'PASS' : `FAIL: ${result.failures.join('; ')}`);
process.exit(result.passed ? 0 : 1);
