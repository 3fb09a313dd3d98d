// A node:http server for a Fetch API handler (Request in, Response out), for the runtimes that
// have node:http but are tested through it: Node itself, and the conformance suite's harness.
import { createServer } from 'node:http';

export function fetchServer(handler) {
  return createServer(async (req, res) => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      for (const one of Array.isArray(value) ? value : [value ?? '']) headers.append(name, one);
    }
    let response;
    try {
      response = await handler(
        new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, { headers }),
      );
    } catch {
      response = new Response('Internal Server Error', { status: 500 });
    }
    const out = [];
    for (const [name, value] of response.headers) if (name !== 'set-cookie') out.push([name, value]);
    for (const cookie of response.headers.getSetCookie()) out.push(['set-cookie', cookie]);
    res.writeHead(response.status, out.flat());
    res.end(Buffer.from(await response.arrayBuffer()));
  });
}
