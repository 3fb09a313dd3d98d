/**
 * docs/benchmarks.svg: horizontal bars of each contender's throughput relative to its bare framework,
 * one panel per workload, hand-written SVG (no chart library).
 */
import type { Row } from './aggregate.js';
import type { Workload } from './load.js';

const LABEL_WIDTH = 330;
const BAR_WIDTH = 250;
const PANEL_GAP = 70;
const ROW_HEIGHT = 20;
const TOP = 64;
const MAX_RATIO = 1.2;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The chart for `workloads` (columns) over the rows that have a ratio to their bare framework. */
export function ratioChart(rows: readonly Row[], workloads: readonly Workload[], title: string): string {
  const shown = rows.filter((row) => row.store !== 'none');
  const width = LABEL_WIDTH + workloads.length * (BAR_WIDTH + PANEL_GAP) + 10;
  const height = TOP + shown.length * ROW_HEIGHT + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="40" fill="#555">Requests per second relative to the same framework without sessions (1.0 = no cost). Teal: sessionkit; grey: peer libraries.</text>`,
  ];
  workloads.forEach((workload, panel) => {
    const x0 = LABEL_WIDTH + panel * (BAR_WIDTH + PANEL_GAP);
    const scale = (ratio: number) => (Math.min(ratio, MAX_RATIO) / MAX_RATIO) * BAR_WIDTH;
    parts.push(`<text x="${x0}" y="${TOP - 8}" font-weight="bold">${workload}</text>`);
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      const x = x0 + scale(tick);
      const stroke = tick === 1 ? '#333' : '#ddd';
      parts.push(
        `<line x1="${x}" y1="${TOP}" x2="${x}" y2="${TOP + shown.length * ROW_HEIGHT}" stroke="${stroke}" stroke-width="1"/>`,
        `<text x="${x}" y="${TOP + shown.length * ROW_HEIGHT + 14}" text-anchor="middle" fill="#555">${tick}</text>`,
      );
    }
    shown.forEach((row, index) => {
      const y = TOP + index * ROW_HEIGHT;
      const ratio = row.cells[workload]?.vsBare;
      if (ratio === undefined || !Number.isFinite(ratio)) {
        parts.push(
          `<text x="${x0 + 4}" y="${y + 14}" fill="#999">${row.status === 'ok' ? '—' : row.status}</text>`,
        );
        return;
      }
      const fill = row.library === 'sessionkit' ? '#138a8a' : '#9a9a9a';
      parts.push(
        `<rect x="${x0}" y="${y + 3}" width="${scale(ratio).toFixed(1)}" height="${ROW_HEIGHT - 6}" fill="${fill}"/>`,
        `<text x="${(x0 + scale(ratio) + 4).toFixed(1)}" y="${y + 14}">${ratio.toFixed(2)}</text>`,
      );
    });
  });
  shown.forEach((row, index) => {
    const y = TOP + index * ROW_HEIGHT + 14;
    parts.push(`<text x="${LABEL_WIDTH - 8}" y="${y}" text-anchor="end">${escapeXml(row.label)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
