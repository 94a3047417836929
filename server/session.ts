/**
 * One client connection, from TLS handshake to close: authenticate, then answer sealed requests one at a
 * time until the client leaves, misbehaves or goes idle. Every wait is bounded. Whatever happens, the
 * connection ends with exactly one log line, and a misbehaving peer learns no more than a generic code.
 *
 * @module
 */
import { assert, isAssertionFailure } from "../lib/assert.ts";
import type { AeadFactory } from "../protocol/aead.ts";
import { fromUtf8, utf8 } from "../lib/bytes.ts";
import type { OpenResult, SealedChannel } from "../protocol/channel.ts";
import {
  HANDSHAKE_FRAME_BYTES_MAX,
  SESSION_REQUESTS_MAX,
  TEXT_COMMAND_BYTES_MAX,
} from "../protocol/limits.ts";
import { LEDGER_CALL_TIMEOUT_MS } from "./limits.ts";
import { formatKeyId, isReservedIdentityName } from "../protocol/credential.ts";
import type { HandshakeCrypto, Signer } from "../protocol/handshake_crypto.ts";
import { decodeRequest, encodeResponse } from "../protocol/messages.ts";
import { serverHandshake } from "../protocol/session.ts";
import type { HandshakeFailure, ServerHandshakeResult } from "../protocol/session.ts";
import { FrameTransport } from "../protocol/transport.ts";
import { FrameType } from "../protocol/wire.ts";
import type { WireErrorCode } from "../protocol/wire.ts";
import type { BankRequest, Failure, HandlerContext, Outcome, SessionKey } from "./handlers/types.ts";
import { describeCode } from "../protocol/codes.ts";
import type { Operation } from "../protocol/codes.ts";
import type { IdentityDirectory, IdentityKey, Ledger } from "./ledger/ledger.ts";
import { serverLogger } from "./log.ts";
import { ConnectionGuard, SessionControl } from "./session_control.ts";
import type { SessionEnd } from "./session_control.ts";
import { FixedDeadlines } from "./deadlines.ts";
import { route } from "./router.ts";
import type { RequestOutcome, StatsSink } from "./stats/sink.ts";
import { fromStructured, toStructured } from "./structured.ts";
import { formatTextOutcome, parseTextCommand } from "./text_commands.ts";
import type { Admission, AdmissionTicket, Slots, TakeResult } from "./admission.ts";
import type { PeerAddress, PeerConn } from "./peer.ts";
import type { RejectionLog } from "./rejection_log.ts";

/** The per-connection limits, from the server's configuration. */
export interface SessionSettings {
  frameBytesMax: number;
  handshakeTimeoutMs: number;
  frameTimeoutMs: number;
  idleTimeoutMs: number;
  transferLimitMinor: bigint;
}

/** What every session shares. */
export interface ServerContext {
  settings: SessionSettings;
  ledger: Ledger;
  identities: IdentityDirectory;
  /** The newest generation the server has seen of an identity (0 if none): older sessions must end. */
  latestGeneration: (identity: string) => number;
  /** The bank's signing key, which every challenge is signed with. */
  bank: Signer;
  /** Verified against for unknown names and keys, so they cost what a wrong key costs. */
  decoyPublicKey: Uint8Array;
  crypto: HandshakeCrypto;
  stats: StatsSink;
  /** Every live session, so that shutdown and revocation can end them. */
  sessions: Set<SessionControl>;
  /** The process's budgets: sessions per identity, requests per identity. */
  admission: Admission;
  /** Where rejected connections are counted, and logged within the log's budget. */
  rejections: RejectionLog;
  aead?: AeadFactory;
}

/** What the listener hands a session besides the shared context. */
export interface ConnectionParts {
  context: ServerContext;
  /** The connection's place in the budgets; the listener releases it when the session ends. */
  ticket: AdmissionTicket;
  /** Tells the listener how to end this session early (to evict it). */
  onControl: (control: SessionControl) => void;
  /** Tells the listener the connection authenticated: it is no longer a candidate for eviction. */
  onAuthenticated: () => void;
}

type Phase = "tls" | "handshake" | "session";

/** Where a session got to; read when it ends to write its one log line. */
interface Progress {
  connection: number;
  peer: string;
  phase: Phase;
  identity: string | null;
  requests: number;
  inFrame: boolean;
}

/** Handshakes that got as far as a proof, and failed it. */
const INVITE_SPENDING_FAILURES: ReadonlySet<HandshakeFailure> = new Set<HandshakeFailure>([
  "unknown_key",
  "proof_malformed",
  "signature_invalid",
  "finished_mismatch",
]);

const log = serverLogger("session");

/** Serves one accepted TLS connection until it ends. Never throws, except for a broken invariant. */
export async function serveConnection(conn: PeerConn, parts: ConnectionParts): Promise<void> {
  const { context } = parts;
  const progress: Progress = {
    connection: context.stats.connectionOpened(),
    peer: describeAddress(conn.remote),
    phase: "tls",
    identity: null,
    requests: 0,
    inFrame: false,
  };
  const guard = new ConnectionGuard(conn);
  const control = new SessionControl(guard);
  context.sessions.add(control);
  parts.onControl(control);
  let end: SessionEnd;
  try {
    end = await runSession(conn, { guard, context, progress, control, connection: parts });
  } catch (error) {
    if (isAssertionFailure(error)) throw error;
    end = control.ending ?? describeFailure(error, { expired: guard.expired, progress });
  } finally {
    context.sessions.delete(control);
    guard.close();
    context.stats.connectionClosed({ authenticated: progress.phase === "session" });
  }
  if (end.kind === "rejected") {
    context.stats.connectionRejected(end.reason);
    if (end.handshake !== undefined) context.stats.handshakeFailed(end.handshake);
  }
  report(end, { progress, context, addressKey: parts.ticket.addressKey });
}

interface SessionParts {
  guard: ConnectionGuard;
  context: ServerContext;
  progress: Progress;
  control: SessionControl;
  connection: ConnectionParts;
}

async function runSession(conn: PeerConn, parts: SessionParts): Promise<SessionEnd> {
  const { guard, context, progress } = parts;
  const { settings } = context;
  guard.arm(settings.handshakeTimeoutMs);
  await conn.handshake();
  progress.phase = "handshake";
  const transport = new FrameTransport(conn, {
    frameBytesMax: HANDSHAKE_FRAME_BYTES_MAX,
    onFrameStart: () => {
      if (progress.phase !== "session") return;
      progress.inFrame = true;
      guard.arm(settings.frameTimeoutMs);
    },
  });
  const handshake = await authenticate(transport, parts);
  if (!handshake.ok) {
    if (handshake.reason === "refused") {
      return { kind: "rejected", reason: "identity_cap", detail: "the identity holds its most sessions" };
    }
    if (handshake.reason !== "closed_before_hello") await transport.sendError("handshake_failed");
    return {
      kind: "rejected",
      reason: "handshake_failed",
      detail: `${handshake.reason}: ${handshake.detail}`,
    };
  }
  progress.phase = "session";
  parts.connection.onAuthenticated();
  context.stats.connectionAuthenticated();
  transport.frameBytesMax = settings.frameBytesMax;
  log.info("Connection {connection} from {peer} opened: authenticated as {identity}", { ...progress });
  const identitySlots = parts.connection.ticket.identitySlots;
  assert(identitySlots !== null, "An authenticated connection holds an identity slot");
  const { key, transcript } = handshake;
  const sessionKey: SessionKey = {
    ...key,
    transcript,
    identities: context.identities,
    crypto: context.crypto,
  };
  return await serveRequests({
    transport,
    channel: handshake.channel,
    identity: handshake.identity,
    identitySlots,
    key: sessionKey,
  }, parts);
}

/**
 * The bank handshake, with the identity's key from the store: on success the session's control learns its
 * identity, key and generation (and is stopped at once if the key was revoked meanwhile); a failed proof
 * against an invite spends one of its attempts.
 */
async function authenticate(
  transport: FrameTransport,
  parts: SessionParts,
): Promise<ServerHandshakeResult<IdentityKey>> {
  const { context, progress, control } = parts;
  let found: { key: IdentityKey; generation: number } | null = null;
  const handshake = await serverHandshake(transport, {
    lookupKey: async (name, keyId) => {
      if (isReservedIdentityName(name)) return null;
      found = await context.identities.lookupKey(name, formatKeyId(keyId));
      return found?.key ?? null;
    },
    bank: context.bank,
    decoyPublicKey: context.decoyPublicKey,
    crypto: context.crypto,
    authorize: (identity) => (parts.connection.ticket.authenticate(identity) ? null : "rate_limited"),
    ...(context.aead === undefined ? {} : { aead: context.aead }),
  });
  if (handshake.identity !== undefined) progress.identity = handshake.identity;
  if (!handshake.ok) {
    await spendInviteOnFailure(context, { identity: handshake.identity, reason: handshake.reason });
    return handshake;
  }
  const { generation } = found!;
  control.identity = handshake.identity;
  control.keyId = handshake.key.keyId;
  control.generation = generation;
  const check = { identity: handshake.identity, keyId: handshake.key.keyId, generation };
  if (!(await stillUsable(context, check))) control.requestStop("key revoked");
  return handshake;
}

/**
 * A failed proof that named an identity spends one attempt of its open invites, if it has any: a wrong
 * invite code names a key nobody holds, so this is how guesses at a code are counted.
 */
async function spendInviteOnFailure(
  context: ServerContext,
  failed: { identity: string | undefined; reason: HandshakeFailure },
): Promise<void> {
  if (failed.identity === undefined || isReservedIdentityName(failed.identity)) return;
  if (!INVITE_SPENDING_FAILURES.has(failed.reason)) return;
  await context.identities.spendInviteAttempt(failed.identity).catch(() => {});
}

/**
 * Whether a key looked up at the handshake is still usable: when the watcher has seen a newer generation
 * of the identity (a change this handshake may have missed), the store is asked again.
 */
async function stillUsable(
  context: ServerContext,
  session: { identity: string; keyId: string; generation: number },
): Promise<boolean> {
  if (context.latestGeneration(session.identity) <= session.generation) return true;
  return (await context.identities.lookupKey(session.identity, session.keyId).catch(() => null)) !== null;
}

async function serveRequests(
  session: {
    transport: FrameTransport;
    channel: SealedChannel;
    identity: string;
    identitySlots: Slots;
    key: SessionKey;
  },
  parts: SessionParts,
): Promise<SessionEnd> {
  const { transport, channel } = session;
  const { guard, context, progress, control } = parts;
  while (progress.requests < SESSION_REQUESTS_MAX) {
    if (control.ending !== null) return control.ending;
    progress.inFrame = false;
    guard.arm(context.settings.idleTimeoutMs);
    const frame = await transport.next();
    guard.disarm();
    if (frame.kind === "end") return { kind: "closed", reason: "client closed the connection" };
    if (frame.kind === "error") {
      await sendErrorBounded(transport, {
        guard,
        code: "bad_frame",
        timeoutMs: context.settings.frameTimeoutMs,
      });
      return { kind: "rejected", reason: frame.code, detail: frame.detail };
    }
    const opened = await channel.open(frame.body);
    if (!opened.ok) {
      await sendErrorBounded(transport, {
        guard,
        code: "channel_error",
        timeoutMs: context.settings.frameTimeoutMs,
      });
      return { kind: "rejected", reason: opened.reason, detail: `frame ${channel.receivedFrames}` };
    }
    const startedMs = performance.now();
    control.busy = true;
    const answer = await answerRequest(opened, {
      context,
      identity: session.identity,
      key: session.key,
      budget: () => context.admission.takeRequest(session.identitySlots),
    });
    guard.arm(context.settings.frameTimeoutMs);
    await transport.sendFrame(await channel.seal(answer.type, answer.bytes));
    guard.disarm();
    control.busy = false;
    progress.requests += 1;
    const { operation } = answer.summary;
    const durationMs = performance.now() - startedMs;
    context.stats.requestAnswered({ operation, outcome: answer.outcome, durationMs });
    log.debug(
      "Connection {connection} answered {operation}: {code}",
      () => ({ ...progress, ...answer.summary }),
    );
  }
  await sendErrorBounded(transport, {
    guard,
    code: "session_limit",
    timeoutMs: context.settings.frameTimeoutMs,
  });
  return { kind: "closed", reason: `session reached ${SESSION_REQUESTS_MAX} requests` };
}

interface Answer {
  type: typeof FrameType.sealedText | typeof FrameType.sealedJson;
  bytes: Uint8Array;
  outcome: RequestOutcome;
  summary: { operation: Operation | "unknown"; code: string };
}

/**
 * Decodes a text command or structured request, runs it, and renders the outcome in the same format. A
 * request that reads well but is over the identity's budget is answered `rate_limited` and not run.
 */
async function answerRequest(
  opened: Extract<OpenResult, { ok: true }>,
  parts: { context: ServerContext; identity: string; key: SessionKey; budget: () => TakeResult },
): Promise<Answer> {
  const { settings, ledger } = parts.context;
  const handlerContext: HandlerContext = {
    identity: parts.identity,
    ledger,
    session: parts.key,
    bank: parts.context.bank,
  };
  const limits = { transferLimitMinor: settings.transferLimitMinor };
  const run = async (request: BankRequest | Failure): Promise<Outcome> => {
    if ("ok" in request) return request;
    const budget = parts.budget();
    if (!budget.ok) return rateLimited(request.operation, budget.retryAfterMs);
    return await routeGuarded(request, handlerContext);
  };
  if (opened.type === FrameType.sealedText) {
    const text = opened.plaintext.length <= TEXT_COMMAND_BYTES_MAX ? fromUtf8(opened.plaintext) : null;
    const request = text === null ? unreadable("command is not UTF-8 text within the size limit") : (
      parseTextCommand(text, limits)
    );
    const outcome = await run(request);
    return { type: FrameType.sealedText, bytes: utf8(formatTextOutcome(outcome)), ...summarize(outcome) };
  }
  const decoded = decodeRequest(opened.plaintext);
  const id = decoded.ok ? decoded.request.id : decoded.id;
  const request = decoded.ok ? fromStructured(decoded.request, limits) : {
    operation: null,
    ok: false as const,
    code: decoded.code,
    message: decoded.message,
  };
  const outcome = await run(request);
  return {
    type: FrameType.sealedJson,
    bytes: encodeResponse(toStructured(id, outcome)),
    ...summarize(outcome),
  };
}

/** The refusal of a request over the identity's budget, with whole seconds until it has room. */
function rateLimited(operation: Operation, retryAfterMs: number): Failure {
  const retryAfterS = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return {
    operation,
    ok: false,
    code: "rate_limited",
    message: `rate limited, retry in ${retryAfterS} s`,
    retryAfterS,
  };
}

/**
 * Runs the handler; a failure of the store (database down, disk full, timeout) becomes `unavailable` for
 * this request instead of ending the session. The log names the error's kind only: database errors can
 * quote the values of a statement, and those may be contact details.
 */
async function routeGuarded(request: BankRequest, context: HandlerContext): Promise<Outcome> {
  try {
    return await LEDGER_DEADLINES.race(route(request, context), () => new LedgerTimeout());
  } catch (error) {
    if (isAssertionFailure(error)) throw error;
    const kind = error instanceof Error ? error.name : typeof error;
    const code = (error as { code?: unknown } | null)?.code;
    log.error("Ledger failed during {operation} for {identity}: {kind} {code}", {
      operation: request.operation,
      identity: context.identity,
      kind,
      code: typeof code === "string" ? code : "",
    });
    return {
      operation: request.operation,
      ok: false,
      code: "unavailable",
      message: describeCode("unavailable"),
    };
  }
}

/** Every ledger call of this thread shares one timeout, so one timer guards them all. */
const LEDGER_DEADLINES = new FixedDeadlines(LEDGER_CALL_TIMEOUT_MS);

/** The ledger did not answer within {@link LEDGER_CALL_TIMEOUT_MS}. */
class LedgerTimeout extends Error {
  override name = "LedgerTimeout";
}

/** Sends the generic error frame with the frame timeout armed: a peer that stops reading cannot pin us. */
async function sendErrorBounded(
  transport: FrameTransport,
  options: { guard: ConnectionGuard; code: WireErrorCode; timeoutMs: number },
): Promise<void> {
  options.guard.arm(options.timeoutMs);
  await transport.sendError(options.code);
  options.guard.disarm();
}

function unreadable(message: string): Failure {
  return { operation: null, ok: false, code: "malformed_request", message };
}

function summarize(outcome: Outcome): Pick<Answer, "outcome" | "summary"> {
  const code = outcome.ok ? (outcome.operation === "transfer" ? outcome.code : "ok") : outcome.code;
  const result: RequestOutcome = outcome.ok
    ? "ok"
    : outcome.code === "unavailable"
    ? "error"
    : outcome.code === "rate_limited"
    ? "rate_limited"
    : "refused";
  return { outcome: result, summary: { operation: outcome.operation ?? "unknown", code } };
}

/** Turns an exception that ended a session into its log line's words. */
function describeFailure(error: unknown, state: { expired: boolean; progress: Progress }): SessionEnd {
  const { phase, inFrame } = state.progress;
  const name = error instanceof Error ? error.name : "Error";
  if (state.expired) {
    if (phase !== "session") {
      return { kind: "rejected", reason: "deadline", detail: `no complete ${phase} in time` };
    }
    if (inFrame) return { kind: "rejected", reason: "frame_timeout", detail: "frame not completed in time" };
    return { kind: "closed", reason: "idle timeout" };
  }
  if (phase === "tls") {
    const message = error instanceof Error ? error.message.slice(0, 120).replace(/[^\x20-\x7e]/g, "?") : "";
    return { kind: "rejected", reason: "tls_failed", detail: `${name}: ${message}`, handshake: "tls_failed" };
  }
  if (phase === "handshake") return { kind: "rejected", reason: "connection_lost", detail: name };
  if (name === "UnexpectedEof") {
    return { kind: "closed", reason: "client closed the connection without close_notify" };
  }
  return { kind: "closed", reason: `connection lost (${name})` };
}

/** Logs how the connection ended: a close always, a rejection within the rejection log's budget. */
function report(
  end: SessionEnd,
  parts: { progress: Progress; context: ServerContext; addressKey: string },
): void {
  const { progress } = parts;
  const fields = { ...progress, identity: progress.identity ?? "-", ...end };
  if (end.kind === "rejected") {
    if (!parts.context.rejections.record(parts.addressKey, end.reason)) return;
    log.warn(
      "Connection {connection} from {peer} rejected: {reason} ({detail}); identity {identity}",
      fields,
    );
  } else {
    log.info(
      "Connection {connection} from {peer} closed: {reason}; identity {identity}, {requests} requests",
      fields,
    );
  }
}

/** `127.0.0.1:5000`, `[::1]:5000`. */
export function describeAddress(address: PeerAddress): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}
