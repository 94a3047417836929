/**
 * One authenticated session with the bank server: TLS verified against the bank's CA, the handshake, then
 * one request at a time over the sealed channel. Every wait is bounded.
 *
 * @module
 */
import { isAssertionFailure } from "../lib/assert.ts";
import type { AeadFactory } from "../protocol/aead.ts";
import { fromUtf8, utf8 } from "../lib/bytes.ts";
import type { SealedChannel, SealedType } from "../protocol/channel.ts";
import { clientKeyOf } from "../protocol/credential.ts";
import type { ClientKey, Credential } from "../protocol/credential.ts";
import { webHandshakeCrypto } from "../protocol/handshake_crypto.ts";
import type { HandshakeCrypto } from "../protocol/handshake_crypto.ts";
import { CLIENT_RESPONSE_TIMEOUT_MS } from "./limits.ts";
import { FRAME_BYTES_DEFAULT, GCM_TAG_BYTES, SEALED_HEADER_BYTES } from "../protocol/limits.ts";
import { decodeResponse, decodeWireResponse, encodeRequest } from "../protocol/messages.ts";
import type { ResponseTo, StructuredRequest, WireResponse } from "../protocol/messages.ts";
import type { Operation } from "../protocol/codes.ts";
import { clientHandshake } from "../protocol/session.ts";
import type { HandshakeFreshness } from "../protocol/session.ts";
import { FrameTransport } from "../protocol/transport.ts";
import type { FrameConn } from "../protocol/transport.ts";
import { decodeErrorBody, FrameType } from "../protocol/wire.ts";
import type { WireErrorCode } from "../protocol/wire.ts";

/** A failure to reach, authenticate with or hear from the server, in words for the user. */
export class ClientError extends Error {
  override name = "ClientError";
  /** Which step of opening a session failed, when one did, and the bank's error code if it sent one. */
  readonly failure?: { step: OpenStep; code?: WireErrorCode };

  constructor(message: string, failure?: { step: OpenStep; code?: WireErrorCode }) {
    super(message);
    if (failure !== undefined) this.failure = failure;
  }
}

/** A TLS connection the session runs on, like `Deno.TlsConn`. */
export interface SecureConn extends FrameConn {
  handshake(): Promise<unknown>;
  closeWrite(): Promise<void>;
  close(): void;
}

export interface ConnectOptions {
  host: string;
  port: number;
  /** The CA certificate (PEM) that must have signed the server's certificate (unless `connect` is given). */
  caPem?: string;
  /** A credential file's content, or a key held elsewhere (a browser's non-extractable key). */
  credential: Credential | ClientKey;
  timeoutMs?: number;
  aead?: AeadFactory;
  /** The handshake's primitives: WebCrypto unless given (the bench passes node:crypto). */
  crypto?: HandshakeCrypto;
  /** Fixes the handshake's nonce and ephemeral key: for tests that reproduce or attack a session only. */
  freshness?: HandshakeFreshness;
  /**
   * Opens the TLS connection instead of `Deno.connectTls` (verified against `caPem` all the same), e.g.
   * from a chosen source address.
   */
  connect?: () => Promise<SecureConn>;
}

export class BankConnection {
  readonly #conn: SecureConn;
  readonly #transport: FrameTransport;
  readonly #channel: SealedChannel;
  readonly #timeoutMs: number;
  /** The session's transcript hash: what key changes sign, binding them to this session. */
  readonly transcript: Uint8Array;
  #closed = false;
  /** Exchanges run one at a time: sealed frames must go out, and answers be read, in sequence order. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    parts: {
      conn: SecureConn;
      transport: FrameTransport;
      channel: SealedChannel;
      transcript: Uint8Array;
      timeoutMs: number;
    },
  ) {
    this.transcript = parts.transcript;
    this.#conn = parts.conn;
    this.#transport = parts.transport;
    this.#channel = parts.channel;
    this.#timeoutMs = parts.timeoutMs;
  }

  /** Connects, verifies the server's certificate and authenticates; throws {@link ClientError}. */
  static async connect(options: ConnectOptions): Promise<BankConnection> {
    const timeoutMs = options.timeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS;
    const opened = await openSession(options);
    if (!opened.ok) {
      const failure = { step: opened.step, ...(opened.code === undefined ? {} : { code: opened.code }) };
      throw new ClientError(describeOpenFailure(opened, options), failure);
    }
    return new BankConnection({ ...opened.session, timeoutMs });
  }

  /** Sends a text command and returns the server's text answer. */
  async sendText(command: string): Promise<string> {
    const answer = await this.#exchange(FrameType.sealedText, utf8(command));
    const text = fromUtf8(answer);
    if (text === null) throw new ClientError("Server answered with text that is not UTF-8");
    return text;
  }

  /** Sends a typed structured request and returns its typed answer (every field checked). */
  async send<K extends Operation>(request: StructuredRequest & { op: K }): Promise<ResponseTo<K>> {
    const answer = await this.#exchange(FrameType.sealedJson, encodeRequest(request));
    const response = decodeResponse(answer, request.op);
    if (response === null) throw new ClientError(`Server answered ${request.op} with a malformed response`);
    return response;
  }

  /**
   * Sends any JSON object as a structured request (the shape docs/PROTOCOL.md describes, or not: tools and
   * tests send malformed ones on purpose) and returns the answer, read loosely.
   */
  async sendStructured(request: Record<string, unknown>): Promise<WireResponse> {
    const answer = await this.#exchange(FrameType.sealedJson, utf8(JSON.stringify(request)));
    const response = decodeWireResponse(answer);
    if (response === null) throw new ClientError("Server answered with a malformed structured response");
    return response;
  }

  /** Ends the session cleanly: TLS close_notify, then the socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeSecureConn(this.#conn);
  }

  #exchange(type: SealedType, plaintext: Uint8Array): Promise<Uint8Array> {
    const turn = this.#queue.then(() => this.#exchangeNow(type, plaintext));
    this.#queue = turn.catch(() => {});
    return turn;
  }

  async #exchangeNow(type: SealedType, plaintext: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw new ClientError("Connection is closed");
    if (SEALED_HEADER_BYTES + plaintext.length + GCM_TAG_BYTES > FRAME_BYTES_DEFAULT) {
      throw new ClientError(`Request of ${plaintext.length} bytes does not fit one frame`);
    }
    return await withTimeout(this.#conn, this.#timeoutMs, async () => {
      await this.#transport.sendFrame(await this.#channel.seal(type, plaintext));
      const frame = await this.#transport.next();
      if (frame.kind === "end") throw new ClientError("Server closed the connection without answering");
      if (frame.kind === "error") throw new ClientError(`Server sent a bad frame: ${frame.detail}`);
      const refusal = decodeErrorBody(frame.body);
      if (refusal !== null) throw new ClientError(`Server ended the session: ${refusal}`);
      const opened = await this.#channel.open(frame.body);
      if (!opened.ok) throw new ClientError(`Server's answer failed verification (${opened.reason})`);
      if (opened.type !== type) throw new ClientError("Server answered in another format than asked");
      return opened.plaintext;
    });
  }
}

/** Which step of opening a session failed. */
export type OpenStep = "connect_failed" | "tls_failed" | "handshake_failed" | "timeout";

/** A session just opened: the connection, its frame transport and sealed channel, and each step's time. */
export interface OpenedSession {
  conn: SecureConn;
  transport: FrameTransport;
  channel: SealedChannel;
  transcript: Uint8Array;
  timings: { tcpMs: number; tlsMs: number; bankMs: number };
}

export type OpenSessionResult =
  | { ok: true; session: OpenedSession }
  | { ok: false; step: OpenStep; message: string; code?: WireErrorCode };

/**
 * Opens an authenticated session, the one way both the client and the bench do it: TCP (Nagle off), TLS
 * verified against the bank's CA, the bank handshake; each step timed. The whole of it is bounded by
 * `timeoutMs`: when the time is up the socket is closed. Never throws but for a broken invariant.
 */
export async function openSession(options: ConnectOptions): Promise<OpenSessionResult> {
  const timeoutMs = options.timeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS;
  const startedMs = performance.now();
  let conn: SecureConn;
  try {
    conn = await connectWithin(options.connect?.() ?? connectSecure(options), timeoutMs);
  } catch (error) {
    return { ok: false, step: "connect_failed", message: messageOf(error) };
  }
  const connectedMs = performance.now();
  let step: "tls_failed" | "handshake_failed" = "tls_failed";
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    closeQuietly(conn);
  }, Math.max(1, timeoutMs - (connectedMs - startedMs)));
  try {
    await conn.handshake();
    const securedMs = performance.now();
    step = "handshake_failed";
    const transport = new FrameTransport(conn, { frameBytesMax: FRAME_BYTES_DEFAULT });
    const crypto = options.crypto ?? webHandshakeCrypto;
    const key = await cachedClientKey(options.credential, crypto);
    const handshake = await clientHandshake(transport, {
      ...key,
      crypto,
      ...aeadOption(options.aead),
      ...options.freshness,
    });
    if (!handshake.ok) {
      closeQuietly(conn);
      return {
        ok: false,
        step,
        message: handshake.error,
        ...(handshake.code === undefined ? {} : { code: handshake.code }),
      };
    }
    const timings = {
      tcpMs: connectedMs - startedMs,
      tlsMs: securedMs - connectedMs,
      bankMs: performance.now() - securedMs,
    };
    const { channel, transcript } = handshake;
    return { ok: true, session: { conn, transport, channel, transcript, timings } };
  } catch (error) {
    if (isAssertionFailure(error)) throw error;
    closeQuietly(conn);
    if (expired) return { ok: false, step: "timeout", message: `no session within ${timeoutMs} ms` };
    return { ok: false, step, message: messageOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** What a handshake needs of a credential, made once per credential and implementation. */
const CLIENT_KEYS = new WeakMap<Credential, Map<HandshakeCrypto, Promise<ClientKey>>>();

function cachedClientKey(credential: Credential | ClientKey, crypto: HandshakeCrypto): Promise<ClientKey> {
  if ("signer" in credential) return Promise.resolve(credential);
  let byCrypto = CLIENT_KEYS.get(credential);
  if (byCrypto === undefined) CLIENT_KEYS.set(credential, byCrypto = new Map());
  let key = byCrypto.get(crypto);
  if (key === undefined) byCrypto.set(crypto, key = clientKeyOf(crypto, credential));
  return key;
}

/** A failure to open a session, in words for the user. */
function describeOpenFailure(
  failure: Extract<OpenSessionResult, { ok: false }>,
  options: ConnectOptions,
): string {
  const { identity } = options.credential;
  switch (failure.step) {
    case "connect_failed":
      return `Cannot connect to ${options.host}:${options.port}: ${failure.message}`;
    case "timeout":
      return `No answer from the server within ${options.timeoutMs ?? CLIENT_RESPONSE_TIMEOUT_MS} ms`;
    case "tls_failed":
      return `Connection failed: ${failure.message}`;
    case "handshake_failed":
      return failure.code === "rate_limited"
        ? `Handshake as ${identity} refused: rate limited (too many sessions), retry later`
        : `Handshake as ${identity} failed: ${failure.message}`;
  }
}

function aeadOption(aead: AeadFactory | undefined): { aead?: AeadFactory } {
  return aead === undefined ? {} : { aead };
}

/**
 * TCP with Nagle's algorithm off (the hello, the proof and each request are small writes that must not
 * wait for the peer's delayed acknowledgement), then TLS verified against the bank's CA.
 */
async function connectSecure(options: ConnectOptions): Promise<Deno.TlsConn> {
  if (options.caPem === undefined) throw new ClientError("A TLS connection needs the bank's CA (caPem)");
  const caCerts = [options.caPem];
  const tcp = await Deno.connect({ hostname: options.host, port: options.port });
  try {
    tcp.setNoDelay(true);
    return await Deno.startTls(tcp, { hostname: options.host, caCerts });
  } catch (error) {
    closeQuietly(tcp);
    throw error;
  }
}

/** Waits for a connection at most `timeoutMs`; one that arrives later is closed. */
export async function connectWithin<T extends { close(): void }>(
  connecting: Promise<T>,
  timeoutMs: number,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      connecting.then(closeQuietly, () => {});
      reject(new Error(`No connection within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([connecting, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `work`, closing the connection if it takes longer than `timeoutMs`. */
async function withTimeout<T>(
  conn: { close(): void },
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    closeQuietly(conn);
  }, timeoutMs);
  try {
    return await work();
  } catch (error) {
    if (expired) throw new ClientError(`No answer from the server within ${timeoutMs} ms`);
    if (error instanceof ClientError || isAssertionFailure(error)) throw error;
    throw new ClientError(`Connection failed: ${messageOf(error)}`);
  } finally {
    clearTimeout(timer);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Ends a connection cleanly: TLS close_notify (the peer may have gone already), then the socket. */
export async function closeSecureConn(conn: SecureConn): Promise<void> {
  try {
    await conn.closeWrite();
  } catch {
    // The server already closed its side; the socket is released below either way.
  }
  closeQuietly(conn);
}

/** Closes a socket that may be closed already. */
export function closeQuietly(conn: { close(): void }): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
