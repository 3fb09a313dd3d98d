/**
 * sessionkit/cookie-session: sessions sealed into the cookie with AES-256-GCM, no store.
 * @module
 */
export type { CookieSessionManager, CookieSessionManagerOptions } from './core/cookie-manager.js';
export { createCookieSessionManager } from './core/cookie-manager.js';
