/**
 * What the reliability scripts share on the command line: flags, where results go, and printing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Parsed flags: `--quick` (or RELIABILITY_QUICK=1) and `--name=value` (or `--name value`) options. */
export interface Flags {
  quick: boolean;
  values: Map<string, string>;
  /** A numeric `--name=value`, or `fallback`. */
  number(name: string, fallback: number): number;
}

/** Reads the process's flags. */
export function flags(argv: readonly string[] = process.argv.slice(2)): Flags {
  const values = new Map<string, string>();
  argv.forEach((arg, i) => {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match?.[1] === undefined) return;
    // `--name value` as well as `--name=value`; a bare `--name` is "true".
    const next = argv[i + 1];
    const separate =
      match[2] === undefined && next !== undefined && !next.startsWith('--') ? next : undefined;
    values.set(match[1], match[2] ?? separate ?? 'true');
  });
  const quick = values.has('quick') || process.env.RELIABILITY_QUICK === '1';
  return {
    quick,
    values,
    number(name, fallback) {
      const value = values.get(name);
      const parsed = value === undefined ? Number.NaN : Number(value);
      return Number.isFinite(parsed) ? parsed : fallback;
    },
  };
}

/** Writes `data` as JSON to `.data/reliability/<name>.json` (git-ignored) and returns the path. */
export function saveResult(name: string, data: unknown): string {
  const dir = join(ROOT, '.data', 'reliability');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}

/** Prints a line to stdout. */
export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Formats rows as a Markdown table. */
export function markdownTable(
  headers: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
): string {
  const align = headers.map((_, i) => (rows.every((row) => typeof row[i] === 'number') ? '---:' : '---'));
  const line = (cells: ReadonlyArray<string | number>) => `| ${cells.map(String).join(' | ')} |`;
  return [line(headers), line(align), ...rows.map(line)].join('\n');
}
