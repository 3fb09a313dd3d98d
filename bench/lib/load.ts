/**
 * The load side: pre-creates one session per connection, then drives a workload with autocannon
 * (in this process, which is not the server's), each connection carrying its own session cookie.
 */
import { request } from 'node:http';
import autocannon from 'autocannon';
import { cookieHeaderFrom } from './stats.js';

/** The four workloads. */
export type Workload = 'read' | 'write' | 'mixed' | 'create';

/** Workloads in the order they run against one server (create last: it fills the store). */
export const WORKLOADS: readonly Workload[] = ['read', 'write', 'mixed', 'create'];

/** One autocannon run, reduced to what the report needs. */
export interface LoadResult {
  requests: number;
  seconds: number;
  /** Requests per second over the run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

interface Reply {
  status: number;
  cookie: string;
}

function get(port: number, path: string, cookie: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: cookie ? { cookie } : {} }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, cookie: cookieHeaderFrom(res.headers['set-cookie']) }),
      );
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Creates `count` sessions through `/create` and checks that each one reads back through `/read`;
 * resolves to one `Cookie` header per session.
 */
export async function seedSessions(port: number, count: number): Promise<string[]> {
  const cookies: string[] = [];
  for (let i = 0; i < count; i++) {
    const created = await get(port, '/create', '', 5000);
    if (created.status !== 200 || created.cookie === '') {
      throw new Error(`/create answered ${created.status} with ${created.cookie ? 'a' : 'no'} cookie`);
    }
    const read = await get(port, '/read', created.cookie, 5000);
    if (read.status !== 200) throw new Error(`/read of a fresh session answered ${read.status}`);
    cookies.push(created.cookie);
  }
  return cookies;
}

/** The request sequence one connection repeats for a workload (mixed: 9 reads, then 1 write). */
function sequence(workload: Workload, cookie: string | undefined): autocannon.Request[] {
  const headers = cookie ? { cookie } : {};
  const at = (path: string): autocannon.Request => ({ method: 'GET', path, headers });
  switch (workload) {
    case 'read':
      return [at('/read')];
    case 'write':
      return [at('/write')];
    case 'mixed':
      return [...Array.from({ length: 9 }, () => at('/read')), at('/write')];
    case 'create':
      return [{ method: 'GET', path: '/create', headers: {} }];
  }
}

/**
 * Runs `workload` for `seconds` with one connection per cookie (`connections` connections without
 * cookies for `create`). Bounded: autocannon stops at the duration, and requests time out at 10 s.
 */
export async function runLoad(
  port: number,
  workload: Workload,
  cookies: readonly string[],
  connections: number,
  seconds: number,
): Promise<LoadResult> {
  let next = 0;
  // autocannon's own histogram has 1 ms resolution, too coarse for sub-millisecond medians, so the
  // latencies are kept here (float ms, every response) and the percentiles computed exactly.
  const latencies = new LatencyLog();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections,
        duration: seconds,
        timeout: 10,
        // One session per connection: each client gets its own cookie before it connects.
        setupClient: (client) => {
          const cookie = workload === 'create' ? undefined : cookies[next++ % Math.max(1, cookies.length)];
          client.setRequests(sequence(workload, cookie));
        },
      },
      (error: unknown, done: autocannon.Result) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.add(responseTime));
  });
  const elapsed = result.duration > 0 ? result.duration : seconds;
  return {
    requests: result.requests.total,
    seconds: elapsed,
    rps: result.requests.total / elapsed,
    p50Ms: latencies.percentile(50),
    p99Ms: latencies.percentile(99),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** A growable array of latencies in ms. */
class LatencyLog {
  #values = new Float64Array(1 << 16);
  #length = 0;

  add(ms: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#length++] = ms;
  }

  /** The nearest-rank percentile; NaN without samples. */
  percentile(p: number): number {
    if (this.#length === 0) return Number.NaN;
    const sorted = this.#values.slice(0, this.#length).sort();
    return sorted[Math.min(this.#length - 1, Math.ceil((p / 100) * this.#length) - 1)] ?? Number.NaN;
  }
}
