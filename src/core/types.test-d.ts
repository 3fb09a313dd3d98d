/** Type tests (compiled by `tsc`, never run): session data types flow from the manager into the session. */
import { createSessionManager } from '../index.js';
import { createMemoryStore } from '../stores/memory.js';
import type { Session } from './types.js';

interface ShopData {
  cart: Array<{ sku: string; qty: number }>;
  visits: number;
}

export async function typed(): Promise<void> {
  const manager = createSessionManager<ShopData>({ store: createMemoryStore() });
  const session: Session<ShopData> = await manager.load(undefined);
  session.set('visits', 1);
  const visits: number | undefined = session.get('visits');
  const cart = await session.update('cart', (cart = []) => [...cart, { sku: 'tea', qty: 1 }]);
  cart.push({ sku: 'x', qty: 1 });
  // @ts-expect-error a value of the wrong type
  session.set('visits', 'many');
  // @ts-expect-error a key the data type does not have
  session.get('nope');
  // @ts-expect-error update must return the key's type
  await session.update('visits', () => 'x');
  void visits;
}

export async function untyped(): Promise<void> {
  const manager = createSessionManager({ store: createMemoryStore() });
  const session = await manager.load(undefined);
  session.set('anything', { nested: [1, 2] });
  const value: unknown = session.get('whatever');
  void value;
}
