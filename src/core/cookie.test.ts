import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
