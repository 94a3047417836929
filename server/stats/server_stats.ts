/**
 * What the server counts, in one place: the seed's `/status` numbers, Prometheus metrics and, through
 * {@link SecondSeries}, the dashboard's per-second view. Counted server-side, so every client and monitor
 * sees the same numbers; worker threads report through `ForwardingStats`, applied here with
 * {@link ServerStats.applyDelta}.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { Counter, Gauge, Histogram, Registry } from "../../lib/prometheus.ts";
import { OPERATIONS } from "../../protocol/codes.ts";
import type { Operation } from "../../protocol/codes.ts";
import type { MonitorSource, SeriesView, StatusSnapshot } from "../../monitor/source.ts";
import type { MonitorRefusal } from "../http_listener.ts";
import { countOpenFiles, readFileLimit } from "../open_files.ts";
import { SecondSeries } from "./series.ts";
import { nextConnectionNumber, REJECT_REASONS } from "./sink.ts";
import type {
  AnsweredRequest,
  HandshakeFailureReason,
  JournaledTransfer,
  RefuseReason,
  Rejections,
  RejectReason,
  RequestOutcome,
  StatsDelta,
  StatsSink,
} from "./sink.ts";

const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServerStats implements StatsSink, MonitorSource {
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
  readonly #headEntry = this.registry.register(
    new Gauge("bank_ledger_head_entry", "Entry number of the latest link of the journal's hash chain", []),
  );
  readonly #series = new SecondSeries();
  #draining = false;
  #ledgerHead: StatusSnapshot["ledger_head"] = null;

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
    this.#series.rejected(count);
    assert(this.#rejected.total() <= this.#accepted.value(), "Rejected connections are a subset of all");
  }

  acceptFailed(): void {
    this.#acceptFailures.inc();
  }

  /** Counts a monitor connection or request refused by the monitor's caps (main thread only). */
  monitorRefused(reason: MonitorRefusal): void {
    this.#monitorRefused.inc({ reason });
    this.#series.rejected();
  }

  /** Counts a failed TLS handshake or authentication (also counted as a rejected connection). */
  handshakeFailed(reason: HandshakeFailureReason): void {
    this.#handshakes.inc({ reason });
  }

  /** Counts an answered request. */
  requestAnswered(request: AnsweredRequest): void {
    this.#requests.inc({ operation: request.operation, outcome: request.outcome });
    this.#latency.observe(request.durationMs / 1000, { operation: request.operation });
    this.#series.request({ ok: request.outcome === "ok", durationMs: request.durationMs });
    if (request.outcome === "rate_limited") {
      this.#rateLimited.inc();
      this.#series.rejected();
    }
  }

  ledgerCommitted(durationMs: number): void {
    this.#commits.observe(durationMs / 1000);
  }

  transferJournaled(transfer: JournaledTransfer): void {
    this.#series.transfer(transfer);
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
    this.#series.tick({ nowMs, connections: this.#open.value() });
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
      ledger_head: this.#ledgerHead,
    };
  }

  /** Records the journal chain's latest link, as the store last answered. */
  setLedgerHead(head: { entry: bigint | null; hash: string }): void {
    const entry = head.entry === null ? null : Number(head.entry);
    this.#ledgerHead = { entry, hash: head.hash };
    this.#headEntry.set(entry ?? 0);
  }

  series(): SeriesView {
    return this.#series.view();
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

/** Every operation a request is counted under: the protocol's, and `unknown` for unreadable requests. */
const OPERATIONS_FOR_TOTALS: readonly (Operation | "unknown")[] = [...OPERATIONS, "unknown"];

function sumWhere(counter: Counter, outcome: RequestOutcome): number {
  return OPERATIONS_FOR_TOTALS.reduce((sum, operation) => sum + counter.value({ operation, outcome }), 0);
}
