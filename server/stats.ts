/**
 * Server-side counters: the same numbers whichever client or monitor asks.
 *
 * @module
 */
import { assert } from "../protocol/assert.ts";

/** What `/status` reports. */
export interface StatusSnapshot {
  connections: number;
  connections_total: number;
  connections_rejected: number;
  tasks_processed: number;
  tasks_failed: number;
  uptime_seconds: number;
}

export class ServerStats {
  readonly #startedAtMs: number;
  #open = 0;
  #total = 0;
  #rejected = 0;
  #processed = 0;
  #failed = 0;

  constructor(options: { nowMs?: number } = {}) {
    this.#startedAtMs = options.nowMs ?? Date.now();
  }

  /** Counts an accepted connection and returns its number, starting at 1. */
  connectionOpened(): number {
    this.#open += 1;
    this.#total += 1;
    return this.#total;
  }

  connectionClosed(): void {
    assert(this.#open > 0, "Cannot close more connections than were opened");
    this.#open -= 1;
  }

  /** Counts a connection refused for bad input, a failed handshake or a full server. */
  connectionRejected(): void {
    this.#rejected += 1;
    assert(this.#rejected <= this.#total, "Rejected connections are a subset of all connections");
  }

  /** Counts an answered request; `ok` is false when the answer was a refusal. */
  taskProcessed(ok: boolean): void {
    this.#processed += 1;
    if (!ok) this.#failed += 1;
    assert(this.#failed <= this.#processed, "Failed tasks are a subset of processed tasks");
  }

  snapshot(nowMs: number = Date.now()): StatusSnapshot {
    return {
      connections: this.#open,
      connections_total: this.#total,
      connections_rejected: this.#rejected,
      tasks_processed: this.#processed,
      tasks_failed: this.#failed,
      uptime_seconds: Math.max(0, Math.floor((nowMs - this.#startedAtMs) / 1000)),
    };
  }
}
