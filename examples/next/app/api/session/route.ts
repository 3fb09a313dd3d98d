// A Route Handler: the session as JSON (what a client-side widget would fetch). route() saves the
// session after the handler and sends its cookies with Cache-Control: no-store.
import { shop } from '../../session';

export const GET = shop.route(async (_request, session) =>
  Response.json({ user: session.userId ?? null, cart: session.get('cart') ?? [] }),
);
