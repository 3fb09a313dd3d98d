/**
 * Cookie micro-benchmark, run as its own process by bench/run.ts: seal and open operations per
 * second for a ~200-byte session, for sessionkit (its sealed format, and the whole cookie-only
 * manager), iron-session, @fastify/secure-session, and a bare AES-256-GCM with a precomputed key
 * (JSON + encrypt + base64url: the practical limit of any sealed cookie).
 *
 * Usage: node --import tsx bench/micro/cookie.ts <seconds per measurement> <rounds>
 * Each variant's seal and open are measured for <seconds> per round, in 50 ms slices taken in turn
 * with the other variants; the figures are medians over all slices.
 * Prints one JSON object (`MicroResult`) on stdout.
 */
import { performance } from 'node:perf_hooks';
import { aeadOpen, aeadSeal, deriveKey } from '../../src/core/crypto.js';
import { median } from '../lib/stats.js';
import { PROFILE, SECRET } from '../servers/harness.js';

/** One variant's figures (medians over all slices). */
export interface MicroVariant {
  id: string;
  label: string;
  sealOpsPerSecond: number;
  openOpsPerSecond: number;
  /** Characters of the sealed value. */
  sealedLength: number;
}

/** What this script prints. */
export interface MicroResult {
  payloadBytes: number;
  secondsPerMeasurement: number;
  rounds: number;
  variants: MicroVariant[];
  unavailable: Record<string, string>;
}

interface Variant {
  id: string;
  label: string;
  seal(): string | Promise<string>;
  open(sealed: string): unknown;
}

const DATA = { n: 0, profile: PROFILE };
const PLAINTEXT = JSON.stringify(DATA);

function bareAesGcm(): Variant {
  const key = deriveKey(Buffer.from(SECRET), 'bench', 'bench/aes-gcm');
  const aad = Buffer.from('bench');
  return {
    id: 'aes-gcm',
    label: 'bare AES-256-GCM (node:crypto, precomputed key)',
    seal: () => aeadSeal(key, Buffer.from(JSON.stringify(DATA)), aad).toString('base64url'),
    open: (sealed) => {
      const plaintext = aeadOpen(key, Buffer.from(sealed, 'base64url'), aad);
      return plaintext === null ? null : JSON.parse(plaintext.toString());
    },
  };
}

async function sessionkitFormat(): Promise<Variant> {
  const sealed = await import('../../src/core/sealed.js');
  const keyring = sealed.createKeyring([SECRET], { cookieName: 'sid', purpose: 'session' });
  const now = Date.now();
  const session = {
    sid: 'bench-session-id-0123456789',
    createdAt: now,
    lastSeenAt: now,
    absoluteExpiresAt: now + 43_200_000,
    version: 1,
    data: DATA,
  };
  return {
    id: 'sessionkit',
    label: 'sessionkit sealed format (seal / open + decode)',
    seal: () => sealed.sealValue(keyring, sealed.encodeSession(session)),
    open: (value) => {
      const opened = sealed.openValue(keyring, value);
      return opened.ok ? sealed.decodeSession(opened.plaintext) : null;
    },
  };
}

async function sessionkitManager(): Promise<Variant> {
  const { createCookieSessionManager } = await import('sessionkit/cookie-session');
  const manager = createCookieSessionManager({ secrets: [SECRET], insecureDevCookies: true });
  const name = manager.cookieName;
  return {
    id: 'sessionkit-manager',
    label: 'sessionkit cookie-only manager (load → set → commit / load → get)',
    seal: async () => {
      const session = await manager.load(undefined);
      session.set('n', DATA.n);
      session.set('profile', DATA.profile);
      const [cookie] = await manager.commit(session);
      return (cookie ?? '').split(';', 1)[0]?.slice(name.length + 1) ?? '';
    },
    open: async (value) => (await manager.load(`${name}=${value}`)).get('profile'),
  };
}

async function iron(): Promise<Variant> {
  const { sealData, unsealData } = await import('iron-session');
  const options = { password: SECRET };
  return {
    id: 'iron-session',
    label: 'iron-session sealData / unsealData',
    seal: () => sealData(DATA, options),
    open: (sealed) => unsealData(sealed, options),
  };
}

async function fastifySecureSession(): Promise<Variant> {
  const [{ default: Fastify }, { default: plugin }] = await Promise.all([
    import('fastify'),
    import('@fastify/secure-session'),
  ]);
  const app = Fastify({ logger: false });
  await app.register(plugin, { key: Buffer.from(SECRET).subarray(0, 32) });
  await app.ready();
  return {
    id: 'fastify-secure-session',
    label: '@fastify/secure-session encode / decode (libsodium secretbox)',
    seal: () => app.encodeSecureSession(app.createSecureSession(DATA)),
    open: (sealed) => app.decodeSecureSession(sealed)?.data(),
  };
}

/**
 * Length of one measurement slice. The variants take turns slice by slice, so a busy second of a
 * shared machine lands on all of them alike (one whole second per variant made the ratios swing by a
 * third from run to run); a slice is still long enough to hold the variant's own garbage collections.
 */
const SLICE_MS = 50;

/** Runs `op` repeatedly for `ms` milliseconds (awaiting it when it returns a promise); operations per second. */
async function rate(ms: number, op: () => unknown): Promise<number> {
  const end = performance.now() + ms;
  const started = performance.now();
  let count = 0;
  let now = started;
  while (now < end) {
    for (let i = 0; i < 32; i++) {
      const result = op();
      if (result instanceof Promise) await result;
    }
    count += 32;
    now = performance.now();
  }
  return count / ((now - started) / 1000);
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 1);
  const rounds = Number(process.argv[3] ?? 3);
  const factories: Array<[string, () => Variant | Promise<Variant>]> = [
    ['aes-gcm', bareAesGcm],
    ['sessionkit', sessionkitFormat],
    ['sessionkit-manager', sessionkitManager],
    ['iron-session', iron],
    ['fastify-secure-session', fastifySecureSession],
  ];
  const variants: Variant[] = [];
  const unavailable: Record<string, string> = {};
  for (const [id, factory] of factories) {
    try {
      const variant = await factory();
      const sealed = await variant.seal();
      if ((await variant.open(sealed)) == null) throw new Error('does not open its own seal');
      variants.push(variant);
    } catch (error) {
      unavailable[id] = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    }
  }
  const seals = new Map<string, number[]>();
  const opens = new Map<string, number[]>();
  const lengths = new Map<string, number>();
  const samples = new Map<string, string>();
  for (const variant of variants) {
    const sealed = await variant.seal();
    samples.set(variant.id, sealed);
    lengths.set(variant.id, sealed.length);
    seals.set(variant.id, []);
    opens.set(variant.id, []);
    // Warm-up, not recorded: the first slice would otherwise measure the JIT compiling the variant.
    await rate(SLICE_MS, () => variant.seal());
    await rate(SLICE_MS, () => variant.open(sealed));
  }
  const slices = Math.max(1, Math.round((seconds * 1000) / SLICE_MS));
  for (let round = 0; round < rounds; round++) {
    for (let slice = 0; slice < slices; slice++) {
      // Reversed every other slice, so no variant always runs right after the same one.
      const order = (round + slice) % 2 === 0 ? variants : [...variants].reverse();
      for (const variant of order) {
        const sealed = samples.get(variant.id) ?? '';
        seals.get(variant.id)?.push(await rate(SLICE_MS, () => variant.seal()));
        opens.get(variant.id)?.push(await rate(SLICE_MS, () => variant.open(sealed)));
      }
    }
  }
  const result: MicroResult = {
    payloadBytes: Buffer.byteLength(PLAINTEXT),
    secondsPerMeasurement: seconds,
    rounds,
    variants: variants.map((v) => ({
      id: v.id,
      label: v.label,
      sealOpsPerSecond: median(seals.get(v.id) ?? []),
      openOpsPerSecond: median(opens.get(v.id) ?? []),
      sealedLength: lengths.get(v.id) ?? 0,
    })),
    unavailable,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
