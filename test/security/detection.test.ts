/**
 * SEC-34 and SEC-41: failing quietly and detection hooks, over HTTP through `withSession`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionHandler } from '../../src/adapters/node.js';
import { createCookieSessionManager } from '../../src/cookie-session.js';
import { randomString, randomToken } from '../../src/core/crypto.js';
import { getCounters } from '../../src/index.js';
import {
  type App,
  type AppData,
  appHandler,
  cookiesNamed,
  isClearing,
  json,
  type Reply,
  recordEvents,
  SESSION_COOKIE,
  sendJson,
  serve,
  storeApp,
} from './harness.js';

const K1 = 'sec-tests-k1-Qe1WkZq8mX2rB7nL5pD4sF6hJ0aG9uK3iO8tT3v0';

/** Answers what an anonymous visitor sees, identical for every anonymous request. */
const probe: SessionHandler<AppData> = (_req, res, session) =>
  sendJson(res, { isNew: session.isNew, keys: session.keys() });

/** How many rejections (any reason) this process has counted. */
function rejections(): number {
  let total = 0;
  for (const [name, count] of Object.entries(getCounters())) if (name.startsWith('rejected:')) total += count;
  return total;
}

/** Status, headers (but the date) and body: what must not differ between two rejected cookies. */
function shape(reply: Reply): string {
  const headers = [...reply.headers].filter(([name]) => name !== 'date').map(([n, v]) => `${n}: ${v}`);
  return `${reply.status}\n${headers.sort().join('\n')}\n\n${reply.body}`;
}

/** 1,000 cookie values a client could send: garbage of every shape and mutations of `valid`. */
function badCookies(valid: string): string[] {
  const odd = ["'", '../../etc/passwd', '%00%00', '"quoted"', 'a b', '__proto__', '{"$ne":null}', 'null'];
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const at = i % (valid.length - 1);
    switch (i % 10) {
      case 0:
        out.push(randomToken());
        break;
      case 1:
        out.push(`${valid.slice(0, at)}${valid[at] === 'A' ? 'B' : 'A'}${valid.slice(at + 1)}`);
        break;
      case 2:
        out.push(valid.slice(0, at));
        break;
      case 3:
        out.push(`${valid}${randomString(1 + (i % 5))}`);
        break;
      case 4:
        out.push(randomString(1 + (i % 300)));
        break;
      case 5:
        out.push('x'.repeat(3000 + i));
        break;
      case 6:
        out.push(odd[i % odd.length] ?? '');
        break;
      case 7:
        out.push('');
        break;
      case 8:
        out.push('\u00ff'.repeat(1 + (i % 60)));
        break;
      default:
        out.push([...valid].reverse().join(''));
    }
  }
  return out;
}

/** Sends each bad cookie (20 at a time) and returns the distinct response shapes. */
async function sendAll(app: App, values: string[]): Promise<Set<string>> {
  const shapes = new Set<string>();
  for (let i = 0; i < values.length; i += 20) {
    const replies = await Promise.all(
      values.slice(i, i + 20).map((value) => {
        const client = app.browser();
        client.setCookie(value);
        return client.request('/read');
      }),
    );
    for (const reply of replies) shapes.add(shape(reply));
  }
  return shapes;
}

/**
 * `cleared`: whether the uniform answer clears the cookie. Cookie-only sessions clear a refused cookie;
 * store-backed ones leave it alone, since a newer cookie of the same session may be on its way from a
 * parallel login or rotation (issue 11, race 5).
 */
function assertQuietAnonymous(shapes: Set<string>, cleared: boolean): void {
  assert.equal(shapes.size, 1, [...shapes].slice(0, 3).join('\n----\n'));
  const [only = ''] = shapes;
  assert.match(only, /^200\n/);
  assert.match(only, /"isNew":true/);
  if (cleared) assert.match(only, new RegExp(`set-cookie: ${SESSION_COOKIE}=; Max-Age=0`));
  else assert.doesNotMatch(only, /set-cookie/i);
  assert.doesNotMatch(only, /error|exception|\bat \S+ \(|\.ts:\d+/i);
}

describe('failing quietly (SEC-34)', () => {
  it('SEC-34: answers 1,000 garbage or mutated tokens with identical anonymous responses and counts 1,000 rejections', async () => {
    const app = await storeApp({}, (req, res, session) =>
      req.url === '/count' ? appHandler(req, res, session) : probe(req, res, session),
    );
    try {
      const user = app.browser();
      await user.request('/count');
      const token = user.cookie();
      assert.ok(token);
      const before = rejections();
      assertQuietAnonymous(await sendAll(app, badCookies(token)), false);
      assert.equal(rejections() - before, 1000);
    } finally {
      await app.close();
    }
  });

  it('SEC-34: answers 1,000 garbage or mutated sealed cookies with identical anonymous responses and counts 1,000 rejections', async () => {
    const manager = createCookieSessionManager<AppData>({ secrets: [K1], trustProxy: true });
    const app = await serve(manager, (req, res, session) =>
      req.url === '/count' ? appHandler(req, res, session) : probe(req, res, session),
    );
    try {
      const user = app.browser();
      await user.request('/count');
      const sealed = user.cookie();
      assert.ok(sealed);
      const before = rejections();
      assertQuietAnonymous(await sendAll(app, badCookies(sealed)), true);
      assert.equal(rejections() - before, 1000);
    } finally {
      await app.close();
    }
  });
});

describe('detection hooks over HTTP (SEC-41)', () => {
  it('SEC-41: raises one bruteforce event naming the client after 100 invalid cookies from it', async () => {
    const app = await storeApp();
    const recorder = recordEvents();
    try {
      const send = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const client = app.browser();
          client.setCookie(i % 2 === 0 ? randomToken() : 'garbage');
          await client.request('/read');
        }
      };
      await send(99);
      assert.equal(recorder.events.filter((e) => e.type === 'bruteforce').length, 0);
      await send(21);
      const alarms = recorder.events.filter((e) => e.type === 'bruteforce');
      assert.equal(alarms.length, 1);
      assert.match(String(alarms[0]?.detail?.ip), /127\.0\.0\.1$/);
    } finally {
      recorder.stop();
      await app.close();
    }
  });

  it('SEC-41: with binding { userAgent, onMismatch: "destroy" }, ends the session when its User-Agent changes', async () => {
    const app = await storeApp({ binding: { userAgent: true, onMismatch: 'destroy' } });
    const recorder = recordEvents();
    try {
      const firefox = { headers: { 'user-agent': 'Firefox/140' } };
      const user = app.browser();
      await user.request('/count', firefox);
      const token = user.cookie();
      assert.equal(json(await user.request('/read', firefox)).isNew, false);
      const thief = app.browser();
      thief.setCookie(token);
      const stolen = await thief.request('/read', { headers: { 'user-agent': 'curl/8' } });
      assert.equal(json(stolen).isNew, true);
      assert.ok(cookiesNamed(stolen).every(isClearing));
      assert.equal(recorder.events.filter((e) => e.type === 'binding-mismatch').length, 1);
      assert.equal(json(await user.request('/read', firefox)).isNew, true, 'the bound session survived');
    } finally {
      recorder.stop();
      await app.close();
    }
  });
});
