// Type tests: compiled by `tsc`, never run. Each `@ts-expect-error` line must fail to compile.
//
// An augmentation of FastifySessionTypes is program-wide, and this repository's program also holds
// the benchmarks (other session data), so it is left open here: these tests check each link of the
// chain (augmentation → FastifySessionData → request.session and the plugin's options) separately.
// fastify.test.ts compiles a small app that augments it and checks the same lines end to end.
import Fastify, { type FastifyRequest } from 'fastify';
import { createSessionManager } from '../core/manager.js';
import type { Session, SessionManager, UntypedSessionData } from '../core/types.js';
import { createMemoryStore } from '../stores/memory.js';
import {
  type FastifyRequestSession,
  type FastifySessionData,
  type FastifySessionDataOf,
  type SessionPluginOptions,
  sessionPlugin,
} from './fastify.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectTrue<T extends true>(): T | undefined {
  return undefined;
}

type Cart = { cart: string[]; visits: number };

// The `data` member of the augmented interface is the session data type.
expectTrue<Equal<FastifySessionDataOf<{ data: Cart }>, Cart>>();
// Without it (the default), any JSON object.
expectTrue<Equal<FastifySessionDataOf<object>, UntypedSessionData>>();
expectTrue<Equal<FastifySessionData, FastifySessionDataOf<import('./fastify.js').FastifySessionTypes>>>();
// request.session is a Session of that data type.
expectTrue<Equal<FastifyRequest['session'], Session<FastifySessionData>>>();
expectTrue<Equal<FastifyRequestSession, Session<FastifySessionData>>>();

declare const cartSession: Session<FastifySessionDataOf<{ data: Cart }>>;
const items: string[] | undefined = cartSession.get('cart');
cartSession.set('visits', 2);
// @ts-expect-error `visits` holds a number.
cartSession.set('visits', 'two');
// @ts-expect-error `note` is not a key of the app's session data.
cartSession.get('note');
// @ts-expect-error `cart` is a string array, not a number.
const wrong: number | undefined = cartSession.get('cart');

const app = Fastify();
app.register(sessionPlugin, { manager: createSessionManager<Cart>({ store: createMemoryStore() }) });
// @ts-expect-error the plugin needs a manager.
app.register(sessionPlugin, {});
// @ts-expect-error the manager must be a SessionManager.
app.register(sessionPlugin, { manager: { load: () => null } });
// The options name the manager type: open by default, the declared data once augmented.
expectTrue<Equal<SessionPluginOptions<Cart>['manager'], SessionManager<Cart>>>();

app.get('/', async (request) => {
  const session: Session<Cart> = request.getDecorator<Session<Cart>>('session');
  return { items, wrong, visits: session.get('visits'), id: request.session.id };
});

// The opt-out flag is typed route config.
app.get('/health', { config: { session: false } }, async () => 'ok');
// @ts-expect-error `config.session` is a boolean.
app.get('/bad', { config: { session: 'no' } }, async () => 'ok');
