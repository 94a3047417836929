/**
 * What the listener and the sessions need of a TLS implementation, and nothing more: accept raw
 * connections (so admission can refuse one before any TLS work is spent on it), secure the admitted ones,
 * and close any connection at once, whatever phase it is in.
 *
 * Two implementations: server/tls_node.ts (`node:tls`, which serves) and server/tls_deno.ts
 * (`Deno.listenTls`, kept to be measured against; it cannot close a connection during its TLS handshake).
 *
 * @module
 */
import type { FrameConn } from "../protocol/transport.ts";

/** An address and port, as both implementations report them. */
export interface PeerAddress {
  hostname: string;
  port: number;
}

/** A connection a session runs on. */
export interface PeerConn extends FrameConn {
  readonly remote: PeerAddress;
  /** Completes the TLS handshake; rejects when it fails or the connection closes first. */
  handshake(): Promise<void>;
  /** Sends TLS close_notify and ends our side of the stream. */
  closeWrite(): Promise<void>;
  /**
   * Closes the connection now, in any phase (the TLS handshake included): its file is released, and a
   * read or write still waiting fails.
   */
  close(): void;
}

/** A connection just accepted, before any TLS work: admission either refuses or secures it. */
export interface AcceptedPeer {
  readonly remote: PeerAddress;
  /** Closes it at once. */
  refuse(): void;
  /** Starts TLS on it; the returned connection's {@link PeerConn.handshake} completes it. */
  secure(): PeerConn;
}

/** What a TLS listener is asked to do. */
export interface TlsListenOptions {
  hostname: string;
  port: number;
  certPem: string;
  keyPem: string;
  /** Share the port with the other serving threads (SO_REUSEPORT). */
  reusePort: boolean;
  /** Called for each accepted connection, synchronously, before any TLS work is done on it. */
  onPeer: (peer: AcceptedPeer) => void;
  /** Called when accepting failed (out of files, out of sockets); the listener backs off and goes on. */
  onAcceptError: (error: Error) => void;
}

/** A listening TLS socket. */
export interface TlsAcceptor {
  /** Which implementation this is, for logs and the benchmark. */
  readonly kind: TlsListenerKind;
  readonly addr: PeerAddress;
  /**
   * Replaces the listening socket with a fresh one on the same port (connections already accepted are
   * not touched): the way back after the accept loop met "Too many open files".
   */
  rebuild(): Promise<void>;
  /** Stops accepting. */
  close(): Promise<void>;
}

export type TlsListenerKind = "node" | "deno";
export const TLS_LISTENER_KINDS: readonly TlsListenerKind[] = ["node", "deno"];
