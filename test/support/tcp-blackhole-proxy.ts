/**
 * A TCP proxy that can turn into a black hole, for network-partition tests: hubs connect to PostgreSQL
 * through it, and the test makes the database silently unreachable without closing anything.
 *
 * - `pause()`: every connection stays open, but no byte crosses in either direction and no close is
 *   passed on (a peer that hangs up is not heard by the other side), exactly what a half-open connection
 *   across a partition looks like. New connections are accepted (the listening socket is local) but
 *   never connected upstream while paused, like a connect whose packets vanish after the first hop.
 * - `resume()`: the partition heals. What happens to the bytes sent during the pause is chosen per
 *   pause ({@link HeldBytes}): `drop` (default) throws them away, and then cuts every connection that
 *   lost bytes, because a TCP stream with a hole in it is something no network can deliver (a protocol
 *   parser would read garbage); `deliver` holds them and sends them on in order at resume, as TCP's
 *   retransmissions do after a short partition (so a query the client gave up on may still run, late).
 *   Connections that lost nothing carry on in both modes, and closes that happened during the pause are
 *   passed on after the held bytes.
 * - `cutAll()`: destroys every connection now (RST to both sides), like a restarted middlebox.
 *
 * Backpressure is ignored (writes are never paused): test traffic to a database is small.
 */
import net from 'node:net';

/** What becomes of bytes sent while the proxy is paused. */
export type HeldBytes =
  /** Thrown away; connections that lost bytes are cut at resume. */
  | 'drop'
  /** Held in memory and delivered in order at resume. */
  | 'deliver';

/** Which way a chunk travels. */
export type ProxyDirection = 'to-upstream' | 'to-client';

/** Options of {@link createTcpBlackholeProxy}. */
export interface TcpBlackholeProxyOptions {
  /** Where connections are forwarded to. */
  targetPort: number;
  /** Default `127.0.0.1`. */
  targetHost?: string;
  /** Port to listen on; default 0 (a free one). */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
}

/** Counters of a proxy. */
export interface TcpBlackholeProxyStats {
  /** Connections accepted since the start. */
  accepted: number;
  /** Connections open now (either side still open). */
  open: number;
  /** Connections destroyed by `cutAll()`, `close()` or a `drop`-mode resume. */
  cut: number;
  /** Bytes thrown away during `drop` pauses. */
  droppedBytes: number;
  /** Bytes held during `deliver` pauses and sent on at resume. */
  deliveredLateBytes: number;
  /** Pauses so far. */
  pauses: number;
}

/** A running proxy. */
export interface TcpBlackholeProxy {
  readonly host: string;
  readonly port: number;
  /** True between `pause()` and `resume()`. */
  readonly paused: boolean;
  /** Starts a black hole (see the file header). Pausing a paused proxy changes nothing. */
  pause(options?: { heldBytes?: HeldBytes }): void;
  /**
   * Arms a pause that starts right after the first chunk `match` accepts has been forwarded (so the peer
   * receives that chunk, and nothing after it). Used to partition a connection at a chosen point of its
   * conversation, e.g. after a statement that takes a lock and before the commit.
   */
  pauseAfter(
    match: (chunk: Buffer, direction: ProxyDirection) => boolean,
    options?: { heldBytes?: HeldBytes },
  ): Promise<void>;
  /** Ends the black hole (see the file header). Resuming a running proxy changes nothing. */
  resume(): void;
  /** Destroys every connection now; answers how many. The proxy keeps accepting new ones. */
  cutAll(): number;
  /** Counters so far. */
  stats(): TcpBlackholeProxyStats;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

/** One proxied connection. */
interface Link {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** Bytes this link lost in a `drop` pause: it is cut at resume. */
  damaged: boolean;
  /** Chunks held during a `deliver` pause, in arrival order per direction. */
  heldToUpstream: Buffer[];
  heldToClient: Buffer[];
  /** A side that ended (FIN) or closed while paused; passed on at resume. */
  clientEnded: boolean;
  clientClosed: boolean;
  upstreamEnded: boolean;
  upstreamClosed: boolean;
  finished: boolean;
}

/** Starts a proxy listening for connections to forward to `targetHost:targetPort`. */
export async function createTcpBlackholeProxy(options: TcpBlackholeProxyOptions): Promise<TcpBlackholeProxy> {
  const targetHost = options.targetHost ?? '127.0.0.1';
  const links = new Set<Link>();
  let paused = false;
  let heldBytes: HeldBytes = 'drop';
  let trigger:
    | {
        match: (chunk: Buffer, direction: ProxyDirection) => boolean;
        heldBytes: HeldBytes;
        fired: () => void;
      }
    | undefined;
  const stats: TcpBlackholeProxyStats = {
    accepted: 0,
    open: 0,
    cut: 0,
    droppedBytes: 0,
    deliveredLateBytes: 0,
    pauses: 0,
  };

  function finish(link: Link): void {
    if (link.finished) return;
    link.finished = true;
    links.delete(link);
    stats.open -= 1;
  }

  function cut(link: Link): void {
    if (link.finished) return;
    stats.cut += 1;
    // why RST rather than FIN: a middlebox that drops a connection does not close it politely.
    link.client.resetAndDestroy();
    link.upstream?.resetAndDestroy();
    finish(link);
  }

  function startPause(mode: HeldBytes): void {
    if (paused) return;
    paused = true;
    heldBytes = mode;
    stats.pauses += 1;
  }

  /** Forwards, holds or drops one chunk, and fires an armed `pauseAfter` once it has been forwarded. */
  function carry(link: Link, chunk: Buffer, direction: ProxyDirection): void {
    if (paused) {
      if (heldBytes === 'drop') {
        stats.droppedBytes += chunk.length;
        link.damaged = true;
      } else {
        (direction === 'to-upstream' ? link.heldToUpstream : link.heldToClient).push(chunk);
      }
      return;
    }
    const destination = direction === 'to-upstream' ? link.upstream : link.client;
    destination?.write(chunk);
    if (trigger?.match(chunk, direction)) {
      const armed = trigger;
      trigger = undefined;
      startPause(armed.heldBytes);
      armed.fired();
    }
  }

  /** A side ended (FIN): passed on now, or at resume. */
  function onEnd(link: Link, side: 'client' | 'upstream'): void {
    if (side === 'client') link.clientEnded = true;
    else link.upstreamEnded = true;
    if (!paused) passOnCloses(link);
  }

  /** A side closed (destroyed, reset or both ways ended). */
  function onClose(link: Link, side: 'client' | 'upstream'): void {
    if (side === 'client') link.clientClosed = true;
    else link.upstreamClosed = true;
    if (!paused) passOnCloses(link);
  }

  function passOnCloses(link: Link): void {
    if (link.finished) return;
    const { client, upstream } = link;
    if (link.clientClosed && (upstream === undefined || link.upstreamClosed)) {
      finish(link);
      return;
    }
    if (link.clientClosed && !link.clientEnded) upstream?.destroy();
    else if (link.clientEnded && upstream !== undefined && !upstream.writableEnded) upstream.end();
    if (link.upstreamClosed && !link.upstreamEnded) client.destroy();
    else if (link.upstreamEnded && !client.writableEnded) client.end();
    if (link.clientClosed && link.upstreamClosed) finish(link);
  }

  function connectUpstream(link: Link): void {
    const upstream = net.connect({ host: targetHost, port: options.targetPort, allowHalfOpen: true });
    link.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('data', (chunk: Buffer) => carry(link, chunk, 'to-client'));
    upstream.on('end', () => onEnd(link, 'upstream'));
    upstream.on('error', () => {
      // 'close' follows; the failure is passed on as a close.
    });
    upstream.on('close', () => onClose(link, 'upstream'));
  }

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    stats.accepted += 1;
    stats.open += 1;
    const link: Link = {
      client,
      upstream: undefined,
      damaged: false,
      heldToUpstream: [],
      heldToClient: [],
      clientEnded: false,
      clientClosed: false,
      upstreamEnded: false,
      upstreamClosed: false,
      finished: false,
    };
    links.add(link);
    client.on('data', (chunk: Buffer) => carry(link, chunk, 'to-upstream'));
    client.on('end', () => onEnd(link, 'client'));
    client.on('error', () => {
      // 'close' follows.
    });
    client.on('close', () => onClose(link, 'client'));
    // While paused, the upstream connection waits for resume (its SYN would be lost in a partition).
    if (!paused) connectUpstream(link);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;

  return {
    host: address.address,
    port: address.port,
    get paused() {
      return paused;
    },
    pause(pauseOptions) {
      startPause(pauseOptions?.heldBytes ?? 'drop');
    },
    pauseAfter(match, pauseOptions) {
      return new Promise<void>((resolve) => {
        trigger = { match, heldBytes: pauseOptions?.heldBytes ?? 'drop', fired: resolve };
      });
    },
    resume() {
      if (!paused) return;
      paused = false;
      for (const link of [...links]) {
        if (link.damaged) {
          cut(link);
          continue;
        }
        const toUpstream = link.heldToUpstream.splice(0);
        const toClient = link.heldToClient.splice(0);
        for (const chunk of [...toUpstream, ...toClient]) stats.deliveredLateBytes += chunk.length;
        if (link.upstream === undefined) {
          // Accepted during the pause: connect now, unless the client has given up already.
          if (link.clientClosed) {
            finish(link);
            continue;
          }
          connectUpstream(link);
        }
        for (const chunk of toUpstream) link.upstream?.write(chunk);
        for (const chunk of toClient) link.client.write(chunk);
        passOnCloses(link);
      }
    },
    cutAll() {
      const all = [...links];
      for (const link of all) cut(link);
      return all.length;
    },
    stats: () => ({ ...stats }),
    async close() {
      trigger = undefined;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const link of [...links]) cut(link);
      await closed;
    },
  };
}
