import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumSkip, launchChromium } from '../test/browser.js';
import { asCart, asMe, type DemoProcess, spawnDemo } from './test-support.js';

// With UPDATE_SCREENSHOT=1 the screenshot replaces the README's; otherwise it goes to test-results/ (ignored by git).
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCREENSHOT = join(
  ROOT,
  process.env.UPDATE_SCREENSHOT === '1' ? 'docs/screenshot-cart.png' : 'test-results/screenshot-cart.png',
);

describe('the demo shop in Chromium', { skip: chromiumSkip(), timeout: 60_000 }, () => {
  let dataDir: string;
  let server: DemoProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A fresh browser profile's tab: its page errors (a CSP violation, a script error) fail the test. */
  async function newTab(
    viewport = { width: 1200, height: 760 },
  ): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ baseURL: server.url, viewport });
    context.setDefaultTimeout(10_000);
    contexts.push(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    return { context, page, errors };
  }

  async function sessionCookie(context: BrowserContext): Promise<string> {
    const cookie = (await context.cookies(server.url)).find((c) => c.name === 'sid');
    assert.ok(cookie !== undefined, 'the browser holds a sid cookie');
    assert.equal(cookie.httpOnly, true);
    return cookie.value;
  }

  async function logIn(page: Page, username: string): Promise<void> {
    await page.goto('/login');
    await page.fill('input[name=username]', username);
    await page.click('form[data-path="/api/login"] button');
    await page.locator('#user', { hasText: username }).waitFor();
  }

  /** Where the elements matching `selector` are (at least one must exist). */
  async function boxes(page: Page, selector: string): Promise<{ x: number; width: number }[]> {
    const found = await page.locator(selector).evaluateAll((elements) =>
      elements.map((element) => {
        const rect = element.getBoundingClientRect();
        return { x: rect.x, width: rect.width };
      }),
    );
    assert.ok(found.length > 0, `no ${selector}`);
    return found;
  }

  /** The cookies besides the session's, as `name=value`. */
  async function otherCookies(context: BrowserContext): Promise<string[]> {
    return (await context.cookies(server.url))
      .filter((c) => c.name !== 'sid')
      .map((c) => `${c.name}=${c.value}`);
  }

  async function apiGet(page: Page, path: string): Promise<unknown> {
    const response = await page.goto(path);
    assert.ok(response !== null);
    return response.json();
  }

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sessionkit-browser-'));
    // DATA_DIR is relative, so the page shows `sqlite (.data/sessions.db)` as after `npm start`.
    server = await spawnDemo({ PORT: '0', DATA_DIR: '.data' }, dataDir);
    // launch() gives the browser a fresh temporary profile (user-data-dir) and removes it on close.
    browser = await launchChromium();
  });

  after(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps the cart across a reload and across a restart of the server process', async () => {
    const { page, errors } = await newTab();
    await page.goto('/');
    await page.fill('article[data-sku="mug"] input[name=qty]', '2');
    await page.click('article[data-sku="mug"] button');
    await page.locator('#notice', { hasText: 'Added 2 × Stoneware mug to your cart.' }).waitFor();
    assert.equal(await page.textContent('#cart-count'), '2');

    await page.goto('/cart');
    assert.equal(await page.inputValue('tr[data-sku="mug"] input[name=qty]'), '2');
    await page.reload();
    assert.equal(await page.inputValue('tr[data-sku="mug"] input[name=qty]'), '2');

    const port = server.port;
    assert.equal(await server.stop(), 0, 'a clean exit on SIGTERM');
    server = await spawnDemo({ PORT: String(port), DATA_DIR: '.data' }, dataDir);
    await page.reload();
    assert.equal(await page.inputValue('tr[data-sku="mug"] input[name=qty]'), '2');
    assert.equal(await page.textContent('#item-count'), '2');
    assert.deepEqual(errors, []);
  });

  it('gives the session a new cookie on login; the old cookie, replayed, is anonymous', async () => {
    const { context, page, errors } = await newTab();
    await page.goto('/');
    const before = await sessionCookie(context);
    const idBefore = await page.textContent('#about-id');
    await logIn(page, 'alice');
    const afterLogin = await sessionCookie(context);
    assert.notEqual(afterLogin, before);
    assert.notEqual(await page.textContent('#about-id'), idBefore, 'the panel shows the new public id');
    assert.equal(asMe(await apiGet(page, '/api/me')).user, 'alice');

    const replay = await newTab();
    await replay.context.addCookies([{ name: 'sid', value: before, url: server.url }]);
    assert.equal(asMe(await apiGet(replay.page, '/api/me')).user, null);
    await replay.page.goto('/');
    assert.equal(await replay.page.locator('#user').count(), 0, 'not signed in');
    assert.deepEqual([...errors, ...replay.errors], []);
  });

  it('logs out a device when another browser of the same user revokes it', async () => {
    const laptop = await newTab();
    const phone = await newTab();
    await logIn(laptop.page, 'bob');
    await logIn(phone.page, 'bob');

    await laptop.page.goto('/sessions');
    assert.equal(await laptop.page.locator('tr[data-session]').count(), 2);
    await laptop.page.click('tr[data-session]:not(:has(.badge)) button');
    await laptop.page.locator('#notice', { hasText: 'that device is logged out' }).waitFor();
    assert.equal(await laptop.page.locator('tr[data-session]').count(), 1);

    await phone.page.reload();
    assert.equal(await phone.page.locator('#user').count(), 0, 'the phone is signed out');
    assert.match(
      (await phone.page.textContent('#notice')) ?? '',
      /logged out on this device: your session was revoked from another device/,
      'the phone is told why',
    );
    await phone.page.reload();
    assert.equal(await phone.page.isHidden('#notice'), true, 'once');
    assert.equal(asMe(await apiGet(phone.page, '/api/me')).user, null);
    assert.equal(asMe(await apiGet(laptop.page, '/api/me')).user, 'bob');

    // The only other cookie says "signed in" and nothing else: no token, no id.
    assert.deepEqual(await otherCookies(laptop.context), ['signed-in=1']);
    await laptop.page.goto('/');
    await laptop.page.click('form[data-path="/api/logout"] button');
    await laptop.page.locator('#notice', { hasText: 'You are logged out' }).waitFor();
    assert.equal(await laptop.page.locator('#user').count(), 0);
    assert.deepEqual(await otherCookies(laptop.context), [], 'said once, then cleared');
    assert.deepEqual([...laptop.errors, ...phone.errors], []);
  });

  it('fits a 390 px phone: no sideways scrolling, the header wraps, every action in view', async () => {
    const phone = await newTab({ width: 390, height: 844 });
    const other = await newTab();
    await logIn(other.page, 'carol-on-a-phone');
    await logIn(phone.page, 'carol-on-a-phone');
    await phone.page.click('article[data-sku="mug"] button');
    await phone.page.locator('#notice', { hasText: 'Added 1 ×' }).waitFor();
    for (const path of ['/', '/cart', '/login', '/sessions']) {
      await phone.page.goto(path);
      const { scrollWidth, clientWidth } = await phone.page.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        clientWidth: document.documentElement.clientWidth,
      }));
      assert.ok(
        scrollWidth <= clientWidth,
        `${path} is ${scrollWidth} px wide in a ${clientWidth} px window`,
      );
      const actions = ['header nav a', 'form[data-path="/api/logout"] button'];
      if (path === '/cart') actions.push('tr[data-sku] button');
      if (path === '/sessions') actions.push('tr[data-session] button');
      for (const selector of actions) {
        for (const box of await boxes(phone.page, selector)) {
          assert.ok(box.x >= 0 && box.x + box.width <= clientWidth, `${path}: ${selector} is off screen`);
        }
      }
    }
    await phone.page.click('tr[data-session] button');
    await phone.page.locator('#notice', { hasText: 'that device is logged out' }).waitFor();
    assert.deepEqual([...phone.errors, ...other.errors], []);
  });

  it('counts twenty parallel add-to-cart requests from the page exactly', async () => {
    const { page, errors } = await newTab();
    await page.goto('/');
    const statuses = await page.evaluate(`Promise.all(Array.from({ length: 20 }, () =>
      fetch('/api/cart/items', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-csrf-token': document.querySelector('meta[name="csrf-token"]').content,
        },
        body: JSON.stringify({ sku: 'sencha', qty: 1 }),
      }).then((response) => response.status)))`);
    assert.deepEqual(statuses, Array(20).fill(200));
    assert.deepEqual(asCart(await apiGet(page, '/api/cart')), {
      items: [{ sku: 'sencha', qty: 20 }],
      count: 20,
    });
    await page.goto('/cart');
    assert.equal(await page.inputValue('tr[data-sku="sencha"] input[name=qty]'), '20');
    assert.deepEqual(errors, []);
  });

  it('changes a quantity and removes a line on the cart page (and saves a screenshot of it)', async () => {
    const { page, errors } = await newTab();
    await logIn(page, 'alice');
    for (const [sku, qty] of [
      ['teapot', '1'],
      ['sencha', '2'],
      ['honey', '1'],
      ['shortbread', '3'],
    ] as const) {
      await page.fill(`article[data-sku="${sku}"] input[name=qty]`, qty);
      await page.click(`article[data-sku="${sku}"] button`);
      await page.locator('#notice', { hasText: `Added ${qty} ×` }).waitFor();
    }
    await page.goto('/cart');
    await page.click('tr[data-sku="honey"] form[data-method="DELETE"] button');
    await page.locator('#notice', { hasText: 'Removed Wildflower honey' }).waitFor();
    await page.fill('tr[data-sku="sencha"] input[name=qty]', '3');
    await page.click('tr[data-sku="sencha"] form[data-method="PUT"] button');
    await page.locator('#notice', { hasText: 'now holds 3 × Sencha green tea' }).waitFor();

    assert.equal(await page.locator('tr[data-sku]').count(), 3);
    assert.equal(await page.textContent('#item-count'), '7');
    assert.equal(await page.textContent('#cart-total'), '€78.90');
    await mkdir(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.ok(existsSync(SCREENSHOT));
    assert.deepEqual(errors, []);
  });
});
