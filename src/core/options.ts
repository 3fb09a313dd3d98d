/**
 * Validation of the options both managers share. Every mistake throws `ERR_SESSION_CONFIG` naming
 * the option, at construction.
 */
import { SessionConfigError } from '../errors.js';
import { type Clock, resolveClock } from './clock.js';
import { type ResolvedCookie, resolveCookie } from './cookie.js';
import { publish } from './diagnostics.js';
import type { SessionMeta } from './store-contract.js';
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

/** Validates the shared options. Defaults: 30 min idle, 12 h absolute (docs/security.md, Defaults). */
export function resolveLifetimes(options: LifetimeOptions): ResolvedLifetimes {
  const idle = seconds('idleTimeoutSeconds', options.idleTimeoutSeconds, 1800, 1, YEAR);
  const absolute = seconds('absoluteTimeoutSeconds', options.absoluteTimeoutSeconds, 43_200, 1, YEAR);
  const clock = resolveClock(options.clock);
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

/** The one option that lets a held-back cookie through; `false` when nothing is held back. */
export type TransportFix = false | 'trustProxy' | 'insecureDevCookies';

/**
 * Whether a Secure cookie may be issued on this request (SEC-17), and if not, the option that
 * would allow it. Allowed: HTTPS seen by the server, or announced by a trusted proxy; a local
 * request (`isLocalRequest`); always in insecure development mode. Without request info (direct
 * use of the manager) the caller vouches for the transport.
 */
export function transportFix(lifetimes: ResolvedLifetimes, request: RequestInfo | undefined): TransportFix {
  if (lifetimes.insecureDev || !lifetimes.cookie.secure || request === undefined) return false;
  if (request.protocol === 'https' || isLocalRequest(request)) return false;
  const forwarded = request.forwardedProto;
  if (forwarded === undefined) return 'insecureDevCookies';
  if (!lifetimes.trustProxy) return 'trustProxy';
  // A proxy chain appends; the first value is what the client used.
  const first = forwarded.split(',', 1)[0];
  return first !== undefined && first.trim().toLowerCase() === 'https' ? false : 'insecureDevCookies';
}

const LOOPBACK_IP = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;
const LOOPBACK_HOST =
  /^(?:localhost|[a-z0-9.-]+\.localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])\.?(?::\d{1,5})?$/;

/**
 * A plain-HTTP request that never left this machine: it addresses a loopback host name
 * (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`) from a loopback peer (when the adapter knows
 * the peer) and carries no `X-Forwarded-Proto` (a proxy in front: `trustProxy` decides). Browsers
 * treat such an origin as secure and keep `Secure` cookies from it (SEC-17, decisions.md).
 */
export function isLocalRequest(request: RequestInfo): boolean {
  if (request.forwardedProto !== undefined || request.host === undefined) return false;
  if (request.ip !== undefined && !LOOPBACK_IP.test(request.ip)) return false;
  return LOOPBACK_HOST.test(request.host.toLowerCase());
}

const warned = new Set<string>();

/**
 * Reports a session cookie held back for its transport: a diagnostics event every time and, the
 * first time in the process, a warning naming the option that fixes it (never silent).
 */
export function heldBack(store: string, fix: TransportFix): void {
  publish({ type: 'insecure-transport', store });
  if (fix === false || warned.has(INSECURE_TRANSPORT)) return;
  warned.add(INSECURE_TRANSPORT);
  const why =
    fix === 'trustProxy'
      ? 'it came over plain HTTP with an X-Forwarded-Proto header; behind a TLS-terminating proxy set trustProxy: true'
      : 'it came over plain HTTP from another machine (not HTTPS, not localhost); for plain-HTTP development set insecureDevCookies: true (never in production)';
  process.emitWarning(`sessionkit held back a session cookie: ${why}`, { code: INSECURE_TRANSPORT });
}

/** The `process.emitWarning` code of a session cookie held back for its transport. */
export const INSECURE_TRANSPORT = 'SESSIONKIT_INSECURE_TRANSPORT';
