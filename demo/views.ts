/**
 * The shop's pages, rendered on the server. Actions are `<form data-path>` elements that the inline
 * script turns into JSON API calls (see assets.ts).
 */
import type { UserSessionInfo } from '../src/index.js';
import { SCRIPT, STYLES } from './assets.js';
import { type CartLine, cartSummary, cartTotal, MAX_QTY } from './cart.js';
import { formatPrice, PRODUCTS, type Product, productOf } from './catalog.js';
import { Html, html } from './html.js';

/** What the "About this session" panel shows. */
export interface AboutSession {
  id: string;
  isNew: boolean;
  store: string;
  version: number;
  createdAt: number;
  idleExpiresAt: number;
  absoluteExpiresAt: number;
  rotations: number;
  user: string | undefined;
  authAgeSeconds: number | undefined;
  cookieName: string;
  secureCookie: boolean;
}

/** What every page needs besides its body. */
export interface PageFrame {
  title: string;
  active: 'catalog' | 'cart' | 'login' | 'sessions';
  nonce: string;
  csrfToken: string;
  user: string | undefined;
  cartCount: number;
  notice: string | undefined;
  about: AboutSession;
  now: number;
}

/** What the "Your sessions" page can show. */
export type SessionsView =
  | { state: 'anonymous' }
  | { state: 'unsupported'; store: string }
  | { state: 'list'; sessions: UserSessionInfo[] };

/** A whole page: header, notice, body and the session panel. */
export function renderPage(frame: PageFrame, body: Html): string {
  const nav = (page: PageFrame['active'], href: string, label: Html | string) =>
    html`<a href="${href}" class="${frame.active === page ? 'active' : ''}">${label}</a>`;
  return htmlDocument(
    frame.title,
    frame.nonce,
    frame.csrfToken,
    html`${
      frame.about.secureCookie
        ? null
        : html`<div class="dev">Development mode: plain HTTP on localhost, so the session cookie
  <code>${frame.about.cookieName}</code> is sent without <code>Secure</code> (<code>insecureDevCookies</code>).
  Behind an HTTPS proxy, start with <code>TRUST_PROXY=1</code>.</div>`
    }
<header><div class="bar">
  <a class="brand" href="/">Kettle &amp; Co.<small>a sessionkit demo</small></a>
  <nav>${nav('catalog', '/', 'Catalog')}${nav('cart', '/cart', html`Cart <span class="badge" id="cart-count">${frame.cartCount}</span>`)}${nav('sessions', '/sessions', 'Your sessions')}</nav>
  <div class="who">${
    frame.user === undefined
      ? nav('login', '/login', 'Log in')
      : html`<span>Signed in as <strong id="user">${frame.user}</strong></span>
    <form data-path="/api/logout" data-next="/"><button type="submit">Log out</button></form>`
  }</div>
</div></header>
<div class="page">
  <main>
    <div id="notice" role="status" class="notice" ${frame.notice === undefined ? html`hidden` : null}>${frame.notice}</div>
    ${body}
  </main>
  ${aboutPanel(frame.about, frame.now)}
</div>`,
  );
}

/** The page shown when a request fails (no session panel: the session may be what failed). */
export function renderErrorPage(nonce: string, status: number, message: string): string {
  return htmlDocument(
    `Error ${status}`,
    nonce,
    '',
    html`<header><div class="bar"><a class="brand" href="/">Kettle &amp; Co.<small>a sessionkit demo</small></a></div></header>
<div class="page"><main><h1>Error ${status}</h1><div class="notice error">${message}</div>
<p><a href="/">Back to the catalog</a></p></main></div>`,
  );
}

/** The catalog: every product with an add-to-cart form. */
export function catalogBody(): Html {
  return html`<h1>Catalog</h1>
<div class="grid">${PRODUCTS.map(
    (product, i) => html`<article class="card" data-sku="${product.sku}">
  ${swatch(product, i)}
  <h2>${product.name}</h2>
  <p>${product.blurb}</p>
  <div class="price">${formatPrice(product.price)}</div>
  <form data-path="/api/cart/items">
    <input type="hidden" name="sku" value="${product.sku}">
    <input type="number" name="qty" value="1" min="1" max="${MAX_QTY}" required aria-label="Quantity of ${product.name}">
    <button type="submit">Add to cart</button>
  </form>
</article>`,
  )}</div>`;
}

/** The cart: lines with quantity and remove forms, and the totals. */
export function cartBody(cart: readonly CartLine[] | undefined): Html {
  const { items, count } = cartSummary(cart);
  if (items.length === 0) {
    return html`<h1>Your cart</h1><div class="box"><p>Your cart is empty.</p><a href="/">Browse the catalog</a></div>`;
  }
  const rows = items.map((line) => {
    const product = productOf(line.sku);
    if (product === undefined) return null;
    const path = `/api/cart/items/${encodeURIComponent(product.sku)}`;
    return html`<tr data-sku="${product.sku}">
  <td><div class="product">${swatch(product, PRODUCTS.indexOf(product))}<span>${product.name}</span></div></td>
  <td class="num" data-label="Price">${formatPrice(product.price)}</td>
  <td><form data-path="${path}" data-method="PUT">
    <input type="number" name="qty" value="${line.qty}" min="1" max="${MAX_QTY}" required aria-label="Quantity of ${product.name}">
    <button type="submit" class="quiet">Update</button></form></td>
  <td class="num qty-total" data-label="Subtotal">${formatPrice(product.price * line.qty)}</td>
  <td><form data-path="${path}" data-method="DELETE"><button type="submit" class="quiet">Remove</button></form></td>
</tr>`;
  });
  return html`<h1>Your cart</h1>
<table class="stack">
  <thead><tr><th>Product</th><th class="num">Price</th><th>Quantity</th><th class="num">Subtotal</th><th></th></tr></thead>
  <tbody>${rows}</tbody>
  <tfoot><tr><td>Total: <span id="item-count">${count}</span> ${count === 1 ? 'item' : 'items'}</td><td></td><td></td>
    <td class="num" id="cart-total" data-label="Total">${formatPrice(cartTotal(cart))}</td><td></td></tr></tfoot>
</table>
<div class="actions"><a href="/">Continue shopping</a>
  <span class="muted">The cart lives in your session: reload, restart the server, log in — it stays.</span></div>`;
}

/** The login form, or who is logged in. */
export function loginBody(user: string | undefined): Html {
  return html`<h1>Log in</h1>
<div class="box login">${
    user === undefined
      ? null
      : html`<p>You are signed in as <strong>${user}</strong>. Logging in again switches user.</p>`
  }
  <p class="muted">A user name is enough: this is a demo. Logging in gives your session a new token (watch the
  public id in the panel change) and keeps your cart.</p>
  <form data-path="/api/login" data-next="/">
    <input name="username" required maxlength="32" pattern="[A-Za-z0-9_.\\-]+" placeholder="user name" autocomplete="username" aria-label="User name">
    <label><input type="checkbox" name="remember"> Remember me</label>
    <button type="submit">Log in</button>
  </form>
</div>`;
}

/** The user's sessions with revoke buttons, or why there is no list. */
export function sessionsBody(view: SessionsView, now: number): Html {
  if (view.state === 'anonymous') {
    return html`<h1>Your sessions</h1><div class="box"><p><a href="/login">Log in</a> to see every device you are
    signed in on. Log in from a second browser to see two.</p></div>`;
  }
  if (view.state === 'unsupported') {
    return html`<h1>Your sessions</h1><div class="box"><p>The ${view.store} store keeps no per-user index, so it
    cannot list a user's sessions. Try <code>SESSION_STORE=sqlite</code>, <code>postgres</code>, <code>redis</code>
    or <code>tiered</code>.</p></div>`;
  }
  const rows = view.sessions.map(
    (session) => html`<tr data-session="${session.id}">
  <td title="${session.userAgent ?? ''}">${deviceName(session.userAgent)}</td>
  <td class="mono" data-label="Public id">${session.id.slice(0, 12)}…</td>
  <td data-label="Signed in">${when(session.authenticatedAt ?? session.createdAt, now)}</td>
  <td data-label="Last seen">${when(session.lastSeenAt, now)}</td>
  <td>${
    session.current
      ? html`<span class="badge">this device</span>`
      : html`<form data-path="/api/sessions/${session.id}" data-method="DELETE"><button type="submit" class="danger">Revoke</button></form>`
  }</td>
</tr>`,
  );
  return html`<h1>Your sessions</h1>
<table class="stack">
  <thead><tr><th>Device</th><th>Public id</th><th>Signed in</th><th>Last seen</th><th></th></tr></thead>
  <tbody>${rows}</tbody>
</table>
<p class="muted">Revoking deletes that session from the store: the other device is logged out on its next request.</p>`;
}

function htmlDocument(title: string, nonce: string, csrfToken: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="${csrfToken}">
<title>${title} · Kettle &amp; Co.</title>
<style nonce="${nonce}">${new Html(STYLES)}</style>
</head>
<body>
${body}
<script nonce="${nonce}">${new Html(SCRIPT)}</script>
</body>
</html>
`.value;
}

function aboutPanel(about: AboutSession, now: number): Html {
  const idleFirst = about.idleExpiresAt < about.absoluteExpiresAt;
  return html`<aside class="panel" id="about">
  <h2>About this session</h2>
  <p class="lead">What sessionkit knows about the session of this request.</p>
  <dl>
    <dt>Public id</dt><dd class="mono" id="about-id">${about.id}</dd>
    <dt>Store</dt><dd id="about-store">${about.store}</dd>
    <dt>Cookie</dt><dd><code>${about.cookieName}</code>, HttpOnly, SameSite=Lax${about.secureCookie ? ', Secure' : ', not Secure (dev)'}</dd>
    <dt>User</dt><dd id="about-user">${about.user ?? html`<span class="muted">anonymous</span>`}${
      about.authAgeSeconds === undefined
        ? null
        : html` <span class="muted">(signed in ${ago(about.authAgeSeconds)})</span>`
    }</dd>
    <dt>Version</dt><dd id="about-version">${about.version}${about.isNew ? html` <span class="muted">(new: saved with this response)</span>` : null}</dd>
    <dt>Created</dt><dd>${when(about.createdAt, now)}</dd>
    <dt>Idle expiry</dt><dd>${idleFirst ? when(about.idleExpiresAt, now) : html`<span class="muted">with the absolute expiry</span>`}</dd>
    <dt>Absolute expiry</dt><dd>${when(about.absoluteExpiresAt, now)}</dd>
    <dt>Token rotations</dt><dd id="about-rotations">${about.rotations}</dd>
  </dl>
  <p class="hint">The public id is a hash of the token in your cookie: safe to show, useless to an attacker. It
  changes when you log in (a new token) and when the token is rotated.</p>
</aside>`;
}

function swatch(product: Product, index: number): Html {
  const initials = product.name
    .split(/[\s-]+/)
    .slice(0, 2)
    .map((word) => word.charAt(0).toUpperCase())
    .join('');
  return html`<div class="swatch swatch-${index % 12}" aria-hidden="true">${initials}</div>`;
}

/** `14:03:22 UTC (in 29 min)` */
function when(at: number, now: number): Html {
  const iso = new Date(at).toISOString();
  const seconds = Math.round((at - now) / 1000);
  const relative = seconds >= 5 ? `in ${span(seconds)}` : ago(-seconds);
  return html`<time datetime="${iso}" title="${iso}">${iso.slice(11, 19)} UTC</time> <span class="muted">(${relative})</span>`;
}

function ago(seconds: number): string {
  return seconds < 5 ? 'just now' : `${span(seconds)} ago`;
}

function span(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

const BROWSERS: ReadonlyArray<[RegExp, string]> = [
  [/Edg\//, 'Edge'],
  [/HeadlessChrome\//, 'Headless Chrome'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Firefox\//, 'Firefox'],
  [/Safari\//, 'Safari'],
  [/^curl\//, 'curl'],
];
const SYSTEMS: ReadonlyArray<[RegExp, string]> = [
  [/Android/, 'Android'],
  [/iPhone|iPad/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X/, 'macOS'],
  [/Linux/, 'Linux'],
];

/** "Chrome on Linux" from a User-Agent header. */
function deviceName(userAgent: string | undefined): string {
  if (userAgent === undefined) return 'unknown device';
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (browser === undefined) return userAgent.slice(0, 40);
  return system === undefined ? browser : `${browser} on ${system}`;
}
