/**
 * What a serving thread reports as it happens, and the closed unions its reports use: every label value of
 * the server's metrics comes from one of them, so the number of series is bounded by construction.
 *
 * @module
 */
import type { Operation } from "../../protocol/codes.ts";
import type { HandshakeFailure } from "../../protocol/session.ts";
import type { ConnectionRefusal } from "../admission.ts";

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

/** Every reject reason, in the order `/status` lists them. */
export const REJECT_REASONS: readonly RejectReason[] = [
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

/** Why a TLS handshake or an authentication failed. */
export type HandshakeFailureReason = HandshakeFailure | "tls_failed" | "deadline";

/** Rejections by reason: every connection refused or rejected, and `identity_rate` for rate-limited requests. */
export type Rejections = Partial<Record<RejectReason | "identity_rate", number>>;

/** An answered request, as counted. */
export interface AnsweredRequest {
  operation: Operation | "unknown";
  outcome: RequestOutcome;
  durationMs: number;
}

/** A journaled transfer, as the dashboard shows it. */
export interface JournaledTransfer {
  sourceAccountId: string;
  targetAccountId: string;
  amountMinor: bigint;
  at: Date;
}

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
  requestAnswered(request: AnsweredRequest): void;
  ledgerCommitted(durationMs: number): void;
  transferJournaled(transfer: JournaledTransfer): void;
}

/** What a worker thread reported since its last report (see `ForwardingStats`). */
export interface StatsDelta {
  opened: number;
  authenticated: number;
  closedHandshaking: number;
  closedAuthenticated: number;
  refused: Partial<Record<RefuseReason, number>>;
  rejected: Partial<Record<RejectReason, number>>;
  handshakes: Partial<Record<HandshakeFailureReason, number>>;
  acceptFailures: number;
  requests: AnsweredRequest[];
  commits: number[];
  transfers: JournaledTransfer[];
}

/** Hands out connection numbers unique across threads, from a shared counter. */
export function nextConnectionNumber(sequence: SharedArrayBuffer): number {
  return Number(Atomics.add(new BigInt64Array(sequence), 0, 1n)) + 1;
}
