/**
 * A test hub's app served over real loopback HTTP by @hono/node-server (the path `startHub` uses), and a
 * raw `node:http` request helper that controls what goes on the wire (chunked bodies, disconnects).
 */
import { serve } from '@hono/node-server';
import { request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestHub } from './create-test-hub.ts';

/** A served test hub. */
export interface ServedTestHub {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Stops serving (the test hub itself is closed by its own `close()`). */
  close(): Promise<void>;
}

/** Serves `hub.app` on a free loopback port. */
export async function serveTestHub(hub: TestHub): Promise<ServedTestHub> {
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: hub.app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(started as Server),
    );
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One raw request. */
export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Written as they are, one write each; without a Content-Length header they go chunked. */
  chunks?: string[];
}

/** A raw answer. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one request on a fresh connection and reads the whole answer. */
export function sendRaw(url: string, raw: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}${raw.path}`,
      { method: raw.method, headers: raw.headers, agent: false },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    for (const chunk of raw.chunks ?? []) request.write(chunk);
    request.end();
  });
}
