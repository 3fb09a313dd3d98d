/**
 * What the demo's API and browser tests share: the shop in its own process (for restarts), and a
 * small HTTP client that keeps the session cookie and the CSRF token like the pages do.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
// Resolved here, so the child finds tsx whatever its working directory.
const TSX = import.meta.resolve('tsx');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

/** The shop running in a child process. */
export interface DemoProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends SIGTERM and resolves to the exit code (SIGKILL and a rejection after 10 s). */
  stop(): Promise<number | null>;
}

/**
 * Starts `demo/server.ts` in a new process (as `npm start` does) in `cwd` (default: this one) and
 * waits for its startup line.
 */
export async function spawnDemo(env: Record<string, string>, cwd?: string): Promise<DemoProcess> {
  const child = spawn(process.execPath, ['--import', TSX, SERVER], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the demo did not start within 20 s')), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}; output:\n${output}`));
    };
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /demo shop on http:\/\/localhost:(\d+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => fail(new Error(`the demo exited with code ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output: () => output,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  const [code, signal] = await exited;
  clearTimeout(timer);
  if (signal === 'SIGKILL') throw new Error('the demo did not stop within 10 s of SIGTERM');
  return typeof code === 'number' ? code : null;
}

/** A response of the shop: status, parsed JSON (or the text) and the Set-Cookie values. */
export interface ShopResponse {
  status: number;
  body: unknown;
  text: string;
  setCookies: string[];
}

/** Options of one `ShopClient.call`. */
export interface CallOptions {
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is with Content-Type: application/json (for malformed bodies). */
  raw?: string;
  /** The x-csrf-token header: the client's own token by default, `null` for none. */
  csrf?: string | null;
}

/** A client of one browser-like visitor: it keeps the `sid` cookie and the CSRF token. */
export class ShopClient {
  readonly base: string;
  /** The current value of the session cookie, if any. */
  cookie: string | undefined;
  /** The CSRF token of the last `me()` or login. */
  csrf: string | undefined;

  constructor(base: string, cookie?: string) {
    this.base = base;
    this.cookie = cookie;
  }

  /** Sends a request and keeps whatever session cookie the response sets (or clears). */
  async call(method: string, path: string, options: CallOptions = {}): Promise<ShopResponse> {
    const headers: Record<string, string> = {};
    if (this.cookie !== undefined) headers.cookie = `sid=${this.cookie}`;
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== null && csrf !== undefined) headers['x-csrf-token'] = csrf;
    let body: string | undefined;
    if (options.raw !== undefined || options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = options.raw ?? JSON.stringify(options.json);
    }
    const response = await fetch(this.base + path, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await response.text();
    const setCookies = response.headers.getSetCookie();
    for (const line of setCookies) {
      const match = /^sid=([^;]*)/.exec(line);
      if (match === null) continue;
      const cleared = match[1] === '' || /;\s*max-age=0/i.test(line);
      this.cookie = cleared ? undefined : match[1];
    }
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('application/json')) parsed = JSON.parse(text);
    return { status: response.status, body: parsed, text, setCookies };
  }

  /** GET /api/me; keeps the CSRF token. */
  async me(): Promise<Me> {
    const response = await this.call('GET', '/api/me');
    assert.equal(response.status, 200, response.text);
    const me = asMe(response.body);
    this.csrf = me.csrfToken;
    return me;
  }

  /** POST /api/login; keeps the new CSRF token. */
  async login(username: string): Promise<Me> {
    const response = await this.call('POST', '/api/login', { json: { username } });
    assert.equal(response.status, 200, response.text);
    const me = asMe(response.body);
    this.csrf = me.csrfToken;
    return me;
  }

  /** POST /api/cart/items, expecting success. */
  async add(sku: string, qty: number): Promise<Cart> {
    const response = await this.call('POST', '/api/cart/items', { json: { sku, qty } });
    assert.equal(response.status, 200, response.text);
    return asCart(response.body);
  }

  /** GET /api/cart. */
  async cart(): Promise<Cart> {
    const response = await this.call('GET', '/api/cart');
    assert.equal(response.status, 200, response.text);
    return asCart(response.body);
  }
}

/** The body of GET /api/me. */
export interface Me {
  user: string | null;
  sessionId: string;
  csrfToken: string;
  store: string;
}

/** The body of GET /api/cart. */
export interface Cart {
  items: Array<{ sku: string; qty: number }>;
  count: number;
}

/** `body` checked to be a `Me`. */
export function asMe(body: unknown): Me {
  assert.ok(isRecord(body), `expected an object, got ${JSON.stringify(body)}`);
  const { user, sessionId, csrfToken, store } = body;
  assert.ok(user === null || typeof user === 'string');
  assert.equal(typeof sessionId, 'string');
  assert.equal(typeof csrfToken, 'string');
  assert.equal(typeof store, 'string');
  return { user, sessionId: String(sessionId), csrfToken: String(csrfToken), store: String(store) };
}

/** `body` checked to be a `Cart`. */
export function asCart(body: unknown): Cart {
  assert.ok(isRecord(body), `expected an object, got ${JSON.stringify(body)}`);
  assert.deepEqual(Object.keys(body).sort(), ['count', 'items']);
  const { items, count } = body;
  assert.ok(Array.isArray(items));
  assert.equal(typeof count, 'number');
  return {
    items: items.map((item: unknown) => {
      assert.ok(isRecord(item));
      assert.deepEqual(Object.keys(item).sort(), ['qty', 'sku']);
      return { sku: String(item.sku), qty: Number(item.qty) };
    }),
    count: Number(count),
  };
}

/** The `error` message of an API error body. */
export function errorOf(response: ShopResponse): string {
  assert.ok(isRecord(response.body), `expected a JSON error, got ${response.status} ${response.text}`);
  const { error } = response.body;
  assert.equal(typeof error, 'string');
  return String(error);
}

/** True for a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
