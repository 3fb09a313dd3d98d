/**
 * `npm start`: the demo shop on http://localhost:3000 with sessions in SQLite under ./.data/.
 * Environment: PORT, HOST, SESSION_STORE, DATA_DIR, DATABASE_URL, REDIS_URL, MEMCACHED_URL,
 * SESSION_SECRET, TRUST_PROXY, IDLE_TIMEOUT_SECONDS, ABSOLUTE_TIMEOUT_SECONDS, ROTATE_AFTER_SECONDS
 * (see docs/demo.md).
 */
import { realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createShopApp } from './app.js';
import { createSessionBackend, type SessionBackend } from './stores.js';

/** A running shop. */
export interface DemoServer {
  /** The address to open, e.g. `http://localhost:3000`. */
  readonly url: string;
  readonly port: number;
  readonly backend: SessionBackend;
  /** Stops accepting requests, lets running ones finish (at most 3 s), then closes the store. */
  close(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

const DRAIN_MS = 3000;

/** Starts the shop as `env` configures it (PORT 0 picks a free port). */
export async function startDemoServer(env: Env = process.env): Promise<DemoServer> {
  const port = portOf(env.PORT);
  const host = env.HOST || '127.0.0.1';
  const backend = await createSessionBackend(env);
  const server = createServer(createShopApp(backend));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await backend.close();
    throw error;
  }
  const address: AddressInfo | string | null = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${displayHost(host)}:${actualPort}`,
    port: actualPort,
    backend,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
        await closed;
        clearTimeout(force);
        await backend.close();
      })();
      return closing;
    },
  };
}

function portOf(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!/^\d{1,5}$/.test(value) || port > 65_535) throw new Error(`PORT must be a port number, got ${value}`);
  return port;
}

function displayHost(host: string): string {
  if (host === '127.0.0.1' || host === '::1' || host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

async function main(): Promise<void> {
  let server: DemoServer;
  try {
    server = await startDemoServer();
  } catch (error) {
    console.error(`demo: cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  for (const warning of server.backend.warnings) console.warn(`demo: warning: ${warning}`);
  const cookie = server.backend.secureCookies
    ? `cookie "${server.backend.manager.cookieName}", Secure`
    : `dev cookie "${server.backend.manager.cookieName}" without Secure`;
  console.log(`sessionkit demo shop on ${server.url} (sessions: ${server.backend.description}; ${cookie})`);
  const stop = (signal: NodeJS.Signals) => {
    process.once(signal, () => process.exit(1));
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`demo: unclean shutdown: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) await main();
