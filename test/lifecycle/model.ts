/**
 * The lifecycle model check (issue 11): many clients per session interleave reads, writes, rotation,
 * login, regenerate, logout and revocation against real stores with latency injected at every store
 * call; the history is checked against the lifecycle invariant:
 *
 * - revoked: once a logout, `revokeSession` (true) or `revokeUserSessions` covering a lineage resolved,
 *   no token of that lineage (every token it ever had, captured from Set-Cookie) loads it again;
 * - identity: a token only ever loads the session of its own lineage;
 * - lost-write: a read of a live lineage sees every write acknowledged before it started (`update()`
 *   resolved and its response committed), up to `staleMs` for caches that may lag across processes;
 * - clobbered: no response clears the cookie when the request did not destroy the session while the
 *   browser holds a token of a live lineage.
 * The history ends with a sweep that loads every token of every revoked lineage once more.
 */
import { performance } from 'node:perf_hooks';
import { createSessionManager, type Session } from '../../src/index.js';
import type { SessionStore } from '../../src/stores/types.js';
import { createFakeClock } from '../../src/testing/index.js';
import { jitterStore, type Random, random } from './jitter.js';

/** What the check runs against. */
export interface ModelTarget {
  /** One store per app process: one store, or one per process sharing a durable store. */
  stores: SessionStore[];
  /** Whether `revokeUserSessions` is available (a per-user index). */
  perUser: boolean;
  /** Milliseconds a read in one process may lag a write acknowledged in another (cache leases). */
  staleMs?: number;
}

/** The size of one history. */
export interface ModelOptions {
  seed: number;
  sessions: number;
  clientsPerSession: number;
  opsPerClient: number;
  /** Largest delay injected before or after a store call. */
  maxDelayMs: number;
}

/** What one history did and what it broke. */
export interface ModelResult {
  seed: number;
  requests: number;
  lineages: number;
  revoked: number;
  rotations: number;
  violations: string[];
}

type Op = 'read' | 'write' | 'login' | 'regenerate' | 'logout' | 'revokeSession' | 'revokeUser';

interface Lineage {
  id: string;
  userId?: string;
  loggedInAt?: number;
  revokedAt?: number;
  tokens: Set<string>;
  acked: Map<string, Array<{ value: number; at: number }>>;
}

interface Jar {
  token?: string;
}

const COOKIE = '__Host-sid';
const MIX: Array<[Op, number]> = [
  ['read', 30],
  ['write', 30],
  ['login', 10],
  ['regenerate', 6],
  ['logout', 7],
  ['revokeSession', 7],
  ['revokeUser', 10],
];

/** Runs one history of `options` on `target` and checks it. */
export async function runHistory(target: ModelTarget, options: ModelOptions): Promise<ModelResult> {
  const clock = createFakeClock(Date.now());
  const managers = target.stores.map((store, i) =>
    createSessionManager<Record<string, unknown>>({
      store: jitterStore(store, random(options.seed * 31 + i), options.maxDelayMs),
      clock,
      idleTimeoutSeconds: 24 * 3600,
      absoluteTimeoutSeconds: 48 * 3600,
      rotateAfterSeconds: 2,
      rotationGraceSeconds: 1,
      updateAttempts: 50,
    }),
  );
  const staleMs = target.staleMs ?? 0;
  const byToken = new Map<string, Lineage>();
  const lineages: Lineage[] = [];
  const violations = new Set<string>();
  const stats = { requests: 0, rotations: 0 };
  const mix = MIX.filter(([op]) => target.perUser || op !== 'revokeUser');
  const total = mix.reduce((sum, [, weight]) => sum + weight, 0);
  const pick = (r: Random): Op => {
    let n = r.int(total);
    for (const [op, weight] of mix) {
      n -= weight;
      if (n < 0) return op;
    }
    return 'read';
  };
  const violation = (kind: string, lineage: Lineage | undefined, detail: string) =>
    violations.add(`${kind} (lineage ${lineage?.id ?? '?'}): ${detail}`);

  function newLineage(): Lineage {
    const lineage: Lineage = { id: `L${lineages.length}`, tokens: new Set(), acked: new Map() };
    lineages.push(lineage);
    return lineage;
  }

  /** The checks a load of `lineage` that started at `startedAt` must pass. */
  function checkLoad(
    session: Session<Record<string, unknown>>,
    lineage: Lineage | undefined,
    startedAt: number,
  ) {
    if (session.isNew) return;
    if (lineage === undefined)
      return violation('identity', lineage, 'a token of no lineage loaded a session');
    if (lineage.revokedAt !== undefined && startedAt > lineage.revokedAt) {
      violation(
        'revoked',
        lineage,
        `loaded ${(startedAt - lineage.revokedAt).toFixed(1)} ms after revocation`,
      );
    }
    const born = session.get('born');
    if (born !== lineage.id) violation('identity', lineage, `loaded the session of lineage ${String(born)}`);
    for (const [field, acks] of lineage.acked) {
      const due = acks.filter((ack) => ack.at < startedAt - staleMs).at(-1);
      const seen = session.get(field);
      if (due !== undefined && !(typeof seen === 'number' && seen >= due.value)) {
        violation('lost-write', lineage, `${field}: acknowledged ${due.value}, read ${String(seen)}`);
      }
    }
  }

  function applyCookies(
    jar: Jar,
    cookies: string[],
    lineage: Lineage,
    destroyed: boolean,
    presented?: string,
  ) {
    for (const cookie of cookies) {
      const value = cookie.slice(COOKIE.length + 1).split(';')[0] ?? '';
      if (!cookie.startsWith(`${COOKIE}=`)) continue;
      if (value === '') {
        const held = jar.token === undefined ? undefined : byToken.get(jar.token);
        if (!destroyed && held !== undefined && held.revokedAt === undefined && jar.token !== presented) {
          violation('clobbered', held, 'a response cleared the cookie of a newer live token');
        }
        delete jar.token;
        continue;
      }
      const known = byToken.get(value);
      if (known === undefined) {
        byToken.set(value, lineage);
        lineage.tokens.add(value);
      }
      jar.token = value;
    }
  }

  async function request(op: Op, jar: Jar, client: string, userId: string, process: number, r: Random) {
    const manager = managers[process];
    if (manager === undefined) return;
    const presented = jar.token;
    const known = presented === undefined ? undefined : byToken.get(presented);
    const startedAt = performance.now();
    clock.advance(r.int(250));
    stats.requests++;
    let session: Session<Record<string, unknown>>;
    try {
      session = await manager.load(presented === undefined ? undefined : `${COOKIE}=${presented}`);
    } catch {
      return;
    }
    checkLoad(session, known, startedAt);
    const creates = op === 'write' || op === 'login' || op === 'regenerate';
    let lineage = session.isNew ? (creates ? newLineage() : undefined) : known;
    const rotationsBefore = session.rotations;
    let destroyed = false;
    let ack: { field: string; value: number } | undefined;
    try {
      if (lineage !== undefined && session.isNew) session.set('born', lineage.id);
      if (op === 'write') {
        const field = `c:${client}`;
        const value = await session.update(field, (n) => (typeof n === 'number' ? n : 0) + 1);
        if (typeof value === 'number') ack = { field, value };
      } else if (op === 'login') {
        await session.login(userId);
      } else if (op === 'regenerate') {
        await session.regenerate();
      } else if (op === 'logout' && lineage !== undefined) {
        await session.destroy();
        lineage.revokedAt ??= performance.now();
        destroyed = true;
      } else if (op === 'revokeSession' && lineage !== undefined) {
        if (await manager.revokeSession(userId, session.id)) lineage.revokedAt ??= performance.now();
      } else if (op === 'revokeUser') {
        const invokedAt = performance.now();
        const covered = lineages.filter(
          (l) => l.userId === userId && l.loggedInAt !== undefined && l.loggedInAt < invokedAt,
        );
        await manager.revokeUserSessions(userId);
        const at = performance.now();
        for (const l of covered) l.revokedAt ??= at;
      }
      const cookies = await manager.commit(session);
      lineage ??= newLineage();
      applyCookies(jar, cookies, lineage, destroyed, presented);
      const doneAt = performance.now();
      if (op === 'login') {
        lineage.userId = userId;
        lineage.loggedInAt ??= doneAt;
      }
      if (ack !== undefined) {
        const acks = lineage.acked.get(ack.field) ?? [];
        acks.push({ value: ack.value, at: doneAt });
        lineage.acked.set(ack.field, acks);
      }
      if (session.rotations > rotationsBefore) stats.rotations++;
    } catch {
      // A refused step (revoked lineage, conflict, store error) is an anonymous outcome, not a violation.
    }
  }

  const clients: Promise<void>[] = [];
  for (let s = 0; s < options.sessions; s++) {
    const browser: Jar = {};
    const thief: Jar = {};
    // Two users, so revoking one user revokes several sessions and spares the others.
    const userId = `user-${options.seed}-${s % 2}`;
    for (let c = 0; c < options.clientsPerSession; c++) {
      const r = random(options.seed * 1000 + s * 50 + c);
      clients.push(
        (async () => {
          for (let n = 0; n < options.opsPerClient; n++) {
            // Client 0 is a thief: it copies the browser's cookie now and then and keeps using it.
            if (c === 0 && (thief.token === undefined || r.int(2) === 0) && browser.token !== undefined) {
              thief.token = browser.token;
            }
            // Each request goes to any app process, as behind a load balancer.
            const process = r.int(target.stores.length);
            await request(pick(r), c === 0 ? thief : browser, `${s}.${c}`, userId, process, r);
            await new Promise((resolve) => setTimeout(resolve, r.int(options.maxDelayMs)));
          }
        })(),
      );
    }
  }
  await Promise.all(clients);

  // The sweep: every token of every revoked lineage, once more, in every process.
  for (const lineage of lineages) {
    if (lineage.revokedAt === undefined) continue;
    for (const token of lineage.tokens) {
      for (const manager of managers) {
        const startedAt = performance.now();
        const session = await manager.load(`${COOKIE}=${token}`);
        checkLoad(session, lineage, startedAt);
      }
    }
  }
  return {
    seed: options.seed,
    requests: stats.requests,
    lineages: lineages.length,
    revoked: lineages.filter((l) => l.revokedAt !== undefined).length,
    rotations: stats.rotations,
    violations: [...violations],
  };
}
