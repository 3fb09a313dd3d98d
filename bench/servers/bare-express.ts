/** The limit for Express contenders: the same routes, no sessions. */
import { createServer } from 'node:http';
import express from 'express';
import { serve } from './harness.js';

const app = express();
for (const path of ['/read', '/write', '/create'])
  app.get(path, (_req, res) => void res.type('text').send('0'));
serve(createServer(app));
