/**
 * A closed-loop load: every visitor runs one operation after another (sometimes a burst of parallel
 * ones) until stopped, while the caller moves the run through its phases.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { DIAGNOSTICS_CHANNEL } from '../../src/index.js';
import type { Tally } from './tally.js';
import type { Visitor } from './visitor.js';

/** A running load. */
export interface Load {
  /** Stops the loops and waits for the requests in flight. */
  stop(): Promise<void>;
}

/** Options of `startLoad`. */
export interface LoadOptions {
  /** Chance that a step is a burst of 2–4 parallel operations instead of one. @default 0 */
  burstChance?: number;
}

/** Starts every visitor's loop. */
export function startLoad(visitors: readonly Visitor[], options: LoadOptions = {}): Load {
  let running = true;
  const burstChance = options.burstChance ?? 0;
  const loops = visitors.map(async (visitor) => {
    while (running) {
      if (Math.random() < burstChance)
        await visitor.burst(visitor.randomBurst(2 + Math.floor(Math.random() * 3)));
      else await visitor.run(visitor.randomOperation());
      // A visitor whose session could not be started (store down) must not spin.
      if (!visitor.active) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Counts sessionkit diagnostics events by type (store errors also by reason) and by tally phase. */
export class EventCounter {
  readonly counts = new Map<string, number>();
  readonly #listener: (message: unknown) => void;

  constructor(private readonly tally?: Tally) {
    this.#listener = (message) => {
      if (typeof message !== 'object' || message === null || !('type' in message)) return;
      const type = String(message.type);
      const reason = 'reason' in message && message.reason !== undefined ? `:${String(message.reason)}` : '';
      const name =
        type === 'store-error' || type === 'cache-error' || type === 'rejected' ? `${type}${reason}` : type;
      this.#add(name);
      if (this.tally !== undefined) this.#add(`${this.tally.phase}/${type}`);
    };
    subscribe(DIAGNOSTICS_CHANNEL, this.#listener);
  }

  #add(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }

  /** Counts whose name starts with `prefix`, summed. */
  sum(prefix: string): number {
    let total = 0;
    for (const [name, count] of this.counts) if (name.startsWith(prefix)) total += count;
    return total;
  }

  close(): void {
    unsubscribe(DIAGNOSTICS_CHANNEL, this.#listener);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort());
  }
}
