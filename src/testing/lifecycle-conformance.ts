/**
 * The lifecycle races of the store conformance suite (issue 11): each pauses the exact store call of
 * one request with `pausableStore`, runs the competing request, releases, and then replays every token
 * and store key the lineage ever had. They run on every store through `describeStoreConformance`.
 */
import assert from 'node:assert/strict';
import { tokenKey } from '../core/crypto.js';
import { getCounters } from '../core/diagnostics.js';
import { createSessionManager, type SessionManagerOptions } from '../core/manager.js';
import type { SessionStore } from '../stores/types.js';
import type { FakeClock } from './fake-clock.js';
import { type PausableStore, pausableStore } from './pausable-store.js';
import { randomUserId } from './records.js';
import type { ConformanceContext, Suite } from './runner.js';

interface Harness {
  store: SessionStore;
  clock: FakeClock;
}
type Run = (
  body: (harness: Harness, t: ConformanceContext) => Promise<void>,
) => (t: ConformanceContext) => Promise<void>;
type Data = Record<string, number>;

/** A manager over a pausable wrapper of the harness store, with the helpers every race needs. */
function lineageOf(harness: Harness, options: Partial<SessionManagerOptions> = {}) {
  const store = pausableStore(harness.store);
  const name = options.cookie?.name ?? '__Host-sid';
  const manager = createSessionManager<Data>({ store, clock: harness.clock, ...options });
  /** Every token the lineage was ever given in a Set-Cookie. */
  const tokens: string[] = [];
  const header = (token: string) => `${name}=${token}`;
  const cookieValue = (cookies: string[]): string | undefined =>
    cookies
      .find((c) => c.startsWith(`${name}=`))
      ?.split(';')[0]
      ?.slice(name.length + 1);
  const tokenOf = (cookies: string[]): string => {
    const value = cookieValue(cookies);
    assert.ok(value, `expected a session cookie in ${JSON.stringify(cookies)}`);
    tokens.push(value);
    return value;
  };
  const create = async (data: Data): Promise<string> => {
    const session = await manager.load(undefined);
    for (const [key, value] of Object.entries(data)) session.set(key, value);
    return tokenOf(await manager.commit(session));
  };
  /** Keys of every record written with `set` so far (successors included, whether or not a token left). */
  const writtenKeys = (): string[] =>
    store.log.flatMap((call) => (call.operation === 'set' && call.key !== undefined ? [call.key] : []));
  /** Replays every token of the lineage (each must load anonymous) and checks no record holds data. */
  const assertRevoked = async (): Promise<void> => {
    for (const token of tokens) {
      const session = await manager.load(header(token));
      assert.equal(session.isNew, true, 'a token of the revoked lineage still loads its session');
    }
    for (const key of writtenKeys()) {
      const record = await store.inner.get(key);
      assert.ok(
        record === null || Object.keys(record.data).length === 0,
        'a record of the lineage kept its data',
      );
    }
  };
  return { store, manager, header, tokens, tokenOf, cookieValue, create, assertRevoked };
}

/** Resolves once `pause` is reached or `work` settled without reaching it (code that makes no such call). */
async function reachedOrDone(pause: { reached: Promise<void> }, work: Promise<unknown>): Promise<void> {
  await Promise.race([
    pause.reached,
    work.then(
      () => undefined,
      () => undefined,
    ),
  ]);
}

function hasUserIndex(store: PausableStore): boolean {
  return typeof store.listByUser === 'function';
}

/** Declares the race tests; `run` gives each test a fresh store harness. */
export function describeLifecycleRaces(suite: Suite, run: Run): void {
  suite.describe('lifecycle races (issue 11)', () => {
    describeRevocationRaces(suite, run);
    describeInFlightRaces(suite, run);
    describeAudienceRace(suite, run);
    describeConcurrentRevocations(suite, run);
  });
}

/** The races of a revocation (logout, user-wide revoke) with a login or a rotation in flight. */
function describeRevocationRaces({ it }: Suite, run: Run): void {
  it(
    'race 1: a login in flight while the session is logged out creates nothing; every token stays dead',
    run(async (harness) => {
      const { store, manager, header, create, assertRevoked } = lineageOf(harness);
      const token = await create({ n: 1 });
      const thief = await manager.load(header(token));
      // Hold the login right after its new record was written, before the old one is retired.
      const held = store.pause('set', (call) => call.record?.meta.userId === 'victim', { after: true });
      const login = thief.login('victim');
      await held.reached;
      const victim = await manager.load(header(token));
      await victim.destroy();
      held.release();
      const outcome = await login.then(
        () => 'logged in',
        (error: unknown) => (error instanceof Error && 'code' in error ? error.code : 'other'),
      );
      assert.equal(outcome, 'ERR_SESSION_STATE');
      const cookies = await manager.commit(thief);
      assert.equal(cookies.length, 0, 'no Set-Cookie for a session that was revoked');
      await assertRevoked();
      // The token the login would have issued: its record is gone too.
      const created = store.log.find(
        (call) => call.operation === 'set' && call.record?.meta.userId === 'victim',
      );
      assert.ok(created?.key);
      assert.equal(await store.inner.get(created.key), null);
    }),
  );

  it(
    'race 2: a logout racing a rotation leaves no successor alive (rotation held between its two steps, or done)',
    run(async (harness) => {
      const options = { rotateAfterSeconds: 900, rotationGraceSeconds: 60 };
      const { store, manager, header, tokenOf, cookieValue, create, assertRevoked } = lineageOf(
        harness,
        options,
      );
      // Held between its steps: the successor is written, the old record not yet linked.
      const first = await create({ n: 1 });
      harness.clock.advanceSeconds(901);
      const rotating = await manager.load(header(first));
      const held = store.pause('set', (call) => call.record?.meta.rotations === 1, { after: true });
      const commit = manager.commit(rotating);
      await held.reached;
      await (await manager.load(header(first))).destroy();
      held.release();
      assert.equal(cookieValue(await commit), undefined, 'the rotation sent no token');
      await assertRevoked();
      // Done first: the logout of a request that loaded the old token must reach the new one.
      const second = await create({ n: 2 });
      harness.clock.advanceSeconds(901);
      const loggingOut = await manager.load(header(second));
      tokenOf(await manager.commit(await manager.load(header(second))));
      await loggingOut.destroy();
      await assertRevoked();
    }),
  );

  it(
    'race 3: revokeUserSessions revokes a successor created between its listing and its deletes',
    run(async (harness, t) => {
      if (!hasUserIndex(pausableStore(harness.store))) {
        t.skip('no per-user index in this store');
        return;
      }
      const { store, manager, header, tokenOf, create, assertRevoked } = lineageOf(harness, {
        rotateAfterSeconds: 900,
        rotationGraceSeconds: 60,
      });
      const user = randomUserId();
      const session = await manager.load(header(await create({ n: 1 })));
      await session.login(user);
      const token = tokenOf(await manager.commit(session));
      harness.clock.advanceSeconds(901);
      const held = store.pause('listByUser', undefined, { after: true });
      const revoking = manager.revokeUserSessions(user);
      await reachedOrDone(held, revoking);
      // While the revocation holds its (now stale) list, a request rotates the token.
      const rotated = tokenOf(await manager.commit(await manager.load(header(token))));
      assert.equal((await manager.load(header(rotated))).userId, user);
      held.release();
      await revoking;
      await assertRevoked();
      assert.deepEqual(await manager.listUserSessions(user), []);
    }),
  );
}

/** The races of a request in flight (a write, an update()) with a login, a rotation or a logout. */
function describeInFlightRaces({ it }: Suite, run: Run): void {
  it(
    'race 5: a request in flight during login() never clears the new cookie, and the old token never loads',
    run(async (harness) => {
      const { store, manager, header, tokenOf, create } = lineageOf(harness);
      const token = await create({ n: 1 });
      const inFlight = await manager.load(header(token));
      const updating = await manager.load(header(token));
      inFlight.set('late', 1);
      // The in-flight request reaches its write, and waits there while the login completes.
      const held = store.pause('patch', (call) => call.key === tokenKey(token) && call.patch?.set.late === 1);
      const commit = manager.commit(inFlight);
      await held.reached;
      const login = await manager.load(header(token));
      await login.login('user-5');
      const fresh = tokenOf(await manager.commit(login));
      held.release();
      assert.deepEqual(await commit, [], 'the in-flight response must not touch the cookie');
      await assert.rejects(
        updating.update('n', (n) => (n ?? 0) + 1),
        { code: 'ERR_SESSION_STATE' },
      );
      assert.deepEqual(await manager.commit(updating), []);
      // A request that loads the old token after the login is anonymous and leaves the cookie alone.
      const late = await manager.load(header(token));
      assert.equal(late.isNew, true);
      assert.deepEqual(await manager.commit(late), []);
      const current = await manager.load(header(fresh));
      assert.deepEqual([current.userId, current.get('n'), current.get('late')], ['user-5', 1, undefined]);
    }),
  );

  it(
    'race 7: an update() in flight while a parallel request rotates the token lands in the live session, also once the grace window has passed',
    run(async (harness) => {
      const options = { rotateAfterSeconds: 900, rotationGraceSeconds: 60, revokeOnReuse: true };
      const { store, manager, header, tokenOf, create } = lineageOf(harness, options);
      const first = await create({ n: 1 });
      harness.clock.advanceSeconds(901);
      // Request A loads the live token and reaches the compare-and-set of its update(), then waits.
      const slow = await manager.load(header(first));
      const held = store.pause('patch', (call) => call.key === tokenKey(first) && call.patch?.set.n === 2);
      const updating = slow.update('n', (n) => (n ?? 0) + 1);
      await reachedOrDone(held, updating);
      // Request B (same cookie) rotates the token; A's write is then slower than the grace window.
      const rotated = tokenOf(await manager.commit(await manager.load(header(first))));
      assert.notEqual(rotated, first);
      const reuses = getCounters()['reuse-detected'] ?? 0;
      harness.clock.advanceSeconds(61);
      held.release();
      assert.equal(await updating, 2, 'the update followed the rotation');
      // A sends the live token (its own rotation's, as its session was due for one too).
      const current = tokenOf(await manager.commit(slow));
      assert.equal((getCounters()['reuse-detected'] ?? 0) - reuses, 0, 'an in-flight request is no reuse');
      const live = await manager.load(header(current));
      assert.equal(live.isNew, false, 'the lineage is alive (not revoked as a reuse)');
      assert.equal(live.get('n'), 2);
      // A handler slower than the grace window between its load and its update(): still no reuse.
      harness.clock.advanceSeconds(901);
      const late = await manager.load(header(current));
      const newest = tokenOf(await manager.commit(await manager.load(header(current))));
      harness.clock.advanceSeconds(61);
      assert.equal(await late.update('n', (n) => (n ?? 0) + 1), 3);
      assert.equal((getCounters()['reuse-detected'] ?? 0) - reuses, 0, 'a slow handler is no reuse');
      assert.equal((await manager.load(header(newest))).get('n'), 3);
    }),
  );

  it(
    'race 8: an update() in flight while the session is logged out rejects with ERR_SESSION_STATE (409) and sends no cookie',
    run(async (harness) => {
      const { store, manager, header, create, assertRevoked } = lineageOf(harness);
      const token = await create({ n: 1 });
      const slow = await manager.load(header(token));
      const held = store.pause('patch', (call) => call.key === tokenKey(token) && call.patch?.set.n === 2);
      const updating = slow.update('n', (n) => (n ?? 0) + 1);
      await reachedOrDone(held, updating);
      await (await manager.load(header(token))).destroy();
      held.release();
      await assert.rejects(updating, { code: 'ERR_SESSION_STATE', status: 409 });
      assert.deepEqual(await manager.commit(slow), [], 'no Set-Cookie, no cleared cookie');
      await assertRevoked();
    }),
  );
}

/** Two apps (audiences) sharing one store. */
function describeAudienceRace({ it }: Suite, run: Run): void {
  it(
    'race 6: two apps sharing a store never accept, list or revoke each other’s sessions',
    run(async (harness, t) => {
      const shop = lineageOf(harness, { cookie: { name: '__Host-shop' } });
      const admin = lineageOf(harness, { audience: 'admin-app', cookie: { name: '__Host-shop' } });
      const user = randomUserId();
      const session = await shop.manager.load(undefined);
      await session.login(user);
      session.set('n', 1);
      const token = shop.tokenOf(await shop.manager.commit(session));
      const before = getCounters()['rejected:audience'] ?? 0;
      const writes = admin.store.log.length;
      const foreign = await admin.manager.load(admin.header(token));
      assert.equal(foreign.isNew, true, 'the admin app loaded a shop token');
      assert.deepEqual(await admin.manager.commit(foreign), []);
      assert.equal(admin.store.log.length, writes + 1, 'one read, no write');
      assert.equal((getCounters()['rejected:audience'] ?? 0) - before, 1);
      if (hasUserIndex(admin.store)) {
        assert.deepEqual(await admin.manager.listUserSessions(user), []);
        assert.equal(await admin.manager.revokeUserSessions(user), 0);
        assert.equal(await admin.manager.revokeSession(user, tokenKey(token)), false);
      } else {
        t.diagnostic('no per-user index: listing and revoking not checked');
      }
      assert.equal((await shop.manager.load(shop.header(token))).get('n'), 1);
    }),
  );
}

/** Two revocations of one lineage at once (two tabs logging out): neither resolves while a token still loads. */
function describeConcurrentRevocations({ it }: Suite, run: Run): void {
  it(
    'race 9: a logout that resolves while another logout of the lineage is between two records leaves no token loading',
    run(async (harness) => {
      const { store, manager, header, tokenOf, create, assertRevoked } = lineageOf(harness, {
        rotateAfterSeconds: 900,
        rotationGraceSeconds: 60,
      });
      const first = await create({ n: 1 });
      harness.clock.advanceSeconds(901);
      // Both tabs loaded the old token while it was live; then a third request rotated it.
      const tabA = await manager.load(header(first));
      const tabB = await manager.load(header(first));
      const rotated = tokenOf(await manager.commit(await manager.load(header(first))));
      // Tab A's revocation is held at the new record's destroy; tab B's runs to the end meanwhile.
      const held = store.pause('destroy', (call) => call.key === tokenKey(rotated));
      const loggingOut = tabA.destroy();
      await reachedOrDone(held, loggingOut);
      await tabB.destroy();
      const replay = await manager.load(header(rotated));
      assert.equal(replay.isNew, true, 'the rotated token loaded after a logout of its lineage resolved');
      held.release();
      await loggingOut;
      await assertRevoked();
    }),
  );
}
