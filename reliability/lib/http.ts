/**
 * The load generators' HTTP side: a keep-alive client for 127.0.0.1 that never throws (a failed
 * request is a reply with status 0 and an error), and a one-cookie jar that reports what each
 * response did to the session cookie.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** What one request got back. Status 0: no HTTP response (connection error or client timeout). */
export interface Reply {
  status: number;
  /** The body parsed as JSON when it is JSON, else the text. */
  body: unknown;
  setCookie: string[];
  /** performance.now() when the request was sent and when its reply was complete. */
  startedAt: number;
  endedAt: number;
  /** Why there is no HTTP response. */
  error?: string;
}

/** A keep-alive HTTP client bound to one loopback port. */
export interface HttpClient {
  send(method: string, path: string, headers?: Record<string, string>): Promise<Reply>;
  /** Closes the idle connections. */
  close(): void;
}

/** Creates a client for `http://127.0.0.1:<port>` with at most `sockets` connections. */
export function createHttpClient(port: number, options: { sockets: number; timeoutMs: number }): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets: options.sockets, maxFreeSockets: options.sockets });
  return {
    send(method, path, headers = {}) {
      const startedAt = performance.now();
      return new Promise<Reply>((resolve) => {
        let finished = false;
        const finish = (reply: Omit<Reply, 'startedAt' | 'endedAt'>) => {
          if (finished) return;
          finished = true;
          resolve({ ...reply, startedAt, endedAt: performance.now() });
        };
        const req = request(
          { host: '127.0.0.1', port, method, path, headers, agent, timeout: options.timeoutMs },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', (error) =>
              finish({ status: 0, body: null, setCookie: [], error: error.message }),
            );
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              finish({
                status: res.statusCode ?? 0,
                body: parse(text),
                setCookie: res.headers['set-cookie'] ?? [],
              });
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error('client timeout')));
        req.on('error', (error) => finish({ status: 0, body: null, setCookie: [], error: error.message }));
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** What a response did to the session cookie. */
export type CookieChange = 'none' | 'set' | 'changed' | 'cleared';

/** The session cookie of one simulated browser. */
export class CookieJar {
  value: string | undefined;

  constructor(readonly name: string) {}

  /** The `Cookie` header to send, if the jar holds the cookie. */
  header(): Record<string, string> {
    return this.value === undefined ? {} : { cookie: `${this.name}=${this.value}` };
  }

  /** Applies a response's `Set-Cookie` values, as a browser would, and says what changed. */
  apply(setCookie: readonly string[]): CookieChange {
    let change: CookieChange = 'none';
    for (const line of setCookie) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq === -1 || pair.slice(0, eq).trim() !== this.name) continue;
      const value = pair.slice(eq + 1).trim();
      const cleared = value === '' || /;\s*max-age=0\b/i.test(line);
      if (cleared) {
        change = this.value === undefined ? change : 'cleared';
        this.value = undefined;
      } else if (value !== this.value) {
        change = this.value === undefined ? 'set' : 'changed';
        this.value = value;
      }
    }
    return change;
  }
}
