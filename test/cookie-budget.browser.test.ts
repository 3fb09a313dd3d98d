/**
 * DESIGN §7 in a real browser: the largest cookie-only session the manager accepts still lets
 * Chromium's next request through Node's header limit (no 431 before the app), and one just over
 * the budget is refused with 413 while the browser keeps its previous cookies.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { withSession } from '../src/adapters/node.js';
import { createCookieSessionManager } from '../src/cookie-session.js';
import { type AdapterHarness, listenHarness } from '../src/testing/adapter-conformance.js';
import { chromiumSkip, launchChromium } from './browser.js';

type Data = { blob: string };
const sessions = createCookieSessionManager<Data>({ secrets: [randomBytes(32)] });

/** The largest `blob` (in characters) the manager accepts, found with the manager alone. */
async function largestAccepted(): Promise<number> {
  let low = 0;
  let high = 64 * 1024;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    const session = await sessions.load(undefined);
    session.set('blob', 'b'.repeat(mid));
    const fits = await sessions.commit(session).then(
      () => true,
      () => false,
    );
    if (fits) low = mid;
    else high = mid - 1;
  }
  return low;
}

describe('the cookie budget in Chromium', { skip: chromiumSkip(), timeout: 60_000 }, () => {
  let app: AdapterHarness;
  let browser: Browser;

  before(async () => {
    // /set?size=N stores N characters and links to /ping; /ping says how big the session it read is.
    const server = createServer(
      withSession(sessions, async (req, res, session) => {
        const url = new URL(req.url ?? '/', 'http://localhost');
        res.setHeader('content-type', 'text/html; charset=utf-8');
        if (url.pathname === '/set') {
          session.set('blob', 'b'.repeat(Number(url.searchParams.get('size'))));
          res.end('<a id="next" href="/ping?from=a-link-so-the-request-carries-a-referer">next</a>');
        } else {
          res.end(`<p id="size">${session.get('blob')?.length ?? 0}</p>`);
        }
      }),
    );
    app = await listenHarness(server);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('answers the next request from Chromium after the largest accepted session', async () => {
    const size = await largestAccepted();
    const page = await (await browser.newContext()).newPage();
    const base = app.url.replace('127.0.0.1', 'localhost');
    const set = await page.goto(`${base}/set?size=${size}`);
    assert.equal(set?.status(), 200);
    const [ping] = await Promise.all([page.waitForNavigation(), page.click('#next')]);
    assert.equal(ping?.status(), 200, 'Chromium is not locked out (431)');
    assert.equal(await page.textContent('#size'), String(size), 'the app read the whole session');

    const over = await page.goto(`${base}/set?size=${size + 64}`);
    assert.equal(over?.status(), 413);
    const after = await page.goto(`${base}/ping`);
    assert.equal(after?.status(), 200);
    assert.equal(await page.textContent('#size'), String(size), 'the previous cookies are intact');
  });
});
