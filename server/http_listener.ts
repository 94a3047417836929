/**
 * The monitor's HTTP/1.1 listener, with the caps `Deno.serve` does not offer: connections at once and per
 * address (at the cap the oldest connection still sending its request is closed to make room), the size
 * of the request head and body, and the time to send a whole request. One request per connection
 * (`Connection: close`), no chunked bodies, no upgrades: what a dashboard, curl and Prometheus need.
 *
 * Bad requests get a plain status (400, 413, 431, 501) and the close; a request that is not complete in
 * time is closed without an answer. Accept failures (out of files) are counted, logged and backed off.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { writeAll } from "../protocol/frame.ts";
import type { MonitorBudget } from "./config.ts";
import { encodeResponse, plainResponse, readRequest } from "./http1.ts";
import { ACCEPT_RETRY_MS, MONITOR_RESPONSE_BYTES_MAX, MONITOR_RESPONSE_TIMEOUT_MS } from "./limits.ts";
import type { PeerAddress } from "./peer.ts";

/** Why the monitor refused a connection or a request. */
export type MonitorRefusal =
  | "address_cap"
  | "connection_cap"
  | "deadline"
  | "header_too_large"
  | "body_too_large"
  | "bad_request";

export interface HttpListenerOptions {
  hostname: string;
  port: number;
  budget: MonitorBudget;
  handler: (request: Request) => Response | Promise<Response>;
  onRefused: (refusal: MonitorRefusal, peer: PeerAddress) => void;
  onAcceptError: (error: Error) => void;
}

export interface HttpListener {
  readonly addr: PeerAddress;
  /** Stops accepting and closes every connection. */
  close(): Promise<void>;
}

/** Listens and serves until closed. */
export function startHttpListener(options: HttpListenerOptions): HttpListener {
  const listener = Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  const addr = listener.addr as Deno.NetAddr;
  const state = new MonitorConnections(options);
  let closing = false;
  const loop = (async () => {
    while (!closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        options.onAcceptError(error instanceof Error ? error : new Error(String(error)));
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      state.accept(conn);
    }
  })();
  return {
    addr: { hostname: addr.hostname, port: addr.port },
    async close() {
      closing = true;
      listener.close();
      await loop;
      await state.closeAll();
    },
  };
}

interface Open {
  conn: Deno.TcpConn;
  peer: PeerAddress;
  /** True until the whole request has been read: such a connection may be evicted. */
  reading: boolean;
  closed: boolean;
}

/** The monitor's open connections, oldest first, and their counts per address. */
class MonitorConnections {
  readonly #options: HttpListenerOptions;
  readonly #open = new Map<Deno.TcpConn, Open>();
  readonly #perAddress = new Map<string, number>();
  readonly #served = new Set<Promise<void>>();

  constructor(options: HttpListenerOptions) {
    this.#options = options;
  }

  accept(conn: Deno.TcpConn): void {
    const remote = conn.remoteAddr as Deno.NetAddr;
    const peer = { hostname: remote.hostname, port: remote.port };
    const { budget } = this.#options;
    if ((this.#perAddress.get(peer.hostname) ?? 0) >= budget.addressConnectionsMax) {
      return this.#refuse(conn, { refusal: "address_cap", peer });
    }
    if (this.#open.size >= budget.connectionsMax && !this.#evictOldestReading()) {
      return this.#refuse(conn, { refusal: "connection_cap", peer });
    }
    const entry: Open = { conn, peer, reading: true, closed: false };
    this.#open.set(conn, entry);
    this.#perAddress.set(peer.hostname, (this.#perAddress.get(peer.hostname) ?? 0) + 1);
    assert(this.#open.size <= budget.connectionsMax, "The monitor holds at most its connection cap");
    const served = this.#serve(entry).finally(() => {
      this.#close(entry);
      this.#served.delete(served);
    });
    this.#served.add(served);
  }

  async closeAll(): Promise<void> {
    for (const entry of this.#open.values()) this.#close(entry);
    await Promise.allSettled([...this.#served]);
  }

  async #serve(entry: Open): Promise<void> {
    const { budget } = this.#options;
    const timer = setTimeout(() => {
      if (entry.reading) this.#options.onRefused("deadline", entry.peer);
      this.#close(entry);
    }, budget.requestTimeoutMs);
    try {
      const read = await readRequest(entry.conn, { ...budget, origin: "http://monitor" });
      if (entry.closed) return;
      if (!read.ok) {
        this.#options.onRefused(read.refusal, entry.peer);
        await writeAll(entry.conn, plainResponse(read.status));
        return;
      }
      entry.reading = false;
      clearTimeout(timer);
      await this.#answer(entry, read.request);
    } catch {
      // A peer that resets or goes away ends its own connection; nothing is owed to it.
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs the handler and writes its response, both within {@link MONITOR_RESPONSE_TIMEOUT_MS}. */
  async #answer(entry: Open, request: Request): Promise<void> {
    const timer = setTimeout(() => this.#close(entry), MONITOR_RESPONSE_TIMEOUT_MS);
    try {
      const response = await this.#options.handler(request);
      const body = new Uint8Array(await response.arrayBuffer());
      if (body.length > MONITOR_RESPONSE_BYTES_MAX) {
        await writeAll(entry.conn, plainResponse(503));
        return;
      }
      await writeAll(entry.conn, encodeResponse(response, { body, head: request.method === "HEAD" }));
    } finally {
      clearTimeout(timer);
    }
  }

  #evictOldestReading(): boolean {
    for (const entry of this.#open.values()) {
      if (!entry.reading) continue;
      this.#options.onRefused("connection_cap", entry.peer);
      this.#close(entry);
      return true;
    }
    return false;
  }

  #refuse(conn: Deno.TcpConn, parts: { refusal: MonitorRefusal; peer: PeerAddress }): void {
    this.#options.onRefused(parts.refusal, parts.peer);
    closeQuietly(conn);
  }

  #close(entry: Open): void {
    if (entry.closed) return;
    entry.closed = true;
    closeQuietly(entry.conn);
    this.#open.delete(entry.conn);
    const left = (this.#perAddress.get(entry.peer.hostname) ?? 1) - 1;
    if (left === 0) this.#perAddress.delete(entry.peer.hostname);
    else this.#perAddress.set(entry.peer.hostname, left);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
