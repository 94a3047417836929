/**
 * The guards of one session: {@link ConnectionGuard} holds the one deadline a connection has at a time and
 * closes it when that passes; {@link SessionControl} is how shutdown, revocation and eviction end it.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import type { PeerConn } from "./peer.ts";
import type { HandshakeFailureReason, RejectReason } from "./stats/sink.ts";

/** How a session ended: closed (normally, or on request), or rejected with a reason for the statistics. */
export type SessionEnd =
  | { kind: "closed"; reason: string }
  | { kind: "rejected"; reason: RejectReason; detail: string; handshake?: HandshakeFailureReason };

/**
 * How others end a session: shutdown and revocation ask it to stop. An idle session is closed at once; a
 * session answering a request finishes that answer first, so nothing acknowledged is cut short.
 */
export class SessionControl {
  readonly #guard: ConnectionGuard;
  #ending: SessionEnd | null = null;
  #busy = false;
  /**
   * The authenticated identity and key, once the handshake succeeded, and the identity's generation it was
   * last checked under.
   */
  identity: string | null = null;
  keyId: string | null = null;
  generation = 0;

  constructor(guard: ConnectionGuard) {
    this.#guard = guard;
  }

  /** How the session ends, once something asked it to stop. */
  get ending(): SessionEnd | null {
    return this.#ending;
  }

  /** True while a request is being answered. */
  get busy(): boolean {
    return this.#busy;
  }

  set busy(value: boolean) {
    this.#busy = value;
    if (!value && this.#ending !== null) this.#guard.close();
  }

  /** Ends the session as closed for `reason`, after the request in flight if there is one. */
  requestStop(reason: string): void {
    this.#ending ??= { kind: "closed", reason };
    if (!this.#busy) this.#guard.close();
  }

  /** Ends a session that has not authenticated yet as rejected (the listener evicts it to make room). */
  reject(reason: RejectReason, detail: string): void {
    assert(!this.#busy, "Only a session without a request in flight is rejected");
    this.#ending ??= { kind: "rejected", reason, detail };
    this.#guard.close();
  }
}

/**
 * Holds one deadline at a time over a connection; when it passes, the connection is closed. Moving the
 * deadline costs no timer: one timer per connection wakes at the earliest time the deadline could pass
 * and, if the deadline moved meanwhile, sleeps again until the new one.
 */
export class ConnectionGuard {
  readonly #conn: PeerConn;
  #deadlineMs = Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDueMs = Infinity;
  #expired = false;
  #closed = false;

  constructor(conn: PeerConn) {
    this.#conn = conn;
  }

  get expired(): boolean {
    return this.#expired;
  }

  arm(timeoutMs: number): void {
    this.#deadlineMs = performance.now() + timeoutMs;
    if (this.#timer === undefined || this.#deadlineMs < this.#timerDueMs) this.#schedule(timeoutMs);
  }

  disarm(): void {
    this.#deadlineMs = Infinity;
  }

  close(): void {
    this.#deadlineMs = Infinity;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed) return;
    this.#closed = true;
    this.#conn.close();
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    this.#timerDueMs = performance.now() + delayMs;
    this.#timer = setTimeout(() => this.#wake(), delayMs);
  }

  #wake(): void {
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
    if (this.#closed || this.#deadlineMs === Infinity) return;
    const remainingMs = this.#deadlineMs - performance.now();
    if (remainingMs > 0) {
      this.#schedule(remainingMs);
      return;
    }
    this.#expired = true;
    this.close();
  }
}
