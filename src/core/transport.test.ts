import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { INSECURE_TRANSPORT, isLocalRequest, resolveLifetimes, transportFix } from './options.js';
import type { RequestInfo } from './types.js';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../../test/fixtures/held-back.ts', import.meta.url));

describe('transport (SEC-17)', () => {
  const strict = resolveLifetimes({});
  const proxied = resolveLifetimes({ trustProxy: true });

  it('lets a plain-HTTP request to a loopback host from a loopback peer carry the Secure cookie', () => {
    for (const host of [
      'localhost:3000',
      'LOCALHOST',
      'shop.localhost:8080',
      '127.0.0.1:3000',
      '127.1.2.3',
      '[::1]:3000',
    ]) {
      for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1', undefined]) {
        const request: RequestInfo = { protocol: 'http', host };
        if (ip !== undefined) request.ip = ip;
        assert.equal(transportFix(strict, request), false, `${host} from ${ip}`);
      }
    }
  });

  it('holds it back for a remote peer, a remote host name or a proxy, naming the option that fixes it', () => {
    const cases: Array<[RequestInfo, 'trustProxy' | 'insecureDevCookies']> = [
      [{ protocol: 'http', host: 'localhost:3000', ip: '192.168.1.5' }, 'insecureDevCookies'],
      [{ protocol: 'http', host: '192.168.1.20:3000', ip: '127.0.0.1' }, 'insecureDevCookies'],
      [{ protocol: 'http', host: 'localhost.evil.example', ip: '127.0.0.1' }, 'insecureDevCookies'],
      [{ protocol: 'http', host: '127.0.0.1.nip.io', ip: '127.0.0.1' }, 'insecureDevCookies'],
      [{ protocol: 'http', ip: '127.0.0.1' }, 'insecureDevCookies'],
      [{ protocol: 'http', host: 'localhost', ip: '127.0.0.1', forwardedProto: 'https' }, 'trustProxy'],
      [{ protocol: 'http', host: 'shop.example', forwardedProto: 'http' }, 'trustProxy'],
    ];
    for (const [request, fix] of cases) {
      assert.equal(isLocalRequest(request), false, JSON.stringify(request));
      assert.equal(transportFix(strict, request), fix, JSON.stringify(request));
    }
    assert.equal(transportFix(proxied, { protocol: 'http', forwardedProto: 'https, http' }), false);
    assert.equal(transportFix(proxied, { protocol: 'http', forwardedProto: 'http' }), 'insecureDevCookies');
    assert.equal(transportFix(strict, { protocol: 'https', host: 'shop.example' }), false);
    assert.equal(transportFix(resolveLifetimes({ insecureDevCookies: true }), { protocol: 'http' }), false);
  });

  for (const kind of ['store', 'cookie']) {
    for (const output of ['commit', 'now']) {
      it(`warns once per process, naming the fix, when the ${kind} manager holds back the cookie of ${output === 'now' ? 'cookiesNow' : 'commit'}`, async () => {
        const remote = await run(process.execPath, ['--import', 'tsx', fixture, kind, output]);
        assert.equal(remote.stdout, '0', 'every cookie was held back');
        assert.equal(remote.stderr.split(INSECURE_TRANSPORT).length - 1, 1, remote.stderr);
        assert.match(remote.stderr, /insecureDevCookies: true/);
        assert.doesNotMatch(remote.stderr, /trustProxy/);
        const proxy = await run(process.execPath, ['--import', 'tsx', fixture, kind, output, 'proxy']);
        assert.equal(proxy.stdout, '0');
        assert.equal(proxy.stderr.split(INSECURE_TRANSPORT).length - 1, 1, proxy.stderr);
        assert.match(proxy.stderr, /trustProxy: true/);
      });
    }
  }
});
