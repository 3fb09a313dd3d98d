import { channel } from 'node:diagnostics_channel';

/** Name of the `node:diagnostics_channel` channel every sessionkit event is published on. */
export const DIAGNOSTICS_CHANNEL = 'sessionkit';

/** Why a presented cookie did not yield the session it named. */
export type RejectReason =
  | 'malformed' // not a well-formed token / sealed value
  | 'unknown' // well-formed, never issued (or already deleted)
  | 'expired-idle'
  | 'expired-absolute'
  | 'duplicate' // several distinct values for the session cookie (cookie tossing)
  | 'tampered' // sealed cookie failed authentication
  | 'unknown-key' // sealed with a key that is not in the keyring
  | 'oversized'
  | 'reused' // a rotated-out token presented after its grace window
  | 'regenerated' // a token replaced by login()/regenerate() (never followed: fixation)
  | 'audience' // a token issued by another app sharing the store
  | 'revoked' // cookie-only session older than the user's not-before time
  | 'binding'; // user agent / IP binding mismatch

/** Every event type sessionkit publishes. */
export type SessionEventType =
  | 'created'
  | 'loaded'
  | 'saved'
  | 'touched'
  | 'regenerated'
  | 'migrated'
  | 'rotated'
  | 'reuse-detected'
  | 'destroyed'
  | 'expired'
  | 'rejected'
  | 'insecure-transport'
  | 'write-to-missing'
  | 'cache-hit'
  | 'cache-miss'
  | 'cache-error'
  | 'store-error'
  | 'replica-shortfall'
  | 'decode-error'
  | 'key-usage'
  | 'bruteforce'
  | 'binding-mismatch';

/**
 * One diagnostics event. `id` is the public session handle (a hash), never a token; no field ever
 * carries a token, cookie value or secret.
 */
export interface SessionEvent {
  type: SessionEventType;
  /** Public handle of the session concerned, when there is one. */
  id?: string;
  reason?: RejectReason | string;
  /** The store's `kind`. */
  store?: string;
  /** Error code and message for failures (messages never hold secrets). */
  error?: { code?: string; message: string };
  /** Extra numbers: counts, versions. */
  detail?: Record<string, number | string | boolean>;
}

const events = channel(DIAGNOSTICS_CHANNEL);
const counters = new Map<string, number>();

/**
 * Counts one event (always; counting is cheap) and tells whether anyone subscribed. Hot paths call
 * this first and build the event object (and its public id, a hash) only when it is true:
 * `if (observed('loaded')) deliver({ type: 'loaded', id: … })`.
 */
export function observed(type: SessionEventType, reason?: string): boolean {
  const name = type === 'rejected' && reason ? `rejected:${reason}` : type;
  counters.set(name, (counters.get(name) ?? 0) + 1);
  return events.hasSubscribers;
}

/** Sends an event already counted by `observed` to the subscribers. */
export function deliver(event: SessionEvent): void {
  events.publish(event);
}

/** Publishes an event (only if someone subscribed) and counts it (always). */
export function publish(event: SessionEvent): void {
  if (observed(event.type, event.reason)) deliver(event);
}

/** A snapshot of how many events of each type (rejections by reason) this process has seen. */
export function getCounters(): Record<string, number> {
  return Object.fromEntries(counters);
}

/** Describes an error for an event without leaking anything but its code and message. */
export function describeError(error: unknown): { code?: string; message: string } {
  if (error instanceof Error) {
    const code = 'code' in error ? error.code : undefined;
    return typeof code === 'string' ? { code, message: error.message } : { message: error.message };
  }
  return { message: String(error) };
}
