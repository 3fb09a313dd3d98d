/** Peer: iron-session (sealed cookie) on node:http, with its defaults. */
import { createServer } from 'node:http';
import { getIronSession } from 'iron-session';
import { act, PROFILE, SECRET, serve } from './harness.js';

interface Data {
  n?: number;
  profile?: typeof PROFILE;
}

const options = { password: SECRET, cookieName: 'iron', cookieOptions: { secure: false } };

serve(
  createServer(async (req, res) => {
    try {
      const session = await getIronSession<Data>(req, res, options);
      const outcome = act(req.url, {
        read: () => session.n,
        write: (n) => {
          session.n = n;
        },
        create: () => {
          session.n = 0;
          session.profile = PROFILE;
        },
      });
      if (outcome.changed) await session.save();
      res.writeHead(outcome.status, { 'content-type': 'text/plain' });
      res.end(outcome.body);
    } catch {
      res.writeHead(500);
      res.end();
    }
  }),
);
