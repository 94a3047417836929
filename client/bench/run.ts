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
import { assert, isAssertionFailure } from "../../lib/assert.ts";
import type { AeadFactory } from "../../protocol/aead.ts";
import type { SealedChannel } from "../../protocol/channel.ts";
import type { Credential } from "../../protocol/credential.ts";
import { demoAccountId } from "../../protocol/demo.ts";
import { SESSION_REQUESTS_MAX } from "../../protocol/limits.ts";
import type { FrameTransport } from "../../protocol/transport.ts";
import { decodeErrorBody, FrameType } from "../../protocol/wire.ts";
import { closeQuietly, closeSecureConn, openSession as openClientSession } from "../connection.ts";
import { Gate } from "../../lib/gate.ts";
import type { SecureConn } from "../connection.ts";
import {
  BENCH_CLIENTS_MAX,
  BENCH_CONNECTS_IN_FLIGHT_MAX,
  BENCH_DURATION_MS_MAX,
  BENCH_DURATION_MS_MIN,
  BENCH_PIPELINE_MAX,
  BENCH_PROGRESS_INTERVAL_MS,
  BENCH_WARMUP_MS_DEFAULT,
  BENCH_WARMUP_MS_MAX,
  BENCH_WATCHDOG_INTERVAL_MS,
  CLIENT_RESPONSE_TIMEOUT_MS,
} from "../limits.ts";
import { isValidMix } from "./cli.ts";
import { buildReport } from "./report.ts";
import { checkAnswer, RequestMaker } from "./requests.ts";
import type { BenchRequest, RequestPlan } from "./requests.ts";
import { countAnswer, countSetupFailure, countUnanswered, newTally } from "./tally.ts";
import type { SetupFailure, Tally } from "./tally.ts";
import type { BenchOptions, BenchProgress, BenchReport } from "./types.ts";

interface Session {
  conn: SecureConn;
  transport: FrameTransport;
  channel: SealedChannel;
  inFlight: BenchRequest[];
  /** Set by the watchdog when an answer is overdue and the connection was closed. */
  expired: boolean;
}

/** Settled values of the options, and the state every connection shares. */
export interface BenchRun extends RequestPlan {
  host: string;
  port: number;
  caPem: string;
  aead: AeadFactory | undefined;
  pipeline: number;
  warmupMs: number;
  timeoutMs: number;
  sending: boolean;
  readonly live: Set<Session>;
  readonly tally: Tally;
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
  assert(warmupMs >= 0, `Cannot warm up for ${warmupMs} ms`);
  assert(warmupMs <= BENCH_WARMUP_MS_MAX, `Cannot warm up for ${warmupMs} ms`);
  assert(
    Number.isInteger(pipeline) && pipeline >= 1 && pipeline <= BENCH_PIPELINE_MAX,
    `Cannot pipeline ${pipeline} requests`,
  );
  assert(isValidMix(options.mix), `Mix ${JSON.stringify(options.mix)} is not a valid mix`);
  assert(amountMinor > 0n, `Cannot send transfers of ${amountMinor} minor units`);
  assert(amountMinor.toString().length <= 18, `Cannot send transfers of ${amountMinor} minor units`);
  return {
    host: options.host,
    port: options.port,
    caPem: options.caPem,
    aead: options.aead,
    pipeline,
    warmupMs,
    timeoutMs: options.timeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS,
    amountMinor,
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
  const open = async (index: number) => {
    if (options.stop?.aborted === true) return;
    const credential = options.credentials[index % options.credentials.length]!;
    const opened = await openSession(credential, run);
    if ("failure" in opened) countSetupFailure(run.tally, opened);
    else sessions[index] = opened;
  };
  const gate = new Gate(BENCH_CONNECTS_IN_FLIGHT_MAX);
  const progress = reportProgress(run, options.onProgress);
  try {
    await open(0);
    await Promise.all(
      Array.from({ length: options.clients - 1 }, (_, index) => gate.run(() => open(index + 1))),
    );
  } finally {
    progress.end();
  }
  assert(run.tally.opened + run.tally.failed <= options.clients, "Each connection is counted once");
  return sessions;
}

/** Opens one session the way every client does (client/connection.ts), counting its steps' times. */
async function openSession(credential: Credential, run: BenchRun): Promise<Session | SetupFailure> {
  const opened = await openClientSession({
    host: run.host,
    port: run.port,
    caPem: run.caPem,
    credential,
    timeoutMs: run.timeoutMs,
    ...(run.aead === undefined ? {} : { aead: run.aead }),
  });
  if (!opened.ok) {
    const message = opened.step === "handshake_failed"
      ? `as ${credential.identity}: ${opened.message}`
      : opened.message;
    return { failure: opened.step, message };
  }
  const { conn, transport, channel, timings } = opened.session;
  const { tally } = run;
  tally.opened += 1;
  tally.tcpConnect.record(timings.tcpMs);
  tally.tlsHandshake.record(timings.tlsMs);
  tally.bankHandshake.record(timings.bankMs);
  return { conn, transport, channel, inFlight: [], expired: false };
}

/** Drives one connection until the bench stops, opening a new session when one reaches its request limit. */
async function runConnection(
  index: number,
  parts: { first: Session; options: BenchOptions; run: BenchRun },
): Promise<void> {
  const { options, run } = parts;
  const credential = options.credentials[index % options.credentials.length]!;
  const maker = new RequestMaker(index, { plan: run, ownAccount: demoAccountId(credential.identity) });
  let session = parts.first;
  while (true) {
    run.live.add(session);
    const end = await driveSession(session, { run, maker });
    run.live.delete(session);
    await closeSecureConn(session.conn);
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
