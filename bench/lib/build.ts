/**
 * Builds what the benchmark runs: sessionkit's dist/ (`tsc -p tsconfig.build.json`, the published
 * build) and the benchmark servers and micro-benchmark (`tsc -p bench/tsconfig.json` → bench/.build/).
 * The servers import sessionkit by package name, which Node resolves through package.json "exports"
 * to dist/ (a package may import itself by name), so every server process runs plain compiled
 * JavaScript, sessionkit's and the peers' alike — no TypeScript loader.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = fileURLToPath(new URL('../.build/', import.meta.url));

/** The compiled form of a server script (`bare-node.ts` → bench/.build/bench/servers/bare-node.js). */
export function compiledServer(script: string): string {
  return `${BUILD}bench/servers/${script.replace(/\.ts$/, '.js')}`;
}

/** The compiled cookie micro-benchmark. */
export const COMPILED_MICRO = `${BUILD}bench/micro/cookie.js`;

/** The compiled growth benchmark. */
export const COMPILED_GROWTH = `${BUILD}bench/growth/measure.js`;

function tsc(project: string): Promise<void> {
  const bin = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '-p', project], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`tsc -p ${project} failed:\n${output.trim()}`)),
    );
  });
}

/** Builds dist/, then the benchmark against it. */
export async function buildForBench(): Promise<void> {
  await tsc('tsconfig.build.json');
  await tsc('bench/tsconfig.json');
}
