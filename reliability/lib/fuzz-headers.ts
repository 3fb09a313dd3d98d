/**
 * Hostile `Cookie` headers, and the reference that judges what a server did with them.
 *
 * The generator (seeded, reproducible) mixes random bytes with mutations of genuine cookies:
 * flipped, cut, extended, re-cased and re-encoded values, NUL and high bytes, duplicates, split
 * headers, name-prefix tricks (`__HOST-`, `__Secure-`, padding around the name), oversized values and
 * hundreds of cookies. The reference parses cookie pairs as RFC 6265bis §5.4 does (split at `;`,
 * first `=`, trim only spaces and tabs, an optional pair of double quotes around the value): a session
 * the server accepted must be named by a pair that the reference reads as exactly that session's
 * genuine cookie.
 */

/** A deterministic pseudo-random source (mulberry32). */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

/** Creates a seeded random source. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      const item = items[int(items.length)];
      if (item === undefined) throw new Error('pick from an empty list');
      return item;
    },
  };
}

/** A genuine session cookie the server issued, and whose session it is. */
export interface Seed {
  owner: string;
  value: string;
}

/** One generated request: its `Cookie` header lines (latin1 strings) and what made them. */
export interface FuzzCase {
  category: string;
  lines: string[];
  /** Owners the generator re-encoded legitimately (e.g. re-chunked) and that may be accepted. */
  legit: string[];
  /** For the `genuine` controls: the owner whose session must be accepted. */
  expect?: string;
}

const BASE64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
const TOKEN_CHARS = [...BASE64URL, ..."=+/.%~!*'()"];
// Whitespace JavaScript's trim() removes but RFC 6265bis does not: NBSP, VT, FF, BOM's latin1 bytes.
const EXOTIC_SPACE = ['\u00a0', '\u000b', '\u000c', '\u0085', '\u00ff\u00fe'];

function randomText(random: Random, length: number, alphabet: 'bytes' | 'printable' | 'token'): string {
  // Long values repeat a random block: their size is the point, and generating them byte by byte would
  // cost more than sending them.
  if (length > 1024)
    return randomText(random, 1024, alphabet)
      .repeat(Math.ceil(length / 1024))
      .slice(0, length);
  const codes: number[] = new Array(length);
  for (let i = 0; i < length; i++) {
    if (alphabet === 'bytes') {
      // Every byte but CR and LF (those would end the header line itself).
      const code = random.int(256);
      codes[i] = code === 10 || code === 13 ? 0 : code;
    } else if (alphabet === 'printable') {
      codes[i] = 0x20 + random.int(0x5f);
    } else {
      codes[i] = random.pick(TOKEN_CHARS).charCodeAt(0);
    }
  }
  return String.fromCharCode(...codes);
}

function replaceAt(value: string, index: number, replacement: string): string {
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

/** One mutation of a genuine value: never the value itself (checked by the caller). */
function mutate(random: Random, value: string): string {
  const at = random.int(Math.max(1, value.length));
  const char = value[at] ?? 'A';
  switch (random.int(14)) {
    case 0:
      return replaceAt(value, at, random.pick(BASE64URL));
    case 1:
      return value.slice(0, at) + value.slice(at + 1);
    case 2:
      return value.slice(0, at) + random.pick(BASE64URL) + value.slice(at);
    case 3:
      return value.slice(0, random.int(value.length));
    case 4:
      return value + randomText(random, 1 + random.int(8), 'token');
    case 5:
      return replaceAt(value, at, char === char.toUpperCase() ? char.toLowerCase() : char.toUpperCase());
    case 6:
      // Another final character: a non-canonical base64url ending for the same leading bytes.
      return replaceAt(value, value.length - 1, random.pick(BASE64URL));
    case 7:
      return replaceAt(
        value,
        at,
        random.pick(['\u0000', '\u007f', '\u00ff', '\u0080', '\t', ' ', '"', ';', ',']),
      );
    case 8:
      return `${value}${random.pick(['=', '==', '\u0000', '%00', ';', ' x'])}`;
    case 9:
      return value.replace(/[-_]/g, (c) => (c === '-' ? '+' : '/'));
    case 10:
      return `${random.pick(EXOTIC_SPACE)}${value}${random.next() < 0.5 ? random.pick(EXOTIC_SPACE) : ''}`;
    case 11:
      return (
        encodeURIComponent(value.slice(0, at)) +
        `%${char.charCodeAt(0).toString(16).toUpperCase()}` +
        value.slice(at + 1)
      );
    case 12:
      return value.split('').reverse().join('');
    default: {
      // Several flips at once.
      let out = value;
      for (let n = 0; n < 2 + random.int(4); n++)
        out = replaceAt(out, random.int(out.length), random.pick(BASE64URL));
      return out;
    }
  }
}

function mutated(random: Random, value: string): string {
  for (let attempt = 0; attempt < 10; attempt++) {
    const candidate = mutate(random, value);
    if (candidate !== value) return candidate;
  }
  return `${value}A`;
}

function nameTrick(random: Random, name: string): string {
  const bare = name.replace(/^__(Host|Secure)-/, '');
  return random.pick([
    name.toUpperCase(),
    name.toLowerCase(),
    `__HOST-${bare}`,
    `__host-${bare}`,
    `__Secure-${bare}`,
    `__secure-${bare}`,
    `_Host-${bare}`,
    `__Host_${bare}`,
    `x${name}`,
    `${name}x`,
    `${name}.1`,
    name.slice(0, -1),
    `${random.pick(EXOTIC_SPACE)}${name}`,
    `${name}${random.pick(EXOTIC_SPACE)}`,
    `${name}\u0000`,
    `\u0000${name}`,
    `"${name}"`,
    `${name}%00`,
    encodeURIComponent(name).replace('_', '%5F'),
  ]);
}

function otherCookies(random: Random, count: number): string[] {
  return Array.from(
    { length: count },
    () => `${randomText(random, 1 + random.int(12), 'token')}=${randomText(random, random.int(40), 'token')}`,
  );
}

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const a = items[i];
    const b = items[j];
    if (a !== undefined && b !== undefined) {
      items[i] = b;
      items[j] = a;
    }
  }
  return items;
}

/** How a chunked cookie-only session splits a value: `<count>.<part>` first, then `<name>.<n>` cookies. */
function rechunk(random: Random, name: string, value: string): string[] {
  const cut = 1 + random.int(Math.max(1, value.length - 1));
  return [`${name}=2.${value.slice(0, cut)}`, `${name}.1=${value.slice(cut)}`];
}

/** Generates the `Cookie` header lines of one request. */
export function generateCase(
  random: Random,
  name: string,
  seeds: readonly Seed[],
  sealed: boolean,
): FuzzCase {
  const seed = random.pick(seeds);
  const other = random.pick(seeds);
  const roll = random.int(100);
  const join = (pairs: string[]) =>
    pairs.join(random.next() < 0.8 ? '; ' : random.pick([';', ' ;', ';;  ', ', ']));
  if (roll < 5) {
    // Controls: the genuine cookie alone or among others must be accepted.
    const lines = [
      shuffle(random, [`${name}=${seed.value}`, ...otherCookies(random, random.int(4))]).join('; '),
    ];
    return { category: 'genuine', lines, legit: [], expect: seed.owner };
  }
  if (roll < 35) {
    const value = mutated(random, seed.value);
    return {
      category: 'mutated-value',
      lines: [join(shuffle(random, [`${name}=${value}`, ...otherCookies(random, random.int(3))]))],
      legit: [],
    };
  }
  if (roll < 45) {
    return {
      category: 'prefix-trick',
      lines: [
        join([
          `${nameTrick(random, name)}=${random.next() < 0.7 ? seed.value : mutated(random, seed.value)}`,
        ]),
      ],
      legit: [],
    };
  }
  if (roll < 55) {
    const second = random.pick([
      seed.value,
      other.value,
      mutated(random, seed.value),
      '',
      randomText(random, 43, 'token'),
    ]);
    return {
      category: 'duplicate',
      lines: [join(shuffle(random, [`${name}=${seed.value}`, `${name}=${second}`]))],
      legit: [],
    };
  }
  if (roll < 63) {
    const parts = shuffle(random, [
      `${name}=${random.next() < 0.5 ? seed.value : mutated(random, seed.value)}`,
      ...otherCookies(random, 1 + random.int(3)),
    ]);
    const cut = 1 + random.int(parts.length - 1);
    const lines = [join(parts.slice(0, cut)), join(parts.slice(cut))];
    if (random.next() < 0.3)
      lines.push(`${name}=${random.pick([other.value, mutated(random, other.value)])}`);
    return { category: 'split-headers', lines, legit: [] };
  }
  if (roll < 66 && sealed) {
    return { category: 'rechunked', lines: [join(rechunk(random, name, seed.value))], legit: [seed.owner] };
  }
  if (roll < 72) {
    const size = random.pick([4096, 8192, 12_000, 15_500, 17_000, 40_000]);
    const filler =
      random.next() < 0.5
        ? seed.value.repeat(Math.ceil(size / seed.value.length)).slice(0, size)
        : randomText(random, size, 'token');
    return {
      category: 'oversized',
      lines: [join([`${name}=${filler}`, `${name}.1=${filler.slice(0, 100)}`])],
      legit: [],
    };
  }
  if (roll < 78) {
    const cookies = otherCookies(random, 50 + random.int(600));
    if (random.next() < 0.5)
      cookies.push(`${name}=${random.next() < 0.5 ? seed.value : mutated(random, seed.value)}`);
    return { category: 'many-cookies', lines: [join(shuffle(random, cookies))], legit: [] };
  }
  if (roll < 84) {
    const count = 1 + random.pick([0, 1, 2, 8, 20]);
    const chunks = Array.from(
      { length: count - 1 },
      (_, i) => `${name}.${i + 1}=${randomText(random, random.int(200), 'token')}`,
    );
    return {
      category: 'chunk-tricks',
      lines: [join([`${name}=${count}.${mutated(random, seed.value)}`, ...chunks])],
      legit: [],
    };
  }
  if (roll < 90) {
    return {
      category: 'random-printable',
      lines: [randomText(random, random.int(300), 'printable')],
      legit: [],
    };
  }
  return { category: 'random-bytes', lines: [randomText(random, random.int(300), 'bytes')], legit: [] };
}

type Trim = (text: string) => string;
const strictTrim: Trim = (text) => text.replace(/^[ \t]+|[ \t]+$/g, '');
const lenientTrim: Trim = (text) => text.trim();

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** Values of cookie `name` in `lines`, names and values trimmed with `trim`. */
function valuesOf(lines: readonly string[], name: string, trim: Trim): string[] {
  const out: string[] = [];
  for (const line of lines) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq !== -1 && trim(part.slice(0, eq)) === name) out.push(unquote(trim(part.slice(eq + 1))));
    }
  }
  return out;
}

/** The canonical base64url encoding of 32 bytes: the only shape of a session token. */
export function isCanonicalToken(value: string): boolean {
  if (!/^[A-Za-z0-9_-]{43}$/.test(value)) return false;
  const bytes = Buffer.from(value, 'base64url');
  return bytes.length === 32 && bytes.toString('base64url') === value;
}

function sameBytes(value: string, genuine: string): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(value)) return false;
  return Buffer.from(value, 'base64url').equals(Buffer.from(genuine, 'base64url'));
}

/** How the reference judges a session the server accepted. */
export type Acceptance =
  | 'genuine'
  | 'legit'
  /** Accepted only if whitespace other than spaces and tabs is trimmed around the name or value. */
  | 'lenient-whitespace'
  /** Accepted for a different base64url spelling of the genuine value's bytes. */
  | 'non-canonical-encoding'
  /** A session its genuine cookie did not name: a forgery. */
  | 'forged';

/** Judges the acceptance of `owner`'s session for a request with these `Cookie` lines. */
export function judgeAcceptance(fuzzCase: FuzzCase, name: string, seed: Seed | undefined): Acceptance {
  if (seed === undefined) return 'forged';
  if (valuesOf(fuzzCase.lines, name, strictTrim).includes(seed.value)) return 'genuine';
  if (fuzzCase.legit.includes(seed.owner)) return 'legit';
  const lenient = valuesOf(fuzzCase.lines, name, lenientTrim);
  if (lenient.includes(seed.value)) return 'lenient-whitespace';
  if (lenient.some((value) => sameBytes(value, seed.value))) return 'non-canonical-encoding';
  return 'forged';
}

/** How the reference judges a store read: allowed only for a well-formed token under the cookie's name. */
export function judgeStoreRead(
  lines: readonly string[],
  name: string,
): 'well-formed' | 'lenient-whitespace' | 'malformed' {
  if (valuesOf(lines, name, strictTrim).some(isCanonicalToken)) return 'well-formed';
  if (valuesOf(lines, name, lenientTrim).some(isCanonicalToken)) return 'lenient-whitespace';
  return 'malformed';
}
