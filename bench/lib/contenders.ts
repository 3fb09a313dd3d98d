/**
 * Every contender of the benchmark: which server script runs it, on which framework and store,
 * and which peer it is compared with. Order matters: it is the order of the tables.
 */

/** The frameworks; each has a bare contender that is the limit for its row. */
export type Framework = 'node' | 'express' | 'fastify' | 'koa';

/** Where session state lives. */
export type StoreKind = 'none' | 'memory' | 'sqlite' | 'postgres' | 'redis' | 'tiered' | 'cookie';

/** A service a contender needs besides its own process. */
export type Service = 'redis' | 'postgres';

/** One server configuration under test. */
export interface Contender {
  /** Short stable id, used in results, `--only` and as a Redis prefix / table suffix. */
  id: string;
  /** What the tables show. */
  label: string;
  library: string;
  framework: Framework;
  store: StoreKind;
  /** Server script under bench/servers/. */
  script: string;
  /** Id of the peer library on the same framework and store, for the "× peer" column. */
  peer?: string;
  /** Part of `--quick` (CI). */
  quick?: boolean;
  needs: Service[];
}

/** Framework names as the tables write them. */
export const FRAMEWORK_NAMES: Record<Framework, string> = {
  node: 'node:http',
  express: 'Express',
  fastify: 'Fastify',
  koa: 'Koa',
};

const STORE_NAMES: Record<StoreKind, string> = {
  none: 'no sessions',
  memory: 'memory',
  sqlite: 'SQLite',
  postgres: 'PostgreSQL',
  redis: 'Redis',
  tiered: 'tiered Redis→PostgreSQL',
  cookie: 'cookie-only',
};

const NEEDS: Record<StoreKind, Service[]> = {
  none: [],
  memory: [],
  sqlite: [],
  postgres: ['postgres'],
  redis: ['redis'],
  tiered: ['redis', 'postgres'],
  cookie: [],
};

function bare(framework: Framework, quick: boolean): Contender {
  return {
    id: `bare-${framework}`,
    label: `${FRAMEWORK_NAMES[framework]} (bare)`,
    library: 'none',
    framework,
    store: 'none',
    script: `bare-${framework}.ts`,
    quick,
    needs: [],
  };
}

function sessionkit(framework: Framework, store: StoreKind, extra: Partial<Contender> = {}): Contender {
  return {
    id: `sk-${framework}-${store}`,
    label: `sessionkit · ${FRAMEWORK_NAMES[framework]} · ${STORE_NAMES[store]}`,
    library: 'sessionkit',
    framework,
    store,
    script: `sessionkit-${framework}.ts`,
    needs: NEEDS[store],
    ...extra,
  };
}

function peer(
  id: string,
  library: string,
  framework: Framework,
  store: StoreKind,
  script: string,
): Contender {
  return {
    id,
    label: `${library} · ${FRAMEWORK_NAMES[framework]} · ${STORE_NAMES[store]}`,
    library,
    framework,
    store,
    script,
    needs: NEEDS[store],
  };
}

/** All contenders, in table order. */
export const CONTENDERS: readonly Contender[] = [
  bare('node', true),
  bare('express', true),
  bare('fastify', false),
  bare('koa', false),
  sessionkit('node', 'memory', { quick: true }),
  sessionkit('node', 'sqlite'),
  sessionkit('node', 'postgres'),
  sessionkit('node', 'redis'),
  sessionkit('node', 'tiered'),
  sessionkit('node', 'cookie', { peer: 'iron-session', quick: true }),
  sessionkit('express', 'memory', { peer: 'express-session-memory', quick: true }),
  sessionkit('express', 'sqlite'),
  sessionkit('express', 'postgres', { peer: 'express-session-pg' }),
  sessionkit('express', 'redis', { peer: 'express-session-redis', quick: true }),
  sessionkit('express', 'tiered'),
  sessionkit('express', 'cookie'),
  sessionkit('fastify', 'memory', { peer: 'fastify-session' }),
  sessionkit('fastify', 'cookie', { peer: 'fastify-secure-session' }),
  sessionkit('koa', 'memory'),
  sessionkit('koa', 'cookie', { peer: 'koa-session' }),
  {
    ...peer('express-session-memory', 'express-session', 'express', 'memory', 'express-session.ts'),
    quick: true,
  },
  {
    ...peer(
      'express-session-redis',
      'express-session + connect-redis',
      'express',
      'redis',
      'express-session.ts',
    ),
    quick: true,
  },
  peer(
    'express-session-pg',
    'express-session + connect-pg-simple',
    'express',
    'postgres',
    'express-session.ts',
  ),
  { ...peer('iron-session', 'iron-session', 'node', 'cookie', 'iron-session.ts'), quick: true },
  peer('fastify-session', '@fastify/session', 'fastify', 'memory', 'fastify-session.ts'),
  peer('fastify-secure-session', '@fastify/secure-session', 'fastify', 'cookie', 'fastify-secure-session.ts'),
  peer('koa-session', 'koa-session', 'koa', 'cookie', 'koa-session.ts'),
];

/** The bare contender of a framework. */
export function bareOf(framework: Framework): string {
  return `bare-${framework}`;
}
