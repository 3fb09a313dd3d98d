import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { clearCookie, readCookie, resolveCookie, serializeCookie } from './cookie.js';

const config =
  (options: Parameters<typeof resolveCookie>[0], dev = false) =>
  () =>
    resolveCookie(options, dev);

describe('cookie options', () => {
  it('SEC-6/7/8/9/10: defaults to a __Host- name with Secure, HttpOnly, SameSite=Lax, Path=/ and no Domain', () => {
    const cookie = resolveCookie(undefined, false);
    assert.equal(cookie.name, '__Host-sid');
    const value = serializeCookie(cookie, cookie.name, 'abc');
    assert.equal(value, '__Host-sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax');
    assert.doesNotMatch(value, /Domain|Max-Age|Expires|session|connect/i);
  });

  it('SEC-7: refuses secure: false without the development flag, and allows it with it', () => {
    assert.throws(config({ secure: false }), { code: 'ERR_SESSION_CONFIG', option: 'cookie.secure' });
    const dev = resolveCookie({ secure: false }, true);
    assert.equal(dev.name, 'sid');
    assert.doesNotMatch(serializeCookie(dev, dev.name, 'v'), /Secure/);
  });

  it('SEC-9: refuses SameSite=None without Secure and unknown SameSite values', () => {
    assert.throws(config({ sameSite: 'none', secure: false, name: 'sid' }, true), {
      option: 'cookie.sameSite',
    });
    assert.throws(config({ sameSite: 'sometimes' as 'lax' }), { option: 'cookie.sameSite' });
    assert.match(serializeCookie(resolveCookie({ sameSite: 'strict' }, false), 'n', 'v'), /SameSite=Strict$/);
  });

  it('SEC-10: refuses __Host- with a Domain or a path other than /, and mis-cased prefixes', () => {
    assert.throws(config({ domain: 'example.com' }), { option: 'cookie.domain' });
    assert.throws(config({ path: '/app' }), { option: 'cookie.path' });
    assert.throws(config({ name: '__host-sid' }), { option: 'cookie.name' });
    assert.throws(config({ name: '__SECURE-sid' }), { option: 'cookie.name' });
  });

  it('SEC-11: allows a narrower path with a __Secure- name', () => {
    const cookie = resolveCookie({ name: '__Secure-sid', path: '/app' }, false);
    assert.equal(
      serializeCookie(cookie, cookie.name, 'v'),
      '__Secure-sid=v; Path=/app; Secure; HttpOnly; SameSite=Lax',
    );
  });

  it('refuses invalid names, paths and Max-Age values', () => {
    assert.throws(config({ name: 'a b' }), { option: 'cookie.name' });
    assert.throws(config({ name: '__Secure-x', path: 'relative' }), { option: 'cookie.path' });
    assert.throws(config({ maxAge: 0 }), { option: 'cookie.maxAge' });
    assert.throws(config({ maxAge: 401 * 24 * 3600 }), { option: 'cookie.maxAge' });
  });

  it('SEC-20: clears with an empty value, Max-Age=0 and the same attributes', () => {
    const cookie = resolveCookie(undefined, false);
    assert.equal(
      clearCookie(cookie, cookie.name),
      '__Host-sid=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=Lax',
    );
  });
});

describe('readCookie', () => {
  it('finds a cookie among others, in several headers, quoted or not', () => {
    assert.deepEqual(readCookie('a=1; sid=abc; b=2', 'sid'), ['abc']);
    assert.deepEqual(readCookie(['a=1', 'sid="abc"'], 'sid'), ['abc']);
    assert.deepEqual(readCookie('xsid=1; sidx=2', 'sid'), []);
    assert.deepEqual(readCookie('sid=1;sid=2', 'sid'), ['1', '2']);
    assert.deepEqual(readCookie(undefined, 'sid'), []);
    assert.deepEqual(readCookie('garbage;;==;sid', 'sid'), []);
  });
});

/**
 * Characters the string methods a parser scans with (indexOf, includes, slice) visit while
 * `run` executes: a measure of work that does not depend on the machine's speed.
 */
function scannedCharacters(run: () => void): number {
  const proto = String.prototype;
  const { indexOf, includes, slice } = proto;
  let visited = 0;
  proto.indexOf = function (this: string, search: string, from = 0) {
    const at = indexOf.call(this, search, from);
    visited += (at === -1 ? this.length : at + search.length) - Math.max(0, from);
    return at;
  };
  proto.includes = function (this: string, search: string, from = 0) {
    const at = indexOf.call(this, search, from);
    visited += (at === -1 ? this.length : at + search.length) - Math.max(0, from);
    return at !== -1;
  };
  proto.slice = function (this: string, start?: number, end?: number) {
    const out = slice.call(this, start, end);
    visited += out.length;
    return out;
  };
  try {
    run();
  } finally {
    Object.assign(proto, { indexOf, includes, slice });
  }
  return visited;
}

/** What `readCookie` must return for one header: split on ";", then on the first "=". */
function reference(header: string, name: string): string[] {
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).replace(/^[ \t]+|[ \t]+$/g, '') !== name) continue;
    const value = part.slice(eq + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    out.push(value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value);
  }
  return out;
}

describe('readCookie cost', () => {
  it('parses a 64 KB header of 30,000 segments, most without "=", scanning each character a bounded number of times', () => {
    // 30,000 segments of "a" or "b=1" with the wanted cookie near the end: a parser that searches for
    // "=" from each segment start to the end of the header visits about 30,000 × 32 KB characters.
    const parts: string[] = [];
    for (let i = 0; i < 30_000; i++) parts.push(i % 1000 === 999 ? 'b=1' : 'a');
    parts.splice(29_990, 0, 'sid=last');
    const header = parts.join(';').padEnd(64 * 1024, ' ');
    let values: string[] = [];
    const visited = scannedCharacters(() => {
      values = readCookie(header, 'sid');
    });
    assert.deepEqual(values, ['last']);
    assert.ok(
      visited <= 4 * header.length,
      `scanned ${visited} characters of a ${header.length}-character header`,
    );
  });

  it('returns what splitting on ";" and "=" returns, for any header', () => {
    const segment = fc.oneof(
      fc.constantFrom('sid=v', ' sid = "q" ', 'sid', 'sid=', '=sid', 'xsid=1', 'a=b=c', '', ' '),
      fc.string({ unit: fc.constantFrom('a', 's', 'i', 'd', '=', ' ', '\t', '"', 'x') }),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 40 }), (segments) => {
        const header = segments.join(';');
        assert.deepEqual(readCookie(header, 'sid'), reference(header, 'sid'));
      }),
    );
  });
});
