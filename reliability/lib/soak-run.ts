/**
 * The soak: session churn (create, use, abandon or log out, expire) on every adapter at once, each
 * with its own memory store, while a sampler records resident memory, heap and entry counts. Time in
 * the stores runs faster than the wall clock (a sped-up clock), so sessions expire within the run
 * without anyone sleeping; the stores' sweep timers remove the expired ones.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { round } from '../../tools/stats.js';
import { CookieJar, createHttpClient, type HttpClient } from './http.js';
import { ADAPTERS, type SoakApp, startSoakApp } from './soak-apps.js';

/** Options of `runSoak`. */
export interface SoakOptions {
  durationMs: number;
  sampleEveryMs: number;
  /** Simulated users per adapter, each running closed-loop. */
  visitorsPerAdapter: number;
  /** Simulated seconds per real second. */
  speedup: number;
  idleTimeoutSeconds: number;
  /** Simulated seconds between token rotations; 0 turns rotation off. */
  rotateAfterSeconds: number;
  maxEntries: number;
}

/** CI-sized run: 12 s, idle timeout 5 real seconds. */
export const QUICK_SOAK: SoakOptions = {
  durationMs: 12_000,
  sampleEveryMs: 1000,
  visitorsPerAdapter: 4,
  speedup: 60,
  idleTimeoutSeconds: 300,
  rotateAfterSeconds: 0,
  maxEntries: 100_000,
};
/** `npm run soak`: 10 minutes, idle timeout 30 minutes simulated (30 real seconds). */
export const FULL_SOAK: SoakOptions = {
  durationMs: 600_000,
  sampleEveryMs: 5000,
  visitorsPerAdapter: 8,
  speedup: 60,
  idleTimeoutSeconds: 1800,
  rotateAfterSeconds: 900,
  maxEntries: 100_000,
};

/** One sample of the run. */
export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  /** Entries per adapter's store (expired ones the sweep has not removed yet included). */
  entries: Record<string, number>;
  totalEntries: number;
  requests: number;
  sessionsCreated: number;
}

/** What the soak found. */
export interface SoakResult {
  options: SoakOptions;
  samples: SoakSample[];
  requests: number;
  byStatus: Record<string, number>;
  sessionsCreated: number;
  loggedOut: number;
  abandoned: number;
  /** Sessions that disappeared while in use (the server cleared the cookie without a logout). */
  lostInUse: number;
  /** After the load: entries left once the clock passed every idle expiry and the stores swept. */
  entriesAfterExpiry: number;
  heapAfterExpiryMb: number;
  /**
   * Samples whose entry count exceeded the bound: twice (a rotated session leaves an alias) the
   * sessions created within the last idle window plus 10 s (time in use), plus 50 per store.
   */
  samplesAboveBound: number;
  /** Entries at the last sample, and sessions created by then: sweeps ran if the first is lower. */
  entriesAtEnd: number;
  createdAtEnd: number;
  /** Mean heap of the last quarter of samples over the mean of the second quarter. */
  heapGrowth: number;
  rssGrowth: number;
  failures: string[];
  passed: boolean;
}

/** A clock running `speedup` times faster than the wall clock, which can also jump ahead. */
export function spedUpClock(speedup: number): { now(): number; jump(ms: number): void } {
  const start = Date.now();
  let offset = 0;
  return {
    now: () => start + (Date.now() - start) * speedup + offset,
    jump(ms) {
      offset += ms;
    },
  };
}

function collectGarbage(): void {
  const gc: unknown = Reflect.get(globalThis, 'gc');
  if (typeof gc === 'function') gc();
}

const MB = 1024 * 1024;

interface Counters {
  requests: number;
  byStatus: Record<string, number>;
  created: number;
  loggedOut: number;
  abandoned: number;
  lostInUse: number;
}

/** One simulated shopper: starts a session, uses it a few times, then logs out or walks away. */
async function shop(
  client: HttpClient,
  cookieName: string,
  counters: Counters,
  running: () => boolean,
): Promise<void> {
  const jar = new CookieJar(cookieName);
  const send = async (method: string, path: string) => {
    const reply = await client.send(method, path, { ...jar.header(), 'x-forwarded-proto': 'https' });
    counters.requests++;
    const status = reply.status === 0 ? 'none' : String(reply.status);
    counters.byStatus[status] = (counters.byStatus[status] ?? 0) + 1;
    return { reply, change: jar.apply(reply.setCookie) };
  };
  if ((await send('POST', '/start')).reply.status !== 200 || jar.value === undefined) return;
  counters.created++;
  const uses = 2 + Math.floor(Math.random() * 9);
  for (let i = 0; i < uses && running(); i++) {
    const path = Math.random() < 0.4 ? '/s' : Math.random() < 0.5 ? '/add' : '/visit';
    const { change } = await send(path === '/s' ? 'GET' : 'POST', path);
    if (change === 'cleared') {
      counters.lostInUse++;
      return;
    }
  }
  if (Math.random() < 0.2) {
    await send('POST', '/logout');
    counters.loggedOut++;
  } else {
    counters.abandoned++;
  }
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Runs the soak on every adapter at once. */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const clock = spedUpClock(options.speedup);
  const apps: SoakApp[] = [];
  const clients: HttpClient[] = [];
  const counters: Counters = {
    requests: 0,
    byStatus: {},
    created: 0,
    loggedOut: 0,
    abandoned: 0,
    lostInUse: 0,
  };
  const samples: SoakSample[] = [];
  try {
    for (const adapter of ADAPTERS) {
      apps.push(await startSoakApp(adapter, clock, options));
    }
    const started = performance.now();
    let running = true;
    const isRunning = () => running;
    const loops = apps.flatMap((app) => {
      const client = createHttpClient(app.port, { sockets: options.visitorsPerAdapter, timeoutMs: 30_000 });
      clients.push(client);
      return Array.from({ length: options.visitorsPerAdapter }, async () => {
        while (running) await shop(client, app.cookieName, counters, isRunning);
      });
    });
    const sample = () => {
      collectGarbage();
      const memory = process.memoryUsage();
      const entries: Record<string, number> = Object.fromEntries(
        apps.map((app) => [app.adapter, app.store.size]),
      );
      samples.push({
        t: round((performance.now() - started) / 1000, 1),
        rssMb: round(memory.rss / MB),
        heapUsedMb: round(memory.heapUsed / MB),
        externalMb: round(memory.external / MB),
        entries,
        totalEntries: Object.values(entries).reduce((a, b) => a + b, 0),
        requests: counters.requests,
        sessionsCreated: counters.created,
      });
    };
    sample();
    while (performance.now() - started < options.durationMs) {
      await sleep(Math.min(options.sampleEveryMs, options.durationMs - (performance.now() - started)));
      sample();
    }
    running = false;
    await Promise.all(loops);
    // Past every idle expiry: a sweep must leave nothing behind.
    clock.jump((options.idleTimeoutSeconds + 60) * 1000);
    for (const app of apps) await app.store.prune();
    collectGarbage();
    const entriesAfterExpiry = apps.reduce((sum, app) => sum + app.store.size, 0);
    const heapAfterExpiryMb = round(process.memoryUsage().heapUsed / MB);

    const quarter = Math.max(1, Math.floor(samples.length / 4));
    const second = samples.slice(quarter, 2 * quarter);
    const last = samples.slice(-quarter);
    const windowSeconds = options.idleTimeoutSeconds / options.speedup + 10;
    const createdBy = (t: number) => samples.filter((s) => s.t <= t).at(-1)?.sessionsCreated ?? 0;
    const samplesAboveBound = samples.filter(
      (s) => s.totalEntries > 2 * (s.sessionsCreated - createdBy(s.t - windowSeconds)) + 50 * apps.length,
    ).length;
    const end = samples.at(-1);
    const result: SoakResult = {
      options,
      samples,
      requests: counters.requests,
      byStatus: counters.byStatus,
      sessionsCreated: counters.created,
      loggedOut: counters.loggedOut,
      abandoned: counters.abandoned,
      lostInUse: counters.lostInUse,
      entriesAfterExpiry,
      heapAfterExpiryMb,
      samplesAboveBound,
      entriesAtEnd: end?.totalEntries ?? 0,
      createdAtEnd: end?.sessionsCreated ?? 0,
      heapGrowth: round(
        mean(last.map((s) => s.heapUsedMb)) / Math.max(1, mean(second.map((s) => s.heapUsedMb))),
        2,
      ),
      rssGrowth: round(mean(last.map((s) => s.rssMb)) / Math.max(1, mean(second.map((s) => s.rssMb))), 2),
      failures: [],
      passed: false,
    };
    const other = Object.entries(counters.byStatus).filter(([status]) => status !== '200');
    if (other.length > 0)
      result.failures.push(`replies other than 200: ${JSON.stringify(counters.byStatus)}`);
    if (counters.lostInUse > 0) result.failures.push(`${counters.lostInUse} sessions lost while in use`);
    if (entriesAfterExpiry > 0)
      result.failures.push(`${entriesAfterExpiry} entries left after every session expired`);
    if (samplesAboveBound > 0)
      result.failures.push(`${samplesAboveBound} samples with more entries than the bound`);
    if (result.entriesAtEnd >= result.createdAtEnd)
      result.failures.push('no expired session was swept during the run');
    result.passed = result.failures.length === 0;
    return result;
  } finally {
    for (const client of clients) client.close();
    for (const app of apps) await app.close();
  }
}
