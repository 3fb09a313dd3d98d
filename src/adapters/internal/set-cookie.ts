/**
 * Turns the `Set-Cookie` values a manager's `commit` resolves to back into fields, for frameworks
 * that only take cookies through their own API (Next.js `cookies().set({ name, value, … })`).
 */

/** One `Set-Cookie` value as fields; the attribute names mirror Next.js's `ResponseCookie`. */
export interface SetCookieFields {
  name: string;
  value: string;
  path?: string;
  domain?: string;
  maxAge?: number;
  expires?: Date;
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'lax' | 'strict' | 'none';
}

/**
 * Parses a `Set-Cookie` value the cookie module wrote (`name=value; Max-Age=…; Path=/; …`). Only
 * the attributes sessionkit writes are understood; anything else is an error, not a cookie sent
 * without an attribute the manager asked for.
 */
export function parseSetCookie(header: string): SetCookieFields {
  const [pair = '', ...attributes] = header.split('; ');
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new Error('sessionkit: malformed Set-Cookie value from the manager');
  const fields: SetCookieFields = { name: pair.slice(0, eq), value: pair.slice(eq + 1) };
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    const key = (at === -1 ? attribute : attribute.slice(0, at)).toLowerCase();
    const value = at === -1 ? '' : attribute.slice(at + 1);
    if (key === 'path') fields.path = value;
    else if (key === 'domain') fields.domain = value;
    else if (key === 'max-age') fields.maxAge = Number(value);
    else if (key === 'expires') fields.expires = new Date(value);
    else if (key === 'secure') fields.secure = true;
    else if (key === 'httponly') fields.httpOnly = true;
    else if (key === 'samesite') fields.sameSite = sameSiteOf(value);
    else throw new Error(`sessionkit: unexpected Set-Cookie attribute "${key}"`);
  }
  return fields;
}

function sameSiteOf(value: string): 'lax' | 'strict' | 'none' {
  const lower = value.toLowerCase();
  if (lower === 'lax' || lower === 'strict' || lower === 'none') return lower;
  throw new Error(`sessionkit: unexpected SameSite value "${value}"`);
}
