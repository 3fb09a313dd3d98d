/**
 * The one retry backoff: a writer that lost a compare-and-set (the manager, the Memcached store) waits a
 * random time before its next attempt, so contenders racing on one key spread out instead of colliding
 * again in lockstep.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { randomFraction } from './crypto.js';

/** Ceiling of the backoff between compare-and-set attempts that lost to parallel writes (the core's). */
export const CAS_BACKOFF_CEILING_MS = 50;

/** Waits a random 0…min(2^attempt, ceilingMs) ms (full jitter). */
export function backoff(attempt: number, ceilingMs: number): Promise<void> {
  return sleep(randomFraction() * Math.min(ceilingMs, 2 ** Math.min(attempt, 30)));
}
