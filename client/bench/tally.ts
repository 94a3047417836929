/**
 * The figures of a run, kept in one place of fixed size: counts by outcome, operation and error code
 * (a bounded number of codes), and latency histograms.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { LatencyHistogram } from "../../lib/histogram.ts";
import { BENCH_ERROR_CODES_MAX } from "../limits.ts";
import type { BenchRequest } from "./requests.ts";
import type { BenchOperation } from "./types.ts";

/** A session that could not be opened: the step that failed (a code) and why. */
export type SetupFailure = { failure: string; message: string };

/** Counts and latencies of a run: the only place figures are kept, all of fixed size. */
export interface Tally {
  sent: number;
  answered: number;
  /** Requests lost with their connection, never answered. */
  unanswered: number;
  /** Requests that ended in an error: refused, wrong, or unanswered. */
  errors: number;
  measuredRequests: number;
  measuredErrors: number;
  windowStartMs: number;
  windowEndMs: number;
  readonly errorCodes: Map<string, number>;
  readonly latency: LatencyHistogram;
  readonly byOperation: Record<
    BenchOperation,
    { requests: number; errors: number; latency: LatencyHistogram }
  >;
  opened: number;
  failed: number;
  lost: number;
  renewed: number;
  readonly failures: Map<string, number>;
  firstFailure: string | null;
  readonly tcpConnect: LatencyHistogram;
  readonly tlsHandshake: LatencyHistogram;
  readonly bankHandshake: LatencyHistogram;
}

export function newTally(): Tally {
  const operation = () => ({ requests: 0, errors: 0, latency: new LatencyHistogram() });
  return {
    sent: 0,
    answered: 0,
    unanswered: 0,
    errors: 0,
    measuredRequests: 0,
    measuredErrors: 0,
    windowStartMs: Infinity,
    windowEndMs: Infinity,
    errorCodes: new Map(),
    latency: new LatencyHistogram(),
    byOperation: { balance: operation(), transfer: operation(), contact: operation() },
    opened: 0,
    failed: 0,
    lost: 0,
    renewed: 0,
    failures: new Map(),
    firstFailure: null,
    tcpConnect: new LatencyHistogram(),
    tlsHandshake: new LatencyHistogram(),
    bankHandshake: new LatencyHistogram(),
  };
}

/** Counts an answer; `errorCode` is null when it was the expected success. */
export function countAnswer(
  tally: Tally,
  answer: { request: BenchRequest; atMs: number; errorCode: string | null },
) {
  const { request, atMs, errorCode } = answer;
  tally.answered += 1;
  if (errorCode !== null) countErrors(tally, { code: errorCode, count: 1 });
  if (atMs < tally.windowStartMs || atMs > tally.windowEndMs) return;
  const latencyMs = atMs - request.sentAtMs;
  const operation = tally.byOperation[request.operation];
  tally.measuredRequests += 1;
  operation.requests += 1;
  tally.latency.record(latencyMs);
  operation.latency.record(latencyMs);
  if (errorCode === null) return;
  tally.measuredErrors += 1;
  operation.errors += 1;
}

/** Counts requests that will never be answered: their connection is gone. */
export function countUnanswered(tally: Tally, errors: { code: string; count: number }): void {
  tally.unanswered += errors.count;
  countErrors(tally, errors);
}

function countErrors(tally: Tally, errors: { code: string; count: number }): void {
  assert(errors.count >= 0, `Cannot count ${errors.count} errors`);
  if (errors.count === 0) return;
  tally.errors += errors.count;
  const key = boundedKey(tally.errorCodes, errors.code);
  tally.errorCodes.set(key, (tally.errorCodes.get(key) ?? 0) + errors.count);
}

export function countSetupFailure(tally: Tally, failure: SetupFailure): void {
  tally.failed += 1;
  const key = boundedKey(tally.failures, failure.failure);
  tally.failures.set(key, (tally.failures.get(key) ?? 0) + 1);
  tally.firstFailure ??= `${failure.failure}: ${failure.message}`;
}

/** The code itself while fewer than the ceiling are counted, else `other`: the maps stay small. */
function boundedKey(counts: ReadonlyMap<string, number>, code: string): string {
  return counts.has(code) || counts.size < BENCH_ERROR_CODES_MAX - 1 ? code : "other";
}
