/**
 * Optional detection hooks (SEC-41): binding a session to its client, and counting invalid tokens
 * per client to spot guessing.
 */
import { isIPv4 } from 'node:net';
import { SessionConfigError } from '../errors.js';
import type { SessionMeta } from '../stores/types.js';
import type { Clock } from './clock.js';
import { publish } from './diagnostics.js';
import { flag, seconds, wholeNumber } from './options.js';
import type { RequestInfo } from './types.js';

/** Binding of a session to properties of the client that created it. */
export interface BindingOptions {
  /** Compare the `User-Agent` header with the one seen at creation. @default false */
  userAgent?: boolean;
  /** Compare the client's IP prefix (/24 for IPv4, /64 for IPv6) with the one seen at creation. @default false */
  ipPrefix?: boolean;
  /**
   * On a mismatch: `"event"` publishes `binding-mismatch` and keeps the session; `"destroy"` also
   * destroys it and serves a fresh one. @default "event"
   */
  onMismatch?: 'event' | 'destroy';
}

/** Binding settings after validation. */
export interface ResolvedBinding {
  userAgent: boolean;
  ipPrefix: boolean;
  destroy: boolean;
}

/** Validates `binding`. */
export function resolveBinding(binding: BindingOptions | undefined): ResolvedBinding {
  const onMismatch = binding?.onMismatch ?? 'event';
  if (onMismatch !== 'event' && onMismatch !== 'destroy') {
    throw new SessionConfigError('binding.onMismatch', 'must be "event" or "destroy"');
  }
  return {
    userAgent: flag('binding.userAgent', binding?.userAgent, false),
    ipPrefix: flag('binding.ipPrefix', binding?.ipPrefix, false),
    destroy: onMismatch === 'destroy',
  };
}

/** The /24 (IPv4) or /64 (IPv6) network of an address; IPv4-mapped IPv6 counts as IPv4. */
export function ipPrefix(ip: string): string {
  const address = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  const [head = ''] = address.split('%');
  const halves = head.split('::');
  const left = (halves[0] ?? '').split(':').filter(Boolean);
  const right = halves.length > 1 ? (halves[1] ?? '').split(':').filter(Boolean) : [];
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** What a new session records about its client (the user agent is also shown in session lists). */
export function clientOf(request: RequestInfo | undefined, binding: ResolvedBinding): SessionMeta['client'] {
  const client: NonNullable<SessionMeta['client']> = {};
  if (request?.userAgent) client.userAgent = request.userAgent.slice(0, 256);
  if (binding.ipPrefix && request?.ip) client.ipPrefix = ipPrefix(request.ip);
  return client.userAgent === undefined && client.ipPrefix === undefined ? undefined : client;
}

/** True when the request does not match what the session recorded at creation. */
export function bindingMismatch(
  binding: ResolvedBinding,
  meta: SessionMeta,
  request: RequestInfo | undefined,
): boolean {
  if (request === undefined) return false;
  if (binding.userAgent && (request.userAgent ?? '').slice(0, 256) !== (meta.client?.userAgent ?? ''))
    return true;
  if (
    binding.ipPrefix &&
    request.ip &&
    meta.client?.ipPrefix &&
    ipPrefix(request.ip) !== meta.client.ipPrefix
  ) {
    return true;
  }
  return false;
}

/** Counting of invalid tokens per client. */
export interface InvalidTokenOptions {
  /** Invalid or unknown tokens from one IP within the window that raise a `bruteforce` event. @default 100 */
  threshold?: number;
  /** Length of the counting window in seconds. @default 60 */
  windowSeconds?: number;
}

const MAX_TRACKED_CLIENTS = 10_000;

/** Creates a counter that publishes `bruteforce` once per window when a client crosses the threshold. */
export function createInvalidTokenMonitor(options: InvalidTokenOptions | undefined, clock: Clock) {
  const threshold = wholeNumber('invalidTokens.threshold', options?.threshold, 100, 1, 1_000_000);
  const windowMs = seconds('invalidTokens.windowSeconds', options?.windowSeconds, 60, 1, 86_400) * 1000;
  // Insertion-ordered map used as a bounded LRU: the oldest client is forgotten first.
  const clients = new Map<string, { since: number; count: number }>();
  return {
    record(ip: string | undefined): void {
      if (ip === undefined) return;
      const now = clock.now();
      let entry = clients.get(ip);
      if (entry === undefined || now - entry.since >= windowMs) entry = { since: now, count: 0 };
      clients.delete(ip);
      clients.set(ip, entry);
      if (clients.size > MAX_TRACKED_CLIENTS) {
        const oldest = clients.keys().next().value;
        if (oldest !== undefined) clients.delete(oldest);
      }
      entry.count++;
      if (entry.count === threshold) {
        publish({ type: 'bruteforce', detail: { ip, count: entry.count, windowSeconds: windowMs / 1000 } });
      }
    },
  };
}
