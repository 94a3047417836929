/**
 * The statistics of a worker thread: it numbers connections from the shared counter and sends what it
 * counted to the main thread every {@link FORWARD_INTERVAL_MS}, where `ServerStats.applyDelta` adds it.
 *
 * @module
 */
import { FORWARD_INTERVAL_MS, FORWARD_REQUESTS_MAX, RECENT_TRANSFERS_MAX } from "../limits.ts";
import { nextConnectionNumber } from "./sink.ts";
import type {
  AnsweredRequest,
  HandshakeFailureReason,
  JournaledTransfer,
  RefuseReason,
  RejectReason,
  StatsDelta,
  StatsSink,
} from "./sink.ts";

/** Counts like `ServerStats`, and forwards what it counted. */
export class ForwardingStats implements StatsSink {
  readonly #sequence: SharedArrayBuffer;
  readonly #send: (delta: StatsDelta) => void;
  readonly #timer: ReturnType<typeof setInterval>;
  #delta: StatsDelta = emptyDelta();
  #empty = true;

  constructor(options: { sequence: SharedArrayBuffer; send: (delta: StatsDelta) => void }) {
    this.#sequence = options.sequence;
    this.#send = options.send;
    this.#timer = setInterval(() => this.flush(), FORWARD_INTERVAL_MS);
  }

  connectionOpened(): number {
    this.#touch().opened += 1;
    return nextConnectionNumber(this.#sequence);
  }

  connectionAuthenticated(): void {
    this.#touch().authenticated += 1;
  }

  connectionClosed(state: { authenticated: boolean }): void {
    if (state.authenticated) this.#touch().closedAuthenticated += 1;
    else this.#touch().closedHandshaking += 1;
    this.flush();
  }

  connectionRefused(reason: RefuseReason): void {
    increment(this.#touch().refused, reason);
  }

  connectionRejected(reason: RejectReason): void {
    increment(this.#touch().rejected, reason);
  }

  acceptFailed(): void {
    this.#touch().acceptFailures += 1;
  }

  handshakeFailed(reason: HandshakeFailureReason): void {
    increment(this.#touch().handshakes, reason);
  }

  requestAnswered(request: AnsweredRequest): void {
    this.#touch().requests.push(request);
    if (this.#delta.requests.length >= FORWARD_REQUESTS_MAX) this.flush();
  }

  ledgerCommitted(durationMs: number): void {
    if (this.#delta.commits.length < FORWARD_REQUESTS_MAX) this.#touch().commits.push(durationMs);
  }

  transferJournaled(transfer: JournaledTransfer): void {
    this.#touch().transfers.push(transfer);
    if (this.#delta.transfers.length > RECENT_TRANSFERS_MAX) this.#delta.transfers.shift();
  }

  /** Sends what was counted so far (nothing when nothing was). */
  flush(): void {
    if (this.#empty) return;
    const delta = this.#delta;
    this.#delta = emptyDelta();
    this.#empty = true;
    this.#send(delta);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.flush();
  }

  #touch(): StatsDelta {
    this.#empty = false;
    return this.#delta;
  }
}

function increment<K extends string>(counts: Partial<Record<K, number>>, key: K): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function emptyDelta(): StatsDelta {
  return {
    opened: 0,
    authenticated: 0,
    closedHandshaking: 0,
    closedAuthenticated: 0,
    refused: {},
    rejected: {},
    handshakes: {},
    acceptFailures: 0,
    requests: [],
    commits: [],
    transfers: [],
  };
}
