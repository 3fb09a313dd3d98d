/**
 * The split of a long sealed value across several cookies (`<name>`, `<name>.1`, …) and its
 * reassembly from a request's cookies, within the browsers' per-cookie limit and the server's header
 * budget.
 */

// RFC 6265bis §5.6 step 5 / §5.7 step 4: user agents ignore a cookie whose name + value exceed 4096 octets.
const COOKIE_BYTES = 4096;
/** Most cookies a session may span: the chunk count is one digit in the first cookie. */
export const MAX_CHUNKS = 9;

/**
 * Name of chunk `index`. Chunk 0 is the cookie itself, so the name is kept whole (with its
 * `__Host-` prefix) and a one-cookie session looks like any other.
 */
export function chunkName(name: string, index: number): string {
  return index === 0 ? name : `${name}.${index}`;
}

// A chunked session's first cookie reads `<count>.<chunk 0>`; a sealed value never holds a ".".
function capacityOf(name: string, index: number, count: number): number {
  return COOKIE_BYTES - chunkName(name, index).length - (count > 1 && index === 0 ? 2 : 0);
}

/** Characters of sealed value that fit in `maxCookies` cookies named after `name`. */
export function chunkCapacity(name: string, maxCookies: number): number {
  let total = 0;
  for (let index = 0; index < maxCookies; index++) total += capacityOf(name, index, maxCookies);
  return total;
}

/**
 * The longest sealed value whose cookies add at most `budget` bytes to a request's `Cookie` header
 * (`<name>=<value>` per cookie, `; ` between them, the `<count>.` prefix of a chunked first value).
 */
export function headerCapacity(name: string, maxCookies: number, budget: number): number {
  let best = 0;
  let overhead = -2;
  for (let count = 1; count <= maxCookies; count++) {
    overhead += chunkName(name, count - 1).length + 1 + 2 + (count === 2 ? 2 : 0);
    const shortest = count === 1 ? 1 : chunkCapacity(name, count - 1) + 1;
    if (shortest + overhead > budget) break;
    best = Math.min(chunkCapacity(name, count), budget - overhead);
  }
  return best;
}

/**
 * Splits a sealed value into `[cookie name, cookie value]` pairs, filling each cookie up to the
 * limit; `null` when it needs more than `maxCookies`.
 */
export function splitValue(name: string, value: string, maxCookies: number): Array<[string, string]> | null {
  if (value.length <= capacityOf(name, 0, 1)) return [[name, value]];
  for (let count = 2; count <= maxCookies; count++) {
    if (chunkCapacity(name, count) < value.length) continue;
    const out: Array<[string, string]> = [];
    let start = 0;
    for (let index = 0; index < count; index++) {
      const end = start + capacityOf(name, index, count);
      const part = value.slice(start, end);
      out.push([chunkName(name, index), index === 0 ? `${count}.${part}` : part]);
      start = end;
    }
    return out;
  }
  return null;
}

/** The sealed value reassembled from a request's cookies, or why it could not be. */
export type Assembled =
  | { ok: true; value: string; chunks: number }
  | { ok: false; reason: 'malformed' | 'duplicate' | 'oversized' };

/**
 * Reassembles the value from the first cookie's value and the request's `<name>.<n>` cookies.
 * Chunks are found by name, so their order in the header does not matter; a missing chunk is
 * `malformed`, two different values for one chunk are `duplicate` (cookie tossing, SEC-15), and
 * chunks of different seals fail authentication later.
 */
export function assembleValue(
  name: string,
  first: string,
  chunkCookies: ReadonlyArray<readonly [string, string]>,
  maxCookies: number,
): Assembled {
  if (first.length < 2 || first.charCodeAt(1) !== 0x2e) {
    return first.length > chunkCapacity(name, maxCookies)
      ? { ok: false, reason: 'oversized' }
      : { ok: true, value: first, chunks: 1 };
  }
  const count = first.charCodeAt(0) - 0x30;
  if (count < 2 || count > MAX_CHUNKS) return { ok: false, reason: 'malformed' };
  if (count > maxCookies) return { ok: false, reason: 'oversized' };
  let value = first.slice(2);
  for (let index = 1; index < count; index++) {
    const wanted = chunkName(name, index);
    let part: string | undefined;
    for (const [cookieName, cookieValue] of chunkCookies) {
      if (cookieName !== wanted) continue;
      if (part !== undefined && part !== cookieValue) return { ok: false, reason: 'duplicate' };
      part = cookieValue;
    }
    if (part === undefined) return { ok: false, reason: 'malformed' };
    value += part;
  }
  if (value.length > chunkCapacity(name, maxCookies)) return { ok: false, reason: 'oversized' };
  return { ok: true, value, chunks: count };
}

/** The highest chunk slot among `<name>.<n>` cookies, plus one (1 when there are none). */
export function chunkSlots(name: string, chunkCookies: ReadonlyArray<readonly [string, string]>): number {
  let slots = 1;
  const prefix = name.length + 1;
  for (const [cookieName] of chunkCookies) {
    if (cookieName.length !== prefix + 1) continue;
    const index = cookieName.charCodeAt(prefix) - 0x30;
    if (index >= 1 && index < MAX_CHUNKS && index + 1 > slots) slots = index + 1;
  }
  return slots;
}
