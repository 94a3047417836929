/**
 * The load generator behind `bank-client bench`. C connections, each authenticated as one of the given
 * credentials, send structured requests (a weighted mix of balance, transfer and update_contact) over the
 * sealed channel for a fixed time, with `pipeline` requests in flight per connection. Every answer is
 * checked: the id echoed, the shape of the result and the values it must repeat. A wrong answer is an
 * error, never a success.
 *
 * Timeline: connect every connection (TCP, TLS and the bank handshake timed separately), then send for
 * `warmupMs + durationMs`, then stop sending and wait for the answers in flight. Throughput and latency come
 * from the answers that arrive inside the measured window (after the warmup); totals and errors cover the
 * whole run, so the totals agree with the server's `/status` counters. Memory stays flat however long the
 * run: latencies go into fixed log-scale histograms (1% buckets), never into a growing array.
 *
 * The bench measures its own CPU time (user and system) over the measured window, so a report says when
 * the bench rather than the server may have been the bottleneck.
 *
 * @module
 */
import process from "node:process";
import { assert, isAssertionFailure } from "../lib/assert.ts";
import type { AeadFactory } from "../protocol/aead.ts";
import { utf8 } from "../lib/bytes.ts";
import type { OpenResult, SealedChannel } from "../protocol/channel.ts";
import type { Credential } from "../protocol/credential.ts";
import {
  BENCH_CLIENTS_MAX,
  BENCH_CONNECTS_IN_FLIGHT_MAX,
  BENCH_DURATION_MS_MAX,
  BENCH_DURATION_MS_MIN,
  BENCH_ERROR_CODES_MAX,
  BENCH_MIX_WEIGHT_MAX,
  BENCH_PIPELINE_MAX,
  BENCH_PROGRESS_INTERVAL_MS,
  BENCH_WARMUP_MS_DEFAULT,
  BENCH_WARMUP_MS_MAX,
  BENCH_WATCHDOG_INTERVAL_MS,
  CLIENT_RESPONSE_TIMEOUT_MS,
} from "./limits.ts";
import { FRAME_BYTES_DEFAULT, SESSION_REQUESTS_MAX } from "../protocol/limits.ts";
import { DEMO_TARGET_ACCOUNT_ID, demoAccountId } from "../protocol/demo.ts";
import { decodeResponse } from "../protocol/messages.ts";
import { clientHandshake } from "../protocol/session.ts";
import { LatencyHistogram } from "../lib/histogram.ts";
import { seededRandom } from "../lib/random.ts";
import { FrameTransport } from "../protocol/transport.ts";
import { decodeErrorBody, FrameType } from "../protocol/wire.ts";
import { connectWithin } from "./connection.ts";
import { EXIT_OK, EXIT_TASK_REFUSED, EXIT_UNREACHABLE } from "./run.ts";

/** The account every demo ledger has, used as the target when a connection has no other demo account. */
const ERROR_CODE_PATTERN = /^[a-z][a-z_]{0,39}$/;
const AMOUNT_PATTERN = /^(0|[1-9][0-9]{0,17})$/;
const WRONG_ANSWER = "wrong_answer";
const DURATION_PATTERN = /^(0|[1-9][0-9]{0,9})(ms|s|m|h)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const MIX_PATTERN = /^([0-9]{1,4}):([0-9]{1,4}):([0-9]{1,4})$/;

/** The operations a bench sends; `contact` is `update_contact` on the wire. */
export type BenchOperation = "balance" | "transfer" | "contact";
const BENCH_OPERATIONS: readonly BenchOperation[] = ["balance", "transfer", "contact"];

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

/** Above this share of one core, the bench itself may be what limits the throughput. */
const SATURATED_CPU_CORES = 0.8;

/** Reads a duration such as `500ms`, `10s`, `2m` or `1h`; null when the text is not one. */
export function parseDurationMs(text: string): number | null {
  const match = DURATION_PATTERN.exec(text);
  if (match === null) return null;
  return Number(match[1]) * DURATION_UNIT_MS[match[2]!]!;
}

/** Reads a mix `BALANCE:TRANSFER:CONTACT` of whole weights, at least one of them positive; null otherwise. */
export function parseMix(text: string): BenchMix | null {
  const match = MIX_PATTERN.exec(text);
  if (match === null) return null;
  const mix = { balance: Number(match[1]), transfer: Number(match[2]), contact: Number(match[3]) };
  return isValidMix(mix) ? mix : null;
}

function isValidMix(mix: BenchMix): boolean {
  const weights = [mix.balance, mix.transfer, mix.contact];
  const inRange = weights.every((weight) =>
    Number.isInteger(weight) && weight >= 0 && weight <= BENCH_MIX_WEIGHT_MAX
  );
  return inRange && weights.some((weight) => weight > 0);
}

/** The process exit code for a bench: 0 all well, 1 any error, 3 no connection could be made. */
export function benchExitCode(report: BenchReport): number {
  if (report.connections.opened === 0) return EXIT_UNREACHABLE;
  return report.ok ? EXIT_OK : EXIT_TASK_REFUSED;
}

// ---------------------------------------------------------------------------------------------------------
// Running

/** One request sent and not yet answered, with what its answer must repeat. */
interface BenchRequest {
  id: string;
  operation: BenchOperation;
  plaintext: Uint8Array;
  /** Transfers only, "" otherwise: what the answer must repeat. */
  target: string;
  key: string;
  amountText: string;
  sentAtMs: number;
}

interface Session {
  conn: Deno.TlsConn;
  transport: FrameTransport;
  channel: SealedChannel;
  inFlight: BenchRequest[];
  /** Set by the watchdog when an answer is overdue and the connection was closed. */
  expired: boolean;
}

type SetupFailure = { failure: string; message: string };

/** Settled values of the options, and the state every connection shares. */
interface BenchRun {
  host: string;
  port: number;
  caPem: string;
  aead: AeadFactory | undefined;
  pipeline: number;
  warmupMs: number;
  timeoutMs: number;
  amountText: string;
  /** A tag unique to this run, so keys and e-mail addresses never repeat those of an earlier run. */
  runTag: string;
  seed: number;
  mix: BenchMix;
  /** Demo accounts of the identities in use: the transfer targets. */
  targets: readonly string[];
  sending: boolean;
  readonly live: Set<Session>;
  readonly tally: Tally;
}

/** Counts and latencies of a run: the only place figures are kept, all of fixed size. */
interface Tally {
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

function newTally(): Tally {
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
function countAnswer(
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
function countUnanswered(tally: Tally, errors: { code: string; count: number }): void {
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

function countSetupFailure(tally: Tally, failure: SetupFailure): void {
  tally.failed += 1;
  const key = boundedKey(tally.failures, failure.failure);
  tally.failures.set(key, (tally.failures.get(key) ?? 0) + 1);
  tally.firstFailure ??= `${failure.failure}: ${failure.message}`;
}

/** The code itself while fewer than the ceiling are counted, else `other`: the maps stay small. */
function boundedKey(counts: ReadonlyMap<string, number>, code: string): string {
  return counts.has(code) || counts.size < BENCH_ERROR_CODES_MAX - 1 ? code : "other";
}

/**
 * Runs a bench and reports what it measured. Throws only on a broken invariant; a server that refuses,
 * closes or answers wrongly is reported, never thrown.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const run = settle(options);
  const sessions = await connectAll(options, run);
  const { tally } = run;
  const startedMs = performance.now();
  tally.windowStartMs = startedMs + run.warmupMs;
  tally.windowEndMs = tally.windowStartMs + options.durationMs;
  const cpu = { start: process.cpuUsage(), end: process.cpuUsage() };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    run.sending = false;
    const nowMs = performance.now();
    tally.windowEndMs = Math.min(tally.windowEndMs, nowMs);
    if (nowMs >= tally.windowStartMs) cpu.end = process.cpuUsage();
  };
  run.sending = true;
  if (options.stop?.aborted === true) stop();
  options.stop?.addEventListener("abort", stop);
  const timers = [
    setTimeout(() => (cpu.start = process.cpuUsage()), Math.max(0, tally.windowStartMs - startedMs)),
    setTimeout(stop, tally.windowEndMs - startedMs),
  ];
  const watchdog = setInterval(() => expireOverdue(run), BENCH_WATCHDOG_INTERVAL_MS);
  const progress = reportProgress(run, options.onProgress);
  try {
    await Promise.all(
      sessions.map((session, index) =>
        session === null ? undefined : runConnection(index, { first: session, options, run })
      ),
    );
  } finally {
    stop();
    options.stop?.removeEventListener("abort", stop);
    for (const timer of timers) clearTimeout(timer);
    clearInterval(watchdog);
    progress.end();
  }
  return buildReport(run, { options, cpu });
}

function settle(options: BenchOptions): BenchRun {
  const pipeline = options.pipeline ?? 1;
  const warmupMs = options.warmupMs ?? BENCH_WARMUP_MS_DEFAULT;
  const amountMinor = options.transferAmountMinor ?? 1n;
  assert(options.credentials.length > 0, "A bench needs at least one credential");
  assert(
    Number.isInteger(options.clients) && options.clients >= 1 && options.clients <= BENCH_CLIENTS_MAX,
    `Cannot run a bench with ${options.clients} clients`,
  );
  assert(
    options.durationMs >= BENCH_DURATION_MS_MIN && options.durationMs <= BENCH_DURATION_MS_MAX,
    `Cannot run a bench for ${options.durationMs} ms`,
  );
  assert(warmupMs >= 0 && warmupMs <= BENCH_WARMUP_MS_MAX, `Cannot warm up for ${warmupMs} ms`);
  assert(
    Number.isInteger(pipeline) && pipeline >= 1 && pipeline <= BENCH_PIPELINE_MAX,
    `Cannot pipeline ${pipeline} requests`,
  );
  assert(isValidMix(options.mix), `Mix ${JSON.stringify(options.mix)} is not a valid mix`);
  assert(amountMinor > 0n, `Cannot send transfers of ${amountMinor} minor units`);
  assert(AMOUNT_PATTERN.test(amountMinor.toString()), `Cannot send transfers of ${amountMinor} minor units`);
  return {
    host: options.host,
    port: options.port,
    caPem: options.caPem,
    aead: options.aead,
    pipeline,
    warmupMs,
    timeoutMs: options.timeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS,
    amountText: amountMinor.toString(),
    runTag: crypto.randomUUID().slice(0, 8),
    seed: options.seed ?? 1,
    mix: options.mix,
    targets: demoAccounts(options.credentials),
    sending: false,
    live: new Set(),
    tally: newTally(),
  };
}

/** The demo accounts (`client-7` owns `ACC-0007`) of the distinct identities in use. */
function demoAccounts(credentials: readonly Credential[]): string[] {
  const accounts = new Set<string>();
  for (const credential of credentials) {
    const account = demoAccountId(credential.identity);
    if (account !== null) accounts.add(account);
  }
  assert(accounts.size <= credentials.length, "Each identity owns at most one demo account");
  return [...accounts];
}

/**
 * Opens every connection, a bounded number at a time; null where a connection could not be made. The first
 * one opens alone: it pays the process's one-time TLS setup (tens of milliseconds during which the event
 * loop is busy), which would otherwise show in the times of every connection opened alongside it.
 */
async function connectAll(options: BenchOptions, run: BenchRun): Promise<(Session | null)[]> {
  const sessions: (Session | null)[] = new Array(options.clients).fill(null);
  let next = 0;
  const worker = async () => {
    while (next < options.clients && options.stop?.aborted !== true) {
      const index = next++;
      const credential = options.credentials[index % options.credentials.length]!;
      const opened = await openSession(credential, run);
      if ("failure" in opened) countSetupFailure(run.tally, opened);
      else sessions[index] = opened;
      if (index === 0) return;
    }
  };
  const workers = Math.min(BENCH_CONNECTS_IN_FLIGHT_MAX, options.clients);
  const progress = reportProgress(run, options.onProgress);
  try {
    await worker();
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    progress.end();
  }
  assert(run.tally.opened + run.tally.failed <= options.clients, "Each connection is counted once");
  return sessions;
}

/**
 * Connects (TCP with Nagle's algorithm off, so pipelined requests are not held back), completes TLS and
 * authenticates, timing each step. Every wait is bounded: when the time is up the socket is closed, and a
 * TLS handshake still running then ends when the server gives up on it.
 */
async function openSession(credential: Credential, run: BenchRun): Promise<Session | SetupFailure> {
  const startedMs = performance.now();
  let tcp: Deno.TcpConn;
  try {
    tcp = await connectWithin(Deno.connect({ hostname: run.host, port: run.port }), run.timeoutMs);
    tcp.setNoDelay(true);
  } catch (error) {
    return { failure: "connect_failed", message: messageOf(error) };
  }
  const connectedMs = performance.now();
  let open: Deno.Conn = tcp;
  let expired = false;
  let step = "tls_failed";
  const timer = setTimeout(() => {
    expired = true;
    closeQuietly(open);
  }, run.timeoutMs);
  try {
    const conn = await Deno.startTls(tcp, { hostname: run.host, caCerts: [run.caPem] });
    open = conn;
    if (expired) throw new Error("timed out");
    await conn.handshake();
    const securedMs = performance.now();
    step = "handshake_failed";
    const transport = new FrameTransport(conn, { frameBytesMax: FRAME_BYTES_DEFAULT });
    const handshake = await clientHandshake(transport, credential, run.aead ? { aead: run.aead } : {});
    if (!handshake.ok) {
      closeQuietly(conn);
      return { failure: "handshake_failed", message: `as ${credential.identity}: ${handshake.error}` };
    }
    const { tally } = run;
    tally.opened += 1;
    tally.tcpConnect.record(connectedMs - startedMs);
    tally.tlsHandshake.record(securedMs - connectedMs);
    tally.bankHandshake.record(performance.now() - securedMs);
    return { conn, transport, channel: handshake.channel, inFlight: [], expired: false };
  } catch (error) {
    if (isAssertionFailure(error)) throw error;
    closeQuietly(open);
    if (expired) return { failure: "timeout", message: `no session within ${run.timeoutMs} ms` };
    return { failure: step, message: messageOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Drives one connection until the bench stops, opening a new session when one reaches its request limit. */
async function runConnection(
  index: number,
  parts: { first: Session; options: BenchOptions; run: BenchRun },
): Promise<void> {
  const { options, run } = parts;
  const credential = options.credentials[index % options.credentials.length]!;
  const maker = new RequestMaker(index, { run, ownAccount: demoAccountId(credential.identity) });
  let session = parts.first;
  while (true) {
    run.live.add(session);
    const end = await driveSession(session, { run, maker });
    run.live.delete(session);
    await closeSession(session);
    if (end === "lost") run.tally.lost += 1;
    if (end !== "renew" || !run.sending) return;
    const opened = await openSession(credential, run);
    if ("failure" in opened) {
      countSetupFailure(run.tally, opened);
      return;
    }
    run.tally.renewed += 1;
    session = opened;
  }
}

/**
 * Keeps `pipeline` requests in flight on one session: fills the window, then sends one request per answer
 * read, while the bench is sending. Answers come in request order; each is checked against its request.
 */
async function driveSession(
  session: Session,
  parts: { run: BenchRun; maker: RequestMaker },
): Promise<"done" | "renew" | "lost"> {
  const { run, maker } = parts;
  const { tally } = run;
  let sent = 0;
  try {
    while (session.inFlight.length < run.pipeline && run.sending && sent < SESSION_REQUESTS_MAX) {
      await sendRequest(session, { request: maker.next(), tally });
      sent += 1;
    }
    while (session.inFlight.length > 0) {
      const frame = await session.transport.next();
      const atMs = performance.now();
      if (frame.kind === "end") return lose(session, { run, code: "connection_lost" });
      if (frame.kind === "error") return lose(session, { run, code: "bad_frame" });
      const refusal = decodeErrorBody(frame.body);
      if (refusal !== null) return lose(session, { run, code: refusal });
      const opened = await session.channel.open(frame.body);
      if (!opened.ok) return lose(session, { run, code: "answer_not_authentic" });
      const request = session.inFlight.shift()!;
      countAnswer(tally, { request, atMs, errorCode: checkAnswer(request, opened) });
      if (run.sending && sent < SESSION_REQUESTS_MAX) {
        await sendRequest(session, { request: maker.next(), tally });
        sent += 1;
      }
    }
  } catch (error) {
    if (isAssertionFailure(error)) throw error;
    return lose(session, { run, code: session.expired ? "timeout" : "connection_lost" });
  }
  assert(sent <= SESSION_REQUESTS_MAX, `Session sent ${sent} requests: over the server's limit`);
  return sent === SESSION_REQUESTS_MAX ? "renew" : "done";
}

/** Seals and writes a request; it is in flight (and counted as sent) from before the write. */
async function sendRequest(session: Session, parts: { request: BenchRequest; tally: Tally }): Promise<void> {
  const { request, tally } = parts;
  const frame = await session.channel.seal(FrameType.sealedJson, request.plaintext);
  request.sentAtMs = performance.now();
  session.inFlight.push(request);
  tally.sent += 1;
  await session.transport.sendFrame(frame);
}

/** Counts the requests in flight on a broken session as errors with `code`, and closes it. */
function lose(session: Session, parts: { run: BenchRun; code: string }): "lost" {
  countUnanswered(parts.run.tally, { code: parts.code, count: session.inFlight.length });
  session.inFlight.length = 0;
  closeQuietly(session.conn);
  return "lost";
}

/** Closes the connections whose oldest answer is overdue; their requests count as `timeout`. */
function expireOverdue(run: BenchRun): void {
  const nowMs = performance.now();
  for (const session of run.live) {
    const oldest = session.inFlight[0];
    if (oldest === undefined || nowMs - oldest.sentAtMs <= run.timeoutMs) continue;
    session.expired = true;
    closeQuietly(session.conn);
  }
}

/**
 * Checks an answer against its request; returns null for the expected success, the server's code for a
 * refusal, or `wrong_answer` for anything else (another id, format or shape, or values not repeated).
 */
function checkAnswer(request: BenchRequest, opened: Extract<OpenResult, { ok: true }>): string | null {
  if (opened.type !== FrameType.sealedJson) return WRONG_ANSWER;
  const response = decodeResponse(opened.plaintext);
  if (response === null || response.id !== request.id) return WRONG_ANSWER;
  if (!response.ok) return ERROR_CODE_PATTERN.test(response.error.code) ? response.error.code : WRONG_ANSWER;
  const result = response.result;
  if (request.operation === "balance") return isBalanceResult(result) ? null : WRONG_ANSWER;
  if (request.operation === "contact") {
    const changed = result.changed;
    return Array.isArray(changed) && changed.length === 1 && changed[0] === "email" ? null : WRONG_ANSWER;
  }
  const matches = result.status === "created" && result.to === request.target &&
    result.amount_minor === request.amountText && result.idempotency_key === request.key &&
    typeof result.transfer_id === "string" && typeof result.from === "string";
  return matches ? null : WRONG_ANSWER;
}

function isBalanceResult(result: Record<string, unknown>): boolean {
  const accounts = result.accounts;
  if (!Array.isArray(accounts)) return false;
  return accounts.every((account: unknown) => {
    if (typeof account !== "object" || account === null) return false;
    const fields = account as Record<string, unknown>;
    return typeof fields.account_id === "string" && fields.currency === "USD" &&
      typeof fields.balance_minor === "string" && AMOUNT_PATTERN.test(fields.balance_minor) &&
      (fields.status === "open" || fields.status === "frozen");
  });
}

/** Makes the requests of one connection: the operation by the seeded mix, unique ids, keys and values. */
class RequestMaker {
  readonly #random: () => number;
  readonly #run: BenchRun;
  readonly #ownAccount: string | null;
  readonly #prefix: string;
  readonly #balanceBelow: number;
  readonly #transferBelow: number;
  #counter = 0;

  constructor(index: number, parts: { run: BenchRun; ownAccount: string | null }) {
    const { run } = parts;
    const total = run.mix.balance + run.mix.transfer + run.mix.contact;
    assert(total > 0, "A mix must have a positive weight");
    assert(index >= 0 && index < BENCH_CLIENTS_MAX, `Connection ${index} is out of range`);
    this.#run = run;
    this.#random = seededRandom((run.seed * 100_003 + index) >>> 0);
    this.#ownAccount = parts.ownAccount;
    this.#prefix = `b${run.runTag}-${index}`;
    this.#balanceBelow = run.mix.balance / total;
    this.#transferBelow = (run.mix.balance + run.mix.transfer) / total;
  }

  next(): BenchRequest {
    const counter = this.#counter++;
    const id = `r${counter}`;
    const draw = this.#random();
    const base = { id, target: "", key: "", amountText: "", sentAtMs: 0 };
    if (draw < this.#balanceBelow) {
      return { ...base, operation: "balance", plaintext: utf8(`{"v":1,"id":"${id}","op":"balance"}`) };
    }
    if (draw < this.#transferBelow) {
      const target = this.#target();
      const key = `${this.#prefix}-${counter}`;
      const amountText = this.#run.amountText;
      const plaintext = utf8(JSON.stringify({
        v: 1,
        id,
        op: "transfer",
        to: target,
        amount_minor: amountText,
        idempotency_key: key,
      }));
      return { ...base, operation: "transfer", plaintext, target, key, amountText };
    }
    const email = `${this.#prefix}.${counter}@bench.example`;
    const plaintext = utf8(JSON.stringify({ v: 1, id, op: "update_contact", email }));
    return { ...base, operation: "contact", plaintext };
  }

  /** Another identity's demo account, so money circulates among the identities in use. */
  #target(): string {
    const targets = this.#run.targets;
    const own = this.#ownAccount;
    const others = targets.length - (own !== null && targets.includes(own) ? 1 : 0);
    if (others <= 0) return DEMO_TARGET_ACCOUNT_ID;
    const index = Math.floor(this.#random() * targets.length);
    const target = targets[index]!;
    return target === own ? targets[(index + 1) % targets.length]! : target;
  }
}

/** Calls `onProgress` every interval until `end`, with the rate over the last interval. */
function reportProgress(
  run: BenchRun,
  onProgress: ((progress: BenchProgress) => void) | undefined,
): { end: () => void } {
  if (onProgress === undefined) return { end: () => {} };
  const { tally } = run;
  let lastAnswered = tally.answered;
  let lastMs = performance.now();
  let rate = 0;
  const tick = () => {
    const nowMs = performance.now();
    if (nowMs - lastMs >= BENCH_PROGRESS_INTERVAL_MS / 2) {
      rate = (tally.answered - lastAnswered) * 1_000 / (nowMs - lastMs);
      lastAnswered = tally.answered;
      lastMs = nowMs;
    }
    const started = tally.windowStartMs !== Infinity;
    onProgress({
      phase: phaseOf(run, nowMs),
      connections: started ? run.live.size : tally.opened + tally.failed,
      sent: tally.sent,
      answered: tally.answered,
      errors: tally.errors,
      requestsPerSecond: Math.round(rate),
    });
  };
  const timer = setInterval(tick, BENCH_PROGRESS_INTERVAL_MS);
  return {
    end: () => {
      clearInterval(timer);
      tick();
    },
  };
}

function phaseOf(run: BenchRun, nowMs: number): BenchProgress["phase"] {
  if (run.tally.windowStartMs === Infinity) return "connecting";
  if (!run.sending) return "draining";
  return nowMs < run.tally.windowStartMs ? "warmup" : "measuring";
}

type CpuUsage = ReturnType<typeof process.cpuUsage>;

function buildReport(
  run: BenchRun,
  parts: { options: BenchOptions; cpu: { start: CpuUsage; end: CpuUsage } },
): BenchReport {
  const { options, cpu } = parts;
  const { tally } = run;
  assert(tally.sent === tally.answered + tally.unanswered, "Every request sent is answered or lost");
  assert(tally.measuredRequests <= tally.answered, "Measured answers are a part of all answers");
  const windowMs = Math.max(0, tally.windowEndMs - tally.windowStartMs);
  const cpuUserMs = windowMs === 0 ? 0 : Math.max(0, cpu.end.user - cpu.start.user) / 1_000;
  const cpuSystemMs = windowMs === 0 ? 0 : Math.max(0, cpu.end.system - cpu.start.system) / 1_000;
  const cpuCores = windowMs === 0 ? 0 : (cpuUserMs + cpuSystemMs) / windowMs;
  const measured = tally.measuredRequests;
  const byOperation = (operation: BenchOperation) => {
    const figures = tally.byOperation[operation];
    return {
      requests: figures.requests,
      errors: figures.errors,
      latency_ms: latencySummary(figures.latency),
    };
  };
  return {
    ok: tally.errors === 0 && tally.failed === 0 && tally.lost === 0 && tally.opened > 0,
    settings: {
      host: run.host,
      port: run.port,
      clients: options.clients,
      identities: new Set(options.credentials.map((credential) => credential.identity)).size,
      duration_ms: options.durationMs,
      warmup_ms: run.warmupMs,
      pipeline: run.pipeline,
      seed: run.seed,
      mix: { ...run.mix },
      transfer_amount_minor: run.amountText,
    },
    measured: {
      window_ms: round(windowMs),
      requests: measured,
      errors: tally.measuredErrors,
      requests_per_second: windowMs === 0 ? 0 : round(measured * 1_000 / windowMs),
      latency_ms: latencySummary(tally.latency),
      by_operation: {
        balance: byOperation("balance"),
        transfer: byOperation("transfer"),
        contact: byOperation("contact"),
      },
    },
    totals: { sent: tally.sent, answered: tally.answered, errors: tally.errors },
    errors: Object.fromEntries(tally.errorCodes),
    connections: connectionSummary(tally),
    client_cost: {
      cpu_user_ms: round(cpuUserMs),
      cpu_system_ms: round(cpuSystemMs),
      cpu_cores: round(cpuCores),
      cpu_us_per_request: measured === 0 ? null : round((cpuUserMs + cpuSystemMs) * 1_000 / measured),
      saturated: cpuCores >= SATURATED_CPU_CORES,
    },
  };
}

function connectionSummary(tally: Tally): BenchReport["connections"] {
  return {
    opened: tally.opened,
    failed: tally.failed,
    lost: tally.lost,
    renewed: tally.renewed,
    failures: Object.fromEntries(tally.failures),
    first_failure: tally.firstFailure,
    tcp_connect_ms: setupSummary(tally.tcpConnect),
    tls_handshake_ms: setupSummary(tally.tlsHandshake),
    bank_handshake_ms: setupSummary(tally.bankHandshake),
  };
}

function latencySummary(histogram: LatencyHistogram): LatencySummary {
  return {
    count: histogram.count,
    mean_ms: roundOrNull(histogram.meanMs),
    p50_ms: roundOrNull(histogram.quantileMs(0.5)),
    p90_ms: roundOrNull(histogram.quantileMs(0.9)),
    p99_ms: roundOrNull(histogram.quantileMs(0.99)),
    p99_9_ms: roundOrNull(histogram.quantileMs(0.999)),
    max_ms: roundOrNull(histogram.maxMs),
  };
}

function setupSummary(histogram: LatencyHistogram): SetupSummary {
  return {
    count: histogram.count,
    min_ms: roundOrNull(histogram.minMs),
    p50_ms: roundOrNull(histogram.quantileMs(0.5)),
    p99_ms: roundOrNull(histogram.quantileMs(0.99)),
    max_ms: roundOrNull(histogram.maxMs),
  };
}

/** Three decimals: microseconds for milliseconds. */
function round(value: number): number {
  return Math.round(value * 1_000) / 1_000;
}

function roundOrNull(value: number | null): number | null {
  return value === null ? null : round(value);
}

/** Ends a session cleanly: TLS close_notify, then the socket. */
async function closeSession(session: Session): Promise<void> {
  try {
    await session.conn.closeWrite();
  } catch {
    // Already closed, by the server or by a failure; the socket is released below either way.
  }
  closeQuietly(session.conn);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------------------
// Reports

/** The report as one JSON document, for machines. */
export function formatBenchJson(report: BenchReport): string {
  return JSON.stringify(report, null, 2);
}

/** The report in lines for a person. */
export function formatBenchReport(report: BenchReport): string {
  const { settings, measured, totals, connections, client_cost: cost } = report;
  const mix = `${settings.mix.balance}:${settings.mix.transfer}:${settings.mix.contact}`;
  const errors = Object.entries(report.errors).sort((left, right) => right[1] - left[1]);
  const lines = [
    `bench: ${settings.clients} connections as ${settings.identities} identities, pipeline ${settings.pipeline}, ` +
    `mix balance:transfer:contact ${mix}, seed ${settings.seed}`,
    `  window        ${seconds(measured.window_ms)} after ${seconds(settings.warmup_ms)} warmup`,
    `  requests      ${count(measured.requests)} answered = ${count(measured.requests_per_second)} req/s, ` +
    `${count(measured.errors)} errors`,
    `  latency ms    ${formatLatency(measured.latency_ms)}`,
    ...BENCH_OPERATIONS.map((operation) => {
      const figures = measured.by_operation[operation];
      return `    ${operation.padEnd(12)}${count(figures.requests)} answered, ${
        count(figures.errors)
      } errors; ` +
        formatLatency(figures.latency_ms);
    }),
    `  whole run     ${count(totals.sent)} sent, ${count(totals.answered)} answered, ${
      count(totals.errors)
    } errors`,
    `  errors        ${
      errors.length === 0 ? "none" : errors.map(([code, times]) => `${code} ${count(times)}`).join(", ")
    }`,
    `  connections   ${count(connections.opened)} opened, ${count(connections.failed)} failed, ` +
    `${count(connections.lost)} lost, ${count(connections.renewed)} renewed`,
    ...(connections.first_failure === null ? [] : [`    first failure ${connections.first_failure}`]),
    `    tcp ms      ${formatSetup(connections.tcp_connect_ms)}`,
    `    tls ms      ${formatSetup(connections.tls_handshake_ms)}`,
    `    bank ms     ${formatSetup(connections.bank_handshake_ms)}`,
    `  bench cost    ${count(cost.cpu_user_ms + cost.cpu_system_ms)} ms CPU = ${
      cost.cpu_cores.toFixed(2)
    } cores, ` +
    `${cost.cpu_us_per_request === null ? "-" : cost.cpu_us_per_request.toFixed(1)} µs per request` +
    (cost.saturated ? " (the bench itself may have limited these figures)" : ""),
    `  result        ${report.ok ? "ok" : "FAILED"}`,
  ];
  return lines.join("\n");
}

function formatLatency(summary: LatencySummary): string {
  if (summary.count === 0) return "-";
  const parts = [
    ["p50", summary.p50_ms],
    ["p90", summary.p90_ms],
    ["p99", summary.p99_ms],
    ["p99.9", summary.p99_9_ms],
    ["max", summary.max_ms],
  ] as const;
  return parts.map(([name, value]) => `${name} ${milliseconds(value)}`).join("  ");
}

function formatSetup(summary: SetupSummary): string {
  if (summary.count === 0) return "-";
  return `min ${milliseconds(summary.min_ms)}  p50 ${milliseconds(summary.p50_ms)}  ` +
    `p99 ${milliseconds(summary.p99_ms)}  max ${milliseconds(summary.max_ms)}`;
}

function milliseconds(value: number | null): string {
  if (value === null) return "-";
  return value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0);
}

function seconds(valueMs: number): string {
  return `${(valueMs / 1_000).toFixed(2)} s`;
}

function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}
