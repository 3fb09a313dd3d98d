/**
 * A private memcached for tests, scripts and scenarios that restart, kill or starve one: a child
 * process on a spare 127.0.0.1 port, never the shared instance on 11211.
 */
import { Socket } from 'node:net';
import { findBinary } from './binaries.js';
import { sparePort } from './ports.js';
import { type ManagedServer, managed, ServerProcess } from './process.js';

/** A running private memcached; `stop()` or `kill()` loses every item, `start()` begins empty. */
export interface MemcachedServer extends ManagedServer {
  /** `127.0.0.1:<port>`, the memjs server string. */
  readonly address: string;
}

/** Options of `startMemcached`. */
export interface MemcachedServerOptions {
  /** Item memory (`-m`); memcached refuses less than 2 MB with its default 1 MB item size limit. @default 16 */
  memoryMb?: number;
  /** Port to listen on. @default a spare one */
  port?: number;
}

/** Starts a private memcached and waits (at most 10 s) until it accepts connections. */
export async function startMemcached(options: MemcachedServerOptions = {}): Promise<MemcachedServer> {
  const binary = findBinary('memcached');
  if (binary === undefined) throw new Error('memcached is not installed');
  const port = options.port ?? (await sparePort());
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', String(options.memoryMb ?? 16)];
  // memcached refuses to run as root unless told which user to run as.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const server = new ServerProcess(binary, args, port);
  try {
    await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return { ...managed(server), address: `127.0.0.1:${port}` };
}

/** Sends one ASCII-protocol line (e.g. a meta command) and resolves to the first reply line. */
export async function memcachedCommand(port: number, line: string): Promise<string> {
  const socket = new Socket();
  socket.setTimeout(2000, () => socket.destroy(new Error('memcached did not answer')));
  socket.connect(port, '127.0.0.1');
  socket.write(`${line}\r\n`);
  let reply = '';
  for await (const chunk of socket) {
    reply += String(chunk);
    if (reply.includes('\r\n')) break;
  }
  socket.destroy();
  return reply.slice(0, reply.indexOf('\r\n'));
}
