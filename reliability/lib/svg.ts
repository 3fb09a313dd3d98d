/**
 * The soak chart for docs/reliability.md: hand-written SVG (no chart library), two panels sharing the
 * time axis: memory (RSS, heap) and store entries per adapter.
 */

/** One line of a panel. */
export interface Series {
  name: string;
  color: string;
  values: readonly number[];
  /** Stroke width. @default 1.5 */
  width?: number;
}

/** One panel: a y axis and its lines. */
export interface Panel {
  title: string;
  unit: string;
  series: readonly Series[];
}

const WIDTH = 760;
const PANEL_HEIGHT = 210;
const LEFT = 64;
const RIGHT = 170;
const TOP = 50;
const GAP = 60;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A round step for about `count` ticks up to `max`. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw);
  return step ?? raw;
}

function format(value: number): string {
  const rounded = Number(value.toPrecision(6));
  return Number.isInteger(rounded) ? rounded.toLocaleString('en-US') : String(Number(value.toPrecision(3)));
}

function panel(parts: string[], at: number, x: readonly number[], xMax: number, spec: Panel): void {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const yMax = Math.max(1, ...spec.series.flatMap((s) => s.values)) * 1.1;
  const yStep = tickStep(yMax, 5);
  const sx = (value: number) => LEFT + (value / xMax) * plotWidth;
  const sy = (value: number) => at + PANEL_HEIGHT - (value / yMax) * PANEL_HEIGHT;
  parts.push(`<text x="${LEFT}" y="${at - 10}" font-weight="bold">${escapeXml(spec.title)}</text>`);
  for (let tick = 0; tick <= yMax; tick += yStep) {
    const y = sy(tick).toFixed(1);
    parts.push(
      `<line x1="${LEFT}" y1="${y}" x2="${LEFT + plotWidth}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${LEFT - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${format(tick)}</text>`,
    );
  }
  const xStep = tickStep(xMax, 10);
  for (let tick = 0; tick <= xMax + 1e-9; tick += xStep) {
    const px = sx(tick).toFixed(1);
    parts.push(
      `<line x1="${px}" y1="${at + PANEL_HEIGHT}" x2="${px}" y2="${at + PANEL_HEIGHT + 4}" stroke="#333"/>`,
      `<text x="${px}" y="${at + PANEL_HEIGHT + 16}" text-anchor="middle" fill="#555">${format(tick)}</text>`,
    );
  }
  parts.push(
    `<line x1="${LEFT}" y1="${at + PANEL_HEIGHT}" x2="${LEFT + plotWidth}" y2="${at + PANEL_HEIGHT}" stroke="#333"/>`,
    `<line x1="${LEFT}" y1="${at}" x2="${LEFT}" y2="${at + PANEL_HEIGHT}" stroke="#333"/>`,
    `<text x="14" y="${at + PANEL_HEIGHT / 2}" transform="rotate(-90 14 ${at + PANEL_HEIGHT / 2})" text-anchor="middle" fill="#555">${escapeXml(spec.unit)}</text>`,
  );
  spec.series.forEach((series, index) => {
    const points = series.values
      .map((value, i) => `${sx(x[i] ?? 0).toFixed(1)},${sy(value).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${series.color}" stroke-width="${series.width ?? 1.5}"/>`,
      `<line x1="${WIDTH - RIGHT + 14}" y1="${at + 10 + index * 18}" x2="${WIDTH - RIGHT + 34}" y2="${at + 10 + index * 18}" stroke="${series.color}" stroke-width="3"/>`,
      `<text x="${WIDTH - RIGHT + 40}" y="${at + 10 + index * 18}" dominant-baseline="middle">${escapeXml(series.name)}</text>`,
    );
  });
}

/** The chart: `panels` stacked over a shared x axis (`x`, in `xUnit`). */
export function timeChart(
  title: string,
  subtitle: string,
  x: readonly number[],
  xUnit: string,
  panels: readonly Panel[],
): string {
  const height = TOP + panels.length * (PANEL_HEIGHT + GAP) + 10;
  const xMax = Math.max(1e-9, ...x);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="36" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  panels.forEach((spec, index) => {
    panel(parts, TOP + 14 + index * (PANEL_HEIGHT + GAP), x, xMax, spec);
  });
  parts.push(
    `<text x="${LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="${height - 4}" text-anchor="middle" fill="#555">${escapeXml(xUnit)}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
