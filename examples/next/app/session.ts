// The shop's sessions: one manager for the whole server, bound to the request APIs of next/headers.
import { cookies, headers } from 'next/headers';
import { createSessionManager, type StoreSessionManager } from 'sessionkit';
import { createNextSessions } from 'sessionkit/next';
import { createMemoryStore } from 'sessionkit/stores/memory';

export type ShopSession = {
  /** Product ids, one entry per item added. */
  cart: string[];
};

// Next.js may load this module more than once (one copy per server bundle); keep one manager per
// process so every page, action and route handler sees the same memory store. With Redis,
// PostgreSQL or cookie-only sessions any copy would do, but one connection pool is still better.
declare global {
  var shopSessions: StoreSessionManager<ShopSession> | undefined;
}
globalThis.shopSessions ??= createSessionManager<ShopSession>({
  store: createMemoryStore(),
  // `npm start` serves plain HTTP on localhost, where a Secure cookie cannot be set: .env turns the
  // development cookie on. Behind HTTPS in production, leave SESSION_INSECURE_DEV_COOKIES unset.
  insecureDevCookies: process.env.SESSION_INSECURE_DEV_COOKIES === '1',
});
export const manager = globalThis.shopSessions;

export const shop = createNextSessions(manager, { cookies, headers });
