// Type tests: compiled by `tsc`, never run. Each `@ts-expect-error` line must fail to compile.
import { createCookieSessionManager } from '../cookie-session.js';
import { createSessionManager } from '../core/manager.js';
import type { Session } from '../core/types.js';
import { createMemoryStore } from '../stores/memory.js';
import { createNextSessions, type NextRequestApis, type ReadonlySession, readSession } from './next.js';

type Shop = { cart: string[]; visits: number };
declare const next: NextRequestApis;
const shop = createNextSessions(createSessionManager<Shop>({ store: createMemoryStore() }), next);

export async function page(): Promise<number> {
  const session = await shop.read();
  const cart: string[] | undefined = session.get('cart');
  // @ts-expect-error `cart` holds strings.
  const wrong: number[] | undefined = session.get('cart');
  // @ts-expect-error a read-only session has no set().
  session.set('visits', 1);
  // @ts-expect-error nor regenerate().
  await session.regenerate();
  // @ts-expect-error `note` is not a key of the session data.
  session.has('note');
  return (cart?.length ?? 0) + (wrong?.length ?? 0);
}

export async function addToCart(sku: string): Promise<number> {
  // The callback's result flows out of change().
  const size: number = await shop.change((session) => {
    const typed: Session<Shop> = session;
    typed.set('cart', [...(session.get('cart') ?? []), sku]);
    // @ts-expect-error `visits` holds a number.
    session.set('visits', 'two');
    return typed.get('cart')?.length ?? 0;
  });
  return size;
}

export const GET = shop.route<{ params: Promise<{ id: string }> }>(async (request, session, context) => {
  const { id } = await context.params;
  return Response.json({ id, url: request.url, visits: session.get('visits') });
});
// @ts-expect-error the handler must return a Response.
shop.route(() => 'not a response');

// Cookie-only managers fit too; readSession keeps the data type.
const sealed = createCookieSessionManager<Shop>({ secrets: ['x'] });
export async function proxy(request: Request): Promise<ReadonlySession<Shop>> {
  const session = await readSession(sealed, request);
  // @ts-expect-error a read-only session has no destroy().
  await session.destroy();
  return session;
}
