// sessionkit's adapter conformance suite, from the built package, for sessionkit/fetch on the
// runtime that runs this file (node:test and node:http: Node 20/22, Deno; see matrix.test.mjs).
import { withSession } from 'sessionkit/fetch';
import { describeAdapterConformance, listenHarness } from 'sessionkit/testing';
import { fetchServer } from './node-bridge.mjs';

function send(result) {
  const headers = new Headers({ 'content-type': 'application/json' });
  for (const [name, value] of Object.entries(result.headers ?? {})) headers.append(name, value);
  return new Response(JSON.stringify(result.body ?? null), { status: result.status ?? 200, headers });
}

describeAdapterConformance(`fetch on ${runtime()}`, async (manager, routes) => {
  const sessioned = withSession(manager, async (request, session) => {
    const handler = routes.session[new URL(request.url).pathname];
    return handler === undefined ? new Response(null, { status: 404 }) : send(await handler(session));
  });
  return listenHarness(
    fetchServer((request) =>
      new URL(request.url).pathname === routes.plain.path ? send(routes.plain.handler()) : sessioned(request),
    ),
  );
});

function runtime() {
  if (globalThis.Deno) return `Deno ${globalThis.Deno.version.deno}`;
  if (globalThis.Bun) return `Bun ${globalThis.Bun.version}`;
  return `Node ${process.versions.node}`;
}
