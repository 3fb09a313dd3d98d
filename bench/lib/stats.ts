/**
 * Parsing and counting helpers of the benchmark (pure, unit-tested); the statistics (median,
 * percentile) are tools/stats.ts's, re-exported for the benchmark's scripts.
 */
export { median, percentile } from '../../tools/stats.js';

/** Calls per command from `INFO commandstats` (`cmdstat_get:calls=3,…` → get: 3). */
export function parseCommandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) calls.set(match[1], Number(match[2]));
  }
  return calls;
}

/** `after - before` per name, dropping names in `ignore` and zero deltas. */
export function countDelta(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  ignore: readonly string[] = [],
): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, value] of after) {
    if (ignore.includes(name)) continue;
    const change = value - (before.get(name) ?? 0);
    if (change !== 0) delta.set(name, change);
  }
  return delta;
}

/** The `name=value` pairs of `Set-Cookie` headers joined into one `Cookie` header ('' when none). */
export function cookieHeaderFrom(setCookies: readonly string[] | undefined): string {
  return (
    (setCookies ?? [])
      .map((header) => header.split(';', 1)[0]?.trim() ?? '')
      // An empty value is a cookie being cleared, not one to send back.
      .filter((pair) => pair.indexOf('=') > 0 && pair.indexOf('=') < pair.length - 1)
      .join('; ')
  );
}

/** Counts the server's Redis executed (`INFO commandstats`), as opposed to round trips a client made. */
export function isServerCount(kind: string): boolean {
  return kind.startsWith('redis-server:');
}
