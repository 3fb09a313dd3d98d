/** sessionkit on node:http (`withSession`), store from BENCH_STORE. */
import { createServer } from 'node:http';
import { act, keyValueAccess, serve, start } from './harness.js';
import { createBenchManager } from './sessionkit-manager.js';

start(async () => {
  const [{ withSession }, { manager, close }] = await Promise.all([
    import('sessionkit/node'),
    createBenchManager(),
  ]);
  const handler = withSession(manager, async (req, res, session) => {
    const outcome = act(req.url, keyValueAccess(session));
    res.writeHead(outcome.status, { 'content-type': 'text/plain' });
    res.end(outcome.body);
  });
  serve(createServer(handler), close);
});
