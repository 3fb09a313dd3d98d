/**
 * The cart as it lives in the session, and the validation of what clients send. Every function is
 * pure: the cart value is deep-frozen in the session and only ever replaced through `session.update`.
 */
import { type Product, productOf } from './catalog.js';
import { ShopError } from './errors.js';

/** One line of the cart. */
export interface CartLine {
  sku: string;
  qty: number;
}

/** What the shop keeps in the session (types `session.get`/`set`/`update`). */
export type ShopData = { cart: CartLine[] };

/** The most of one product a cart may hold. */
export const MAX_QTY = 99;

/** The product named by `value`, or a 400 naming what is wrong. */
export function requireProduct(value: unknown): Product {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ShopError(400, '"sku" must be a product SKU string (see GET /api/products)');
  }
  const product = productOf(value);
  if (product === undefined) {
    throw new ShopError(400, `unknown SKU ${JSON.stringify(value.slice(0, 40))} (see GET /api/products)`);
  }
  return product;
}

/** `value` as a quantity from 1 to 99, or a 400. */
export function requireQty(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_QTY) {
    throw new ShopError(400, `"qty" must be a whole number from 1 to ${MAX_QTY}, got ${describe(value)}`);
  }
  return value;
}

/** The request body as an object, or a 400 (no body, an array, a string...). */
export function requireObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ShopError(400, 'the body must be a JSON object sent with Content-Type: application/json');
  }
  return Object.fromEntries(Object.entries(body));
}

/** `cart` with `qty` more of `product`; a 400 when the line would exceed the maximum. */
export function addToCart(cart: readonly CartLine[] | undefined, product: Product, qty: number): CartLine[] {
  const lines = cart ?? [];
  const had = lines.find((line) => line.sku === product.sku)?.qty ?? 0;
  if (had + qty > MAX_QTY) {
    throw new ShopError(
      400,
      `your cart holds ${had} × ${product.name} and at most ${MAX_QTY} of one product fit: ${qty} more cannot be added`,
    );
  }
  return had === 0
    ? [...lines, { sku: product.sku, qty }]
    : lines.map((line) => (line.sku === product.sku ? { sku: line.sku, qty: had + qty } : line));
}

/** `cart` with the quantity of `product` set to `qty` (added when missing). */
export function setQuantity(
  cart: readonly CartLine[] | undefined,
  product: Product,
  qty: number,
): CartLine[] {
  const lines = cart ?? [];
  if (!lines.some((line) => line.sku === product.sku)) return [...lines, { sku: product.sku, qty }];
  return lines.map((line) => (line.sku === product.sku ? { sku: line.sku, qty } : line));
}

/** `cart` without `product`. */
export function removeFromCart(cart: readonly CartLine[] | undefined, product: Product): CartLine[] {
  return (cart ?? []).filter((line) => line.sku !== product.sku);
}

/** The API's view of a cart: its lines and how many items they hold. */
export function cartSummary(cart: readonly CartLine[] | undefined): { items: CartLine[]; count: number } {
  const items = (cart ?? []).map(({ sku, qty }) => ({ sku, qty }));
  return { items, count: items.reduce((sum, line) => sum + line.qty, 0) };
}

/** The cart's total price in cents (lines of products no longer sold count nothing). */
export function cartTotal(cart: readonly CartLine[] | undefined): number {
  return (cart ?? []).reduce((sum, line) => sum + (productOf(line.sku)?.price ?? 0) * line.qty, 0);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? typeof value : text.slice(0, 40);
}
