/**
 * Runs bench/growth/measure.ts (compiled, see build.ts) as its own process with a private
 * redis-server, bounded in time, and writes docs/benchmarks-growth.md and .svg from its result.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import type { GrowthResult } from '../growth/measure.js';
import { COMPILED_GROWTH } from './build.js';
import { growthChart, growthMarkdown } from './growth-report.js';
import { startPrivateRedis } from './services.js';

const ROOT = new URL('../../', import.meta.url);

function runChild(env: Record<string, string>, timeoutMs: number): Promise<GrowthResult> {
  return new Promise((resolve, reject) => {
    // 1 M in-memory sessions need more than the default heap; --expose-gc for the footprint figures.
    const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=8192', COMPILED_GROWTH], {
      env: { ...process.env, ...env },
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
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`growth benchmark: exit ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/**
 * Measures growth (`quick`: small counts) within about `budgetSeconds` of filling; writes the docs
 * when `writeDocs`. Resolves to the result for bench/results.
 */
export async function runGrowth(
  quick: boolean,
  budgetSeconds: number,
  writeDocs: boolean,
  command: string,
  log: (line: string) => void,
): Promise<GrowthResult> {
  const load = loadavg()
    .map((n) => n.toFixed(1))
    .join(' / ');
  const redis = await startPrivateRedis();
  if (typeof redis === 'string') log(`growth: no private redis-server (${redis}); Redis figures skipped`);
  else log(`growth: private redis-server on 127.0.0.1:${redis.port}`);
  try {
    const result = await runChild(
      {
        BENCH_REDIS_PORT: typeof redis === 'string' ? '0' : String(redis.port),
        GROWTH_QUICK: quick ? '1' : '0',
        GROWTH_BUDGET_S: String(budgetSeconds),
      },
      (budgetSeconds + 240) * 1000,
    );
    if (writeDocs) {
      await writeFile(
        new URL('docs/benchmarks-growth.md', ROOT),
        growthMarkdown(result, new Date().toISOString(), command, load),
      );
      await writeFile(new URL('docs/benchmarks-growth.svg', ROOT), growthChart(result));
      log('docs: docs/benchmarks-growth.md, docs/benchmarks-growth.svg');
    }
    return result;
  } finally {
    if (typeof redis !== 'string') await redis.stop();
  }
}
