/**
 * `npm run bench`: sessionkit against the bare frameworks and the peer session libraries.
 *
 * Builds dist/ and the servers first (lib/build.ts): every server runs compiled JavaScript and imports
 * sessionkit by package name, as a user does.
 *
 *   npm run bench                      full run (~11 min, growth included): every contender, 3 rounds, writes docs/benchmarks.md,
 *                                      docs/benchmarks.svg and bench/results/latest.json
 *   npm run bench -- --quick           ~1 min: 9 contenders, 1 short round, results in bench/results/quick.json
 *   npm run bench -- --growth          growth only (~3 min): docs/benchmarks-growth.md and .svg
 *   options: --rounds N  --seconds S  --warmup S  --connections N  --only id,id  --no-micro  --docs  --no-docs
 *
 * Exits 1 when a contender that could run failed (crash, non-2xx answers, lost sessions), else 0;
 * a contender whose module or service is missing is reported "not available" and does not fail the run.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { GrowthResult } from './growth/measure.js';
import { aggregate } from './lib/aggregate.js';
import { buildForBench, COMPILED_MICRO } from './lib/build.js';
import { CONTENDERS, type Contender } from './lib/contenders.js';
import { benchmarksMarkdown, describeMachine } from './lib/docs.js';
import { evaluateGoals } from './lib/goals.js';
import { runGrowth } from './lib/growth-run.js';
import { WORKLOADS } from './lib/load.js';
import { type ContenderRun, measureAll, type RunSettings, type Services } from './lib/measure.js';
import { ratioChart } from './lib/ratio-chart.js';
import { microTerminal, terminalTable } from './lib/report.js';
import { postgresReachable, startPrivateRedis } from './lib/services.js';
import type { MicroResult } from './micro/cookie.js';

const ROOT = new URL('../', import.meta.url);
const started = Date.now();

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    only: { type: 'string' },
    'no-micro': { type: 'boolean', default: false },
    docs: { type: 'boolean' },
    'no-docs': { type: 'boolean', default: false },
    growth: { type: 'boolean', default: false },
  },
});

function numberArg(value: string | undefined, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${value}`);
  return n;
}

const quick = args.quick === true;
const settings: RunSettings = {
  rounds: numberArg(args.rounds, quick ? 1 : 3),
  seconds: numberArg(args.seconds, quick ? 0.75 : 1),
  warmupSeconds: numberArg(args.warmup, quick ? 0.5 : 1.5),
  connections: numberArg(args.connections, 10),
};
const only = args.only?.split(',').filter(Boolean);
const contenders: Contender[] = CONTENDERS.filter((c) =>
  only ? only.some((id) => c.id.startsWith(id)) : !quick || c.quick === true,
);
const growthOnly = args.growth === true;
const writeDocs = args.docs ?? (!quick && only === undefined && !args['no-docs']);
// The full run measures growth too (its docs page is regenerated with benchmarks.md).
const withGrowth = growthOnly || (writeDocs && only === undefined);
const GROWTH_BUDGET_S = quick ? 20 : 100;
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
// A hard bound on the whole run, so a hung child can never keep CI waiting.
const budgetMs = quick ? 4 * 60_000 : 40 * 60_000;
const log = (line: string) => process.stdout.write(`${line}\n`);
// Servers exit when their IPC channel closes; the private redis-server must be stopped explicitly.
let stopRedis: () => Promise<void> = async () => undefined;

async function openServices(needed: Set<string>): Promise<Services> {
  const services: Services = { redis: undefined, postgres: false, why: {} };
  if (needed.has('redis')) {
    const redis = await startPrivateRedis();
    if (typeof redis === 'string') services.why.redis = redis;
    else services.redis = redis;
  }
  if (needed.has('postgres')) {
    services.postgres = await postgresReachable();
    if (!services.postgres) services.why.postgres = 'PostgreSQL is not reachable on 127.0.0.1:5432';
  }
  return services;
}

function runMicro(seconds: number, rounds: number): Promise<MicroResult | undefined> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [COMPILED_MICRO, String(seconds), String(rounds)], {
      cwd: fileURLToPath(ROOT),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-2000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000 + seconds * rounds * 12_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`exit ${code}: ${err.trim()}`);
        const parsed: MicroResult = JSON.parse(out);
        resolve(parsed);
      } catch (error) {
        log(`cookie micro-benchmark failed: ${String(error)}`);
        resolve(undefined);
      }
    });
  });
}

async function main(): Promise<number> {
  const machine = await describeMachine();
  log(
    `sessionkit bench${quick ? ' --quick' : ''}: ${contenders.length} contenders × ${WORKLOADS.length} workloads × ` +
      `${settings.rounds} round(s) of ${settings.seconds} s, ${settings.connections} connections; ${machine.nproc} CPUs, ${machine.cpu}, Node ${machine.node}`,
  );
  log('building dist/ and the benchmark servers (tsc)…');
  await buildForBench();
  if (growthOnly) {
    const growth = await runGrowth(quick, GROWTH_BUDGET_S, !quick || args.docs === true, command, log);
    await mkdir(new URL('bench/results/', ROOT), { recursive: true });
    await writeFile(new URL('bench/results/growth.json', ROOT), `${JSON.stringify(growth, null, 2)}\n`);
    log(`results: bench/results/growth.json; done in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
    return 0;
  }
  const services = await openServices(new Set(contenders.flatMap((c) => c.needs)));
  if (services.redis) {
    log(`private redis-server on 127.0.0.1:${services.redis.port}`);
    stopRedis = services.redis.stop;
  }
  for (const [service, why] of Object.entries(services.why)) log(`${service}: ${why}`);

  let runs: Map<string, ContenderRun>;
  try {
    runs = await measureAll(contenders, settings, services, log);
  } finally {
    await services.redis?.stop();
  }

  let micro: MicroResult | undefined;
  if (!args['no-micro']) {
    log('cookie micro-benchmark…');
    micro = await runMicro(quick ? 0.3 : 1, quick ? 1 : 3);
  }
  let growth: GrowthResult | undefined;
  if (withGrowth) {
    log('growth benchmark (latency by session size and stored sessions, bytes per session)…');
    growth = await runGrowth(quick, GROWTH_BUDGET_S, writeDocs, command, log);
  }
  const rows = aggregate(contenders, runs, WORKLOADS);
  const goals = evaluateGoals(rows, micro);
  for (const workload of WORKLOADS) log(`\n== ${workload} ==\n${terminalTable(rows, workload)}`);
  if (micro) log(`\n== cookie seal/open (${micro.payloadBytes}-byte session) ==\n${microTerminal(micro)}`);
  log(
    `\n== goals ==\n${goals.map((g) => `${g.id} ${g.status.padEnd(6)} ${g.what}: ${g.measured} (goal ${g.goal})`).join('\n')}`,
  );

  const minutes = (Date.now() - started) / 60_000;
  const redisMethod = '`INFO commandstats` deltas on a private redis-server started for the run';
  const output = {
    date: new Date().toISOString(),
    command,
    settings,
    machine,
    minutes,
    methods: {
      build:
        'sessionkit from its built dist/, imported by package name through package.json exports; servers compiled by tsc (bench/.build), no TypeScript loader in any server process',
      redis: `round trips: the client's sendCommand, in the server process; commands executed: ${redisMethod}`,
      postgres: 'statements counted in the server process (pg.Client.prototype.query)',
      memory: 'store method calls counted in the server process',
    },
    rows,
    goals,
    micro,
    growth,
  };
  await mkdir(new URL('bench/results/', ROOT), { recursive: true });
  const resultFile = quick || only ? 'bench/results/quick.json' : 'bench/results/latest.json';
  await writeFile(new URL(resultFile, ROOT), `${JSON.stringify(output, null, 2)}\n`);
  log(`\nresults: ${resultFile}`);
  if (writeDocs) {
    const markdown = benchmarksMarkdown({ ...output, redisMethod });
    await writeFile(new URL('docs/benchmarks.md', ROOT), markdown);
    await writeFile(
      new URL('docs/benchmarks.svg', ROOT),
      ratioChart(
        rows,
        ['read', 'write', 'create'],
        'sessionkit benchmark: throughput relative to the bare framework',
      ),
    );
    log('docs: docs/benchmarks.md, docs/benchmarks.svg');
  }
  log(`done in ${minutes.toFixed(1)} min`);

  const failed = rows.filter(
    (r) => r.status === 'failed' || Object.values(r.cells).some((c) => c.non2xx + c.errors > 0),
  );
  for (const row of failed) log(`FAILED: ${row.label}: ${row.reason ?? 'non-2xx answers or errors'}`);
  return failed.length > 0 ? 1 : 0;
}

function abort(why: string, code: number): void {
  log(why);
  stopRedis().finally(() => process.exit(code));
}
setTimeout(() => abort(`bench exceeded its ${budgetMs / 60_000} min budget; stopping`, 2), budgetMs).unref();
process.once('SIGINT', () => abort('interrupted', 130));
process.once('SIGTERM', () => abort('terminated', 143));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
