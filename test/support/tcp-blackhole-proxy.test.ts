/**
 * The black-hole proxy against a local echo server: forwarding, pause (drop and deliver), closes held
 * during a pause, pauseAfter, cutAll and close.
 */
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createTcpBlackholeProxy, type TcpBlackholeProxy } from './tcp-blackhole-proxy.ts';
import { waitFor } from './wait-for.ts';

// why: long enough that bytes a working proxy forwards (in well under a millisecond on loopback) would
// have arrived, short enough to keep the suite quick. A bound on waiting, not a measurement.
const quietMs = 300;

/** One connection as the echo server sees it. */
interface ServerSide {
  received: string;
  ended: boolean;
  closed: boolean;
}

/** A client connection and what it has received. */
interface ClientSide {
  socket: net.Socket;
  received(): string;
  closed(): boolean;
  send(text: string): void;
}

async function startEchoServer(): Promise<{
  port: number;
  connections: ServerSide[];
  close(): Promise<void>;
}> {
  const connections: ServerSide[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const side: ServerSide = { received: '', ended: false, closed: false };
    connections.push(side);
    sockets.add(socket);
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      side.received += text;
      socket.write(text);
    });
    socket.on('end', () => {
      side.ended = true;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      side.closed = true;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function connect(proxy: TcpBlackholeProxy): Promise<ClientSide> {
  const socket = net.connect({ host: proxy.host, port: proxy.port });
  let received = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => {
    received += text;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, received: () => received, closed: () => closed, send: (text) => socket.write(text) };
}

describe('tcp black-hole proxy', () => {
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setUp() {
    const echo = await startEchoServer();
    cleanups.push(() => echo.close());
    const proxy = await createTcpBlackholeProxy({ targetPort: echo.port });
    cleanups.push(() => proxy.close());
    return { echo, proxy };
  }

  it('forwards both ways, counts connections and passes closes on', async () => {
    const { echo, proxy } = await setUp();
    const first = await connect(proxy);
    const second = await connect(proxy);
    first.send('hello');
    second.send('world');
    await waitFor('both echoes', () => first.received() === 'hello' && second.received() === 'world');
    expect(echo.connections.map((side) => side.received).sort()).toEqual(['hello', 'world']);
    expect(proxy.stats()).toMatchObject({ accepted: 2, open: 2, cut: 0 });

    first.socket.end();
    await waitFor('the close to reach the server and come back', () => first.closed());
    expect(echo.connections.filter((side) => side.closed)).toHaveLength(1);
    await waitFor('the proxy to count one open connection', () => proxy.stats().open === 1);
    expect(second.closed()).toBe(false);
  });

  it('drops bytes while paused, keeps connections open, and cuts the damaged ones at resume', async () => {
    const { echo, proxy } = await setUp();
    const talker = await connect(proxy);
    const idle = await connect(proxy);
    const quitter = await connect(proxy);
    await waitFor('three upstream connections', () => echo.connections.length === 3);

    proxy.pause();
    expect(proxy.paused).toBe(true);
    talker.send('lost');
    quitter.socket.end();
    // Accepted while paused, but not connected upstream.
    const late = await connect(proxy);
    await delay(quietMs);
    expect(talker.received()).toBe('');
    expect(echo.connections.map((side) => side.received)).toEqual(['', '', '']);
    expect(echo.connections).toHaveLength(3);
    // A half-open partition: nobody hears of a close, nothing is closed by the proxy.
    expect(echo.connections.some((side) => side.ended || side.closed)).toBe(false);
    expect([talker, idle, quitter, late].some((client) => client.closed())).toBe(false);
    expect(proxy.stats()).toMatchObject({ accepted: 4, open: 4, droppedBytes: 4, pauses: 1 });

    proxy.resume();
    expect(proxy.paused).toBe(false);
    // The talker's stream has a hole: it is cut. The others carry on.
    await waitFor('the damaged connection to be cut', () => talker.closed());
    await waitFor('the close held during the pause to arrive', () => quitter.closed());
    idle.send('still here');
    late.send('late');
    await waitFor(
      'idle and late connections to work',
      () => idle.received() === 'still here' && late.received() === 'late',
    );
    expect(echo.connections).toHaveLength(4);
    expect(echo.connections.map((side) => side.received)).not.toContain('lost');
    expect(proxy.stats()).toMatchObject({ cut: 1 });
  });

  it('delivers held bytes in order at resume in deliver mode', async () => {
    const { echo, proxy } = await setUp();
    const client = await connect(proxy);
    client.send('a');
    await waitFor('the first echo', () => client.received() === 'a');

    proxy.pause({ heldBytes: 'deliver' });
    client.send('b');
    client.send('c');
    const late = await connect(proxy);
    late.send('from the pause');
    await delay(quietMs);
    expect(client.received()).toBe('a');
    expect(echo.connections.map((side) => side.received)).toEqual(['a']);

    proxy.resume();
    await waitFor(
      'held bytes to be delivered',
      () => client.received() === 'abc' && late.received() === 'from the pause',
    );
    expect(client.closed()).toBe(false);
    expect(proxy.stats()).toMatchObject({ cut: 0, droppedBytes: 0, deliveredLateBytes: 16 });
  });

  it('pauses right after a matching chunk has been forwarded', async () => {
    const { echo, proxy } = await setUp();
    const client = await connect(proxy);
    const fired = proxy.pauseAfter(
      (chunk, direction) => direction === 'to-upstream' && chunk.includes('LOCK'),
    );
    client.send('select');
    await waitFor('the first echo', () => client.received() === 'select');
    expect(proxy.paused).toBe(false);

    client.send('LOCK');
    await fired;
    expect(proxy.paused).toBe(true);
    await waitFor(
      'the matching chunk to reach the server',
      () => echo.connections[0]?.received === 'selectLOCK',
    );
    client.send('COMMIT');
    await delay(quietMs);
    // The server's echo of LOCK and the COMMIT are both lost in the black hole.
    expect(client.received()).toBe('select');
    expect(echo.connections[0]?.received).toBe('selectLOCK');
  });

  it('cutAll destroys every connection and keeps accepting new ones', async () => {
    const { echo, proxy } = await setUp();
    const first = await connect(proxy);
    const second = await connect(proxy);
    await waitFor('two upstream connections', () => echo.connections.length === 2);

    expect(proxy.cutAll()).toBe(2);
    await waitFor('both clients to see the cut', () => first.closed() && second.closed());
    await waitFor('both server sides to see the cut', () => echo.connections.every((side) => side.closed));
    expect(proxy.stats()).toMatchObject({ accepted: 2, open: 0, cut: 2 });

    const third = await connect(proxy);
    third.send('again');
    await waitFor('a new connection to work', () => third.received() === 'again');
  });

  it('close stops listening and destroys every connection', async () => {
    const { echo, proxy } = await setUp();
    const client = await connect(proxy);
    await waitFor('the upstream connection', () => echo.connections.length === 1);
    await proxy.close();
    await waitFor('the client to see the close', () => client.closed());
    await expect(connect(proxy)).rejects.toThrow(/ECONNREFUSED/);
  });
});
