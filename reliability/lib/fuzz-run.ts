/**
 * The fuzz run: hostile `Cookie` headers sent over raw TCP (so NUL bytes, high bytes and split
 * headers reach the server exactly as generated) to the targets of fuzz-server.ts, each reply judged
 * by the reference in fuzz-headers.ts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { atExit } from '../../tools/cleanup.js';
import {
  type Acceptance,
  createRandom,
  type FuzzCase,
  generateCase,
  judgeAcceptance,
  judgeStoreRead,
  type Seed,
} from './fuzz-headers.js';
import type { ReadyMessage, TargetInfo } from './fuzz-server.js';

/** Options of `runFuzz`. */
export interface FuzzOptions {
  /** Requests in all, shared equally by the targets. */
  total: number;
  /** Connections per target. */
  connections: number;
  /** Seed of the generator: the same seed sends the same headers. */
  seed: number;
  /** Called every 100,000 requests. */
  progress?: (sent: number) => void;
}

/** What one target got and did. */
export interface TargetResult {
  sent: number;
  byStatus: Record<string, number>;
  byCategory: Record<string, number>;
  /** Sessions accepted, by the reference's judgement. */
  accepted: Partial<Record<Acceptance, number>>;
  /** Loads that read the store, by the reference's judgement of the token. */
  storeReads: Record<string, number>;
  /** The controls: genuine cookies sent, and accepted as their session. */
  genuineSent: number;
  genuineAccepted: number;
}

/** What the fuzz run found. */
export interface FuzzResult {
  seed: number;
  total: number;
  durationMs: number;
  targets: Record<string, TargetResult>;
  /** The server process died. */
  crashes: number;
  /** Requests that got no HTTP response at all. */
  noResponse: number;
  serverErrors: number;
  /** Sessions accepted that the request's genuine cookie did not name. */
  forged: number;
  /** Store reads for a request without a well-formed token. */
  storeReadsForMalformed: number;
  /** Accepted only by trimming whitespace that RFC 6265bis does not trim (NBSP, VT, FF, …). */
  lenientWhitespace: number;
  /** Accepted for another base64url spelling of the genuine value. */
  nonCanonical: number;
  examples: Record<string, string[]>;
}

interface RawReply {
  status: number;
  headers: Map<string, string>;
  error?: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** One keep-alive connection that sends a request and reads its reply, reconnecting when closed. */
class RawConnection {
  #socket: Socket | undefined;
  #buffer = Buffer.alloc(0);
  #done: ((reply: RawReply) => void) | undefined;

  constructor(private readonly port: number) {}

  async send(request: Buffer): Promise<RawReply> {
    const socket = this.#socket ?? (await this.#connect());
    if (socket === undefined) return { status: 0, headers: new Map(), error: 'connect failed' };
    return new Promise<RawReply>((resolve) => {
      const timer = setTimeout(() => {
        this.#finish({ status: 0, headers: new Map(), error: 'timeout' });
        socket.destroy();
      }, 15_000);
      this.#done = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      socket.write(request);
    });
  }

  close(): void {
    this.#socket?.destroy();
  }

  #finish(reply: RawReply): void {
    const done = this.#done;
    this.#done = undefined;
    done?.(reply);
  }

  async #connect(): Promise<Socket | undefined> {
    const socket = new Socket();
    socket.setNoDelay(true);
    this.#buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#parse(socket);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      // A socket given up on earlier (its reply complete) must not end the next request's wait.
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#finish({ status: 0, headers: new Map(), error: 'closed without a reply' });
    });
    try {
      socket.connect(this.port, '127.0.0.1');
      await once(socket, 'connect');
    } catch {
      return undefined;
    }
    this.#socket = socket;
    return socket;
  }

  #parse(socket: Socket): void {
    const end = this.#buffer.indexOf(HEAD_END);
    if (end === -1) return;
    const head = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(head[0]?.split(' ')[1]);
    const headers = new Map<string, string>();
    for (const line of head.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get('content-length') ?? 0);
    if (this.#buffer.length < end + 4 + length) return;
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    if (headers.get('connection')?.toLowerCase() === 'close') {
      this.#socket = undefined;
      socket.destroy();
    }
    this.#finish({ status, headers });
  }
}

/** The header lines as printable ASCII (other bytes as \xHH), cut to 240 characters. */
function printable(lines: readonly string[]): string {
  const text = lines.join(' | ').slice(0, 240);
  return text.replace(/[^\x20-\x7e]/g, (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function requestBytes(index: number, lines: readonly string[]): Buffer {
  let text = `GET /?i=${index} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const line of lines) text += `Cookie: ${line}\r\n`;
  return Buffer.from(`${text}\r\n`, 'latin1');
}

function emptyTarget(): TargetResult {
  return {
    sent: 0,
    byStatus: {},
    byCategory: {},
    accepted: {},
    storeReads: {},
    genuineSent: 0,
    genuineAccepted: 0,
  };
}

function bump(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

/** Starts the fuzz targets in a child process and resolves once they listen. */
async function startTargets(): Promise<{ child: ChildProcess; targets: TargetInfo[] }> {
  const entry = fileURLToPath(new URL('./fuzz-server.ts', import.meta.url));
  const child = fork(entry, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const unregister = atExit(() => child.kill('SIGKILL'));
  child.once('exit', unregister);
  const ready = new Promise<TargetInfo[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fuzz targets did not start within 60 s')), 60_000);
    child.once('exit', (code) => reject(new Error(`the fuzz targets exited with ${code} before listening`)));
    child.on('message', (message: ReadyMessage) => {
      if (message.type !== 'ready') return;
      clearTimeout(timer);
      resolve(message.targets);
    });
  });
  return { child, targets: await ready };
}

/** Runs the fuzz: `options.total` requests spread over the node and Express targets. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const { child, targets } = await startTargets();
  const started = performance.now();
  const result: FuzzResult = {
    seed: options.seed,
    total: 0,
    durationMs: 0,
    targets: {},
    crashes: 0,
    noResponse: 0,
    serverErrors: 0,
    forged: 0,
    storeReadsForMalformed: 0,
    lenientWhitespace: 0,
    nonCanonical: 0,
    examples: {},
  };
  let crashed = false;
  child.once('exit', () => {
    crashed = true;
  });
  const example = (kind: string, target: string, fuzzCase: FuzzCase, detail: string) => {
    const list = result.examples[kind] ?? [];
    result.examples[kind] = list;
    if (list.length < 8) list.push(`${target} ${fuzzCase.category} ${detail}: ${printable(fuzzCase.lines)}`);
  };
  const perTarget = Math.ceil(options.total / targets.length);

  const runTarget = async (target: TargetInfo, targetIndex: number) => {
    const stats = emptyTarget();
    result.targets[target.name] = stats;
    const owners = new Map<string, Seed>(target.seeds.map((seed) => [seed.owner, seed]));
    let next = 0;
    const worker = async () => {
      const connection = new RawConnection(target.port);
      for (let index = next++; index < perTarget && !crashed; index = next++) {
        const random = createRandom((options.seed * 2_654_435_761 + index * 40_503 + targetIndex * 97) >>> 0);
        const fuzzCase = generateCase(random, target.cookieName, target.seeds, target.sealed);
        const reply = await connection.send(requestBytes(index, fuzzCase.lines));
        stats.sent++;
        result.total++;
        if (result.total % 100_000 === 0) options.progress?.(result.total);
        bump(stats.byCategory, fuzzCase.category);
        bump(stats.byStatus, reply.status === 0 ? 'none' : String(reply.status));
        if (fuzzCase.expect !== undefined) stats.genuineSent++;
        if (reply.status === 0) {
          result.noResponse++;
          example('no-response', target.name, fuzzCase, reply.error ?? '');
          continue;
        }
        if (reply.status >= 500) {
          result.serverErrors++;
          example('5xx', target.name, fuzzCase, String(reply.status));
          continue;
        }
        if (reply.status !== 200) continue;
        const owner = reply.headers.get('x-owner') ?? '-';
        if (owner !== '-') {
          const verdict = judgeAcceptance(fuzzCase, target.cookieName, owners.get(owner));
          stats.accepted[verdict] = (stats.accepted[verdict] ?? 0) + 1;
          if (verdict === 'forged') result.forged++;
          if (verdict === 'lenient-whitespace') result.lenientWhitespace++;
          if (verdict === 'non-canonical-encoding') result.nonCanonical++;
          if (verdict !== 'genuine' && verdict !== 'legit')
            example(verdict, target.name, fuzzCase, `owner ${owner}`);
          if (fuzzCase.expect !== undefined && fuzzCase.expect === owner) stats.genuineAccepted++;
        }
        const gets = Number(reply.headers.get('x-gets') ?? 0);
        if (!target.sealed && gets > 0) {
          const verdict = judgeStoreRead(fuzzCase.lines, target.cookieName);
          bump(stats.storeReads, verdict);
          if (verdict === 'malformed') {
            result.storeReadsForMalformed++;
            example('store-read-for-malformed', target.name, fuzzCase, `${gets} reads`);
          }
          if (verdict === 'lenient-whitespace')
            example('store-read-lenient-whitespace', target.name, fuzzCase, `${gets} reads`);
        }
      }
      connection.close();
    };
    await Promise.all(Array.from({ length: options.connections }, worker));
  };

  try {
    await Promise.all(targets.map(runTarget));
  } finally {
    result.durationMs = Math.round(performance.now() - started);
    if (crashed) result.crashes = 1;
    else {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    }
  }
  return result;
}
