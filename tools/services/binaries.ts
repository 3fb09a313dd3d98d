/** Where the server binaries are, and the skip rule of the suites that start their own servers. */
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { loudSkip } from './shared.js';

/** The path of an executable found in PATH or in `extraDirs`, or undefined. */
export function findBinary(name: string, extraDirs: readonly string[] = []): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extraDirs]) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * A PostgreSQL server binary (`initdb`, `pg_ctl`): from PATH, else from the newest
 * /usr/lib/postgresql/<version>/bin, where Debian and Ubuntu install them without linking them into PATH.
 */
export function findPostgresBinary(name: string): string | undefined {
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql');
  } catch {
    // No Debian-style PostgreSQL install: PATH only.
  }
  const dirs = versions
    .sort((a, b) => Number(b) - Number(a) || b.localeCompare(a))
    .map((version) => `/usr/lib/postgresql/${version}/bin`);
  return findBinary(name, dirs);
}

/** The binaries the private servers need: redis-server, memcached, and PostgreSQL's initdb and pg_ctl. */
const SERVER_BINARIES: ReadonlyArray<[string, () => string | undefined]> = [
  ['redis-server', () => findBinary('redis-server')],
  ['memcached', () => findBinary('memcached')],
  ['initdb', () => findPostgresBinary('initdb')],
  ['pg_ctl', () => findPostgresBinary('pg_ctl')],
];

/** Names of the server binaries this machine lacks. */
export function missingBinaries(): string[] {
  return SERVER_BINARIES.filter(([, find]) => find() === undefined).map(([name]) => name);
}

/**
 * The `skip` option of suites that start their own redis-server, memcached and PostgreSQL: false when
 * every binary is installed; otherwise a loud reason (a thrown error under CI=true).
 */
export function binariesSkip(): false | string {
  const missing = missingBinaries();
  if (missing.length === 0) return false;
  return loudSkip(`${missing.join(', ')} not installed`, 'install them to run this suite', 'them');
}
