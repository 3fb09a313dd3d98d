/**
 * What every benchmark server shares: the workload routes, the session data, store-operation
 * counters, and the IPC protocol with the orchestrator (bench/run.ts).
 *
 * Routes (identical for every contender):
 * - `/read`   loads the session and reads the counter; 409 when the session is missing.
 * - `/write`  increments the counter; 409 when the session is missing.
 * - `/create` a request without a cookie: starts a session holding the counter and a profile.
 * A 409 shows up as a non-2xx response in the results, so a contender that silently loses its
 * sessions cannot post a fast number.
 */
import type { Server } from 'node:http';

/** The ~200-byte session every contender stores (the counter is added beside it). */
export const PROFILE = {
  userId: 'user-4711',
  name: 'Ada Lovelace',
  email: 'ada@example.com',
  roles: ['customer', 'beta'],
  cart: [
    { sku: 'SKU-1001', qty: 2 },
    { sku: 'SKU-2002', qty: 1 },
  ],
  locale: 'en-GB',
} as const;

/** The 32-byte secret every contender signs or seals with (benchmark only). */
export const SECRET = 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz';

/** How a framework lets the workload touch its session. */
export interface SessionAccess {
  /** The counter, or undefined when the session does not exist. */
  read(): unknown;
  /** Sets the counter. */
  write(n: number): void;
  /** Fills a new session (counter 0 and the profile). */
  create(): void;
}

/** The `get`/`set` pair that Fastify's session plugins put on `request.session`. */
export interface KeyValueSession {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

/**
 * `request.session` of a Fastify request, checked at run time. Each Fastify session plugin declares
 * its own type for it, and several of them (plus sessionkit's type tests) share one program here, so
 * the declared type cannot be trusted.
 */
export function sessionOf(request: object): KeyValueSession {
  const session: unknown = Reflect.get(request, 'session');
  if (isKeyValueSession(session)) return session;
  throw new Error('request.session has no get/set');
}

function isKeyValueSession(value: unknown): value is KeyValueSession {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof Reflect.get(value, 'get') === 'function' &&
    typeof Reflect.get(value, 'set') === 'function'
  );
}

/** The `SessionAccess` of a session with `get`/`set` (sessionkit and the Fastify plugins). */
export function keyValueAccess(session: KeyValueSession): SessionAccess {
  return {
    read: () => session.get('n'),
    write: (n) => session.set('n', n),
    create: () => {
      session.set('n', 0);
      session.set('profile', PROFILE);
    },
  };
}

/** What the route answered; `changed` tells libraries with an explicit save that one is due. */
export interface Outcome {
  status: number;
  body: string;
  changed: boolean;
}

const MISSING: Outcome = { status: 409, body: 'no session', changed: false };
const NOT_FOUND: Outcome = { status: 404, body: 'not found', changed: false };

/** Runs the workload route `path` against a session. */
export function act(path: string | undefined, session: SessionAccess): Outcome {
  switch (path) {
    case '/read': {
      const n = session.read();
      return typeof n === 'number' ? { status: 200, body: String(n), changed: false } : MISSING;
    }
    case '/write': {
      const n = session.read();
      if (typeof n !== 'number') return MISSING;
      session.write(n + 1);
      return { status: 200, body: String(n + 1), changed: true };
    }
    case '/create':
      session.create();
      return { status: 200, body: '0', changed: true };
    default:
      return NOT_FOUND;
  }
}

/** The three workload routes, for frameworks that register routes by path. */
export const ROUTES = ['/read', '/write', '/create'] as const;

/** True for the three workload routes (bare servers answer them without a session). */
export function isRoute(path: string | undefined): boolean {
  return path === '/read' || path === '/write' || path === '/create';
}

const counts = new Map<string, number>();

/** The counter of HTTP requests received, reported beside the store counters. */
export const REQUESTS = 'http:requests';

/**
 * CPU time (user + system, µs) the server process has used, reported beside the counters: per request
 * it is the server's own cost, far steadier than req/s on a shared machine (it does not count time the
 * process waited for a core).
 */
export const CPU_MICROS = 'process:cpu-micros';

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Counts one store operation under `name` (reported to the orchestrator on request). */
export function count(name: string): void {
  counts.set(name, (counts.get(name) ?? 0) + 1);
}

/**
 * Replaces the named methods of `target` by counting pass-throughs (no extra await, so the
 * wrapper costs one call). Used for in-process stores: memory, SQLite, the peers' MemoryStores.
 */
export function countMethods<T extends object>(
  target: T,
  prefix: string,
  names: readonly (keyof T & string)[],
): T {
  for (const name of names) {
    const original: unknown = Reflect.get(target, name);
    if (typeof original !== 'function') continue;
    Reflect.set(target, name, function counted(this: unknown, ...args: unknown[]): unknown {
      count(`${prefix}${name}`);
      return Reflect.apply(original, this, args);
    });
  }
  return target;
}

/** Classifies an SQL statement by its first keyword (SELECT, INSERT, UPDATE, DELETE, BEGIN, …). */
export function statementKind(sql: unknown): string {
  const text =
    typeof sql === 'string'
      ? sql
      : typeof sql === 'object' && sql !== null && typeof Reflect.get(sql, 'text') === 'string'
        ? String(Reflect.get(sql, 'text'))
        : '';
  const match = /^\s*(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/.exec(text);
  return (match?.[1] ?? 'OTHER').toUpperCase();
}

/**
 * Counts every statement sent by any `pg` client in this process (pools call `Client.query`), by
 * kind. PostgreSQL's own `pg_stat_statements` needs a server restart to load, which the shared
 * server must not get, so statements are counted at the client (one statement = one round trip).
 */
export async function countPgStatements(): Promise<void> {
  const pg = await import('pg');
  const proto: object = pg.default.Client.prototype;
  const original: unknown = Reflect.get(proto, 'query');
  if (typeof original !== 'function') return;
  Reflect.set(proto, 'query', function counted(this: unknown, ...args: unknown[]): unknown {
    count(`pg:${statementKind(args[0])}`);
    return Reflect.apply(original, this, args);
  });
}

/**
 * Counts the commands a Redis client sends (one per round trip; a script is one command however many
 * it runs inside), by wrapping `sendCommand`, the method every command of ioredis and node-redis goes
 * through. Redis's own `INFO commandstats` also counts the commands scripts run, so the orchestrator
 * reports it beside these counts.
 */
export function countRedisCommands(client: object): void {
  let owner: object | null = client;
  while (owner !== null && !Object.hasOwn(owner, 'sendCommand')) owner = Object.getPrototypeOf(owner);
  const original: unknown = owner === null ? undefined : Reflect.get(owner, 'sendCommand');
  if (owner === null || typeof original !== 'function')
    throw new Error('the Redis client has no sendCommand');
  Reflect.set(owner, 'sendCommand', function counted(this: unknown, ...args: unknown[]): unknown {
    count(`redis:${redisCommandName(args[0])}`);
    return Reflect.apply(original, this, args);
  });
}

/** The command name of ioredis's `Command` object or node-redis's argument array. */
function redisCommandName(command: unknown): string {
  const name = Array.isArray(command)
    ? command[0]
    : typeof command === 'object' && command !== null
      ? Reflect.get(command, 'name')
      : undefined;
  return String(name ?? 'unknown').toUpperCase();
}

/** Environment the orchestrator passes to a server. */
export const env = {
  store: process.env.BENCH_STORE ?? 'memory',
  prefix: process.env.BENCH_PREFIX ?? 'bench:',
  table: process.env.BENCH_TABLE ?? 'bench_sessions',
  redisPort: Number(process.env.BENCH_REDIS_PORT ?? 6379),
  sqlitePath: process.env.BENCH_SQLITE_PATH ?? '',
  pg: {
    host: process.env.PGHOST ?? '127.0.0.1',
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? 'postgres',
    database: process.env.PGDATABASE ?? 'test',
  },
};

/** Messages a server sends to the orchestrator. */
export type ServerMessage =
  | { type: 'ready'; port: number }
  | { type: 'unavailable'; reason: string }
  | { type: 'stats'; counts: Record<string, number> };

/** Messages the orchestrator sends to a server. */
export type OrchestratorMessage = { type: 'stats' } | { type: 'stop' };

function send(message: ServerMessage): void {
  process.send?.(message);
}

/** Thrown by `unavailable`; `start` reports it to the orchestrator. */
class Unavailable extends Error {}

/** Stops the server's start: this contender cannot run here (a module or service is missing). */
export function unavailable(reason: string): never {
  throw new Unavailable(reason);
}

/** Sends a message and exits once it is delivered (an exit right after `send` can lose it). */
function sendAndExit(message: ServerMessage, code: number): void {
  if (process.send) process.send(message, () => process.exit(code));
  else process.exit(code);
}

/**
 * Listens on a spare loopback port, reports it, answers stats requests and stops on request.
 * `close` releases what the contender holds (pools, clients) before the process exits.
 */
export function serve(server: Server, close: () => Promise<unknown> = async () => undefined): void {
  server.keepAliveTimeout = 60_000;
  // Requests the server saw: the divisor of the store counts (autocannon misses those in flight at its end).
  server.prependListener('request', () => count(REQUESTS));
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    send({ type: 'ready', port: address.port });
  });
  process.on('message', (message: OrchestratorMessage) => {
    if (message.type === 'stats')
      send({ type: 'stats', counts: { ...Object.fromEntries(counts), [CPU_MICROS]: cpuMicros() } });
    if (message.type === 'stop') {
      server.closeAllConnections();
      server.close();
      const bounded = Promise.race([close(), new Promise((resolve) => setTimeout(resolve, 2000))]);
      bounded.finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * Runs `main`, turning a missing module (a sessionkit part not written yet) or a call of
 * `unavailable` into "not available" for the orchestrator; any other error fails the contender.
 */
export function start(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof Unavailable) return sendAndExit({ type: 'unavailable', reason: error.message }, 0);
    const code = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'ERR_MODULE_NOT_FOUND') {
      return sendAndExit({ type: 'unavailable', reason: `module missing: ${message.split('\n')[0]}` }, 0);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? message) : message}\n`);
    process.exit(1);
  });
}
