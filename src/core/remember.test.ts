// Remember me, per session, through the real node adapter: each session's cookie is persistent (Max-Age
// bounded by the absolute timeout) or a browser-session cookie, and keeps its kind through rotation.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { withSession } from '../adapters/node.js';
import { createMemoryStore } from '../stores/memory.js';
import { createFakeClock } from '../testing/fake-clock.js';
import { createCookieSessionManager } from './cookie-manager.js';
import { createSessionManager } from './manager.js';
import type { SessionManager } from './types.js';

const DAY = 24 * 3600;
const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/** /login?remember=1|0 logs in; /forget and /remember change the choice; /visit only reads. */
async function serve(manager: SessionManager): Promise<string> {
  const server = createServer(
    withSession(manager, async (req, res, session) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/login') {
        const remember = url.searchParams.get('remember');
        await session.login('ada', remember === null ? undefined : { remember: remember === '1' });
      }
      if (url.pathname === '/forget') session.setPersistent(false);
      if (url.pathname === '/remember') session.setPersistent(true);
      if (url.pathname === '/write') session.set('n', Math.random());
      res.end(JSON.stringify({ persistent: session.persistent ?? null }));
    }),
  );
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return `http://127.0.0.1:${address.port}`;
}

/** One browser: keeps the session cookie(s), returns the Set-Cookie lines of each response. */
function browser(base: string) {
  const jar = new Map<string, string>();
  return async (path: string): Promise<string[]> => {
    const cookie = [...jar].map(([n, v]) => `${n}=${v}`).join('; ');
    const response = await fetch(base + path, { headers: { cookie } });
    await response.text();
    const lines = response.headers.getSetCookie();
    for (const line of lines) {
      const pair = line.split(';')[0] ?? '';
      const name = pair.slice(0, pair.indexOf('='));
      if (/Max-Age=0(;|$)/.test(line)) jar.delete(name);
      else jar.set(name, pair.slice(pair.indexOf('=') + 1));
    }
    return lines;
  };
}

const maxAge = (lines: string[]): number | undefined => {
  const match = /;\s*Max-Age=(\d+)/i.exec(lines[0] ?? '');
  return match ? Number(match[1]) : undefined;
};

const managers = {
  'store-backed (memory store)': (clock: ReturnType<typeof createFakeClock>) =>
    createSessionManager({
      store: createMemoryStore({ clock }),
      clock,
      insecureDevCookies: true,
      absoluteTimeoutSeconds: 30 * DAY,
      idleTimeoutSeconds: 7 * DAY,
      rotateAfterSeconds: 3600,
    }),
  'cookie-only': (clock: ReturnType<typeof createFakeClock>) =>
    createCookieSessionManager({
      secrets: ['a-secret-of-at-least-thirty-two-characters!'],
      clock,
      insecureDevCookies: true,
      absoluteTimeoutSeconds: 30 * DAY,
      idleTimeoutSeconds: 7 * DAY,
    }),
};

for (const [name, make] of Object.entries(managers)) {
  describe(`remember me per session: ${name}`, () => {
    it('a remembered login gets Max-Age bounded by the absolute timeout; a plain one a browser-session cookie', async () => {
      const clock = createFakeClock();
      const base = await serve(make(clock));
      const remembered = browser(base);
      const plain = browser(base);
      assert.equal(maxAge(await remembered('/login?remember=1')), 30 * DAY);
      const plainLines = await plain('/login?remember=0');
      assert.equal(plainLines.length > 0, true);
      assert.equal(maxAge(plainLines), undefined);
      // Later cookies of the remembered session shrink with the absolute timeout left.
      clock.advance(5 * DAY * 1000);
      const later = await remembered('/write');
      assert.equal(maxAge(later), 25 * DAY);
      assert.equal(maxAge(await plain('/write')), undefined);
    });

    it('keeps the choice through rotation and a second login, and changes it on demand', async () => {
      const clock = createFakeClock();
      const base = await serve(make(clock));
      const client = browser(base);
      await client('/login?remember=1');
      clock.advance(2 * 3600 * 1000); // past rotateAfterSeconds (store-backed) and the touch interval
      const rotated = await client('/write');
      assert.equal(rotated.length > 0, true, 'the rotated/touched cookie is sent');
      assert.ok((maxAge(rotated) ?? 0) > 0, 'still persistent after rotation');
      assert.ok((maxAge(await client('/login')) ?? 0) > 0, 'a login without remember keeps the choice');
      const forgotten = await client('/forget');
      assert.equal(forgotten.length > 0, true, 'changing the choice re-sends the cookie');
      assert.equal(maxAge(forgotten), undefined);
      // The second login restarted the absolute timeout.
      assert.equal(maxAge(await client('/remember')), 30 * DAY);
    });
  });
}
