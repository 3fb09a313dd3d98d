/**
 * The shop's catalog: a dozen products, prices in integer cents (no floating-point money).
 */

/** One product. `price` is in cents. */
export interface Product {
  readonly sku: string;
  readonly name: string;
  readonly price: number;
  readonly blurb: string;
}

/** Every product, in catalog order. */
export const PRODUCTS: readonly Product[] = [
  { sku: 'sencha', name: 'Sencha green tea', price: 850, blurb: 'Steamed Japanese leaf, 100 g' },
  { sku: 'assam', name: 'Assam breakfast tea', price: 720, blurb: 'Malty and strong, 125 g' },
  { sku: 'earl-grey', name: 'Earl Grey', price: 790, blurb: 'Black tea with bergamot, 100 g' },
  { sku: 'coffee', name: 'Ethiopian coffee beans', price: 1190, blurb: 'Light roast, 250 g' },
  { sku: 'mug', name: 'Stoneware mug', price: 1400, blurb: 'Glazed by hand, 350 ml' },
  { sku: 'teapot', name: 'Cast-iron teapot', price: 3900, blurb: 'With a steel infuser, 0.8 l' },
  { sku: 'kettle', name: 'Gooseneck kettle', price: 5400, blurb: 'For a slow, even pour, 1 l' },
  { sku: 'honey', name: 'Wildflower honey', price: 940, blurb: 'From one apiary, 250 g' },
  { sku: 'shortbread', name: 'Shortbread biscuits', price: 480, blurb: 'Butter, sugar, flour, 200 g' },
  { sku: 'notebook', name: 'Dotted notebook', price: 1250, blurb: 'A5, 192 pages' },
  { sku: 'fountain-pen', name: 'Fountain pen', price: 2400, blurb: 'Steel nib, blue ink' },
  { sku: 'tote', name: 'Canvas tote bag', price: 1600, blurb: 'Carries all of the above' },
];

const BY_SKU = new Map(PRODUCTS.map((product) => [product.sku, product]));

/** The product with this SKU, or `undefined`. */
export function productOf(sku: string): Product | undefined {
  return BY_SKU.get(sku);
}

const EURO = new Intl.NumberFormat('en-IE', { style: 'currency', currency: 'EUR' });

/** Formats cents as a price, e.g. `€8.50`. */
export function formatPrice(cents: number): string {
  return EURO.format(cents / 100);
}
