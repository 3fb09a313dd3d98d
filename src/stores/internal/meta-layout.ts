/**
 * The stored layout of a record's meta. Written compact:
 *
 *   {"t":[createdAt, lastSeenAt − createdAt, idleExpiresAt − lastSeenAt, absoluteExpiresAt − createdAt
 *         (, expiresAt − createdAt)], "a":audience, "u":userId, …every other field by its own name}
 *
 * expiresAt is left out when it is the earlier of the two expiries (as the core sets it for a live
 * session). The five timestamps are 13-digit epoch ms each under a long name; as one base and small
 * differences they take a third of the text (bench/growth/footprint.ts). `successor` keeps its name:
 * the SQL stores read `meta.successor` in their statements. The long layout, the meta object as it is
 * (what stores wrote before), is still read, and is written when the compact one would not give back
 * exactly the same numbers.
 */
import type { SessionMeta } from '../../core/store-contract.js';

/** The compact layout of `meta`, or `undefined` when it would not decode to the same meta. */
export function compactMeta(meta: SessionMeta): Record<string, unknown> | undefined {
  const {
    createdAt: c,
    lastSeenAt: l,
    idleExpiresAt: i,
    absoluteExpiresAt: x,
    expiresAt: e,
    ...named
  } = meta;
  const { audience, userId, ...rest } = named;
  if ('t' in rest || 'a' in rest || 'u' in rest) return undefined;
  const times = [c, l - c, i - l, x - c];
  if (e !== Math.min(i, x)) times.push(e - c);
  const back = timesOf(times);
  if (
    back === undefined ||
    back.createdAt !== c ||
    back.lastSeenAt !== l ||
    back.idleExpiresAt !== i ||
    back.absoluteExpiresAt !== x ||
    back.expiresAt !== e
  ) {
    return undefined;
  }
  return { t: times, a: audience, u: userId, ...rest };
}

/**
 * A stored meta object in the shape of `SessionMeta`: the compact layout expanded, the long one as it
 * is. Nothing is checked here beyond the times array; the record codec checks the result.
 */
export function expandMeta(stored: Record<string, unknown>): unknown {
  if (!('t' in stored)) return stored;
  const { t, a, u, ...rest } = stored;
  const times = Array.isArray(t) ? timesOf(t) : undefined;
  if (times === undefined) return undefined;
  return {
    ...rest,
    ...times,
    ...(a === undefined ? {} : { audience: a }),
    ...(u === undefined ? {} : { userId: u }),
  };
}

type Times = Pick<
  SessionMeta,
  'createdAt' | 'lastSeenAt' | 'idleExpiresAt' | 'absoluteExpiresAt' | 'expiresAt'
>;

/** The timestamps a times array stands for; `undefined` unless it holds four or five numbers. */
function timesOf(times: readonly unknown[]): Times | undefined {
  const [c, dl, di, dx, de] = times;
  if (times.length < 4 || times.length > 5) return undefined;
  if (typeof c !== 'number' || typeof dl !== 'number' || typeof di !== 'number' || typeof dx !== 'number') {
    return undefined;
  }
  if (de !== undefined && typeof de !== 'number') return undefined;
  const lastSeenAt = c + dl;
  const idleExpiresAt = lastSeenAt + di;
  const absoluteExpiresAt = c + dx;
  const expiresAt = de === undefined ? Math.min(idleExpiresAt, absoluteExpiresAt) : c + de;
  return { createdAt: c, lastSeenAt, idleExpiresAt, absoluteExpiresAt, expiresAt };
}
