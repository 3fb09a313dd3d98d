/**
 * SEC-28: docs/security.md documents the defaults, and this file checks every row marked ✓ against
 * what a manager created without options does. It also checks that the SEC table of that document
 * names tests that exist.
 */

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { maxHeaderSize } from 'node:http';
import { describe, it } from 'node:test';
import { createCookieSessionManager } from '../../src/cookie-session.js';
import { randomString } from '../../src/core/crypto.js';
import { createSessionManager, type SessionStore } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';
import { createFakeClock, type FakeClock, instrumentStore, sampleRecord } from '../../src/testing/index.js';
import { recordEvents, SESSION_COOKIE } from './harness.js';

const DOC = readFileSync('docs/security.md', 'utf8');

/** The text of the `## title` section. */
function section(title: string): string {
  const start = DOC.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `docs/security.md has no "## ${title}" section`);
  const end = DOC.indexOf('\n## ', start + 1);
  return DOC.slice(start, end === -1 ? undefined : end);
}

/** The rows of the first table in `text`, as header → cell maps. */
function table(text: string): Array<Record<string, string>> {
  const lines = text.split('\n').filter((line) => line.startsWith('|'));
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split(' | ')
      .map((cell) => cell.trim());
  const [head, , ...body] = lines;
  assert.ok(head, 'no table');
  const names = cells(head);
  return body.map((line) => Object.fromEntries(cells(line).map((cell, i) => [names[i] ?? String(i), cell])));
}

const defaults = table(section('Defaults'));

/** The Default cell of the row for `option` (an option name, or the Setting of a row without one). */
function documented(option: string): string {
  const row = defaults.find((r) => r.Option === `\`${option}\`` || r.Setting === option);
  assert.ok(row, `the defaults table has no row for ${option}`);
  assert.equal(row.Checked, '✓', `the ${option} row is checked here but not marked ✓`);
  return row.Default?.replace(/`/g, '') ?? '';
}

/** A documented default of the form `<n> s …`. */
function documentedSeconds(option: string): number {
  const match = /^(\d+) s\b/.exec(documented(option));
  assert.ok(match, `the ${option} default does not start with "<seconds> s"`);
  return Number(match[1]);
}

function tokenIn(setCookies: string[]): string | undefined {
  const line = setCookies.find((c) => c.startsWith(`${SESSION_COOKIE}=`));
  return line?.slice(SESSION_COOKIE.length + 1).split(';', 1)[0];
}

/** A manager created with no options but a store and a fake clock (a memory store unless given). */
function defaultManager(clock: FakeClock = createFakeClock(), store?: SessionStore) {
  const manager = createSessionManager({
    store: store ?? createMemoryStore({ clock, sweepIntervalSeconds: 0 }),
    clock,
  });
  const header = (token: string) => `${SESSION_COOKIE}=${token}`;
  const create = async () => {
    const session = await manager.load(undefined);
    session.set('n', 1);
    const token = tokenIn(await manager.commit(session));
    assert.ok(token);
    return token;
  };
  return { manager, clock, header, create };
}

describe('docs/security.md defaults (SEC-28)', () => {
  it('SEC-28: the documented idle and absolute timeouts are what a default manager enforces', async () => {
    const idle = documentedSeconds('idleTimeoutSeconds');
    const absolute = documentedSeconds('absoluteTimeoutSeconds');
    const { manager, clock, header, create } = defaultManager();
    const idleToken = await create();
    const start = clock.now();
    const at = (seconds: number) => clock.set(start + seconds * 1000);
    at(idle - 1);
    assert.equal((await manager.load(header(idleToken))).isNew, false, `dead before ${idle} s idle`);
    at(idle);
    assert.equal((await manager.load(header(idleToken))).isNew, true, `alive after ${idle} s idle`);

    let token = await create();
    const born = clock.now();
    const since = (seconds: number) => clock.set(born + seconds * 1000);
    const step = Math.floor(idle / 2);
    for (let elapsed = step; elapsed < absolute - 1; elapsed += step) {
      since(elapsed);
      const session = await manager.load(header(token));
      assert.equal(session.isNew, false, `lost at ${elapsed} s`);
      token = tokenIn(await manager.commit(session)) ?? token;
    }
    since(absolute - 1);
    assert.equal((await manager.load(header(token))).isNew, false, `dead before ${absolute} s`);
    since(absolute);
    assert.equal((await manager.load(header(token))).isNew, true, `alive after ${absolute} s`);
  });

  it('SEC-28: the documented rotation, grace, reuse window, revokeOnReuse and touch interval are what a default manager does', async () => {
    const rotate = documentedSeconds('rotateAfterSeconds');
    const grace = documentedSeconds('rotationGraceSeconds');
    const reuse = documentedSeconds('reuseDetectionSeconds');
    const touch = documentedSeconds('touchIntervalSeconds');
    const revokeOnReuse = documented('revokeOnReuse');
    const clock = createFakeClock();
    const store = instrumentStore(createMemoryStore({ clock, sweepIntervalSeconds: 0 }));
    const { manager, header, create } = defaultManager(clock, store);
    const recorder = recordEvents();
    try {
      const old = await create();
      const start = clock.now();
      const at = (seconds: number) => clock.set(start + seconds * 1000);
      const reuses = () => recorder.events.filter((e) => e.type === 'reuse-detected').length;
      const visit = async (token: string) => manager.commit(await manager.load(header(token)));

      store.reset();
      at(touch - 1);
      await visit(old);
      assert.equal(store.calls.patch, 0, `touched before ${touch} s`);
      at(touch);
      await visit(old);
      assert.equal(store.calls.patch, 1, `not touched at ${touch} s`);

      at(rotate - 1);
      assert.deepEqual(await visit(old), [], `rotated before ${rotate} s`);
      at(rotate);
      const rotated = tokenIn(await visit(old));
      assert.ok(rotated !== undefined && rotated !== old, `not rotated at ${rotate} s`);

      at(rotate + grace);
      assert.equal((await manager.load(header(old))).isNew, false, `old token dead within ${grace} s`);
      clock.advance(1);
      assert.equal((await manager.load(header(old))).isNew, true, `old token alive after ${grace} s`);
      assert.equal(reuses(), 1);
      const survived = !(await manager.load(header(rotated))).isNew;
      assert.equal(String(!survived), revokeOnReuse, `revokeOnReuse is documented as ${revokeOnReuse}`);
      at(rotate + grace + reuse);
      await manager.load(header(old));
      assert.equal(reuses(), 2, `reuse not reported ${reuse} s after the grace window`);
      at(rotate + grace + reuse + 1);
      await manager.load(header(old));
      assert.equal(reuses(), 2, `reuse still reported more than ${reuse} s after the grace window`);
    } finally {
      recorder.stop();
    }
  });

  it('SEC-28: the documented cookie, token, store-failure and invalid-token defaults are what a default manager does', async () => {
    const store = instrumentStore(createMemoryStore({ sweepIntervalSeconds: 0 }));
    const { manager, clock } = defaultManager(createFakeClock(), store);
    const session = await manager.load(undefined);
    session.set('n', 1);
    const [line = ''] = await manager.commit(session);
    const token = tokenIn([line]) ?? '';
    assert.equal(line.replace(token, '<token>'), documented('cookie'));

    const shape = /^(\d+) bytes from the CSPRNG, base64url: (\d+) characters$/.exec(
      documented('Session token'),
    );
    assert.ok(
      shape,
      'the Session token row does not say "<n> bytes from the CSPRNG, base64url: <n> characters"',
    );
    assert.equal(token.length, Number(shape[2]));
    assert.equal(Buffer.from(token, 'base64url').length, Number(shape[1]));

    const policy = /^"(\w+)"/.exec(documented('onStoreError'))?.[1];
    store.failing.add('get');
    const observed = await manager.load(`${SESSION_COOKIE}=${token}`).then(
      () => 'anonymous',
      (error: unknown) =>
        error instanceof Error && 'status' in error && error.status === 503 ? 'fail' : 'other',
    );
    store.failing.clear();
    assert.equal(observed, policy);

    const alarm = /^(\d+) per (\d+) s per client \(IPv4 address or IPv6 \/64\)$/.exec(
      documented('invalidTokens'),
    );
    assert.ok(
      alarm,
      'the invalidTokens row does not say "<n> per <n> s per client (IPv4 address or IPv6 /64)"',
    );
    const [threshold, windowSeconds] = [Number(alarm[1]), Number(alarm[2])];
    const recorder = recordEvents();
    try {
      const invalid = (count: number) =>
        Promise.all(
          Array.from({ length: count }, () => manager.load(`${SESSION_COOKIE}=x`, { ip: '192.0.2.1' })),
        );
      const alarms = () => recorder.events.filter((e) => e.type === 'bruteforce').length;
      await invalid(threshold - 1);
      clock.advanceSeconds(windowSeconds);
      await invalid(threshold - 1);
      assert.equal(alarms(), 0, `an alarm below ${threshold} per ${windowSeconds} s`);
      await invalid(1);
      assert.equal(alarms(), 1, `no alarm at ${threshold} within ${windowSeconds} s`);
    } finally {
      recorder.stop();
    }
  });

  it('SEC-28: the documented cookie-only and memory-store defaults are what they do', async () => {
    const secrets = /^required: ≥ (\d+) bytes each, at most (\d+)$/.exec(documented('secrets'));
    assert.ok(secrets, 'the secrets row does not say "required: ≥ <n> bytes each, at most <n>"');
    const [minBytes, maxKeys] = [Number(secrets[1]), Number(secrets[2])];
    const secret = (bytes: number) => randomString(bytes).slice(0, bytes);
    const cookieManager = (list: string[]) => createCookieSessionManager({ secrets: list });
    assert.throws(() => cookieManager([secret(minBytes - 1)]), { code: 'ERR_SESSION_CONFIG' });
    assert.throws(() => cookieManager([]), { code: 'ERR_SESSION_CONFIG' });
    assert.throws(() => cookieManager(Array.from({ length: maxKeys + 1 }, () => secret(minBytes))), {
      code: 'ERR_SESSION_CONFIG',
    });
    cookieManager(Array.from({ length: maxKeys }, () => secret(minBytes)));

    const maxCookies = Number(/^(\d+)$/.exec(documented('maxCookies'))?.[1]);
    // maxCookies binds when the header budget does not: about 3,060 bytes of session per cookie.
    const spread = createCookieSessionManager({ secrets: [secret(minBytes)], maxCookieBytes: 1 << 16 });
    const fits = await spread.load(undefined);
    fits.set('blob', 'x'.repeat(Math.floor((maxCookies - 0.5) * 3060)));
    const names = (await spread.commit(fits)).map((c) => c.slice(0, c.indexOf('=')));
    assert.equal(names.length, maxCookies, `the session spans ${names.length} cookies`);
    assert.equal(names[0], SESSION_COOKIE);
    const overflows = await spread.load(undefined);
    overflows.set('blob', 'x'.repeat(Math.ceil((maxCookies + 0.5) * 3060)));
    await assert.rejects(spread.commit(overflows), { code: 'ERR_SESSION_TOO_LARGE' });

    const budget = Number(/^(\d+) \(http\.maxHeaderSize − 4096\)$/.exec(documented('maxCookieBytes'))?.[1]);
    assert.equal(
      budget,
      maxHeaderSize - 4096,
      'the documented budget is the default header limit minus 4 KiB',
    );
    const sealed = cookieManager([secret(minBytes)]);
    const near = await sealed.load(undefined);
    near.set('blob', 'x'.repeat(Math.floor(((budget - 300) * 3) / 4)));
    const header = (await sealed.commit(near)).map((c) => c.split(';', 1)[0]).join('; ');
    assert.ok(
      header.length <= budget && header.length > budget - 400,
      `a ${header.length}-byte Cookie header`,
    );
    const over = await sealed.load(undefined);
    over.set('blob', 'x'.repeat(Math.ceil((budget * 3) / 4)));
    await assert.rejects(sealed.commit(over), { code: 'ERR_SESSION_TOO_LARGE', status: 413 });

    const maxEntries = Number(documented('maxEntries'));
    const clock = createFakeClock();
    const memory = createMemoryStore({ clock, sweepIntervalSeconds: 0 });
    for (let i = 0; i <= maxEntries; i++) await memory.set(randomString(32), sampleRecord(clock));
    assert.equal(memory.size, maxEntries);
  });
});

describe('docs/security.md defaults table', () => {
  it('marks ✓ exactly the rows the SEC-28 tests check', () => {
    const checked = defaults.filter((row) => row.Checked === '✓').map((row) => row.Option ?? '');
    assert.deepEqual(checked.sort(), [
      '`absoluteTimeoutSeconds`',
      '`cookie`',
      '`idleTimeoutSeconds`',
      '`invalidTokens`',
      '`maxCookieBytes`',
      '`maxCookies`',
      '`maxEntries`',
      '`onStoreError`',
      '`reuseDetectionSeconds`',
      '`revokeOnReuse`',
      '`rotateAfterSeconds`',
      '`rotationGraceSeconds`',
      '`secrets`',
      '`touchIntervalSeconds`',
      '—',
    ]);
  });
});

describe('docs/security.md SEC table', () => {
  it('lists SEC-1 to SEC-50 once each with a status, and every test it names exists in the file it names', () => {
    const rows = table(section('The security bar: SEC-1 to SEC-50'));
    assert.deepEqual(
      rows.map((r) => r['#']),
      Array.from({ length: 50 }, (_, i) => `SEC-${i + 1}`),
    );
    const counts = { met: 0, partly: 0, app: 0 };
    for (const row of rows) {
      const status = /^\*\*(met|partly|app)\*\*$/.exec(row.Status ?? '')?.[1];
      assert.ok(
        status === 'met' || status === 'partly' || status === 'app',
        `${row['#']}: status ${row.Status}`,
      );
      counts[status]++;
      const proofs = [...(row.Proof ?? '').matchAll(/`([^`]+)` › `([^`]+)`/g)];
      if (status === 'met') assert.ok(proofs.length > 0, `${row['#']} is met but names no test`);
      for (const [, file = '', name = ''] of proofs) {
        assert.ok(existsSync(file), `${row['#']}: ${file} does not exist`);
        assert.ok(readFileSync(file, 'utf8').includes(name), `${row['#']}: no test "${name}" in ${file}`);
      }
    }
    assert.ok(
      DOC.includes(`Totals: ${counts.met} met, ${counts.partly} partly`),
      `the totals line does not say ${counts.met} met, ${counts.partly} partly`,
    );
  });
});
