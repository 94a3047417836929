/**
 * The TLS listener on `Deno.listenTls`, kept so the benchmark can measure it beside server/tls_node.ts
 * (`--tls-listener deno`). It must not face untrusted networks: Deno cannot close a connection whose TLS
 * handshake is still pending, so a silent peer holds its socket past every deadline until it acts, and
 * admission can only refuse a connection after the runtime has set up its TLS state.
 *
 * @module
 */
import { ACCEPT_RETRY_MS } from "./limits.ts";
import type { AcceptedPeer, PeerAddress, PeerConn, TlsAcceptor, TlsListenOptions } from "./peer.ts";

/** Listens with `Deno.listenTls` and accepts until closed. */
export function listenDenoTls(options: TlsListenOptions): Promise<TlsAcceptor> {
  return Promise.resolve(new DenoTlsAcceptor(options));
}

class DenoTlsAcceptor implements TlsAcceptor {
  readonly kind = "deno";
  readonly addr: PeerAddress;
  readonly #options: TlsListenOptions;
  #listener: Deno.TlsListener;
  #loop: Promise<void>;
  #closing = false;

  constructor(options: TlsListenOptions) {
    this.#options = options;
    this.#listener = listen(options, options.port);
    const addr = this.#listener.addr as Deno.NetAddr;
    this.addr = { hostname: addr.hostname, port: addr.port };
    this.#loop = this.#accept(this.#listener);
  }

  async rebuild(): Promise<void> {
    const fresh = listen(this.#options, this.addr.port);
    const stale = this.#listener;
    this.#listener = fresh;
    stale.close();
    await this.#loop;
    this.#loop = this.#accept(fresh);
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.#listener.close();
    await this.#loop;
  }

  async #accept(listener: Deno.TlsListener): Promise<void> {
    while (true) {
      let conn: Deno.TlsConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#closing || listener !== this.#listener) return;
        this.#options.onAcceptError(error instanceof Error ? error : new Error(String(error)));
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      this.#options.onPeer(acceptedPeer(conn));
    }
  }
}

function listen(options: TlsListenOptions, port: number): Deno.TlsListener {
  return Deno.listenTls({
    hostname: options.hostname,
    port,
    cert: options.certPem,
    key: options.keyPem,
    transport: "tcp",
    ...(options.reusePort ? { reusePort: true } : {}),
  });
}

function acceptedPeer(conn: Deno.TlsConn): AcceptedPeer {
  const addr = conn.remoteAddr as Deno.NetAddr;
  const remote = { hostname: addr.hostname, port: addr.port };
  return {
    remote,
    refuse: () => closeQuietly(conn),
    secure: (): PeerConn => ({
      remote,
      handshake: async () => {
        await conn.handshake();
      },
      read: (buffer) => conn.read(buffer),
      write: (bytes) => conn.write(bytes),
      closeWrite: () => conn.closeWrite(),
      close: () => closeQuietly(conn),
    }),
  };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
