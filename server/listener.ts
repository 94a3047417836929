/**
 * The TLS listener: accepts connections and serves each one independently and concurrently, so one slow,
 * broken or hostile client never stalls the others. At the connection limit it stops accepting until a
 * session ends: further connections wait in the kernel's backlog and hold no file descriptor of ours.
 *
 * @module
 */
import { assert } from "../protocol/assert.ts";
import { serverLogger } from "./log.ts";
import { serveConnection } from "./session.ts";
import type { ServerContext } from "./session.ts";

const ACCEPT_RETRY_MS = 100;
const log = serverLogger("listener");

export interface BankListener {
  /** Where the listener actually listens (the port is resolved when 0 was asked). */
  readonly addr: Deno.NetAddr;
  /**
   * Stops accepting, lets requests in flight finish and be answered (for at most `timeoutMs`), then closes
   * every connection. Resolves when every session has ended.
   */
  drain(timeoutMs: number): Promise<{ cut: number }>;
  /** Ends the sessions of one identity made under an older generation, each after its request in flight. */
  endSessionsOf(identity: string, options: { belowGeneration: number; reason: string }): number;
}

/** Starts accepting TLS connections. */
export function startBankListener(
  options: {
    hostname: string;
    port: number;
    certPem: string;
    keyPem: string;
    maxConnections: number;
    /** Share the port with other serving threads (SO_REUSEPORT); the kernel spreads connections. */
    reusePort?: boolean;
  },
  context: ServerContext,
): BankListener {
  assert(options.maxConnections >= 1, `Connection limit ${options.maxConnections} must be at least 1`);
  const listener = Deno.listenTls({
    hostname: options.hostname,
    port: options.port,
    cert: options.certPem,
    key: options.keyPem,
    transport: "tcp",
    ...(options.reusePort === true ? { reusePort: true } : {}),
  });
  const open = new Set<Deno.TlsConn>();
  const sessions = new Set<Promise<void>>();
  let closing = false;

  let sessionEnded: (() => void) | undefined;
  const acceptLoop = (async () => {
    while (!closing) {
      if (open.size >= options.maxConnections) {
        log.warning("Connection limit {limit} reached: not accepting until a session ends", {
          limit: options.maxConnections,
        });
        await new Promise<void>((resolve) => (sessionEnded = resolve));
        continue;
      }
      let conn: Deno.TlsConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) break;
        log.error("Accepting a connection failed: {error}; retrying", { error: String(error) });
        await new Promise((resolve) => setTimeout(resolve, ACCEPT_RETRY_MS));
        continue;
      }
      open.add(conn);
      const session = serveConnection(conn, context).finally(() => {
        open.delete(conn);
        sessions.delete(session);
        sessionEnded?.();
        sessionEnded = undefined;
      });
      sessions.add(session);
    }
  })();

  return {
    addr: listener.addr as Deno.NetAddr,
    async drain(timeoutMs) {
      closing = true;
      listener.close();
      sessionEnded?.();
      await acceptLoop;
      for (const control of context.sessions) control.requestStop("server shutting down");
      const settled = Promise.allSettled([...sessions]);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        settled.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
      ]);
      clearTimeout(timer);
      const cut = late ? open.size : 0;
      for (const conn of open) closeQuietly(conn);
      await settled;
      return { cut };
    },
    endSessionsOf(identity, options) {
      let ended = 0;
      for (const control of context.sessions) {
        if (control.identity !== identity || control.generation >= options.belowGeneration) continue;
        control.requestStop(options.reason);
        ended += 1;
      }
      return ended;
    },
  };
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
