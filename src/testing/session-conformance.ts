/**
 * The manager-level half of the store conformance suite: what users see through
 * `createSessionManager` on top of a store (no lost writes, rotation, regenerate, revocation).
 */
import assert from 'node:assert/strict';
import { createSessionManager, type SessionManagerOptions } from '../core/manager.js';
import type { SessionStore } from '../stores/types.js';
import type { FakeClock } from './fake-clock.js';
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

function managerFor(harness: Harness, options: Partial<SessionManagerOptions> = {}) {
  const manager = createSessionManager<Data>({ store: harness.store, clock: harness.clock, ...options });
  const header = (token: string) => `__Host-sid=${token}`;
  const tokenOf = (cookies: string[]): string => {
    const value = cookies
      .find((c) => c.startsWith('__Host-sid='))
      ?.split(';')[0]
      ?.slice('__Host-sid='.length);
    assert.ok(value, `expected a session cookie in ${JSON.stringify(cookies)}`);
    return value;
  };
  const create = async (data: Data): Promise<string> => {
    const session = await manager.load(undefined);
    for (const [key, value] of Object.entries(data)) session.set(key, value);
    return tokenOf(await manager.commit(session));
  };
  return { manager, header, tokenOf, create };
}

/** Declares the manager-level tests; `run` gives each test a fresh store harness. */
export function describeSessionBehaviour(suite: Suite, run: Run): void {
  suite.describe('sessions on this store', () => {
    describeConcurrentWrites(suite, run);
    describeTokenLifecycle(suite, run);
  });
}

/** No write is lost when requests of one session run at the same time. */
function describeConcurrentWrites({ it }: Suite, run: Run): void {
  it(
    'keeps both of two concurrent writes to different keys',
    run(async (harness) => {
      const { manager, header, create } = managerFor(harness);
      const token = await create({ n: 1 });
      const [a, b] = await Promise.all([manager.load(header(token)), manager.load(header(token))]);
      a.set('x', 1);
      b.set('y', 2);
      await Promise.all([manager.commit(a), manager.commit(b)]);
      const after = await manager.load(header(token));
      assert.deepEqual([after.get('n'), after.get('x'), after.get('y')], [1, 1, 2]);
    }),
  );

  it(
    'ends 100 concurrent update() increments at exactly 100',
    run(async (harness) => {
      const { manager, header, create } = managerFor(harness);
      const token = await create({ n: 0 });
      const sessions = await Promise.all(Array.from({ length: 100 }, () => manager.load(header(token))));
      await Promise.all(sessions.map((s) => s.update('n', (n) => (n ?? 0) + 1)));
      assert.equal((await manager.load(header(token))).get('n'), 100);
    }),
  );

  it(
    'keeps all of 1,000 concurrent writes of distinct keys',
    run(async (harness) => {
      const { manager, header, create } = managerFor(harness);
      const token = await create({ n: 0 });
      await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const session = await manager.load(header(token));
          session.set(`k${i}`, i);
          await manager.commit(session);
        }),
      );
      const after = await manager.load(header(token));
      assert.equal(after.keys().length, 1001);
      assert.equal(after.get('k999'), 999);
    }),
  );
}

/** Rotation, regenerate, destroy, idle expiry and per-user revocation, through the manager. */
function describeTokenLifecycle({ it }: Suite, run: Run): void {
  it(
    'rotates the token: the old one works inside the grace window, writes through it land, then it is dead',
    run(async (harness) => {
      const { manager, header, tokenOf, create } = managerFor(harness, {
        rotateAfterSeconds: 900,
        rotationGraceSeconds: 60,
      });
      const token = await create({ n: 1 });
      harness.clock.advanceSeconds(901);
      const slow = await manager.load(header(token));
      const rotated = tokenOf(await manager.commit(await manager.load(header(token))));
      assert.notEqual(rotated, token);
      slow.set('x', 2);
      assert.equal(tokenOf(await manager.commit(slow)), rotated);
      harness.clock.advanceSeconds(30);
      const viaOld = await manager.load(header(token));
      assert.equal(viaOld.get('x'), 2);
      viaOld.set('y', 3);
      assert.equal(tokenOf(await manager.commit(viaOld)), rotated);
      harness.clock.advanceSeconds(31);
      assert.equal((await manager.load(header(token))).isNew, true);
      const live = await manager.load(header(rotated));
      assert.deepEqual([live.get('n'), live.get('x'), live.get('y')], [1, 2, 3]);
    }),
  );

  it(
    'regenerate() and destroy() kill the old token before they resolve',
    run(async (harness) => {
      const { manager, header, tokenOf, create } = managerFor(harness);
      const token = await create({ n: 1 });
      const session = await manager.load(header(token));
      await session.login('user-1');
      assert.equal((await manager.load(header(token))).isNew, true);
      const fresh = tokenOf(await manager.commit(session));
      const again = await manager.load(header(fresh));
      assert.equal(again.userId, 'user-1');
      await again.destroy();
      assert.equal((await manager.load(header(fresh))).isNew, true);
    }),
  );

  it(
    'expires an idle session whatever the store still holds',
    run(async (harness) => {
      const { manager, header, create } = managerFor(harness, { idleTimeoutSeconds: 600 });
      const token = await create({ n: 1 });
      harness.clock.advanceSeconds(601);
      assert.equal((await manager.load(header(token))).isNew, true);
    }),
  );

  it(
    'lists and revokes a user’s sessions where the store has a per-user index',
    run(async (harness, t) => {
      if (!harness.store.listByUser) {
        t.skip('no per-user index in this store');
        return;
      }
      const { manager, header, tokenOf } = managerFor(harness);
      const user = randomUserId();
      const tokens: string[] = [];
      for (let i = 0; i < 3; i++) {
        const session = await manager.load(undefined);
        await session.login(user);
        tokens.push(tokenOf(await manager.commit(session)));
      }
      const [keep, ...others] = tokens;
      assert.ok(keep);
      const current = await manager.load(header(keep));
      assert.equal((await manager.listUserSessions(user, current)).length, 3);
      assert.equal(await manager.revokeUserSessions(user, { except: current }), 2);
      for (const token of others) assert.equal((await manager.load(header(token))).isNew, true);
      assert.equal((await manager.load(header(keep))).userId, user);
      assert.equal((await manager.listUserSessions(user)).length, 1);
    }),
  );
}
