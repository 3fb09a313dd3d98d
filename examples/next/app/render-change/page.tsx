// What a Server Component gets when it tries to change the session: Next.js cannot set cookies
// while it renders, so shop.change() refuses with ERR_SESSION_STATE before touching the store.
// Change the session in a Server Action or Route Handler instead (see ../actions.ts).
import { isSessionError } from 'sessionkit';
import { shop } from '../session';

export default async function RenderChangePage() {
  let outcome: string;
  try {
    await shop.change((session) => session.set('cart', []));
    outcome = 'changed';
  } catch (error) {
    if (!isSessionError(error)) throw error;
    outcome = error.code;
  }
  const cart = (await shop.read()).get('cart') ?? [];
  return (
    <main>
      <p>
        change() during a render: <code id="outcome">{outcome}</code>
      </p>
      <p>
        The cart still holds <span id="count">{cart.length}</span> item(s).
      </p>
    </main>
  );
}
