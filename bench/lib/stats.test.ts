import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statementKind } from '../servers/harness.js';
import { cookieHeaderFrom, countDelta, isServerCount, parseCommandStats } from './stats.js';

describe('parseCommandStats', () => {
  it('reads the calls of each command from INFO commandstats', () => {
    const info = [
      '# Commandstats',
      'cmdstat_get:calls=12,usec=40,usec_per_call=3.33,rejected_calls=0,failed_calls=0',
      'cmdstat_client|setinfo:calls=2,usec=4,usec_per_call=2.00,rejected_calls=0,failed_calls=0',
      '',
    ].join('\r\n');
    assert.deepEqual(
      parseCommandStats(info),
      new Map([
        ['get', 12],
        ['client|setinfo', 2],
      ]),
    );
  });
});

describe('countDelta', () => {
  it('keeps the changed counters, minus the ignored ones', () => {
    const before = new Map([
      ['get', 10],
      ['info', 1],
    ]);
    const after = new Map([
      ['get', 15],
      ['info', 2],
      ['set', 3],
      ['ping', 0],
    ]);
    assert.deepEqual(
      countDelta(before, after, ['info']),
      new Map([
        ['get', 5],
        ['set', 3],
      ]),
    );
  });
});

describe('cookieHeaderFrom', () => {
  it('joins the name=value pairs of every Set-Cookie header, padding included', () => {
    const header = cookieHeaderFrom(['koa.sess=eyJuIjowfQ==; path=/; httponly', 'koa.sess.sig=abc; path=/']);
    assert.equal(header, 'koa.sess=eyJuIjowfQ==; koa.sess.sig=abc');
  });

  it('drops cookies that are being cleared', () => {
    assert.equal(cookieHeaderFrom(['sid=; Max-Age=0', 'other=1']), 'other=1');
    assert.equal(cookieHeaderFrom(undefined), '');
  });
});

describe('statementKind', () => {
  it('names a statement by its first keyword, from a string or a query config', () => {
    assert.equal(statementKind('  select * from t'), 'SELECT');
    assert.equal(statementKind({ text: 'UPDATE t SET a = 1' }), 'UPDATE');
    assert.equal(statementKind(42), 'OTHER');
  });

  it('names a WITH statement by the statement after its common table expressions', () => {
    assert.equal(statementKind('WITH old AS (SELECT 1) UPDATE t SET a = 1'), 'UPDATE');
  });
});

describe('isServerCount', () => {
  it('tells the commands Redis executed from the round trips a client made', () => {
    assert.equal(isServerCount('redis-server:hset'), true);
    assert.equal(isServerCount('redis:EVAL'), false);
    assert.equal(isServerCount('pg:SELECT'), false);
  });
});
