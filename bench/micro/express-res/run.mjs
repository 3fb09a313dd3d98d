// What a few own-property writes on an Express \`res\` cost: starts one server per mode (server.mjs), loads
// each for 2 s with autocannon (10 connections) in 3 interleaved rounds, prints req/s and the server's CPU
// time per request. Usage: node bench/micro/express-res/run.mjs [mode …]
import { fork } from 'node:child_process';
import autocannon from 'autocannon';

const modes =
  process.argv.length > 2
    ? process.argv.slice(2)
    : ['bare', 'stores5', 'shared5', 'define', 'stores2', 'async'];
const servers = {};
for (const m of modes) {
  const child = fork(new URL('./server.mjs', import.meta.url), [m], {
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const port = await new Promise((r) => child.once('message', (msg) => r(msg.port)));
  servers[m] = { child, port };
}
const cpu = (c) =>
  new Promise((r) => {
    c.once('message', (m) => r(m.cpu));
    c.send('cpu');
  });
for (let round = 0; round < 3; round++) {
  const line = [];
  for (const m of modes) {
    const { child, port } = servers[m];
    const before = await cpu(child);
    const res = await autocannon({ url: `http://127.0.0.1:${port}/read`, connections: 10, duration: 2 });
    const after = await cpu(child);
    line.push(
      `${m} ${Math.round(res.requests.average)} req/s ${((after - before) / res.requests.total).toFixed(1)} µs`,
    );
  }
  console.log(line.join(' | '));
}
for (const m of modes) servers[m].child.kill();
