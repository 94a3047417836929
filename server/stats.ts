/**
 * What the server counts: the seed's `/status` numbers, Prometheus metrics, a per-second series for the
 * dashboard, and the most recent transfers (amounts and account ids only). Counted server-side, so every
 * client and monitor sees the same numbers. Every label value comes from a closed union, and every buffer
 * has a ceiling.
 *
 * @module
 */
import { assert } from "../protocol/assert.ts";
import type { Operation } from "../protocol/codes.ts";
import type { HandshakeFailure } from "../protocol/session.ts";
import { Counter, Gauge, Histogram, Registry } from "../monitor/metrics.ts";
import type { ConnectionRefusal } from "./admission.ts";
import type { MonitorRefusal } from "./http_listener.ts";
import { countOpenFiles, readFileLimit } from "./open_files.ts";

/**
 * How a request ended: answered with a result, answered with a refusal, refused because the identity
 * was over its request budget, or failed in the server.
 */
export type RequestOutcome = "ok" | "refused" | "rate_limited" | "error";

/** Why a connection was refused at accept by the budgets (its address, or the process being full). */
export type RefuseReason = ConnectionRefusal;

/** Why a connection was rejected (the first word of its log line). */
export type RejectReason =
  | RefuseReason
  | "identity_cap"
  | "handshake_failed"
  | "frame_empty"
  | "frame_too_large"
  | "frame_truncated"
  | "frame_timeout"
  | "sealed_malformed"
  | "sealed_out_of_sequence"
  | "sealed_not_authentic"
  | "deadline"
  | "tls_failed"
  | "connection_lost";

/** Why a TLS handshake or an authentication failed. */
export type HandshakeFailureReason = HandshakeFailure | "tls_failed" | "deadline";

/** Rejections by reason: every connection refused or rejected, and `identity_rate` for rate-limited requests. */
export type Rejections = Partial<Record<RejectReason | "identity_rate", number>>;

/** What `/status` reports; the original design's `connections` and `tasks_processed` first. */
export interface StatusSnapshot {
  connections: number;
  connections_total: number;
  connections_rejected: number;
  tasks_processed: number;
  tasks_failed: number;
  uptime_seconds: number;
  draining: boolean;
  /** Open connections still in the TLS or bank handshake, and those authenticated. */
  connections_handshaking: number;
  connections_authenticated: number;
  /** The process's open files and its (soft) limit; null where they cannot be read. */
  open_files: number | null;
  open_files_limit: number | null;
  rejections: Rejections;
  /** The monitor's refusals by reason (its caps and deadline). */
  monitor_rejections: Partial<Record<MonitorRefusal, number>>;
  accept_failures: number;
}

/** One second of the dashboard's series. */
export interface SeriesSample {
  t: number;
  requests: number;
  errors: number;
  rejected: number;
  connections: number;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
}

/** A transfer as the dashboard shows it: no names, no keys, no contact details. */
export interface RecentTransfer {
  at: string;
  from: string;
  to: string;
  amount_minor: string;
}

/** Seconds of series kept (ten minutes), latencies sampled per second, and transfers remembered. */
export const SERIES_SECONDS_MAX = 600;
export const LATENCY_SAMPLES_PER_SECOND_MAX = 512;
export const RECENT_TRANSFERS_MAX = 20;

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Everything a serving thread reports as it happens. */
export interface StatsSink {
  /** Counts an admitted connection (now handshaking) and returns its number, unique across threads. */
  connectionOpened(): number;
  /** Moves a connection from handshaking to authenticated. */
  connectionAuthenticated(): void;
  connectionClosed(state: { authenticated: boolean }): void;
  /** Counts a connection the budgets refused at accept: it was closed at once and never opened. */
  connectionRefused(reason: RefuseReason): void;
  connectionRejected(reason: RejectReason): void;
  /** Counts a failed accept (out of files or sockets). */
  acceptFailed(): void;
  handshakeFailed(reason: HandshakeFailureReason): void;
  requestAnswered(
    request: { operation: Operation | "unknown"; outcome: RequestOutcome; durationMs: number },
  ): void;
  ledgerCommitted(durationMs: number): void;
  transferJournaled(
    transfer: { sourceAccountId: string; targetAccountId: string; amountMinor: bigint; at: Date },
  ): void;
}

/** What a worker thread reported since its last report (see {@link ForwardingStats}). */
export interface StatsDelta {
  opened: number;
  authenticated: number;
  closedHandshaking: number;
  closedAuthenticated: number;
  refused: Partial<Record<RefuseReason, number>>;
  rejected: Partial<Record<RejectReason, number>>;
  handshakes: Partial<Record<HandshakeFailureReason, number>>;
  acceptFailures: number;
  requests: { operation: Operation | "unknown"; outcome: RequestOutcome; durationMs: number }[];
  commits: number[];
  transfers: { sourceAccountId: string; targetAccountId: string; amountMinor: bigint; at: Date }[];
}

/** Hands out connection numbers unique across threads, from a shared counter. */
export function nextConnectionNumber(sequence: SharedArrayBuffer): number {
  return Number(Atomics.add(new BigInt64Array(sequence), 0, 1n)) + 1;
}

export class ServerStats implements StatsSink {
  readonly registry = new Registry();
  readonly #startedAtMs: number;
  readonly #open = this.registry.register(new Gauge("bank_connections_open", "Connections open now", []));
  readonly #phases = this.registry.register(
    new Gauge("bank_connections", "Connections open now, by phase (handshaking, authenticated)", ["phase"]),
  );
  readonly #accepted = this.registry.register(
    new Counter("bank_connections_total", "Connections accepted (refused ones included)", []),
  );
  readonly #rejected = this.registry.register(
    new Counter("bank_connections_rejected_total", "Connections refused or rejected, by reason", ["reason"]),
  );
  readonly #rateLimited = this.registry.register(
    new Counter("bank_requests_rate_limited_total", "Requests refused as over their identity's budget", []),
  );
  readonly #monitorRefused = this.registry.register(
    new Counter("bank_monitor_rejections_total", "Monitor connections or requests refused, by reason", [
      "reason",
    ]),
  );
  readonly #acceptFailures = this.registry.register(
    new Counter("bank_accept_failures_total", "Accepts that failed (out of files or sockets)", []),
  );
  readonly #handshakes = this.registry.register(
    new Counter("bank_handshake_failures_total", "Failed TLS handshakes and authentications, by reason", [
      "reason",
    ]),
  );
  readonly #requests = this.registry.register(
    new Counter("bank_requests_total", "Requests answered, by operation and outcome", [
      "operation",
      "outcome",
    ]),
  );
  readonly #latency = this.registry.register(
    new Histogram("bank_request_duration_seconds", "Time from reading a request to sending its answer", {
      labelNames: ["operation"],
      bounds: LATENCY_BUCKETS_S,
    }),
  );
  readonly #commits = this.registry.register(
    new Histogram("bank_ledger_commit_duration_seconds", "Time a ledger write takes to commit durably", {
      bounds: LATENCY_BUCKETS_S,
    }),
  );
  readonly #memory = this.registry.register(
    new Gauge("process_resident_memory_bytes", "Resident memory of the server process", []),
  );
  readonly #openFiles = this.registry.register(
    new Gauge("process_open_fds", "Open files of the server process", []),
  );
  readonly #fileLimit = this.registry.register(
    new Gauge("process_max_fds", "Open-file limit (soft) of the server process", []),
  );
  readonly #heap = this.registry.register(new Gauge("bank_heap_used_bytes", "JavaScript heap in use", []));
  readonly #uptime = this.registry.register(
    new Gauge("bank_uptime_seconds", "Seconds since the server started", []),
  );
  readonly #series: SeriesSample[] = [];
  readonly #recent: RecentTransfer[] = [];
  #second = { requests: 0, errors: 0, rejected: 0, latencies: [] as number[], seen: 0 };
  #draining = false;

  readonly #sequence: SharedArrayBuffer;

  constructor(options: { nowMs?: number; sequence?: SharedArrayBuffer } = {}) {
    this.#startedAtMs = options.nowMs ?? Date.now();
    this.#sequence = options.sequence ?? new SharedArrayBuffer(8);
    this.#phases.set(0, { phase: "handshaking" });
    this.#phases.set(0, { phase: "authenticated" });
  }

  /** The counter connection numbers come from; worker threads share it. */
  get sequence(): SharedArrayBuffer {
    return this.#sequence;
  }

  /** Counts an admitted connection and returns its number, starting at 1. */
  connectionOpened(): number {
    this.#countOpened(1);
    return nextConnectionNumber(this.#sequence);
  }

  #countOpened(count: number): void {
    this.#open.add(count);
    this.#phases.add(count, { phase: "handshaking" });
    this.#accepted.inc({}, count);
  }

  connectionAuthenticated(count = 1): void {
    assert(
      this.#phases.value({ phase: "handshaking" }) >= count,
      "Only a handshaking connection authenticates",
    );
    this.#phases.add(-count, { phase: "handshaking" });
    this.#phases.add(count, { phase: "authenticated" });
  }

  /** Adds what a worker thread reported. */
  applyDelta(delta: StatsDelta): void {
    this.#countOpened(delta.opened);
    if (delta.authenticated > 0) this.connectionAuthenticated(delta.authenticated);
    for (const [reason, count] of entries(delta.refused)) this.connectionRefused(reason, count);
    for (const [reason, count] of entries(delta.rejected)) this.connectionRejected(reason, count);
    for (const [reason, count] of entries(delta.handshakes)) this.#handshakes.inc({ reason }, count);
    if (delta.acceptFailures > 0) this.#acceptFailures.inc({}, delta.acceptFailures);
    for (const request of delta.requests) this.requestAnswered(request);
    for (const durationMs of delta.commits) this.ledgerCommitted(durationMs);
    for (const transfer of delta.transfers) this.transferJournaled(transfer);
    this.#countClosed({ authenticated: false }, delta.closedHandshaking);
    this.#countClosed({ authenticated: true }, delta.closedAuthenticated);
  }

  connectionClosed(state: { authenticated: boolean }): void {
    this.#countClosed(state, 1);
  }

  #countClosed(state: { authenticated: boolean }, count: number): void {
    const phase = state.authenticated ? "authenticated" : "handshaking";
    assert(this.#phases.value({ phase }) >= count, `Cannot close more ${phase} connections than are open`);
    this.#phases.add(-count, { phase });
    this.#open.add(-count);
  }

  connectionRefused(reason: RefuseReason, count = 1): void {
    this.#accepted.inc({}, count);
    this.connectionRejected(reason, count);
  }

  connectionRejected(reason: RejectReason, count = 1): void {
    this.#rejected.inc({ reason }, count);
    this.#second.rejected += count;
    assert(this.#rejected.total() <= this.#accepted.value(), "Rejected connections are a subset of all");
  }

  acceptFailed(): void {
    this.#acceptFailures.inc();
  }

  /** Counts a monitor connection or request refused by the monitor's caps (main thread only). */
  monitorRefused(reason: MonitorRefusal): void {
    this.#monitorRefused.inc({ reason });
    this.#second.rejected += 1;
  }

  /** Counts a failed TLS handshake or authentication (also counted as a rejected connection). */
  handshakeFailed(reason: HandshakeFailureReason): void {
    this.#handshakes.inc({ reason });
  }

  /** Counts an answered request. */
  requestAnswered(
    request: { operation: Operation | "unknown"; outcome: RequestOutcome; durationMs: number },
  ): void {
    this.#requests.inc({ operation: request.operation, outcome: request.outcome });
    this.#latency.observe(request.durationMs / 1000, { operation: request.operation });
    const second = this.#second;
    second.requests += 1;
    if (request.outcome !== "ok") second.errors += 1;
    if (request.outcome === "rate_limited") {
      this.#rateLimited.inc();
      second.rejected += 1;
    }
    second.seen += 1;
    if (second.latencies.length < LATENCY_SAMPLES_PER_SECOND_MAX) second.latencies.push(request.durationMs);
    else {
      const slot = Math.floor(Math.random() * second.seen);
      if (slot < LATENCY_SAMPLES_PER_SECOND_MAX) second.latencies[slot] = request.durationMs;
    }
  }

  ledgerCommitted(durationMs: number): void {
    this.#commits.observe(durationMs / 1000);
  }

  transferJournaled(
    transfer: { sourceAccountId: string; targetAccountId: string; amountMinor: bigint; at: Date },
  ) {
    this.#recent.unshift({
      at: transfer.at.toISOString(),
      from: transfer.sourceAccountId,
      to: transfer.targetAccountId,
      amount_minor: transfer.amountMinor.toString(),
    });
    if (this.#recent.length > RECENT_TRANSFERS_MAX) this.#recent.pop();
  }

  /** Marks the server as draining (shutting down): readiness fails from now on. */
  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Closes the current second of the series; call once a second. */
  tick(nowMs: number = Date.now()): void {
    const { requests, errors, rejected, latencies } = this.#second;
    latencies.sort((a, b) => a - b);
    this.#series.push({
      t: Math.floor(nowMs / 1000),
      requests,
      errors,
      rejected,
      connections: this.#open.value(),
      p50_ms: percentile(latencies, 0.5),
      p90_ms: percentile(latencies, 0.9),
      p99_ms: percentile(latencies, 0.99),
    });
    if (this.#series.length > SERIES_SECONDS_MAX) this.#series.shift();
    this.#second = { requests: 0, errors: 0, rejected: 0, latencies: [], seen: 0 };
  }

  snapshot(nowMs: number = Date.now()): StatusSnapshot {
    const processed = this.#requests.total();
    const failed = processed - sumWhere(this.#requests, "ok");
    const files = this.#readFiles();
    const rejections: Rejections = {};
    for (const reason of REJECT_REASONS) {
      const count = this.#rejected.value({ reason });
      if (count > 0) rejections[reason] = count;
    }
    const rateLimited = this.#rateLimited.value();
    if (rateLimited > 0) rejections.identity_rate = rateLimited;
    return {
      connections: this.#open.value(),
      connections_total: this.#accepted.value(),
      connections_rejected: this.#rejected.total(),
      tasks_processed: processed,
      tasks_failed: failed,
      uptime_seconds: Math.max(0, Math.floor((nowMs - this.#startedAtMs) / 1000)),
      draining: this.#draining,
      connections_handshaking: this.#phases.value({ phase: "handshaking" }),
      connections_authenticated: this.#phases.value({ phase: "authenticated" }),
      open_files: files.open,
      open_files_limit: files.limit,
      rejections,
      monitor_rejections: Object.fromEntries(
        MONITOR_REFUSALS.map((reason) => [reason, this.#monitorRefused.value({ reason })])
          .filter(([, count]) => (count as number) > 0),
      ),
      accept_failures: this.#acceptFailures.value(),
    };
  }

  series(): { samples: SeriesSample[]; recent_transfers: RecentTransfer[] } {
    return { samples: [...this.#series], recent_transfers: [...this.#recent] };
  }

  /** The Prometheus exposition, with process figures read now. */
  prometheus(nowMs: number = Date.now()): string {
    const memory = Deno.memoryUsage();
    this.#memory.set(memory.rss);
    this.#heap.set(memory.heapUsed);
    this.#uptime.set(Math.max(0, (nowMs - this.#startedAtMs) / 1000));
    const files = this.#readFiles();
    if (files.open !== null) this.#openFiles.set(files.open);
    if (files.limit !== null) this.#fileLimit.set(files.limit);
    return this.registry.render();
  }

  #readFiles(): { open: number | null; limit: number | null } {
    const limit = readFileLimit()?.soft ?? null;
    return { open: countOpenFiles(), limit: limit === Infinity ? null : limit };
  }
}

const REJECT_REASONS: readonly RejectReason[] = [
  "address_rate",
  "address_cap",
  "connection_cap",
  "identity_cap",
  "deadline",
  "handshake_failed",
  "frame_empty",
  "frame_too_large",
  "frame_truncated",
  "frame_timeout",
  "sealed_malformed",
  "sealed_out_of_sequence",
  "sealed_not_authentic",
  "tls_failed",
  "connection_lost",
];

const MONITOR_REFUSALS: readonly MonitorRefusal[] = [
  "address_cap",
  "connection_cap",
  "deadline",
  "header_too_large",
  "body_too_large",
  "bad_request",
];

function entries<K extends string>(counts: Partial<Record<K, number>>): [K, number][] {
  return Object.entries(counts) as [K, number][];
}

const OPERATIONS_FOR_TOTALS: readonly (Operation | "unknown")[] = [
  "balance",
  "transfer",
  "history",
  "update_contact",
  "unknown",
];

function sumWhere(counter: Counter, outcome: RequestOutcome): number {
  return OPERATIONS_FOR_TOTALS.reduce((sum, operation) => sum + counter.value({ operation, outcome }), 0);
}

function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, index)]! * 1000) / 1000;
}

/** Reports gathered before a worker thread sends them on: at most this many requests, or this often. */
export const FORWARD_REQUESTS_MAX = 20_000;
export const FORWARD_INTERVAL_MS = 50;

/**
 * The statistics of a worker thread: it numbers connections from the shared counter and sends what it
 * counted to the main thread every {@link FORWARD_INTERVAL_MS}, where {@link ServerStats.applyDelta} adds it.
 */
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

  requestAnswered(
    request: { operation: Operation | "unknown"; outcome: RequestOutcome; durationMs: number },
  ): void {
    this.#touch().requests.push(request);
    if (this.#delta.requests.length >= FORWARD_REQUESTS_MAX) this.flush();
  }

  ledgerCommitted(durationMs: number): void {
    if (this.#delta.commits.length < FORWARD_REQUESTS_MAX) this.#touch().commits.push(durationMs);
  }

  transferJournaled(
    transfer: { sourceAccountId: string; targetAccountId: string; amountMinor: bigint; at: Date },
  ) {
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
