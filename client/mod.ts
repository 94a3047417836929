/**
 * The bank's client library: connect with a credential, then check balances, transfer money (exactly once,
 * however often the connection fails), read history, update contact details and rotate the key. It runs on
 * Deno over TLS, and anywhere else through the {@link SecureConn} a caller supplies (a WebSocket in a
 * browser): the handshake and the sealed channel use WebCrypto unless told otherwise. The CLI
 * (`bank-client`) and the bench are built on it.
 *
 * A credential comes from `bank-client keygen` (or `bank-server clients add`), or is made here:
 *
 * @example Make a key pair; the bank registers its public half
 * ```ts
 * import { assertEquals, assertMatch } from "@std/assert";
 * import { decodeCredential, encodeCredential, generateKey } from "./mod.ts";
 *
 * const bankPublicKey = new Uint8Array(32).fill(7); // in practice: the bank.pub you were given
 * const key = await generateKey({ identity: "ada", bankPublicKey });
 * assertMatch(key.keyId, /^[0-9a-f]{32}$/);
 * assertMatch(key.publicKeyFile, /^ed25519 [A-Za-z0-9_-]{43} ada\n$/);
 * const file = encodeCredential(key.credential); // keep it private (mode 0600)
 * assertEquals(decodeCredential(file), { ok: true, credential: key.credential });
 * ```
 *
 * @example Talk to the bank
 * ```ts ignore
 * import { BankClient, loadCredential } from "./mod.ts";
 *
 * const bank = await BankClient.connect({
 *   host: "127.0.0.1",
 *   port: 8443,
 *   caPem: await Deno.readTextFile(".bank/ca.crt"),
 *   credential: await loadCredential(".bank/clients/client-1.json"),
 * });
 * const [account] = await bank.balance();
 * await bank.transfer({ to: "XYZ", amountMinor: 10_000n }); // $100.00, retried with its key until answered
 * await bank.close();
 * ```
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import type { ErrorCode } from "../protocol/codes.ts";
import type { AccountView, AsOfView, HistoryView, TransferView } from "../protocol/messages.ts";
import type { HoldView, LedgerResultOf, RefundView } from "../protocol/ledger_messages.ts";
import { HOLD_EXPIRY_S_DEFAULT } from "../protocol/limits.ts";
import { webHandshakeCrypto } from "../protocol/handshake_crypto.ts";
import { SDK_RETRY_DELAY_MS, SDK_TRANSFER_ATTEMPTS_MAX } from "./limits.ts";
import { BankConnection, ClientError } from "./connection.ts";
import type { ConnectOptions } from "./connection.ts";
import { heldClientKey, rotateKey } from "./keys.ts";
import type { GeneratedKey, HeldKey } from "./keys.ts";

export { decodeCredential, encodeCredential } from "../protocol/credential.ts";
export type { Credential } from "../protocol/credential.ts";
export type { AccountView, AsOfView, HistoryView, TransferView } from "../protocol/messages.ts";
export type { HoldView, LedgerResultOf, RefundView } from "../protocol/ledger_messages.ts";
export { readReceipt, verifyReceipt } from "../protocol/receipt.ts";
export type { Receipt } from "../protocol/receipt.ts";
export { BankConnection, ClientError } from "./connection.ts";
export type { ConnectOptions, SecureConn } from "./connection.ts";
export { enrolWithInvite, generateKey, heldClientKey, KeyChangeError } from "./keys.ts";
export type { GeneratedKey, HeldKey } from "./keys.ts";
export { connectWebSocket } from "./websocket.ts";
export { loadCa, loadCredential } from "./setup.ts";

/** The bank answered, and refused: its code (`insufficient_funds`, `rate_limited`, …) and reason. */
export class BankRequestError extends Error {
  override name = "BankRequestError";
  readonly code: ErrorCode;
  /** The bank's own words (`phone is not valid`), without the code. */
  readonly detail: string;
  readonly retryAfterS: number | undefined;

  constructor(error: { code: ErrorCode; message: string; retryAfterS?: number }) {
    super(`The bank refused (${error.code}): ${error.message}`);
    this.code = error.code;
    this.detail = error.message;
    this.retryAfterS = error.retryAfterS;
  }
}

/** A transfer to make: to whom, how much (minor units), from which of one's accounts, under which key. */
export interface TransferRequest {
  to: string;
  amountMinor: bigint;
  from?: string;
  /** Names this transfer: the same key never moves money twice. Made here when absent. */
  idempotencyKey?: string;
}

/** A connected client. One request at a time; reconnects when a transfer's connection fails. */
export class BankClient {
  #options: ConnectOptions;
  #connection: BankConnection;
  #requests = 0;

  private constructor(options: ConnectOptions, connection: BankConnection) {
    this.#options = options;
    this.#connection = connection;
  }

  /** Connects and authenticates; throws {@link ClientError} when the bank cannot be reached or refuses. */
  static async connect(options: ConnectOptions): Promise<BankClient> {
    return new BankClient(options, await BankConnection.connect(options));
  }

  /** The accounts this identity owns, oldest first. */
  async balance(): Promise<AccountView[]> {
    const answer = await this.#connection.send({ op: "balance", id: this.#nextId() });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result.accounts;
  }

  /**
   * Moves money, exactly once: when the connection fails before the answer, or the bank answers
   * `unavailable`, the same request (same idempotency key) is sent again on a new connection, at most
   * a few times; the bank answers a repeat with the transfer it already made (`status: "exists"`).
   */
  async transfer(request: TransferRequest): Promise<TransferView> {
    const idempotencyKey = request.idempotencyKey ?? `sdk-${crypto.randomUUID()}`;
    const message = {
      op: "transfer" as const,
      targetAccountId: request.to,
      amountMinorText: request.amountMinor.toString(),
      idempotencyKey,
      ...(request.from === undefined ? {} : { sourceAccountId: request.from }),
    };
    let lastError: unknown = null;
    for (let attempt = 1; attempt <= SDK_TRANSFER_ATTEMPTS_MAX; attempt++) {
      try {
        if (attempt > 1) await this.#reconnectAfter(SDK_RETRY_DELAY_MS * (attempt - 1));
        const answer = await this.#connection.send({ ...message, id: this.#nextId() });
        if (answer.ok) return answer.result;
        if (answer.error.code !== "unavailable") throw new BankRequestError(answer.error);
        lastError = new BankRequestError(answer.error);
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        lastError = error;
      }
    }
    assert(lastError !== null, "A transfer that was not answered failed somehow");
    throw lastError;
  }

  /** Reserves money for `to` until it is captured, voided, or expires (`expiresInS`, default 7 days). */
  async hold(request: TransferRequest & { expiresInS?: number }): Promise<HoldView> {
    const answer = await this.#connection.send({
      op: "hold",
      id: this.#nextId(),
      targetAccountId: request.to,
      amountMinorText: request.amountMinor.toString(),
      idempotencyKey: request.idempotencyKey ?? `sdk-${crypto.randomUUID()}`,
      expiresInS: request.expiresInS ?? HOLD_EXPIRY_S_DEFAULT,
      ...(request.from === undefined ? {} : { sourceAccountId: request.from }),
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }

  /** Captures one of this identity's holds, whole or `amountMinor` of it; safe to repeat. */
  async capture(holdId: string, amountMinor?: bigint): Promise<LedgerResultOf["capture"]> {
    const answer = await this.#connection.send({
      op: "capture",
      id: this.#nextId(),
      holdId,
      ...(amountMinor === undefined ? {} : { amountMinorText: amountMinor.toString() }),
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }

  /** Releases one of this identity's pending holds; safe to repeat. */
  async void(holdId: string): Promise<HoldView> {
    const answer = await this.#connection.send({ op: "void", id: this.#nextId(), holdId });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }

  /** Returns money of a transfer this identity received, whole (what is left) or in part, exactly once per key. */
  async refund(
    request: { transferId: string; amountMinor?: bigint; idempotencyKey?: string },
  ): Promise<RefundView> {
    const answer = await this.#connection.send({
      op: "refund",
      id: this.#nextId(),
      transferId: request.transferId,
      idempotencyKey: request.idempotencyKey ?? `sdk-${crypto.randomUUID()}`,
      ...(request.amountMinor === undefined ? {} : { amountMinorText: request.amountMinor.toString() }),
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result;
  }

  /**
   * A page of an account's postings, newest first, each with the balance after it; pass `before` from the
   * last page for the next, and `asOf` (an entry number or a time) for a statement as of then.
   */
  async history(query: { account?: string; limit?: number; before?: bigint; asOf?: AsOfView } = {}) {
    const answer = await this.#connection.send({
      op: "history",
      id: this.#nextId(),
      limit: query.limit ?? 20,
      ...(query.account === undefined ? {} : { accountId: query.account }),
      ...(query.before === undefined ? {} : { beforeEntry: query.before }),
      ...(query.asOf === undefined ? {} : { asOf: query.asOf }),
    });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result as { items: HistoryView[]; nextBefore: bigint | null };
  }

  /** Changes contact details; returns the fields that changed. */
  async updateContact(details: { email?: string; phone?: string; address?: string }): Promise<string[]> {
    const answer = await this.#connection.send({ op: "update_contact", id: this.#nextId(), details });
    if (!answer.ok) throw new BankRequestError(answer.error);
    return answer.result.changed;
  }

  /**
   * Replaces this client's key by a new one, then reconnects with it. Returns the new key: save its
   * credential before anything else, since the old key no longer works.
   */
  async rotateKey(): Promise<GeneratedKey & { revokedKeyId: string }>;
  /** The same with a key made and held elsewhere (a browser's non-extractable key). */
  async rotateKey(fresh: HeldKey): Promise<HeldKey & { revokedKeyId: string }>;
  async rotateKey(fresh?: HeldKey): Promise<(GeneratedKey | HeldKey) & { revokedKeyId: string }> {
    const crypto = this.#options.crypto ?? webHandshakeCrypto;
    const old = this.#options.credential;
    const rotated = await rotateKey<GeneratedKey | HeldKey>(this.#connection, old, {
      crypto,
      ...(fresh === undefined ? {} : { fresh }),
    });
    await this.#connection.close();
    const identity = { identity: old.identity, bankPublicKey: old.bankPublicKey };
    const credential = "signer" in rotated ? heldClientKey(rotated, identity) : rotated.credential;
    this.#options = { ...this.#options, credential };
    this.#connection = await BankConnection.connect(this.#options);
    return rotated;
  }

  async close(): Promise<void> {
    await this.#connection.close();
  }

  #nextId(): string {
    this.#requests += 1;
    return `sdk-${this.#requests}`;
  }

  async #reconnectAfter(delayMs: number): Promise<void> {
    await this.#connection.close();
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    this.#connection = await BankConnection.connect(this.#options);
  }
}
