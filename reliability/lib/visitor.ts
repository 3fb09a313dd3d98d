/**
 * A simulated user of the load app: one cookie, one session, and a model of what that session must
 * hold. Every reply shows the session as the server sees it; the visitor checks it against the model
 * and counts every broken promise in the tally. A request that failed may or may not have been
 * applied (a timed-out write can land later), so the model keeps ranges: the counter lies in
 * [lo, hi] and each key holds one of a set of values, until a successful reply settles them.
 */
import { type SessionView, VALUE_KEYS } from './app.js';
import { CookieJar, type HttpClient, type Reply } from './http.js';
import type { Tally } from './tally.js';

interface Model {
  lo: number;
  hi: number;
  /** Possible values per key; `null` is "absent". */
  values: Map<string, Set<string | null>>;
  /** Requests sent and not answered yet. */
  pending: number;
}

/** One operation a visitor can do. */
export type Operation = { kind: 'read' } | { kind: 'incr' } | { kind: 'set'; key: string; value: string };

/** Options of a visitor. */
export interface VisitorOptions {
  /** The session cookie's name. */
  cookieName: string;
  /** Token rotation is on: a response may replace the cookie's value. */
  rotation: boolean;
}

function isView(body: unknown): body is SessionView {
  return typeof body === 'object' && body !== null && 'isNew' in body && 'owner' in body && 'values' in body;
}

function freshModel(): Model {
  const values = new Map<string, Set<string | null>>();
  for (let i = 0; i < VALUE_KEYS; i++) values.set(`k${i}`, new Set([null]));
  return { lo: 0, hi: 0, values, pending: 0 };
}

/** A simulated user. */
export class Visitor {
  readonly jar: CookieJar;
  /** Sessions this visitor had and lost (the server cleared its cookie or forgot its session). */
  lost = 0;
  /** Broken promises this visitor saw (also counted in the tally). */
  violations = 0;
  /** Whether the visitor holds a session now. */
  get active(): boolean {
    return this.#model !== undefined;
  }
  #model: Model | undefined;
  #seq = 0;

  constructor(
    readonly id: string,
    private readonly client: HttpClient,
    private readonly tally: Tally,
    private readonly options: VisitorOptions,
  ) {
    this.jar = new CookieJar(options.cookieName);
  }

  /** Creates the visitor's session (`POST /start`); resolves whether it exists now. */
  async start(): Promise<boolean> {
    const phase = this.tally.phase;
    const reply = await this.client.send('POST', `/start?owner=${this.id}`, this.#headers());
    this.tally.record(reply, phase);
    const change = this.#cookies(reply);
    if (reply.status === 200 && isView(reply.body) && reply.body.owner === this.id && this.jar.value) {
      if (change === 'set' || this.#model === undefined) this.#model = freshModel();
      return true;
    }
    return false;
  }

  /** A random operation: mostly reads, then updates and sets. */
  randomOperation(): Operation {
    const roll = Math.random();
    if (roll < 0.5) return { kind: 'read' };
    if (roll < 0.75) return { kind: 'incr' };
    return { kind: 'set', key: `k${Math.floor(Math.random() * VALUE_KEYS)}`, value: this.#value() };
  }

  /** Up to `size` operations that may run at once: `set`s of distinct keys and `incr`s. */
  randomBurst(size: number): Operation[] {
    const keys = Array.from({ length: VALUE_KEYS }, (_, i) => `k${i}`).sort(() => Math.random() - 0.5);
    return Array.from({ length: size }, (_, i): Operation => {
      const key = keys[i];
      return Math.random() < 0.5 || key === undefined
        ? { kind: 'incr' }
        : { kind: 'set', key, value: this.#value() };
    });
  }

  /** Runs one operation (starting a session first if the visitor has none). */
  async run(operation: Operation): Promise<void> {
    if (this.#model === undefined && !(await this.start())) return;
    await this.#send(operation, true);
  }

  /** Runs operations concurrently on the one session (as parallel requests from one page). */
  async burst(operations: readonly Operation[]): Promise<void> {
    if (this.#model === undefined && !(await this.start())) return;
    await Promise.all(operations.map((operation) => this.#send(operation, false)));
  }

  /**
   * Reads the session once more and checks it against the model (retrying a failed read a few times):
   * `ok`, `lost` (the server no longer knows it), `wrong` (its data differs) or `unreachable`.
   */
  async verify(): Promise<'ok' | 'lost' | 'wrong' | 'unreachable' | 'none'> {
    if (this.#model === undefined) return 'none';
    for (let attempt = 0; attempt < 5; attempt++) {
      const lostBefore = this.lost;
      const violationsBefore = this.violations;
      const reply = await this.#send({ kind: 'read' }, true);
      if (reply.status === 200) {
        if (this.lost > lostBefore) return 'lost';
        return this.violations > violationsBefore ? 'wrong' : 'ok';
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return 'unreachable';
  }

  #violation(kind: string, detail: string): void {
    this.violations++;
    this.tally.violation(kind, detail);
  }

  #value(): string {
    this.#seq++;
    return `${this.id}.${this.#seq}`;
  }

  #headers(): Record<string, string> {
    // The app trusts the proxy header, as behind a TLS-terminating proxy: the cookie keeps `Secure`.
    return { ...this.jar.header(), 'x-forwarded-proto': 'https' };
  }

  /** Applies the reply's cookies; counts a cookie on a failed reply and an unexpected token change. */
  #cookies(reply: Reply): ReturnType<CookieJar['apply']> {
    const had = this.jar.value !== undefined;
    const change = this.jar.apply(reply.setCookie);
    if (reply.status !== 200 && reply.setCookie.length > 0) {
      this.#violation(
        'cookie-on-failed-response',
        `status ${reply.status}: ${reply.setCookie.length} Set-Cookie`,
      );
    }
    if (change === 'cleared' && had) {
      this.lost++;
      this.#model = undefined;
    }
    return change;
  }

  /** Sends one operation; `alone` when nothing else of this visitor runs at the same time. */
  async #send(operation: Operation, alone: boolean): Promise<Reply> {
    const model = this.#model;
    const phase = this.tally.phase;
    // What the reply may show: at least what was confirmed before it was sent (read-your-writes),
    // at most that plus every write in flight.
    const floor = model?.lo ?? 0;
    const before = new Map([...(model?.values ?? [])].map(([key, set]) => [key, new Set(set)]));
    if (model !== undefined) begin(model, operation);
    const reply = await this.client.send(...request(operation), this.#headers());
    this.tally.record(reply, phase);
    if (reply.status === 0) this.#violation('no-response', `${this.id}: ${reply.error ?? 'no reply'}`);
    const change = this.#cookies(reply);
    if (model === undefined || this.#model !== model) return reply;
    model.pending--;
    if (reply.status !== 200) return reply;
    confirm(model, operation);
    if (!isView(reply.body)) {
      this.#violation('bad-body', `${this.id}: ${JSON.stringify(reply.body).slice(0, 80)}`);
      return reply;
    }
    const body = reply.body;
    if (body.owner === null && change !== 'cleared') {
      // The server no longer knew the session: the session is lost (judged against the scenario's loss
      // promise). A write started a new, anonymous one under a new cookie, or a read kept the unknown
      // cookie (refused store-backed cookies are never cleared: docs/decisions.md). The visitor starts
      // over, as a user who logs in again.
      this.lost++;
      // How long the request took tells a token that outlived the grace window in a queue (slow
      // machine) from a session the store forgot.
      const ms = Math.round(reply.endedAt - reply.startedAt);
      this.tally.note(
        `lost: ${this.id} ${operation.kind} (${alone ? 'alone' : 'in a burst'}), reply after ${ms} ms`,
      );
      this.#model = undefined;
      this.jar.value = undefined;
      return reply;
    }
    if (change === 'changed' && !this.options.rotation) {
      this.#violation('cookie-replaced', `${this.id} got a new token without rotation`);
    }
    if (body.owner !== this.id) {
      // The cookie was kept (not cleared), yet the session is not this visitor's.
      const kind = body.owner === null ? 'fresh-session-kept-cookie' : 'foreign-session';
      this.#violation(kind, `${this.id} got owner ${String(body.owner)} (cookie change: ${change})`);
      return reply;
    }
    // Above the model: a write answered with a failure that landed after a later read had not shown
    // it (`late-write`). Below it: an acknowledged write is gone or a read is stale (`counter`, `value`).
    if (body.n === null || body.n < floor || body.n > model.hi) {
      const kind = body.n !== null && body.n > model.hi ? 'late-write' : 'counter';
      this.#violation(kind, `${this.id}: n=${String(body.n)} outside [${floor}, ${model.hi}]`);
    }
    for (const [key, possible] of model.values) {
      const actual = body.values[key] ?? null;
      if (!possible.has(actual) && !before.get(key)?.has(actual)) {
        const kind = newerThanAll(actual, [...possible, ...(before.get(key) ?? [])]) ? 'late-write' : 'value';
        this.#violation(kind, `${this.id}: ${key}=${String(actual)} not in {${[...possible].join(', ')}}`);
      }
    }
    // A reply to a request that ran alone is the whole truth: later checks compare against it exactly.
    if (alone && model.pending === 0 && body.n !== null) {
      model.lo = body.n;
      model.hi = body.n;
      for (const key of model.values.keys()) model.values.set(key, new Set([body.values[key] ?? null]));
    }
    return reply;
  }
}

function request(operation: Operation): [string, string] {
  switch (operation.kind) {
    case 'read':
      return ['GET', '/s'];
    case 'incr':
      return ['POST', '/incr'];
    case 'set':
      return ['POST', `/set?k=${operation.key}&v=${encodeURIComponent(operation.value)}`];
  }
}

/** An operation in flight may or may not have been applied. */
function begin(model: Model, operation: Operation): void {
  model.pending++;
  if (operation.kind === 'incr') model.hi++;
  if (operation.kind === 'set') model.values.get(operation.key)?.add(operation.value);
}

/** A successful reply: the operation was applied. */
function confirm(model: Model, operation: Operation): void {
  if (operation.kind === 'incr') model.lo++;
  if (operation.kind === 'set') model.values.set(operation.key, new Set([operation.value]));
}

/** Sequence number of a value `<visitor>.<seq>` (values only grow), or -1 for none. */
function sequence(value: string | null): number {
  const seq = value === null ? Number.NaN : Number(value.slice(value.lastIndexOf('.') + 1));
  return Number.isNaN(seq) ? -1 : seq;
}

/** Whether `actual` was written after every value in `known`. */
function newerThanAll(actual: string | null, known: ReadonlyArray<string | null>): boolean {
  return actual !== null && known.every((value) => sequence(actual) > sequence(value));
}
