import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, percentile, round } from './stats.js';

describe('median', () => {
  it('returns the middle value of an odd count and the mean of the two middle values of an even count', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
  });

  it('ignores values that are not finite and is NaN without any', () => {
    assert.equal(median([Number.NaN, 5]), 5);
    assert.ok(Number.isNaN(median([])));
  });
});

describe('percentile', () => {
  it('returns the nearest-rank value: the smallest value with at least p% of the values at or below it', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    assert.equal(percentile(values, 50), 5);
    assert.equal(percentile(values, 99), 10);
    assert.equal(percentile(values, 91), 10);
    assert.equal(percentile(values, 90), 9);
    assert.equal(percentile(values, 0), 1);
  });

  it('is NaN without values', () => {
    assert.ok(Number.isNaN(percentile([], 50)));
  });
});

describe('round', () => {
  it('rounds to the given decimals, one by default', () => {
    assert.equal(round(1.26), 1.3);
    assert.equal(round(1234.5, 0), 1235);
    assert.equal(round(0.123456, 3), 0.123);
  });
});
