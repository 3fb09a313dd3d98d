/**
 * Optional detection hooks (SEC-41): binding a session to its client, and counting invalid tokens
 * per client to spot guessing.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { SessionConfigError } from '../errors.js';
import type { Clock } from './clock.js';
import { publish } from './diagnostics.js';
import { flag, seconds, wholeNumber } from './options.js';
import type { SessionMeta } from './store-contract.js';
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

/**
 * The eight 16-bit groups of an IPv6 address (zone dropped, `::` expanded, a dotted IPv4 tail as two
 * groups), or `null` when `ip` is not one.
 */
function ipv6Groups(ip: string): number[] | null {
  const [address = ''] = ip.split('%', 1);
  if (!isIPv6(address)) return null;
  const toGroups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [a * 256 + b, c * 256 + d];
        });
  const [head = '', tail] = address.split('::');
  const left = toGroups(head);
  const right = tail === undefined ? [] : toGroups(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, in either spelling) as plain IPv4; others unchanged. */
function unmapped(ip: string): string {
  const groups = ipv6Groups(ip);
  if (groups === null || groups[5] !== 0xffff || groups.slice(0, 5).some((g) => g !== 0)) return ip;
  const [hi = 0, lo = 0] = groups.slice(6);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** The /24 (IPv4) or /64 (IPv6) network of an address; IPv4-mapped IPv6 counts as IPv4. */
export function ipPrefix(ip: string): string {
  const address = unmapped(ip);
  if (isIPv4(address)) return `${address.split('.').slice(0, 3).join('.')}.0/24`;
  const groups = ipv6Groups(address);
  if (groups === null) return address;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/**
 * What invalid tokens are counted per: an IPv4 address (IPv4-mapped IPv6 included), or the /64 of an
 * IPv6 address, since one subscriber usually holds a whole /64 and picks any address in it.
 */
export function clientBucket(ip: string): string {
  const address = unmapped(ip);
  return isIPv4(address) ? address : ipPrefix(address);
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
  /**
   * Invalid or unknown tokens from one client within the window that raise a `bruteforce` event; a
   * client is an IPv4 address or an IPv6 /64. @default 100
   */
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
    record(address: string | undefined): void {
      if (address === undefined) return;
      const ip = clientBucket(address);
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
