/**
 * Tells a device why it is no longer logged in. A device that logs in also gets `signed-in=1`: no
 * token, no id, nothing that authenticates or identifies anyone. A later request that carries it
 * on an anonymous session lost its login elsewhere — revoked from another device, or expired — and
 * the page says so, once. Logging out (or revoking this device) here sets `signed-in=out`, so the
 * next page confirms it instead.
 */
import type { Request, Response } from 'express';

/** What a page says about a login that ended, or undefined. */
export type EndedNotice = 'logged-out' | 'ended-elsewhere';

const MESSAGES: Record<EndedNotice, string> = {
  'logged-out': 'You are logged out: this device’s session is deleted from the store.',
  'ended-elsewhere':
    'You were logged out on this device: your session was revoked from another device, or it expired. Log in again to continue.',
};

function name(secure: boolean): string {
  return secure ? '__Host-signed-in' : 'signed-in';
}

function set(res: Response, secure: boolean, value: string, clear = false): void {
  const attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}${clear ? '; Max-Age=0' : ''}`;
  res.append('set-cookie', `${name(secure)}=${value}; ${attributes}`);
}

/** After a login: this device is signed in. */
export function markSignedIn(res: Response, secure: boolean): void {
  set(res, secure, '1');
}

/** After a logout on this device: the next page confirms it. */
export function markLoggedOut(res: Response, secure: boolean): void {
  set(res, secure, 'out');
}

/**
 * For a page of an anonymous session: the notice its `signed-in` cookie asks for (clearing it),
 * or undefined. A logged-in session keeps the cookie as it is.
 */
export function endedNotice(
  req: Request,
  res: Response,
  secure: boolean,
  user: string | undefined,
): string | undefined {
  if (user !== undefined) return undefined;
  const value = new RegExp(`(?:^|;\\s*)${name(secure)}=(1|out)(?:;|$)`).exec(req.get('cookie') ?? '')?.[1];
  if (value === undefined) return undefined;
  set(res, secure, '', true);
  return MESSAGES[value === 'out' ? 'logged-out' : 'ended-elsewhere'];
}
