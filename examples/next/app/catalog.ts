export const products = [
  { id: 'tea', name: 'Green tea', cents: 450 },
  { id: 'mug', name: 'Stoneware mug', cents: 1200 },
  { id: 'spoon', name: 'Tea spoon', cents: 300 },
] as const;

/** The demo's only account. A real app checks a password hash from its database. */
export const demoUser = { name: 'ada', password: 'lovelace' };
