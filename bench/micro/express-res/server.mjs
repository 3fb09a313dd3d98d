// A bare Express server with one optional middleware that writes pass-through methods onto \`res\` the way
// a response-holding session middleware must (bench/notes.md, "Express + memory"): \`bare\`, \`stores5\`
// (a symbol and four closures), \`shared5\` (a symbol and four shared functions), \`define\` (the same by one
// Object.defineProperties), \`stores2\` (end and writeHead only), \`async\` (next() a microtask later).
// Started by run.mjs; answers {cpu} (its process.cpuUsage, µs) to a 'cpu' message.
import express from 'express';

const mode = process.argv[2];
const app = express();
if (mode === 'stores5') {
  app.use((_req, res, next) => {
    const end = res.end,
      wh = res.writeHead,
      w = res.write,
      fh = res.flushHeaders;
    res[Symbol.for('hold')] = {};
    res.end = function (...a) {
      return end.apply(this, a);
    };
    res.writeHead = function (...a) {
      return wh.apply(this, a);
    };
    res.write = function (...a) {
      return w.apply(this, a);
    };
    res.flushHeaders = function (...a) {
      return fh.apply(this, a);
    };
    next();
  });
}
if (mode === 'stores2') {
  app.use((_req, res, next) => {
    const end = res.end,
      wh = res.writeHead;
    res.end = function (...a) {
      return end.apply(this, a);
    };
    res.writeHead = function (...a) {
      return wh.apply(this, a);
    };
    next();
  });
}
const HOLD = Symbol('hold');
function sEnd(...a) {
  return this[HOLD].end.apply(this, a);
}
function sWh(...a) {
  return this[HOLD].wh.apply(this, a);
}
function sW(...a) {
  return this[HOLD].w.apply(this, a);
}
function sFh(...a) {
  return this[HOLD].fh.apply(this, a);
}
if (mode === 'shared5') {
  app.use((_req, res, next) => {
    res[HOLD] = { end: res.end, wh: res.writeHead, w: res.write, fh: res.flushHeaders };
    res.end = sEnd;
    res.writeHead = sWh;
    res.write = sW;
    res.flushHeaders = sFh;
    next();
  });
}
if (mode === 'define') {
  const props = {
    end: { value: sEnd, writable: true, configurable: true },
    writeHead: { value: sWh, writable: true, configurable: true },
    write: { value: sW, writable: true, configurable: true },
    flushHeaders: { value: sFh, writable: true, configurable: true },
  };
  app.use((_req, res, next) => {
    res[HOLD] = { end: res.end, wh: res.writeHead, w: res.write, fh: res.flushHeaders };
    Object.defineProperties(res, props);
    next();
  });
}
if (mode === 'async') {
  app.use((_req, _res, next) => {
    Promise.resolve().then(() => next());
  });
}
app.use((_req, res) => {
  res.status(200).type('text/plain').send('0');
});
const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage();
    process.send({ cpu: u.user + u.system });
  }
});
