/**
 * Profiles one contender's server (built dist/, see lib/build.ts) under one workload with
 * `node --cpu-prof`, and names the hot frames:
 *
 *   npx tsx bench/profile.ts <contender id> [workload=read] [seconds=5]
 *
 * Prints the functions with the most self time, and self time grouped by file (sessionkit's own
 * files, each dependency, node internals). The raw .cpuprofile stays in the printed directory (open it
 * in Chrome DevTools for the call tree).
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildForBench } from './lib/build.js';
import { CONTENDERS } from './lib/contenders.js';
import { runLoad, seedSessions, WORKLOADS, type Workload } from './lib/load.js';
import { missingService, type Services, slotFor } from './lib/measure.js';
import { startServer } from './lib/server-process.js';
import { postgresReachable, startPrivateRedis } from './lib/services.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function isProfile(value: unknown): value is { nodes: ProfileNode[] } {
  return typeof value === 'object' && value !== null && Array.isArray(Reflect.get(value, 'nodes'));
}

/** A short name for a script URL: `src/core/manager.ts`, `express`, `node:internal/…`. */
function fileOf(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(?:deps\/)?/, 'node:');
  const dependency = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency?.[1] !== undefined) return dependency[1];
  const own = /\/work\/[^/]+\/((?:src|bench)\/.*)$/.exec(url) ?? /((?:src|bench)\/[^?]*)$/.exec(url);
  return own?.[1] ?? url;
}

function top(entries: Map<string, number>, total: number, count: number): string {
  return [...entries]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)} %  ${name}`)
    .join('\n');
}

/** Self time by function and by file from a .cpuprofile. */
export function summarize(profile: { nodes: ProfileNode[] }): string {
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = fileOf(url);
    const name = `${functionName || '(anonymous)'}  ${file}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    byFile.set(file, (byFile.get(file) ?? 0) + hits);
    total += hits;
  }
  const idle = (byFunction.get('(idle)  (native / V8)') ?? 0) / Math.max(1, total);
  return [
    `samples: ${total} (idle ${(idle * 100).toFixed(1)} %)`,
    '',
    'self time by function:',
    top(byFunction, total, 25),
    '',
    'self time by file / package:',
    top(byFile, total, 20),
  ].join('\n');
}

async function main(): Promise<void> {
  const [id, workloadArg = 'read', secondsArg = '5'] = process.argv.slice(2);
  const contender = CONTENDERS.find((c) => c.id === id);
  const workload = WORKLOADS.find((w) => w === workloadArg);
  if (contender === undefined || workload === undefined) {
    throw new Error(
      `usage: tsx bench/profile.ts <${CONTENDERS.map((c) => c.id).join('|')}> [${WORKLOADS.join('|')}] [seconds]`,
    );
  }
  await buildForBench();
  const services: Services = { redis: undefined, postgres: false, why: {} };
  if (contender.needs.includes('redis')) {
    const redis = await startPrivateRedis();
    if (typeof redis === 'string') services.why.redis = redis;
    else services.redis = redis;
  }
  if (contender.needs.includes('postgres')) services.postgres = await postgresReachable();
  try {
    const missing = missingService(contender, services);
    if (missing !== undefined) throw new Error(`${contender.id} cannot run: ${missing}`);
    const dir = await mkdtemp(join(tmpdir(), `sessionkit-profile-${contender.id}-`));
    const slot = slotFor(contender, 'profile', services);
    const started = await startServer(contender.script, slot.env, 30_000, [
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
    ]);
    if (started.status !== 'running')
      throw new Error(`${contender.id}: ${started.status}: ${started.reason}`);
    const { server } = started;
    let load: Awaited<ReturnType<typeof runLoad>>;
    try {
      const cookies = contender.store === 'none' ? [] : await seedSessions(server.port, 10);
      await runLoad(server.port, 'read', cookies, 10, 1);
      load = await runLoad(server.port, workload satisfies Workload, cookies, 10, Number(secondsArg));
    } finally {
      await server.stop();
      await slot.cleanup();
    }
    const [file] = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
    if (file === undefined) throw new Error(`no .cpuprofile in ${dir}`);
    const profile: unknown = JSON.parse(await readFile(join(dir, file), 'utf8'));
    if (!isProfile(profile)) throw new Error('not a .cpuprofile');
    process.stdout.write(
      `${contender.label}, ${workload}: ${Math.round(load.rps)} req/s under the profiler\nprofile: ${join(dir, file)}\n\n${summarize(profile)}\n`,
    );
  } finally {
    await services.redis?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
