import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { barChart, escapeXml, svgDocument, timeChart } from './svg.js';

/** The attribute values of every `<tag …>` in `svg`, in order. */
function elements(svg: string, tag: string): Array<Record<string, string>> {
  return [...svg.matchAll(new RegExp(`<${tag} ([^>]*?)/?>`, 'g'))].map((match) =>
    Object.fromEntries([...(match[1] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  );
}

describe('svgDocument', () => {
  it('wraps the elements in a sized SVG with a white background, one element a line', () => {
    const svg = svgDocument(300, 200, ['<circle r="1"/>']);
    assert.ok(
      svg.startsWith(
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200" viewBox="0 0 300 200"',
      ),
    );
    assert.deepEqual(svg.split('\n').slice(1), [
      '<rect width="300" height="200" fill="#ffffff"/>',
      '<circle r="1"/>',
      '</svg>',
      '',
    ]);
  });
});

describe('escapeXml', () => {
  it('escapes the characters that would end text or start markup', () => {
    assert.equal(escapeXml('a < b & c > d'), 'a &lt; b &amp; c &gt; d');
  });
});

describe('barChart', () => {
  const chart = barChart({
    title: 'T & <x>',
    subtitle: 'S',
    panels: ['read', 'write'],
    rows: [
      { label: 'ours', color: '#138a8a', values: [0.6, 2], missing: '—' },
      { label: 'theirs <b>', color: '#9a9a9a', values: [undefined, Number.NaN], missing: 'failed' },
    ],
    max: 1.2,
    ticks: [0, 0.5, 1],
    reference: 1,
  });

  it('draws a bar per finite value, as long as value / max of the panel width, cut at max', () => {
    const bars = elements(chart, 'rect').slice(1);
    assert.deepEqual(
      bars.map((bar) => [bar.x, bar.width, bar.fill]),
      [
        ['330', '125.0', '#138a8a'],
        ['650', '250.0', '#138a8a'],
      ],
    );
    assert.match(chart, />0\.60</);
    assert.match(chart, />2\.00</);
  });

  it('writes the missing text where a value is undefined or not finite, and escapes every text', () => {
    assert.equal(chart.match(/fill="#999">failed</g)?.length, 2);
    assert.match(chart, /T &amp; &lt;x&gt;/);
    assert.match(chart, /theirs &lt;b&gt;/);
  });

  it('draws the reference tick dark and the others light, in every panel', () => {
    const strokes = elements(chart, 'line').map((line) => line.stroke);
    assert.deepEqual(strokes, ['#ddd', '#ddd', '#333', '#ddd', '#ddd', '#333']);
  });
});

describe('timeChart', () => {
  it('draws one polyline per series through every point, scaled to the panel', () => {
    const svg = timeChart('T', 'S', [0, 1, 2], 'seconds', [
      { title: 'P', unit: 'MB', series: [{ name: 'a', color: '#111111', values: [0, 10, 5] }] },
    ]);
    const [line] = elements(svg, 'polyline');
    const points = (line?.points ?? '').split(' ').map((point) => point.split(',').map(Number));
    assert.equal(points.length, 3);
    // x spans the plot (64 to 590); y is 0 at the panel's bottom, and the maximum sits at 1/1.1 of its height.
    assert.deepEqual(
      points.map(([x]) => x),
      [64, 327, 590],
    );
    const [bottom, top] = [points[0]?.[1] ?? 0, points[1]?.[1] ?? 0];
    assert.equal(Number((bottom - top).toFixed(1)), Number(((210 / 1.1) * 1).toFixed(1)));
    assert.equal(line?.stroke, '#111111');
    assert.equal(line?.['stroke-width'], '1.5');
  });
});
