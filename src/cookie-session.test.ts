import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, maxHeaderSize } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { withSession } from './adapters/node.js';
import { type CookieSessionManagerOptions, createCookieSessionManager } from './cookie-session.js';
import { DIAGNOSTICS_CHANNEL, type SessionEvent } from './core/diagnostics.js';
import type { Session } from './core/types.js';
import { SessionTooLargeError } from './errors.js';
import { listenHarness } from './testing/adapter-conformance.js';
import { createFakeClock, type FakeClock } from './testing/fake-clock.js';

const K1 = 'k1-Qe1WkZq8mX2rB7nL5pD4sF6hJ0aG9uK3iO8tT3v0c9y';
const K2 = 'k2-Zr8Qm2Lx7Vn4Kc1Hs9Gd6Ff3Jw0Pt5Yb8Ue2Io7Ay4';
const NAME = '__Host-sid';

type Data = { cart?: string[]; note?: string; n?: number; blob?: string };

let clock: FakeClock;
let events: SessionEvent[];
function isEvent(message: unknown): message is SessionEvent {
  return (
    typeof message === 'object' && message !== null && 'type' in message && typeof message.type === 'string'
  );
}
function collect(message: unknown): void {
  if (isEvent(message)) events.push({ ...message });
}
beforeEach(() => {
  clock = createFakeClock();
  events = [];
  subscribe(DIAGNOSTICS_CHANNEL, collect);
});
afterEach(() => {
  unsubscribe(DIAGNOSTICS_CHANNEL, collect);
});

function manager(options: Partial<CookieSessionManagerOptions> = {}) {
  return createCookieSessionManager<Data>({ secrets: [K1], clock, ...options });
}

/** The `Cookie` header a browser sends after receiving `setCookies` (cleared cookies dropped). */
function jar(setCookies: string[], previous = ''): string {
  const cookies = new Map<string, string>();
  for (const part of previous.split('; ')) {
    const eq = part.indexOf('=');
    if (eq > 0) cookies.set(part.slice(0, eq), part.slice(eq + 1));
  }
  for (const line of setCookies) {
    const pair = line.slice(0, line.indexOf(';'));
    const eq = pair.indexOf('=');
    if (line.includes('Max-Age=0')) cookies.delete(pair.slice(0, eq));
    else cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return [...cookies].map(([n, v]) => `${n}=${v}`).join('; ');
}

function cookieValue(header: string, name = NAME): string {
  const found = header.split('; ').find((p) => p.startsWith(`${name}=`));
  assert.ok(found, `${name} in ${header.slice(0, 40)}`);
  return found.slice(name.length + 1);
}

function kidOf(header: string, name = NAME): string {
  return Buffer.from(cookieValue(header, name), 'base64url').subarray(1, 5).toString('hex');
}

function rejections(): string[] {
  return events.filter((e) => e.type === 'rejected').map((e) => String(e.reason));
}

/** A cookie header holding a new session that `fill` wrote to, made by `m`. */
async function issue(
  m: ReturnType<typeof manager>,
  fill: (session: Session<Data>) => void = (s) => s.set('note', 'hi'),
): Promise<string> {
  const session = await m.load(undefined);
  fill(session);
  return jar(await m.commit(session));
}

describe('createCookieSessionManager', () => {
  it('round-trips a session through its sealed cookie', async () => {
    const m = manager();
    const session = await m.load(undefined);
    assert.equal(session.isNew, true);
    session.set('cart', ['apple', 'pear']);
    const setCookies = await m.commit(session);
    assert.equal(setCookies.length, 1);
    assert.match(setCookies[0] ?? '', /^__Host-sid=[A-Za-z0-9_-]+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    const again = await m.load(jar(setCookies));
    assert.equal(again.isNew, false);
    assert.deepEqual(again.get('cart'), ['apple', 'pear']);
    assert.equal(again.id, session.id);
    assert.equal(m.storeKind, 'cookie');
    assert.equal(m.cookieName, NAME);
  });

  it('seals nothing and sets no cookie for a request without a cookie that changes nothing', async () => {
    const m = manager();
    const session = await m.load('other=1');
    assert.deepEqual(await m.commit(session), []);
    assert.deepEqual(m.keyUsage(), {});
  });

  it('sets no cookie for an unchanged session until the touch interval has passed', async () => {
    const m = manager({ idleTimeoutSeconds: 600, touchIntervalSeconds: 60 });
    const header = await issue(m);
    clock.advanceSeconds(59);
    assert.deepEqual(await m.commit(await m.load(header)), []);
    assert.equal(m.keyUsage()[kidOf(header)], 1);
    clock.advanceSeconds(1);
    const touched = await m.commit(await m.load(header));
    assert.equal(touched.length, 1);
    assert.notEqual(cookieValue(jar(touched)), cookieValue(header));
  });

  it('rejects a cookie with any character changed as a fresh session with a rejected event', async () => {
    const m = manager();
    const header = await issue(m);
    const value = cookieValue(header);
    for (const index of [0, 3, 8, 20, Math.floor(value.length / 2), value.length - 2]) {
      const swapped = value[index] === 'A' ? 'B' : 'A';
      const tampered = `${value.slice(0, index)}${swapped}${value.slice(index + 1)}`;
      const session = await m.load(`${NAME}=${tampered}`);
      assert.equal(session.isNew, true, `char ${index}`);
      assert.equal(session.get('note'), undefined);
    }
    assert.equal(rejections().length, 6);
    assert.ok(rejections().includes('tampered'));
  });

  it('clears a rejected cookie and answers it with an anonymous session', async () => {
    const m = manager();
    const session = await m.load(`${NAME}=garbage!; other=1`);
    assert.equal(session.isNew, true);
    assert.deepEqual(rejections(), ['malformed']);
    const setCookies = await m.commit(session);
    assert.equal(setCookies.length, 1);
    assert.match(setCookies[0] ?? '', /^__Host-sid=; Max-Age=0/);
  });

  it('rejects a cookie sealed with a wrong key as unknown-key', async () => {
    const header = await issue(manager({ secrets: [K2] }));
    const session = await manager().load(header);
    assert.equal(session.isNew, true);
    assert.deepEqual(rejections(), ['unknown-key']);
  });

  it('opens a cookie of a previous key after rotation and re-seals it with the new kid', async () => {
    const header = await issue(manager({ secrets: [K1] }));
    const rotated = manager({ secrets: [K2, K1] });
    const session = await rotated.load(header);
    assert.equal(session.get('note'), 'hi');
    const setCookies = await rotated.commit(session);
    assert.equal(setCookies.length, 1, 'unchanged, yet re-sealed');
    const resealed = jar(setCookies);
    assert.notEqual(kidOf(resealed), kidOf(header));
    assert.deepEqual(Object.keys(rotated.keyUsage()), [kidOf(resealed)]);
    assert.ok(events.some((e) => e.type === 'rotated' && e.reason === 'key'));
    assert.equal((await manager({ secrets: [K2] }).load(resealed)).get('note'), 'hi');
    assert.deepEqual(await rotated.commit(await rotated.load(resealed)), []);
  });

  it('opens cookies sealed by an earlier release, and re-seals one of a previous key', async () => {
    // Sealed at createFakeClock()'s start by the build before the issue-13 changes: login('user-42',
    // { remember: true }) after setting cart and note, one with K1 and one with K2.
    const sealedWithK1 =
      'AWGH3hxTzEOf83D_tzG2j_iRs6m2xMnuSuJLXdg_5GPeZNr5wgnrWHZ6LI3Z7BOinGB06JM-JVQYZwwixzxZHT11CECFxfqno5CxMeuRBIw4ZDW_TBMSPXXC8DbFQXnUj8GEoFP_ZfKNeRIrDepZl-c21CCMBqsVHK_mw9Gam3Bk_4oK7tAwRb2kW7RlT3AhdHXYIsuOTRHM3RevcnTwykCqDcqw2TKPkuO0gOja5VfH9toMcUOvUKTsiQrjg199eR3a1mz5lh0UdpLzom_OOHLoLpSKEeGcs6dJ';
    const sealedWithK2 =
      'AazisLE1dgEZBRzQMI_r7WdLyCpt5hHYieGIlgoWccgKVJvKQZ08lXQ58U86_BeWFO9MDfzR6WHvbO41bgQvrmSlp9aQmbHqJrpeYyI3dvb5ItodMLInpxXHzK3pX9svGzlugb5_JhSlw4o6OiUuHfOxzqOgeKHAS73UsvBrjPsv-c9WIuoZLwgO4BS7YMdjcfOgLjs66ckdo7JqUKXkNFGFVVce4iZ8PnAtLI6bA5GAfreu5F2hr2Sp9T_lrBdsz8vsMckDHpNZ5_FZ3ujEyLZKkvYPIkGbilMq';
    const m = manager({ secrets: [K1, K2] });
    const current = await m.load(`${NAME}=${sealedWithK1}`);
    assert.equal(current.isNew, false);
    assert.equal(current.id, 'hcUBHyWx2EVULBeHi0BTLspF2ebN0fKHNuosBoPXOCE');
    assert.equal(current.userId, 'user-42');
    assert.equal(current.authenticatedAt, clock.now());
    assert.equal(current.persistent, true);
    assert.equal(current.version, 1);
    assert.deepEqual(current.get('cart'), ['apple', 'pear']);
    assert.equal(current.get('note'), 'ünïcødé ✓');
    assert.deepEqual(await m.commit(current), []);
    const previous = await m.load(`${NAME}=${sealedWithK2}`);
    assert.equal(previous.id, 'lN1-B88GNH4ZWSnvu1PGhB2pW7yli_JoW3zxWF1930I');
    assert.equal(previous.get('note'), 'ünïcødé ✓');
    const resealed = await m.commit(previous);
    assert.equal(resealed.length, 1);
    assert.equal(kidOf(jar(resealed)), kidOf(`${NAME}=${sealedWithK1}`));
    assert.deepEqual(rejections(), []);
  });

  it('rejects a cookie of a key that was removed from the ring', async () => {
    const header = await issue(manager({ secrets: [K1] }));
    const session = await manager({ secrets: [K2] }).load(header);
    assert.equal(session.isNew, true);
    assert.deepEqual(rejections(), ['unknown-key']);
  });

  it('rejects a session idle for idleTimeoutSeconds (expired-idle)', async () => {
    const m = manager({ idleTimeoutSeconds: 600 });
    const header = await issue(m);
    clock.advanceSeconds(599);
    assert.equal((await m.load(header)).isNew, false);
    clock.advanceSeconds(1);
    assert.equal((await m.load(header)).isNew, true);
    assert.deepEqual(rejections(), ['expired-idle']);
    assert.ok(events.some((e) => e.type === 'expired' && e.reason === 'expired-idle'));
  });

  it('rejects a session past absoluteTimeoutSeconds however active it was (expired-absolute)', async () => {
    const m = manager({ idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600, touchIntervalSeconds: 60 });
    let header = await issue(m);
    for (let minute = 5; minute < 60; minute += 5) {
      clock.advanceSeconds(300);
      const session = await m.load(header);
      assert.equal(session.isNew, false, `minute ${minute}`);
      header = jar(await m.commit(session), header);
    }
    clock.advanceSeconds(300);
    assert.equal((await m.load(header)).isNew, true);
    assert.deepEqual(rejections(), ['expired-absolute']);
  });

  it('restarts the absolute timeout on login()', async () => {
    const m = manager({ idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 3600 });
    const header = await issue(m);
    clock.advanceSeconds(1800);
    const session = await m.load(header);
    await session.login('u1');
    const loggedIn = jar(await m.commit(session), header);
    clock.advanceSeconds(1800);
    const later = await m.load(loggedIn);
    assert.equal(later.isNew, false);
    assert.equal(later.userId, 'u1');
    assert.equal(later.authenticatedAt, clock.now() - 1_800_000);
  });

  it('rejects a session whose timestamps lie more than 60 s in the future', async () => {
    const m = manager();
    const start = clock.now();
    clock.set(start + 61_000);
    const ahead = await issue(m);
    clock.set(start + 59_000);
    const close = await issue(m);
    clock.set(start);
    assert.equal((await m.load(close)).isNew, false);
    assert.equal((await m.load(ahead)).isNew, true);
    assert.deepEqual(rejections(), ['malformed']);
    assert.deepEqual(events.find((e) => e.type === 'rejected')?.detail, { cause: 'future-timestamp' });
  });

  it('enforces the 16-byte tag: a cookie with its tag truncated to 4 bytes is rejected', async () => {
    const m = manager();
    const bytes = Buffer.from(cookieValue(await issue(m)), 'base64url');
    const truncated = bytes.subarray(0, bytes.length - 12).toString('base64url');
    assert.equal((await m.load(`${NAME}=${truncated}`)).isNew, true);
    assert.deepEqual(rejections(), ['tampered']);
  });

  it('binds the cookie name: a value sealed for cookie A does not open as cookie B', async () => {
    const a = manager({ cookie: { name: '__Host-a' } });
    const b = manager({ cookie: { name: '__Host-b' } });
    const value = cookieValue(await issue(a), '__Host-a');
    assert.equal((await a.load(`__Host-a=${value}`)).isNew, false);
    assert.equal((await b.load(`__Host-b=${value}`)).isNew, true);
    assert.deepEqual(rejections(), ['tampered']);
  });

  it('fits a ~3 KB session in one cookie of at most 4096 bytes', async () => {
    const m = manager();
    const session = await m.load(undefined);
    session.set('blob', 'x'.repeat(2900));
    const setCookies = await m.commit(session);
    assert.equal(setCookies.length, 1);
    const header = jar(setCookies);
    assert.ok(header.length <= 4096, `${header.length} bytes`);
    assert.equal((await m.load(header)).get('blob')?.length, 2900);
  });

  it('chunks a 5 KB session across __Host-sid and __Host-sid.1 and reads it back', async () => {
    const m = manager();
    const session = await m.load(undefined);
    session.set('blob', 'y'.repeat(5000));
    const setCookies = await m.commit(session);
    assert.deepEqual(
      setCookies.map((c) => c.slice(0, c.indexOf('='))),
      ['__Host-sid', '__Host-sid.1'],
    );
    for (const line of setCookies) {
      const pair = line.slice(0, line.indexOf(';'));
      assert.ok(pair.length - 1 <= 4096, `${pair.length - 1} bytes`);
      assert.match(line, /; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    }
    const header = jar(setCookies);
    const again = await m.load(header);
    assert.equal(again.get('blob'), 'y'.repeat(5000));
    const reversed = header.split('; ').reverse().join('; ');
    assert.equal((await m.load(reversed)).isNew, false, 'chunk order in the header does not matter');
  });

  it('rejects a commit beyond maxCookies with ERR_SESSION_TOO_LARGE and sends no Set-Cookie', async () => {
    const m = manager({ maxCookies: 2 });
    const header = await issue(m);
    const session = await m.load(header);
    session.set('blob', 'z'.repeat(9000));
    let setCookies: string[] | undefined;
    await assert.rejects(
      async () => {
        setCookies = await m.commit(session);
      },
      (error: unknown) =>
        error instanceof SessionTooLargeError &&
        error.code === 'ERR_SESSION_TOO_LARGE' &&
        error.size > error.limit,
    );
    assert.equal(setCookies, undefined);
    assert.equal(m.keyUsage()[kidOf(header)], 1, 'nothing was sealed');
  });

  describe('cookie budget (maxCookieBytes)', () => {
    /** The Cookie header of a session holding `size` characters, or null when it is too large. */
    async function headerFor(m: ReturnType<typeof manager>, size: number): Promise<string | null> {
      const session = await m.load(undefined);
      session.set('blob', 'b'.repeat(size));
      try {
        return jar(await m.commit(session));
      } catch (error) {
        assert.ok(error instanceof SessionTooLargeError, String(error));
        return null;
      }
    }

    /** The largest session (characters of `blob`) the manager accepts, and its Cookie header. */
    async function largest(m: ReturnType<typeof manager>): Promise<{ size: number; header: string }> {
      let low = 0;
      let high = 64 * 1024;
      while (low < high) {
        const mid = Math.ceil((low + high) / 2);
        if ((await headerFor(m, mid)) === null) high = mid - 1;
        else low = mid;
      }
      const header = await headerFor(m, low);
      assert.ok(header !== null);
      return { size: low, header };
    }

    it('keeps the Cookie header of the largest accepted session within the budget, to the byte', async () => {
      for (const [options, budget] of [
        [{}, maxHeaderSize - 4096],
        [{ maxCookieBytes: 5000 }, 5000],
        [{ maxCookieBytes: 4000, maxCookies: 9 }, 4000],
        [{ maxCookieBytes: 20_000, maxCookies: 9 }, 20_000],
        [{ maxCookieBytes: 600, cookie: { name: 's' } }, 600],
      ] as const) {
        const m = manager(options);
        const { header } = await largest(m);
        assert.ok(header.length <= budget, `${header.length} > ${budget} with ${JSON.stringify(options)}`);
        // The budget binds, not something looser: a 4 (base64) characters longer value would not fit.
        assert.ok(
          header.length > budget - 80,
          `${header.length} ≪ ${budget} with ${JSON.stringify(options)}`,
        );
      }
    });

    it('refuses a session over the budget with ERR_SESSION_TOO_LARGE (413), no Set-Cookie, the old cookies intact', async () => {
      const m = manager();
      const { size, header: before } = await largest(m);
      const session = await m.load(before);
      session.set('blob', 'c'.repeat(size + 100));
      await assert.rejects(m.commit(session), { code: 'ERR_SESSION_TOO_LARGE', status: 413 });
      assert.equal((await m.load(before)).get('blob'), 'b'.repeat(size), 'the previous cookies still open');
      const streamed = await m.load(before);
      streamed.set('blob', 'c'.repeat(size + 100));
      assert.deepEqual(m.cookiesNow(streamed), []);
      await assert.rejects(m.commit(streamed), { code: 'ERR_SESSION_TOO_LARGE' });
    });

    it('rejects a budget that cannot hold a session, naming the option', () => {
      assert.throws(() => manager({ maxCookieBytes: 100 }), {
        code: 'ERR_SESSION_CONFIG',
        option: 'maxCookieBytes',
      });
      assert.throws(() => manager({ maxCookieBytes: 1.5 * 4096 + 0.5 }), { option: 'maxCookieBytes' });
    });
  });

  it('clears leftover chunk cookies when the session shrinks', async () => {
    const m = manager();
    const big = await m.load(undefined);
    big.set('blob', 'w'.repeat(7000));
    const header = jar(await m.commit(big));
    assert.match(header, /__Host-sid\.2=/);
    const session = await m.load(header);
    session.delete('blob');
    const setCookies = await m.commit(session);
    assert.equal(setCookies.length, 3);
    assert.match(setCookies[0] ?? '', /^__Host-sid=[A-Za-z0-9_-]+;/);
    assert.match(setCookies[1] ?? '', /^__Host-sid\.1=; Max-Age=0/);
    assert.match(setCookies[2] ?? '', /^__Host-sid\.2=; Max-Age=0/);
    assert.equal(jar(setCookies, header).includes('__Host-sid.1'), false);
  });

  it('rejects a session with a missing chunk as malformed and a duplicated one as duplicate', async () => {
    const m = manager();
    const big = await m.load(undefined);
    big.set('blob', 'v'.repeat(5000));
    const header = jar(await m.commit(big));
    const first = header.split('; ')[0];
    assert.equal((await m.load(first)).isNew, true);
    assert.equal((await m.load(`${header}; __Host-sid.1=AAAA`)).isNew, true);
    assert.equal((await m.load(`${header}; ${NAME}=AAAA`)).isNew, true);
    assert.deepEqual(rejections(), ['malformed', 'duplicate', 'duplicate']);
  });

  it('rejects a cookie longer than maxCookies can hold as oversized, without decrypting', async () => {
    const m = manager({ maxCookies: 1 });
    const session = await m.load(`${NAME}=${'A'.repeat(5000)}`);
    assert.equal(session.isNew, true);
    assert.deepEqual(rejections(), ['oversized']);
  });

  it('throws ERR_SESSION_CONFIG for secrets shorter than 32 bytes (and other bad options)', () => {
    const config = (option: string) => (error: unknown) =>
      typeof error === 'object' &&
      error !== null &&
      'code' in error &&
      error.code === 'ERR_SESSION_CONFIG' &&
      'option' in error &&
      error.option === option;
    assert.throws(() => manager({ secrets: ['too short to be a key'] }), config('secrets[0]'));
    assert.throws(() => manager({ secrets: [] }), config('secrets'));
    assert.throws(() => manager({ secrets: [K1, K1] }), config('secrets[1]'));
    assert.throws(() => manager({ maxCookies: 0 }), config('maxCookies'));
    assert.throws(() => manager({ maxCookies: 10 }), config('maxCookies'));
    assert.throws(() => manager({ keyUsageWarningThreshold: 0 }), config('keyUsageWarningThreshold'));
    assert.throws(() => manager({ cookie: { secure: false } }), config('cookie.secure'));
  });

  it('rejects a logged-in session authenticated before the notBefore time as revoked', async () => {
    const revokedAt = new Map<string, number>();
    const asked: string[] = [];
    const m = manager({
      notBefore: async (userId) => {
        asked.push(userId);
        return revokedAt.get(userId);
      },
    });
    const anonymous = await issue(m);
    const session = await m.load(anonymous);
    await session.login('alice');
    const header = jar(await m.commit(session));
    assert.equal((await m.load(header)).userId, 'alice');
    clock.advanceSeconds(10);
    revokedAt.set('alice', clock.now());
    assert.equal((await m.load(header)).isNew, true);
    assert.deepEqual(rejections(), ['revoked']);
    assert.equal((await m.load(anonymous)).isNew, false, 'anonymous sessions are not revoked');
    assert.deepEqual(asked, ['alice', 'alice']);
    const relogin = await m.load(undefined);
    await relogin.login('alice');
    assert.equal((await m.load(jar(await m.commit(relogin)))).userId, 'alice');
  });

  it('fails the load with ERR_SESSION_STORE when the notBefore hook throws', async () => {
    const m = manager({
      notBefore: () => {
        throw new Error('directory down');
      },
    });
    const session = await m.load(undefined);
    await session.login('bob');
    const header = jar(await m.commit(session));
    await assert.rejects(m.load(header), { code: 'ERR_SESSION_STORE' });
  });

  it('gives regenerate() and login() a new id, keeps the data and renews the CSRF token', async () => {
    const m = manager();
    const header = await issue(m, (s) => s.set('cart', ['a']));
    const session = await m.load(header);
    const before = session.id;
    const csrf = session.csrfToken();
    const withCsrf = jar(await m.commit(session));
    const again = await m.load(withCsrf);
    await again.regenerate();
    assert.notEqual(again.id, before);
    assert.notEqual(again.csrfToken(), csrf);
    const afterRegenerate = again.id;
    await again.login('carol');
    assert.notEqual(again.id, afterRegenerate);
    const setCookies = await m.commit(again);
    const loaded = await m.load(jar(setCookies));
    assert.equal(loaded.id, again.id);
    assert.deepEqual(loaded.get('cart'), ['a']);
    assert.equal(loaded.userId, 'carol');
    assert.equal(loaded.authenticatedAt, clock.now());
  });

  it('clears every chunk cookie on destroy()', async () => {
    const m = manager();
    const big = await m.load(undefined);
    big.set('blob', 'u'.repeat(5000));
    const session = await m.load(jar(await m.commit(big)));
    await session.destroy();
    const setCookies = await m.commit(session);
    assert.equal(setCookies.length, 2);
    assert.match(setCookies[0] ?? '', /^__Host-sid=; Max-Age=0/);
    assert.match(setCookies[1] ?? '', /^__Host-sid\.1=; Max-Age=0/);
    assert.ok(events.some((e) => e.type === 'destroyed' && e.id === session.id));
  });

  it('applies update() locally and seals the result', async () => {
    const m = manager();
    const session = await m.load(await issue(m, (s) => s.set('n', 1)));
    assert.equal(await session.update('n', (n) => (n ?? 0) + 1), 2);
    assert.equal(await session.update('n', (n) => (n ?? 0) + 1), 3);
    assert.equal((await m.load(jar(await m.commit(session)))).get('n'), 3);
  });

  it('sets no cookie over plain HTTP without trustProxy, and one behind a trusted HTTPS proxy', async () => {
    const m = manager();
    const plain = await m.load(undefined, { protocol: 'http' });
    plain.set('note', 'x');
    assert.deepEqual(await m.commit(plain), []);
    assert.ok(events.some((e) => e.type === 'insecure-transport'));
    const proxied = manager({ trustProxy: true });
    const session = await proxied.load(undefined, { protocol: 'http', forwardedProto: 'https' });
    session.set('note', 'x');
    assert.equal((await proxied.commit(session)).length, 1);
  });

  it('caps Max-Age at the remaining absolute lifetime when the cookie is persistent', async () => {
    const m = manager({ absoluteTimeoutSeconds: 3600, cookie: { maxAge: 86_400 } });
    const session = await m.load(undefined);
    session.set('note', 'x');
    const [line] = await m.commit(session);
    assert.match(line ?? '', /; Max-Age=3600;/);
  });

  it('hands the cookies out early through cookiesNow() and adds none at commit', async () => {
    const m = manager();
    const session = await m.load(undefined);
    session.set('note', 'streamed');
    const early = m.cookiesNow(session);
    assert.equal(early.length, 1);
    assert.deepEqual(await m.commit(session), []);
    assert.equal((await m.load(jar(early))).get('note'), 'streamed');
  });

  it('reports a too-large session seen by cookiesNow() at commit', async () => {
    const m = manager({ maxCookies: 1 });
    const session = await m.load(undefined);
    session.set('blob', 'q'.repeat(5000));
    assert.deepEqual(m.cookiesNow(session), []);
    await assert.rejects(m.commit(session), { code: 'ERR_SESSION_TOO_LARGE' });
  });

  it('counts seals per key and warns once past keyUsageWarningThreshold', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => {
      if (warning.code === 'SESSIONKIT_KEY_USAGE') warnings.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      const m = manager({ keyUsageWarningThreshold: 2 });
      const kid = kidOf(await issue(m));
      await issue(m);
      assert.equal(events.filter((e) => e.type === 'key-usage').length, 0);
      await issue(m);
      await issue(m);
      assert.deepEqual(m.keyUsage(), { [kid]: 4 });
      const usage = events.filter((e) => e.type === 'key-usage');
      assert.equal(usage.length, 1);
      assert.deepEqual(usage[0]?.detail, { kid, count: 3, threshold: 2 });
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0]?.includes(kid));
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('counts undecryptable cookies per client and raises a bruteforce event at the threshold', async () => {
    const m = manager({ invalidTokens: { threshold: 3 } });
    for (const junk of ['a', 'b', 'c']) await m.load(`${NAME}=${junk}`, { ip: '192.0.2.7' });
    const alarms = events.filter((e) => e.type === 'bruteforce');
    assert.equal(alarms.length, 1);
    assert.equal(alarms[0]?.detail?.ip, '192.0.2.7');
  });

  it('has no per-user index: listUserSessions and revokeUserSessions reject with ERR_SESSION_STATE', async () => {
    const m = manager();
    await assert.rejects(m.listUserSessions('u'), { code: 'ERR_SESSION_STATE' });
    await assert.rejects(m.revokeUserSessions('u'), { code: 'ERR_SESSION_STATE' });
  });

  it('puts no secret or cookie value in any event or error', async () => {
    const m = manager({ secrets: [K2, K1], maxCookies: 2, keyUsageWarningThreshold: 1 });
    const values: string[] = [];
    const remember = (setCookies: string[]) => {
      for (const line of setCookies) {
        const value = line.slice(line.indexOf('=') + 1, line.indexOf(';'));
        if (value.length > 0) values.push(value);
      }
      return setCookies;
    };
    const old = await issue(manager({ secrets: [K1] }), (s) => s.set('note', 'secret note'));
    values.push(cookieValue(old));
    const session = await m.load(old);
    session.set('blob', 'p'.repeat(5000));
    const header = jar(remember(await m.commit(session)));
    const loaded = await m.load(header);
    await loaded.login('dave');
    const loggedIn = jar(remember(await m.commit(loaded)));
    const errors: string[] = [];
    loaded.set('blob', 'o'.repeat(12_000));
    await m.commit(loaded).catch((error: Error) => errors.push(`${error.message} ${JSON.stringify(error)}`));
    const value = cookieValue(loggedIn);
    await m.load(`${NAME}=${value.slice(0, -3)}xyz`);
    await m.load(`${NAME}=${value}; ${NAME}=${values[0]}`);
    await m.load(`${NAME}=${value.slice(2)}`);
    await m.load(jar([], loggedIn).replace(/__Host-sid\.1=[^;]*(; )?/, ''));
    clock.advanceSeconds(3600 * 24);
    await m.load(loggedIn);
    try {
      manager({ secrets: ['short secret value'] });
    } catch (error) {
      errors.push(String(error));
    }
    assert.ok(errors.length >= 2);
    assert.ok(events.length >= 8);
    const text = `${JSON.stringify(events)}\n${errors.join('\n')}`;
    for (const secret of [K1, K2, 'short secret value']) assert.equal(text.includes(secret), false);
    for (const v of values) assert.equal(text.includes(v.slice(0, 24)), false, 'a cookie value leaked');
    assert.equal(text.includes('secret note'), false);
  });
});

describe('createCookieSessionManager with sessionkit/node', () => {
  let url = '';
  let close = async () => {};
  before(async () => {
    const m = createCookieSessionManager<Data>({ secrets: [K1], insecureDevCookies: true, maxCookies: 2 });
    const server = createServer(
      withSession(m, async (req, res, session) => {
        if (req.url === '/stream') {
          session.set('note', 'streamed');
          res.write('a');
          res.end('b');
          return;
        }
        if (req.url === '/big') session.set('blob', 'x'.repeat(20_000));
        session.set('n', (session.get('n') ?? 0) + 1);
        res.end(String(session.get('n')));
      }),
    );
    ({ url, close } = await listenHarness(server));
  });
  after(() => close());

  async function get(path: string, cookie?: string) {
    const response = await fetch(`${url}${path}`, cookie === undefined ? {} : { headers: { cookie } });
    return { status: response.status, body: await response.text(), cookies: response.headers.getSetCookie() };
  }

  it('keeps the session in the cookie across requests', async () => {
    const first = await get('/count');
    assert.equal(first.body, '1');
    assert.equal(first.cookies.length, 1);
    const second = await get('/count', jar(first.cookies));
    assert.equal(second.body, '2');
  });

  it('sets the cookie on a response whose headers are flushed before the handler returns', async () => {
    const streamed = await get('/stream');
    assert.equal(streamed.body, 'ab');
    assert.equal(streamed.cookies.length, 1);
    assert.equal((await get('/count', jar(streamed.cookies))).body, '1');
  });

  it('answers 413 without any Set-Cookie when the session outgrows its cookie budget', async () => {
    const big = await get('/big');
    assert.equal(big.status, 413);
    assert.deepEqual(big.cookies, []);
  });
});
