/**
 * Binding a session to properties of the client that created it (SEC-41): resolved options, what a new
 * session records, and the mismatch check on load.
 */
import { SessionConfigError } from '../errors.js';
import { ipPrefix } from './client-address.js';
import { flag } from './options.js';
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
