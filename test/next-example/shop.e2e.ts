// The Next.js example (examples/next) in Chromium: `next start` on a spare port, driven as a user
// would. Run after `npm ci && npx next build` in examples/next (scripts/next-example.sh does both):
//   node --import tsx --test test/next-example/shop.e2e.ts
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { IN_CI, sparePort } from '../../tools/services.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/next/', import.meta.url));
const NEXT_BIN = join(EXAMPLE, 'node_modules/next/dist/bin/next');
const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function missing(): false | string {
  const absent = [CHROMIUM, NEXT_BIN, join(EXAMPLE, '.next/BUILD_ID')].filter((path) => !existsSync(path));
  if (absent.length === 0) return false;
  const message = `missing ${absent.join(', ')} (scripts/next-example.sh installs and builds the example)`;
  if (IN_CI) throw new Error(`${message} — CI=true requires it`);
  return message;
}

/** Starts `next start` and resolves once it answers. */
async function startNext(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: EXAMPLE,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk));
  for (let attempt = 0; attempt < 300; attempt++) {
    if (child.exitCode !== null) throw new Error(`next start exited (${child.exitCode}):\n${output}`);
    try {
      await fetch(`http://127.0.0.1:${port}/api/session`);
      return child;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  child.kill();
  throw new Error(`next start did not answer within 30 s:\n${output}`);
}

describe('the Next.js example shop in Chromium', { skip: missing(), timeout: 120_000 }, () => {
  let server: ChildProcess;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const port = await sparePort();
    url = `http://127.0.0.1:${port}`;
    server = await startNext(port);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    context = await browser.newContext({ baseURL: url });
    context.setDefaultTimeout(15_000);
    page = await context.newPage();
    page.on('pageerror', (error) => errors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  async function sid(): Promise<string | undefined> {
    return (await context.cookies(url)).find((cookie) => cookie.name === 'sid')?.value;
  }

  /** The session as the route handler sees it for `cookie` (a request outside the browser). */
  async function sessionWith(cookie: string | undefined): Promise<{ user: string | null; cart: string[] }> {
    const response = await fetch(
      `${url}/api/session`,
      cookie ? { headers: { cookie: `sid=${cookie}` } } : {},
    );
    assert.equal(response.status, 200);
    const body: unknown = await response.json();
    assert.ok(typeof body === 'object' && body !== null && 'user' in body && 'cart' in body);
    const { user, cart } = body;
    assert.ok(user === null || typeof user === 'string');
    assert.ok(Array.isArray(cart) && cart.every((item) => typeof item === 'string'));
    return { user, cart };
  }

  it('adds to the cart with a Server Action and shows it after a reload from a Server Component', async () => {
    await page.goto('/');
    assert.equal(await page.textContent('#count'), '0');
    assert.equal(await sid(), undefined, 'no cookie before the session holds anything');
    const action = page.waitForResponse((response) => response.request().method() === 'POST');
    await page.click('text=Add tea');
    const response = await action;
    assert.match(
      response.headers()['cache-control'] ?? '',
      /no-store/,
      'the action response is not cacheable',
    );
    await page.locator('#count', { hasText: '1' }).waitFor();
    await page.click('text=Add mug');
    await page.locator('#count', { hasText: '2' }).waitFor();
    await page.reload();
    assert.equal(await page.textContent('#count'), '2');
    assert.deepEqual(await page.locator('#cart li').allTextContents(), [
      'Green tea × 1',
      'Stoneware mug × 1',
    ]);
    const cookie = (await context.cookies(url)).find((c) => c.name === 'sid');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Lax');
  });

  it('answers the Route Handler with the session and Cache-Control: no-store', async () => {
    const cookie = await sid();
    assert.deepEqual(await sessionWith(cookie), { user: null, cart: ['tea', 'mug'] });
    const response = await fetch(`${url}/api/session`, { headers: { cookie: `sid=${cookie}` } });
    assert.match(response.headers.get('cache-control') ?? '', /no-store/);
  });

  it('refuses a change while a Server Component renders, with ERR_SESSION_STATE, losing nothing', async () => {
    await page.goto('/render-change');
    assert.equal(await page.textContent('#outcome'), 'ERR_SESSION_STATE');
    assert.equal(await page.textContent('#count'), '2');
    assert.deepEqual((await sessionWith(await sid())).cart, ['tea', 'mug']);
  });

  it('regenerates the session on login: the cart stays, the old cookie is anonymous', async () => {
    const before = await sid();
    await page.goto('/');
    await page.fill('input[name=user]', 'ada');
    await page.fill('input[name=password]', 'lovelace');
    await page.click('text=Log in');
    await page.locator('#user', { hasText: 'ada' }).waitFor();
    assert.equal(await page.textContent('#count'), '2');
    const after = await sid();
    assert.ok(after !== undefined && after !== before, 'login issued a new token');
    assert.deepEqual(await sessionWith(before), { user: null, cart: [] });
    assert.deepEqual(await sessionWith(after), { user: 'ada', cart: ['tea', 'mug'] });
    await page.reload();
    assert.equal(await page.textContent('#user'), 'ada');
  });

  it('ends the session on logout: no cookie left, the last token is anonymous', async () => {
    const last = await sid();
    await page.click('text=Log out');
    await page.locator('button', { hasText: 'Log in' }).waitFor();
    assert.equal(await page.textContent('#count'), '0');
    assert.equal(await sid(), undefined);
    assert.deepEqual(await sessionWith(last), { user: null, cart: [] });
  });

  it('rejects a wrong password without signing in', async () => {
    await page.fill('input[name=user]', 'ada');
    await page.fill('input[name=password]', 'wrong');
    await page.click('text=Log in');
    await page.locator('[role=alert]').waitFor();
    assert.equal(await sid(), undefined);
    assert.deepEqual(errors, []);
  });
});
