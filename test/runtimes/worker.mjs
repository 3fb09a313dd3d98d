// The matrix app as a Cloudflare Worker (bundled by matrix.test.mjs with esbuild, run in workerd
// through miniflare with nodejs_compat). The STORE binding picks memory or cookie-only sessions.
import { createApp } from './app.mjs';

let app;
export default {
  fetch(request, env) {
    app ??= createApp(env.STORE);
    return app.fetch(request);
  },
};
