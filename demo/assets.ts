/**
 * The pages' stylesheet and script, inlined (with a CSP nonce) so the demo needs no build and no
 * static files.
 */

/** Product swatch colours; product `i` uses `.swatch-<i mod 12>`. */
const SWATCHES = [
  '#4f7d4a',
  '#8a5a2b',
  '#3d5a80',
  '#5b3a29',
  '#c06c54',
  '#2f3e46',
  '#7a6c5d',
  '#d1a73c',
  '#b08968',
  '#6d597a',
  '#355070',
  '#6b8f71',
];

/** The stylesheet of every page. */
export const STYLES = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
  color:#1f2421;background:#f5f2ec}
a{color:#245c3b}
code,.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;font-size:.86em}
.dev{background:#fff3cd;color:#5c4500;border-bottom:1px solid #ecd58a;padding:.35rem 1.25rem;font-size:.84rem;
  overflow-wrap:anywhere}
header{background:#1f3d2b;color:#fff}
header .bar{max-width:1180px;margin:0 auto;padding:.8rem 1.25rem;display:flex;flex-wrap:wrap;gap:.6rem 1.5rem;
  align-items:center}
header .brand{font-weight:700;font-size:1.15rem;color:#fff;text-decoration:none;letter-spacing:.01em}
header .brand small{font-weight:400;opacity:.7;font-size:.8rem;margin-left:.4rem}
header nav{display:flex;flex-wrap:wrap;gap:.2rem 1.1rem;flex:1 1 auto}
header nav a{color:#dfe9e2;text-decoration:none;padding:.2rem 0;border-bottom:2px solid transparent}
header nav a.active{color:#fff;border-bottom-color:#9fd3a9}
header .who{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;font-size:.9rem;min-width:0;
  overflow-wrap:anywhere}
header .who form{margin:0}
header .who button,header .who a{background:transparent;color:#fff;border:1px solid #5d7d69;border-radius:6px;
  padding:.2rem .7rem;text-decoration:none;font-size:.9rem}
header .who a.active{border-color:#9fd3a9}
.badge{background:#9fd3a9;color:#123020;border-radius:999px;padding:0 .5rem;font-size:.8rem;font-weight:600;
  white-space:nowrap}
.page{max-width:1180px;margin:0 auto;padding:1.25rem;display:grid;grid-template-columns:1fr 320px;gap:1.5rem;
  align-items:start}
.page>*{min-width:0}
@media (max-width:900px){.page{grid-template-columns:1fr}}
@media (max-width:560px){header .bar,.page{padding-left:.75rem;padding-right:.75rem}header .bar{gap:.5rem 1rem}}
@media (max-width:560px){
  table.stack,table.stack tbody,table.stack tfoot,table.stack tr,table.stack td{display:block;width:100%}
  table.stack thead{display:none}
  table.stack tr{padding:.4rem 0;border-bottom:1px solid #eee8dd}
  table.stack td{border:0;padding:.2rem .75rem;text-align:left}
  table.stack td:empty{display:none}
  table.stack td[data-label]::before{content:attr(data-label) ": ";color:#6b6458;font-size:.8rem}
}
h1{font-size:1.45rem;margin:.2rem 0 1rem}
.notice{border-radius:8px;padding:.6rem .9rem;margin:0 0 1rem;background:#e3f1e5;border:1px solid #b5d8bb;color:#1d4a2a}
.notice.error{background:#fbe4e1;border-color:#eab5ad;color:#7a2014}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(196px,1fr));gap:1rem}
.card{background:#fff;border:1px solid #e4ded3;border-radius:10px;padding:.9rem;display:flex;flex-direction:column;gap:.35rem}
.card h2{font-size:1rem;margin:.3rem 0 0}
.card p{margin:0;color:#6b6458;font-size:.85rem}
.card .price{font-weight:700;font-size:1.05rem;color:#1f2421}
.card form{display:flex;gap:.4rem;margin-top:auto;padding-top:.4rem}
.swatch{width:44px;height:44px;border-radius:50%;display:grid;place-items:center;color:#fff;font-weight:700;
  font-size:.9rem;letter-spacing:.02em}
${SWATCHES.map((colour, i) => `.swatch-${i}{background:${colour}}`).join('')}
input[type=number]{width:4.2rem}
input{font:inherit;padding:.3rem .45rem;border:1px solid #c9c1b3;border-radius:6px;background:#fff}
button{font:inherit;cursor:pointer;border:0;border-radius:6px;padding:.35rem .8rem;background:#245c3b;color:#fff}
button.quiet{background:#ece6db;color:#3b362f}
button.danger{background:#a33a2a}
button:disabled{opacity:.55;cursor:wait}
.panel,.box{background:#fff;border:1px solid #e4ded3;border-radius:10px;padding:1rem}
.box p{margin:0 0 .6rem}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #e4ded3;border-radius:10px;overflow:hidden}
th,td{text-align:left;padding:.6rem .75rem;border-bottom:1px solid #eee8dd;vertical-align:middle}
th{font-size:.78rem;text-transform:uppercase;letter-spacing:.05em;color:#6b6458;background:#faf8f4}
td.num,th.num{text-align:right}
td form{display:inline-flex;gap:.35rem;margin:0}
tfoot td{font-weight:700;border-bottom:0}
.product{display:flex;gap:.7rem;align-items:center}
.product .swatch{width:32px;height:32px;font-size:.72rem}
.actions{margin-top:1rem;display:flex;gap:.8rem;align-items:center}
aside h2{font-size:1rem;margin:0 0 .2rem}
aside .lead{margin:0 0 .7rem;color:#6b6458;font-size:.82rem}
aside dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:.35rem .7rem;font-size:.85rem}
aside dt{color:#6b6458}
aside dd{margin:0;overflow-wrap:anywhere}
aside .hint{margin:.8rem 0 0;font-size:.78rem;color:#6b6458}
.muted{color:#6b6458}
.login{max-width:420px}
.login form{display:flex;gap:.5rem;margin-top:.6rem}
.login input{flex:1}
`;

/**
 * The pages' script: every `<form data-path>` becomes a JSON API call carrying the CSRF token in
 * `x-csrf-token`; on success the page reloads (or goes to `data-next`) so the server renders the new
 * state and the flash message; on failure the API's message is shown. `window.shop.api` is the same
 * call, for the console and the browser tests.
 */
export const SCRIPT = `
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const notice = document.getElementById('notice');
  async function api(method, path, body) {
    const headers = { 'x-csrf-token': csrf };
    const init = { method, headers };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.error) || response.status + ' ' + response.statusText);
    return data;
  }
  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.path) return;
    event.preventDefault();
    const fields = Array.from(form.elements).filter((field) => field.name);
    const body = fields.length === 0 ? undefined : Object.fromEntries(
      fields.map((field) => [field.name, field.type === 'number' ? field.valueAsNumber : field.type === 'checkbox' ? field.checked : field.value]),
    );
    const buttons = form.querySelectorAll('button');
    buttons.forEach((button) => { button.disabled = true; });
    try {
      await api(form.dataset.method || 'POST', form.dataset.path, body);
      if (form.dataset.next) location.assign(form.dataset.next);
      else location.reload();
    } catch (error) {
      notice.textContent = error.message.charAt(0).toUpperCase() + error.message.slice(1);
      notice.className = 'notice error';
      notice.hidden = false;
      buttons.forEach((button) => { button.disabled = false; });
    }
  });
  window.shop = { api };
})();
`;
