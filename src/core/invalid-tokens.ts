/**
 * Counting invalid tokens per client to spot guessing (SEC-41): a `bruteforce` event when one client
 * crosses the threshold within the window.
 */

import { clientBucket } from './client-address.js';
import type { Clock } from './clock.js';
import { publish } from './diagnostics.js';
import { seconds, wholeNumber } from './options.js';

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
