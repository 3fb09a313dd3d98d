// A Server Component: it reads the session (read-only) and renders the cart and the login state.
import { addToCart, login, logout } from './actions';
import { products } from './catalog';
import { shop } from './session';

function price(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

export default async function ShopPage({ searchParams }: { searchParams: Promise<{ login?: string }> }) {
  const session = await shop.read();
  const cart = session.get('cart') ?? [];
  const { login: loginState } = await searchParams;
  const total = cart.reduce((sum, id) => sum + (products.find((p) => p.id === id)?.cents ?? 0), 0);
  return (
    <main>
      <h1>Tea shop</h1>
      {session.userId === undefined ? (
        <form action={login}>
          <input name="user" placeholder="user (ada)" aria-label="user" />{' '}
          <input name="password" type="password" placeholder="password (lovelace)" aria-label="password" />{' '}
          <button type="submit">Log in</button>
          {loginState === 'failed' ? <p role="alert">Wrong user or password.</p> : null}
        </form>
      ) : (
        <form action={logout}>
          Signed in as <strong id="user">{session.userId}</strong> <button type="submit">Log out</button>
        </form>
      )}
      <ul>
        {products.map((product) => (
          <li key={product.id}>
            <form action={addToCart}>
              <input type="hidden" name="product" value={product.id} />
              {product.name} — {price(product.cents)} <button type="submit">Add {product.id}</button>
            </form>
          </li>
        ))}
      </ul>
      <h2>
        Cart (<span id="count">{cart.length}</span>)
      </h2>
      <ul id="cart">
        {products
          .filter((product) => cart.includes(product.id))
          .map((product) => (
            <li key={product.id}>
              {product.name} × {cart.filter((id) => id === product.id).length}
            </li>
          ))}
      </ul>
      <p>
        Total: <span id="total">{price(total)}</span>
      </p>
    </main>
  );
}
