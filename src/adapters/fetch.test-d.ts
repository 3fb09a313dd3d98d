// Type tests: compiled by `tsc`, never run. Each `@ts-expect-error` line must fail to compile.
import { createSessionManager } from '../core/manager.js';
import type { Session } from '../core/types.js';
import { createMemoryStore } from '../stores/memory.js';
import { type SessionHandler, withSession } from './fetch.js';

type Cart = { cart: string[]; visits: number };
const manager = createSessionManager<Cart>({ store: createMemoryStore() });

// The manager's data type flows into the handler's session argument.
export const handler: (request: Request) => Promise<Response> = withSession(
  manager,
  async (request, session) => {
    const typed: Session<Cart> = session;
    const visits: number | undefined = session.get('visits');
    session.set('cart', ['sku-1']);
    // @ts-expect-error `visits` holds a number.
    session.set('visits', 'two');
    // @ts-expect-error `note` is not a key of the session data.
    session.get('note');
    // @ts-expect-error `cart` is a string array, not a number.
    const cart: number | undefined = typed.get('cart');
    return Response.json({ visits, cart, url: request.url });
  },
);

// A handler written for other session data does not fit the manager.
const otherHandler: SessionHandler<{ other: number }> = () => new Response();
// @ts-expect-error the handler's session type must be the manager's.
withSession(manager, otherHandler);

// @ts-expect-error the handler must return a Response.
withSession(manager, async () => 'not a response');

withSession(manager, () => new Response(), {
  onError: (error, request) => new Response(`${error.code} ${request.url}`, { status: error.status }),
});
