/**
 * Property tests (fast-check) for the code that reads hostile input: cookie parsing, token validation
 * and sealed-cookie opening. No input throws; no mutation of a valid cookie is accepted; the store is
 * never asked about a malformed token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isCanonicalToken } from '../../reliability/lib/fuzz-headers.js';
import { readCookie } from '../../src/core/cookie.js';
import { createCookieSessionManager } from '../../src/core/cookie-manager.js';
import { isWellFormedToken, randomString } from '../../src/core/crypto.js';
import { createSessionManager } from '../../src/core/manager.js';
import { createKeyring, openValue } from '../../src/core/sealed.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createFakeClock } from '../../src/testing/fake-clock.js';
import { instrumentStore } from '../../src/testing/instrumented-store.js';

const NAME = '__Host-sid';
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
// A request header is bytes; node hands them over as latin1 strings.
const latin1Char = fc.integer({ min: 0, max: 255 }).map((code) => String.fromCharCode(code));
const latin1 = fc.string({ unit: latin1Char, maxLength: 300 });
const header = fc.oneof(latin1, fc.array(latin1, { maxLength: 4 }), fc.constant(undefined));
// Characters a mutation may insert: anything but what RFC 6265bis lets a server strip (spaces and tabs
// around a value, a pair of double quotes), the pair separator `;`, and CR and LF (they end a header line).
const mutationChar = latin1Char.filter((char) => !' \t";\r\n'.includes(char));

type Mutation = {
  kind: 'replace' | 'delete' | 'insert' | 'truncate' | 'append' | 'case';
  at: number;
  char: string;
};
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('replace', 'delete', 'insert', 'truncate', 'append', 'case'),
  at: fc.nat(),
  char: fc.oneof(fc.constantFrom(...BASE64URL), mutationChar),
});

function mutate(value: string, { kind, at, char }: Mutation): string {
  const i = at % value.length;
  switch (kind) {
    case 'replace':
      return value.slice(0, i) + char + value.slice(i + 1);
    case 'delete':
      return value.slice(0, i) + value.slice(i + 1);
    case 'insert':
      return value.slice(0, i) + char + value.slice(i);
    case 'truncate':
      return value.slice(0, i);
    case 'append':
      return value + char;
    case 'case': {
      const c = value[i] ?? '';
      return (
        value.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + value.slice(i + 1)
      );
    }
  }
}

/** True when `value` is a base64url spelling of the same bytes as `genuine` (only the unused bits differ). */
function respelling(value: string, genuine: string): boolean {
  return (
    /^[A-Za-z0-9_-]+$/.test(value) &&
    Buffer.from(value, 'base64url').equals(Buffer.from(genuine, 'base64url'))
  );
}

async function storeFixture() {
  const clock = createFakeClock();
  const store = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
  const manager = createSessionManager<{ owner: string }>({ store, clock, rotateAfterSeconds: 0 });
  const session = await manager.load(undefined);
  session.set('owner', 'alice');
  const [cookie] = await manager.commit(session);
  const token = cookie?.split(';', 1)[0]?.slice(NAME.length + 1) ?? '';
  store.reset();
  return { store, manager, token };
}

async function cookieFixture() {
  const clock = createFakeClock();
  const manager = createCookieSessionManager<{ owner: string }>({ secrets: [randomString(32)], clock });
  // Sealed values of every length modulo 4, so the last base64url character carries 0, 2 or 4 unused bits.
  const values: string[] = [];
  for (let size = 0; size < 4; size++) {
    const session = await manager.load(undefined);
    session.set('owner', `alice${'x'.repeat(size)}`);
    const [cookie] = await manager.commit(session);
    values.push(cookie?.split(';', 1)[0]?.slice(NAME.length + 1) ?? '');
  }
  return { manager, values };
}

describe('readCookie (property)', () => {
  it('never throws and returns strings, whatever the header', () => {
    fc.assert(
      fc.property(header, fc.string({ minLength: 1, maxLength: 20 }), (value, name) => {
        const found = readCookie(value, name);
        assert.ok(Array.isArray(found));
        for (const item of found) assert.equal(typeof item, 'string');
      }),
      { numRuns: 5000 },
    );
  });

  it('finds the session cookie among arbitrary other cookies, in one header or split across several', () => {
    const otherName = fc.string({
      unit: fc.constantFrom(...`${BASE64URL}!#$%&'*+.^\`|~`),
      minLength: 1,
      maxLength: 12,
    });
    const other = fc.tuple(otherName, fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 30 }));
    fc.assert(
      fc.property(fc.array(other, { maxLength: 8 }), fc.nat(), fc.boolean(), (others, position, split) => {
        const token = `${'a'.repeat(42)}A`;
        const pairs = others.filter(([name]) => name !== NAME).map(([name, value]) => `${name}=${value}`);
        pairs.splice(position % (pairs.length + 1), 0, `${NAME}=${token}`);
        const cut = position % (pairs.length + 1);
        const value = split
          ? [pairs.slice(0, cut).join('; '), pairs.slice(cut).join('; ')]
          : pairs.join('; ');
        assert.deepEqual(readCookie(value, NAME), [token]);
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores a cookie whose name is not exactly the session cookie’s (prefix and case tricks)', () => {
    const trick = fc.oneof(
      fc.constantFrom(
        '__HOST-sid',
        '__host-sid',
        '__Secure-sid',
        '_Host-sid',
        '__Host_sid',
        '__Host-sid.1',
        'x__Host-sid',
      ),
      fc
        .tuple(fc.constantFrom(...NAME.split('').keys()), fc.constantFrom(...BASE64URL))
        .map(([i, c]) => NAME.slice(0, i) + c + NAME.slice(i + 1)),
    );
    fc.assert(
      fc.property(trick, (name) => {
        fc.pre(name !== NAME);
        assert.deepEqual(readCookie(`${name}=value`, NAME), []);
      }),
      { numRuns: 1000 },
    );
  });

  it('does not trim whitespace that RFC 6265bis does not trim (NBSP, VT, FF, BOM) around a name or value', () => {
    for (const space of ['\u00a0', '\u000b', '\u000c', '\ufeff']) {
      assert.deepEqual(
        readCookie(`${space}${NAME}=v`, NAME),
        [],
        `name padded with U+${space.charCodeAt(0).toString(16)}`,
      );
      assert.deepEqual(
        readCookie(`${NAME}${space}=v`, NAME),
        [],
        `name padded with U+${space.charCodeAt(0).toString(16)}`,
      );
      assert.deepEqual(
        readCookie(`${NAME}=${space}v`, NAME),
        [`${space}v`],
        `value padded with U+${space.charCodeAt(0).toString(16)}`,
      );
    }
  });
});

describe('isWellFormedToken (property)', () => {
  it('accepts exactly the canonical base64url spelling of 32 bytes, for any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(latin1, fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 40, maxLength: 46 })),
        (value) => {
          assert.equal(isWellFormedToken(value), isCanonicalToken(value));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('accepts every token of 32 random bytes and rejects every other spelling of the same bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(...BASE64URL),
        (bytes, last) => {
          const token = Buffer.from(bytes).toString('base64url');
          assert.equal(isWellFormedToken(token), true);
          const other = token.slice(0, -1) + last;
          if (other !== token && respelling(other, token)) assert.equal(isWellFormedToken(other), false);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('createSessionManager load (property)', () => {
  it('never throws on an arbitrary Cookie header and never reads the store for a malformed token', async () => {
    const { store, manager } = await storeFixture();
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        store.reset();
        const session = await manager.load(value);
        assert.equal(session.isNew, true);
        const candidates = readCookie(value, NAME);
        if (!candidates.some(isCanonicalToken)) assert.equal(store.calls.get, 0);
      }),
      { numRuns: 3000 },
    );
  });

  it('loads no session for any mutation of a genuine token, and reads the store only for well-formed ones', async () => {
    const { store, manager, token } = await storeFixture();
    assert.equal((await manager.load(`${NAME}=${token}`)).get('owner'), 'alice');
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        const forged = mutations.reduce(mutate, token);
        fc.pre(forged !== token);
        store.reset();
        const session = await manager.load(`${NAME}=${forged}`);
        assert.equal(session.isNew, true, `accepted ${JSON.stringify(forged)}`);
        assert.equal(session.get('owner'), undefined);
        if (!isCanonicalToken(forged))
          assert.equal(store.calls.get, 0, `store read for ${JSON.stringify(forged)}`);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('sealed cookie opening (property)', () => {
  it('openValue never throws and opens nothing it did not seal, for any string', () => {
    const keyring = createKeyring([randomString(32)], { cookieName: NAME, purpose: 'session' });
    fc.assert(
      fc.property(
        fc.oneof(latin1, fc.string({ unit: fc.constantFrom(...BASE64URL), maxLength: 200 })),
        (value) => {
          assert.equal(openValue(keyring, value).ok, false);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('createCookieSessionManager load never throws on an arbitrary Cookie header', async () => {
    const { manager } = await cookieFixture();
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        assert.equal((await manager.load(value)).isNew, true);
      }),
      { numRuns: 3000 },
    );
  });

  it('opens no session for any mutation of a sealed cookie', async () => {
    const { manager, values } = await cookieFixture();
    for (const value of values) assert.equal((await manager.load(`${NAME}=${value}`)).isNew, false);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...values),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        async (value, mutations) => {
          const forged = mutations.reduce(mutate, value);
          fc.pre(forged !== value);
          const session = await manager.load(`${NAME}=${forged}`);
          assert.equal(session.isNew, true, `accepted ${JSON.stringify(forged)}`);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('opens no session for a sealed cookie re-spelled with other unused bits in its last character', async () => {
    const { manager, values } = await cookieFixture();
    let respelled = 0;
    for (const value of values) {
      for (const char of BASE64URL) {
        const other = value.slice(0, -1) + char;
        if (other === value || !respelling(other, value)) continue;
        respelled++;
        assert.equal((await manager.load(`${NAME}=${other}`)).isNew, true, `accepted ${other.slice(-6)}`);
      }
    }
    assert.ok(respelled > 0);
  });
});
