/**
 * Hand-written SVG charts (no chart library) for the benchmark and reliability pages: the document
 * frame every chart shares, horizontal bars in panels (`barChart`), and line panels over a shared x
 * axis (`timeChart`).
 */

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An SVG document of `width` × `height` on a white background holding `body` (one element a line). */
export function svgDocument(width: number, height: number, body: readonly string[]): string {
  return `${[
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
  ].join('\n')}\n`;
}

/** One row of a bar chart: a label and a bar per panel. */
export interface BarRow {
  label: string;
  color: string;
  /** One value per panel; undefined (or not finite) draws `missing` instead of a bar. */
  values: ReadonlyArray<number | undefined>;
  missing: string;
}

/** A bar chart: rows of horizontal bars, one panel (column) per value of a row. */
export interface BarChart {
  title: string;
  subtitle: string;
  panels: readonly string[];
  rows: readonly BarRow[];
  /** The value of a full-width bar; longer bars are cut there. */
  max: number;
  /** Values with a vertical grid line and a label. */
  ticks: readonly number[];
  /** The tick drawn dark (e.g. 1 for a ratio). */
  reference: number;
}

const BAR = { labelWidth: 330, barWidth: 250, panelGap: 70, rowHeight: 20, top: 64 } as const;

/** Horizontal bars, one panel per `panels` entry, labelled rows on the left; values written as 0.00. */
export function barChart(chart: BarChart): string {
  const { labelWidth, barWidth, panelGap, rowHeight, top } = BAR;
  const bottom = top + chart.rows.length * rowHeight;
  const width = labelWidth + chart.panels.length * (barWidth + panelGap) + 10;
  const parts: string[] = [
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
    `<text x="10" y="40" fill="#555">${escapeXml(chart.subtitle)}</text>`,
  ];
  chart.panels.forEach((name, panel) => {
    const x0 = labelWidth + panel * (barWidth + panelGap);
    const scale = (value: number) => (Math.min(value, chart.max) / chart.max) * barWidth;
    parts.push(`<text x="${x0}" y="${top - 8}" font-weight="bold">${escapeXml(name)}</text>`);
    for (const tick of chart.ticks) {
      const x = x0 + scale(tick);
      const stroke = tick === chart.reference ? '#333' : '#ddd';
      parts.push(
        `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="${stroke}" stroke-width="1"/>`,
        `<text x="${x}" y="${bottom + 14}" text-anchor="middle" fill="#555">${tick}</text>`,
      );
    }
    chart.rows.forEach((row, index) => {
      const y = top + index * rowHeight;
      const value = row.values[panel];
      if (value === undefined || !Number.isFinite(value)) {
        parts.push(`<text x="${x0 + 4}" y="${y + 14}" fill="#999">${escapeXml(row.missing)}</text>`);
        return;
      }
      parts.push(
        `<rect x="${x0}" y="${y + 3}" width="${scale(value).toFixed(1)}" height="${rowHeight - 6}" fill="${row.color}"/>`,
        `<text x="${(x0 + scale(value) + 4).toFixed(1)}" y="${y + 14}">${value.toFixed(2)}</text>`,
      );
    });
  });
  chart.rows.forEach((row, index) => {
    const y = top + index * rowHeight + 14;
    parts.push(`<text x="${labelWidth - 8}" y="${y}" text-anchor="end">${escapeXml(row.label)}</text>`);
  });
  return svgDocument(width, bottom + 40, parts);
}

/** One line of a time chart panel. */
export interface Series {
  name: string;
  color: string;
  values: readonly number[];
  /** Stroke width. @default 1.5 */
  width?: number;
}

/** One panel of a time chart: a y axis and its lines. */
export interface Panel {
  title: string;
  unit: string;
  series: readonly Series[];
}

const TIME = { width: 760, panelHeight: 210, left: 64, right: 170, top: 50, gap: 60 } as const;

/** A round step for about `count` ticks up to `max`. */
function tickStep(max: number, count: number): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((s) => s >= raw);
  return step ?? raw;
}

function formatTick(value: number): string {
  const rounded = Number(value.toPrecision(6));
  return Number.isInteger(rounded) ? rounded.toLocaleString('en-US') : String(Number(value.toPrecision(3)));
}

function timePanel(parts: string[], at: number, x: readonly number[], xMax: number, spec: Panel): void {
  const { width, panelHeight, left, right } = TIME;
  const plotWidth = width - left - right;
  const yMax = Math.max(1, ...spec.series.flatMap((s) => s.values)) * 1.1;
  const yStep = tickStep(yMax, 5);
  const sx = (value: number) => left + (value / xMax) * plotWidth;
  const sy = (value: number) => at + panelHeight - (value / yMax) * panelHeight;
  parts.push(`<text x="${left}" y="${at - 10}" font-weight="bold">${escapeXml(spec.title)}</text>`);
  for (let tick = 0; tick <= yMax; tick += yStep) {
    const y = sy(tick).toFixed(1);
    parts.push(
      `<line x1="${left}" y1="${y}" x2="${left + plotWidth}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${formatTick(tick)}</text>`,
    );
  }
  const xStep = tickStep(xMax, 10);
  for (let tick = 0; tick <= xMax + 1e-9; tick += xStep) {
    const px = sx(tick).toFixed(1);
    parts.push(
      `<line x1="${px}" y1="${at + panelHeight}" x2="${px}" y2="${at + panelHeight + 4}" stroke="#333"/>`,
      `<text x="${px}" y="${at + panelHeight + 16}" text-anchor="middle" fill="#555">${formatTick(tick)}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${at + panelHeight}" x2="${left + plotWidth}" y2="${at + panelHeight}" stroke="#333"/>`,
    `<line x1="${left}" y1="${at}" x2="${left}" y2="${at + panelHeight}" stroke="#333"/>`,
    `<text x="14" y="${at + panelHeight / 2}" transform="rotate(-90 14 ${at + panelHeight / 2})" text-anchor="middle" fill="#555">${escapeXml(spec.unit)}</text>`,
  );
  spec.series.forEach((series, index) => {
    const points = series.values
      .map((value, i) => `${sx(x[i] ?? 0).toFixed(1)},${sy(value).toFixed(1)}`)
      .join(' ');
    const legendY = at + 10 + index * 18;
    parts.push(
      `<polyline points="${points}" fill="none" stroke="${series.color}" stroke-width="${series.width ?? 1.5}"/>`,
      `<line x1="${width - right + 14}" y1="${legendY}" x2="${width - right + 34}" y2="${legendY}" stroke="${series.color}" stroke-width="3"/>`,
      `<text x="${width - right + 40}" y="${legendY}" dominant-baseline="middle">${escapeXml(series.name)}</text>`,
    );
  });
}

/** Line panels stacked over a shared x axis (`x`, in `xUnit`). */
export function timeChart(
  title: string,
  subtitle: string,
  x: readonly number[],
  xUnit: string,
  panels: readonly Panel[],
): string {
  const { width, panelHeight, left, right, top, gap } = TIME;
  const height = top + panels.length * (panelHeight + gap) + 10;
  const xMax = Math.max(1e-9, ...x);
  const parts: string[] = [
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="10" y="36" fill="#555">${escapeXml(subtitle)}</text>`,
  ];
  panels.forEach((spec, index) => {
    timePanel(parts, top + 14 + index * (panelHeight + gap), x, xMax, spec);
  });
  parts.push(
    `<text x="${left + (width - left - right) / 2}" y="${height - 4}" text-anchor="middle" fill="#555">${escapeXml(xUnit)}</text>`,
  );
  return svgDocument(width, height, parts);
}
