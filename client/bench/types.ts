/**
 * The load generator's vocabulary: the mix of operations, its options, its progress and its report.
 *
 * @module
 */
import type { AeadFactory } from "../../protocol/aead.ts";
import type { Credential } from "../../protocol/credential.ts";

/** The operations a bench sends; `contact` is `update_contact` on the wire. */
export type BenchOperation = "balance" | "transfer" | "contact";
export const BENCH_OPERATIONS: readonly BenchOperation[] = ["balance", "transfer", "contact"];

/** Relative weights of the operations: `{ balance: 8, transfer: 1, contact: 1 }` is the mix 8:1:1. */
export interface BenchMix {
  balance: number;
  transfer: number;
  contact: number;
}

/** Where a bench is, for a progress line. Counts are cumulative. */
export interface BenchProgress {
  phase: "connecting" | "warmup" | "measuring" | "draining";
  /** Connections set up so far (while connecting) or open now. */
  connections: number;
  sent: number;
  answered: number;
  errors: number;
  /** Answers per second over the last progress interval. */
  requestsPerSecond: number;
}

export interface BenchOptions {
  host: string;
  port: number;
  /** The CA certificate (PEM) that must have signed the server's certificate. */
  caPem: string;
  /** Connection i authenticates as `credentials[i % credentials.length]`. */
  credentials: readonly Credential[];
  /** Connections to open. */
  clients: number;
  durationMs: number;
  /** Sending before the measured window starts; excluded from the figures (default 1 s). */
  warmupMs?: number;
  mix: BenchMix;
  /** Requests in flight per connection (default 1: send, wait for the answer, send the next). */
  pipeline?: number;
  /** Seeds the choice of operations and targets (default 1). */
  seed?: number;
  /** The AES-256-GCM implementation for the sealed channel (default WebCrypto). */
  aead?: AeadFactory;
  /** Stops sending early; the answers in flight are still awaited and the report covers what was done. */
  stop?: AbortSignal;
  onProgress?: (progress: BenchProgress) => void;
  /** Amount of each transfer in minor units (default 1 cent). */
  transferAmountMinor?: bigint;
  /** Longest wait for a connection or an answer before the connection is given up (default 30 s). */
  timeoutMs?: number;
}

/** Latency percentiles in milliseconds; null when nothing was measured. */
export interface LatencySummary {
  count: number;
  mean_ms: number | null;
  p50_ms: number | null;
  p90_ms: number | null;
  p99_ms: number | null;
  p99_9_ms: number | null;
  max_ms: number | null;
}

/** The spread of a setup step's duration in milliseconds; null when no connection got that far. */
export interface SetupSummary {
  count: number;
  min_ms: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
}

/** What a bench did. Field names are those of the `--json` report. */
export interface BenchReport {
  /** No request errored, no answer was wrong, and every connection was made and kept. */
  ok: boolean;
  settings: {
    host: string;
    port: number;
    clients: number;
    identities: number;
    duration_ms: number;
    warmup_ms: number;
    pipeline: number;
    seed: number;
    mix: BenchMix;
    transfer_amount_minor: string;
  };
  /** Answers that arrived inside the measured window. */
  measured: {
    window_ms: number;
    requests: number;
    errors: number;
    requests_per_second: number;
    latency_ms: LatencySummary;
    by_operation: Record<BenchOperation, { requests: number; errors: number; latency_ms: LatencySummary }>;
  };
  /** The whole run: warmup, window and the answers awaited after it. `sent` is what the server counts. */
  totals: { sent: number; answered: number; errors: number };
  /** Errored requests of the whole run, by code: a server refusal code, `wrong_answer`, or a lost connection. */
  errors: Record<string, number>;
  connections: {
    opened: number;
    failed: number;
    lost: number;
    /** New sessions opened when one reached the server's per-session request limit. */
    renewed: number;
    failures: Record<string, number>;
    first_failure: string | null;
    tcp_connect_ms: SetupSummary;
    tls_handshake_ms: SetupSummary;
    bank_handshake_ms: SetupSummary;
  };
  /** The bench's own CPU time over the measured window. */
  client_cost: {
    cpu_user_ms: number;
    cpu_system_ms: number;
    /** CPU time over wall time: 1 means one core busy the whole window. */
    cpu_cores: number;
    cpu_us_per_request: number | null;
    /** True when the bench kept a core busy most of the window: it may have limited the figures. */
    saturated: boolean;
  };
}
