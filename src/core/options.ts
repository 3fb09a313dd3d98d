/**
 * Validation of the options both managers share. Every mistake throws `ERR_SESSION_CONFIG` naming
 * the option, at construction.
 */
import { SessionConfigError } from '../errors.js';
import type { SessionMeta } from '../stores/types.js';
import { type Clock, systemClock } from './clock.js';
import { type ResolvedCookie, resolveCookie } from './cookie.js';
import type { LifetimeOptions, RequestInfo } from './types.js';

/** Lifetime and cookie settings after validation, times in ms. */
export interface ResolvedLifetimes {
  idleMs: number;
  absoluteMs: number;
  /** Minimum time between expiry extensions of an unchanged session. */
  touchMs: number;
  clock: Clock;
  cookie: ResolvedCookie;
  trustProxy: boolean;
  insecureDev: boolean;
}

/** Throws unless `value` is undefined or a whole number in [min, max]; returns it or the default. */
export function wholeNumber(
  option: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  unit = '',
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SessionConfigError(option, `must be a whole number${unit} from ${min} to ${max}`);
  }
  return value;
}

/** `wholeNumber` for durations in seconds. */
export function seconds(option: string, value: unknown, fallback: number, min: number, max: number): number {
  return wholeNumber(option, value, fallback, min, max, ' of seconds');
}

/** Throws unless `value` is undefined or a boolean. */
export function flag(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new SessionConfigError(option, 'must be true or false');
  return value;
}

const YEAR = 366 * 24 * 3600;

/** Validates the shared options. Defaults: 30 min idle, 12 h absolute (SECURITY.md §2). */
export function resolveLifetimes(options: LifetimeOptions): ResolvedLifetimes {
  const idle = seconds('idleTimeoutSeconds', options.idleTimeoutSeconds, 1800, 1, YEAR);
  const absolute = seconds('absoluteTimeoutSeconds', options.absoluteTimeoutSeconds, 43_200, 1, YEAR);
  const clock = options.clock ?? systemClock;
  if (typeof clock.now !== 'function') throw new SessionConfigError('clock', 'must have a now() method');
  const insecureDev = flag('insecureDevCookies', options.insecureDevCookies, false);
  if (insecureDev && process.env.NODE_ENV === 'production') {
    process.emitWarning('sessionkit: insecureDevCookies is on while NODE_ENV=production', {
      code: 'SESSIONKIT_INSECURE_DEV_COOKIES',
    });
  }
  return {
    idleMs: idle * 1000,
    absoluteMs: absolute * 1000,
    touchMs:
      seconds('touchIntervalSeconds', options.touchIntervalSeconds, Math.ceil(idle / 10), 0, idle) * 1000,
    clock,
    cookie: resolveCookie(options.cookie, insecureDev),
    trustProxy: flag('trustProxy', options.trustProxy, false),
    insecureDev,
  };
}

/** The timestamps of a session's meta (everything but who it is for and what happened to it). */
export type LifetimeFields = Pick<
  SessionMeta,
  'createdAt' | 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt' | 'expiresAt'
>;

/** The timestamps of a session last seen at `lastSeenAt`: idle expiry from it, the earlier expiry for the store. */
export function lifetimeMeta(
  lifetimes: ResolvedLifetimes,
  createdAt: number,
  lastSeenAt: number,
  absoluteExpiresAt: number,
): LifetimeFields {
  const idleExpiresAt = lastSeenAt + lifetimes.idleMs;
  return {
    createdAt,
    lastSeenAt,
    idleExpiresAt,
    absoluteExpiresAt,
    expiresAt: Math.min(idleExpiresAt, absoluteExpiresAt),
  };
}

/**
 * True when a Secure cookie may be issued on this request (SEC-17): HTTPS seen by the server, or
 * announced by a trusted proxy; always in insecure development mode. Without request info (direct
 * use of the manager) the caller vouches for the transport.
 */
export function transportAllowsCookie(
  lifetimes: ResolvedLifetimes,
  request: RequestInfo | undefined,
): boolean {
  if (lifetimes.insecureDev || !lifetimes.cookie.secure || request === undefined) return true;
  if (request.protocol === 'https') return true;
  if (!lifetimes.trustProxy || request.forwardedProto === undefined) return false;
  // A proxy chain appends; the first value is what the client used.
  const first = request.forwardedProto.split(',', 1)[0];
  return first !== undefined && first.trim().toLowerCase() === 'https';
}
