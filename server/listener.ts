/**
 * The TLS listener: admits each accepted connection against the budgets before any TLS work is spent on
 * it, then serves each admitted one independently and concurrently, so one slow, broken or hostile peer
 * never stalls the others. At the process's connection budget, the oldest connection still
 * unauthenticated is closed to make room; when every connection is authenticated, the new one is refused.
 *
 * It also watches the process's open files: when they come within {@link FD_PRESSURE_MARGIN} of the limit
 * (or accepting fails), the listening socket is rebuilt once the pressure is gone, because a `node:net`
 * accept loop that met "Too many open files" never accepts again (server/tls_node.ts).
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import type { Admission, AdmissionTicket, ConnectionRefusal } from "./admission.ts";
import { FD_CHECK_INTERVAL_MS, FD_PRESSURE_MARGIN, REJECTION_LOG_INTERVAL_MS } from "./limits.ts";
import { serverLogger } from "./log.ts";
import { countOpenFiles, readFileLimit } from "./open_files.ts";
import type {
  AcceptedPeer,
  PeerAddress,
  PeerConn,
  TlsAcceptor,
  TlsListenerKind,
  TlsListenOptions,
} from "./peer.ts";
import { RejectionLog } from "./rejection_log.ts";
import type { RejectionSummary } from "./rejection_log.ts";
import { describeAddress, serveConnection } from "./session.ts";
import type { ConnectionParts, ServerContext } from "./session.ts";
import type { SessionControl } from "./session_control.ts";
import { listenDenoTls } from "./tls_deno.ts";
import { listenNodeTls } from "./tls_node.ts";

const log = serverLogger("listener");

export interface BankListener {
  /** Where the listener actually listens (the port is resolved when 0 was asked). */
  readonly addr: PeerAddress;
  readonly kind: TlsListenerKind;
  /**
   * Stops accepting, lets requests in flight finish and be answered (for at most `timeoutMs`), then closes
   * every connection. Resolves when every session has ended.
   */
  drain(timeoutMs: number): Promise<{ cut: number }>;
  /**
   * Ends the sessions of one identity checked under an older generation whose key is not in `activeKeyIds`,
   * each after its request in flight; the others are now checked under the new generation.
   */
  endSessionsOf(
    identity: string,
    options: { belowGeneration: number; activeKeyIds: ReadonlySet<string>; reason: string },
  ): number;
}

/** Everything a listener needs besides what its sessions share. */
export interface ListenerOptions {
  kind: TlsListenerKind;
  hostname: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** Share the port with other serving threads (SO_REUSEPORT); the kernel spreads connections. */
  reusePort: boolean;
  admission: Admission;
  /**
   * Serves one admitted connection: the bank protocol over TLS unless told otherwise (the web port first
   * speaks HTTP, then the bank protocol over a WebSocket).
   */
  serve?: (conn: PeerConn, parts: ConnectionParts) => Promise<void>;
}

/** What the listener adds to the context its sessions share. */
export type ListenerContext = Omit<ServerContext, "rejections">;

/** Starts accepting TLS connections. */
export async function startBankListener(
  options: ListenerOptions,
  base: ListenerContext,
): Promise<BankListener> {
  const rejections = new RejectionLog({ summarize: logSummary });
  const context: ServerContext = { ...base, rejections };
  const state = new ListenerState(options.admission, context, options.serve ?? serveConnection);
  const listen = options.kind === "node" ? listenNodeTls : listenDenoTls;
  const tlsOptions: TlsListenOptions = {
    hostname: options.hostname,
    port: options.port,
    certPem: options.certPem,
    keyPem: options.keyPem,
    reusePort: options.reusePort,
    onPeer: (peer) => state.accept(peer),
    onAcceptError: (error) => state.acceptFailed(error),
  };
  let acceptor: TlsAcceptor;
  try {
    acceptor = await listen(tlsOptions);
  } catch (error) {
    rejections.stop();
    throw error;
  }
  const watch = new FileWatch({
    rebuild: options.reusePort ? () => acceptor.rebuild() : null,
    pressured: () => state.takePressure(),
  });

  return {
    addr: acceptor.addr,
    kind: acceptor.kind,
    async drain(timeoutMs) {
      state.closing = true;
      watch.stop();
      await acceptor.close();
      const result = await state.drain(timeoutMs);
      rejections.stop();
      return result;
    },
    endSessionsOf(identity, stop) {
      let ended = 0;
      for (const control of context.sessions) {
        if (control.identity !== identity || control.generation >= stop.belowGeneration) continue;
        if (control.keyId !== null && stop.activeKeyIds.has(control.keyId)) {
          control.generation = stop.belowGeneration;
          continue;
        }
        control.requestStop(stop.reason);
        ended += 1;
      }
      return ended;
    },
  };
}

/** The connections one listener serves, oldest unauthenticated first. */
class ListenerState {
  closing = false;
  readonly #admission: Admission;
  readonly #context: ServerContext;
  readonly #serve: (conn: PeerConn, parts: ConnectionParts) => Promise<void>;
  /** Connections not yet authenticated, in the order they arrived: the first is evicted to make room. */
  readonly #pending = new Map<PeerConn, { ticket: AdmissionTicket; control: SessionControl | null }>();
  readonly #open = new Set<PeerConn>();
  readonly #sessions = new Set<Promise<void>>();
  #pressure = false;
  #acceptErrors = 0;
  #acceptErrorLoggedMs = -Infinity;

  constructor(
    admission: Admission,
    context: ServerContext,
    serve: (conn: PeerConn, parts: ConnectionParts) => Promise<void>,
  ) {
    this.#admission = admission;
    this.#context = context;
    this.#serve = serve;
  }

  accept(peer: AcceptedPeer): void {
    if (this.closing) return peer.refuse();
    const admitted = this.#admission.admit(peer.remote.hostname, { makeRoom: () => this.#evictOldest() });
    if (!admitted.ok) {
      peer.refuse();
      this.#refused(peer, { refusal: admitted.refusal, addressKey: admitted.addressKey });
      return;
    }
    const conn = peer.secure();
    const { ticket } = admitted;
    const entry = { ticket, control: null as SessionControl | null };
    this.#pending.set(conn, entry);
    this.#open.add(conn);
    const session = this.#serve(conn, {
      context: this.#context,
      ticket,
      onControl: (control) => (entry.control = control),
      onAuthenticated: () => this.#pending.delete(conn),
    }).finally(() => {
      this.#pending.delete(conn);
      this.#open.delete(conn);
      this.#sessions.delete(session);
      ticket.release();
    });
    this.#sessions.add(session);
  }

  acceptFailed(error: Error): void {
    this.#pressure = true;
    this.#acceptErrors += 1;
    this.#context.stats.acceptFailed();
    const nowMs = performance.now();
    if (nowMs - this.#acceptErrorLoggedMs < REJECTION_LOG_INTERVAL_MS) return;
    this.#acceptErrorLoggedMs = nowMs;
    log.error("Accepting connections failed ({count} times since the last line): {error}; backing off", {
      count: this.#acceptErrors,
      error: error.message,
    });
    this.#acceptErrors = 0;
  }

  /** Whether accepting failed since the last call. */
  takePressure(): boolean {
    const pressure = this.#pressure;
    this.#pressure = false;
    return pressure;
  }

  async drain(timeoutMs: number): Promise<{ cut: number }> {
    for (const control of this.#context.sessions) control.requestStop("server shutting down");
    const settled = Promise.allSettled([...this.#sessions]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = await Promise.race([
      settled.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    const cut = late ? this.#open.size : 0;
    for (const conn of this.#open) conn.close();
    await settled;
    return { cut };
  }

  /** Closes the oldest connection of this thread that is not yet authenticated; false when there is none. */
  #evictOldest(): boolean {
    const oldest = this.#pending.entries().next();
    if (oldest.done === true) return false;
    const [conn, entry] = oldest.value;
    this.#pending.delete(conn);
    entry.control?.reject("connection_cap", "evicted: the connection budget is full");
    conn.close();
    entry.ticket.release();
    assert(!entry.ticket.pending, "An evicted connection holds no budget");
    return true;
  }

  #refused(peer: AcceptedPeer, parts: { refusal: ConnectionRefusal; addressKey: string }): void {
    this.#context.stats.connectionRefused(parts.refusal);
    if (!this.#context.rejections.record(parts.addressKey, parts.refusal)) return;
    log.warn("Connection from {peer} refused: {reason}", {
      peer: describeAddress(peer.remote),
      reason: parts.refusal,
    });
  }
}

/**
 * Samples the process's open files and its limit every {@link FD_CHECK_INTERVAL_MS}; when they come near
 * the limit, or accepting failed, it rebuilds the listening socket once they are back under.
 */
class FileWatch {
  readonly #rebuild: (() => Promise<void>) | null;
  readonly #pressured: () => boolean;
  readonly #timer: ReturnType<typeof setInterval>;
  #pressure = false;
  #rebuilding = false;

  constructor(parts: { rebuild: (() => Promise<void>) | null; pressured: () => boolean }) {
    this.#rebuild = parts.rebuild;
    this.#pressured = parts.pressured;
    this.#timer = setInterval(() => this.#check(), FD_CHECK_INTERVAL_MS);
    Deno.unrefTimer(this.#timer);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #check(): void {
    const open = countOpenFiles();
    const limit = readFileLimit();
    const nearLimit = open !== null && limit !== null && open >= limit.soft - FD_PRESSURE_MARGIN;
    if (this.#pressured() || nearLimit) {
      if (!this.#pressure) {
        log.warning("Open files {open} are near the limit {limit}, or accepting failed", {
          open: open ?? "unknown",
          limit: limit?.soft ?? "unknown",
        });
      }
      this.#pressure = true;
      return;
    }
    if (!this.#pressure || this.#rebuilding || this.#rebuild === null) return;
    this.#pressure = false;
    this.#rebuilding = true;
    this.#rebuild().then(
      () => log.warning("Listening socket rebuilt after the open-file pressure; {open} files open", { open }),
      (error: unknown) => {
        this.#pressure = true;
        log.error("Rebuilding the listening socket failed: {error}; trying again", { error: String(error) });
      },
    ).finally(() => (this.#rebuilding = false));
  }
}

function logSummary(summary: RejectionSummary): void {
  const from = summary.address ?? "other addresses";
  log.warn("Rejected {count} more connections or requests from {from} in the last {seconds} s: {reasons}", {
    ...summary,
    from,
  });
}
