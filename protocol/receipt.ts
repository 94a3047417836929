/**
 * Receipts: the bank's signed word that an entry sits in its journal's hash chain. Every transfer, capture,
 * refund and reversal answer carries one; a customer who keeps it can later prove what the bank journaled,
 * even against a bank that rewrote its history and recomputed every hash after it (docs/LEDGER.md).
 *
 * ```json
 * {"format":"bank receipt v1","entry":"12","hash":"<64 hex>","kind":"transfer","transfer_id":"…",
 *  "from":"ACC-1","to":"ACC-2","amount_minor":"10000","created_at":"2026-12-01T10:00:00.000Z",
 *  "bank_key":"<32 bytes base64url>","signature":"<64 bytes base64url>"}
 * ```
 *
 * The signature is Ed25519 by the bank's key over {@link receiptSignedContent}: the context
 * `bank/2 receipt` (padded like every signature of the protocol), then each field from `format` to
 * `created_at` in the order above as `u32be(byte length) || UTF-8`.
 *
 * @module
 */
import { fromBase64Url, fromHex, lengthPrefixed, timingSafeEqual, toBase64Url } from "../lib/bytes.ts";
import { signedContent } from "./handshake.ts";
import type { HandshakeCrypto, Signer } from "./handshake_crypto.ts";
import { ACCOUNT_ID_BYTES_MAX, ED25519_SIGNATURE_BYTES, KEY_BYTES, LEDGER_ID_BYTES_MAX } from "./limits.ts";

export const RECEIPT_FORMAT = "bank receipt v1";

/** What a receipt states, before it is signed. */
export interface ReceiptFacts {
  entry: bigint;
  /** The chain's hash through the entry, 64 hex digits. */
  hash: string;
  kind: string;
  transferId: string;
  sourceAccountId: string;
  targetAccountId: string;
  amountMinor: bigint;
  /** ISO 8601 UTC with milliseconds. */
  createdAt: string;
}

/** A signed receipt. */
export interface Receipt extends ReceiptFacts {
  bankKey: Uint8Array;
  signature: Uint8Array;
}

const KINDS: ReadonlySet<string> = new Set(["transfer", "capture", "reversal", "refund"]);
const DIGITS = /^(0|[1-9][0-9]{0,18})$/;
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;

/** The bytes a receipt's signature signs. */
export function receiptSignedContent(facts: ReceiptFacts): Uint8Array {
  const fields = lengthPrefixed([
    RECEIPT_FORMAT,
    facts.entry.toString(),
    facts.hash,
    facts.kind,
    facts.transferId,
    facts.sourceAccountId,
    facts.targetAccountId,
    facts.amountMinor.toString(),
    facts.createdAt,
  ]);
  return signedContent("bank/2 receipt", [fields]);
}

/** The file name a saved receipt takes: its entry zero-padded, so receipts list in journal order. */
export function receiptFileName(receipt: Receipt): string {
  return `${receipt.entry.toString().padStart(12, "0")}-${receipt.transferId}.json`;
}

/** The text of a saved receipt file: its wire form, indented. */
export function receiptFileText(receipt: Receipt): string {
  return `${JSON.stringify(encodeReceipt(receipt), null, 2)}\n`;
}

/** Signs a receipt with the bank's key. */
export async function signReceipt(bank: Signer, facts: ReceiptFacts): Promise<Receipt> {
  const signature = await bank.sign(receiptSignedContent(facts));
  return { ...facts, bankKey: bank.publicKey, signature };
}

/**
 * Whether a receipt is signed by `bankKey` (the key the client pinned, or the bank's own): false when the
 * receipt names another key or its signature does not verify.
 */
export function verifyReceipt(
  crypto: HandshakeCrypto,
  receipt: Receipt,
  bankKey: Uint8Array,
): Promise<boolean> {
  if (!timingSafeEqual(receipt.bankKey, bankKey)) return Promise.resolve(false);
  return crypto.verify(bankKey, receiptSignedContent(receipt), receipt.signature);
}

/** A receipt's wire (and file) fields. */
export function encodeReceipt(receipt: Receipt): Record<string, string> {
  return {
    format: RECEIPT_FORMAT,
    entry: receipt.entry.toString(),
    hash: receipt.hash,
    kind: receipt.kind,
    transfer_id: receipt.transferId,
    from: receipt.sourceAccountId,
    to: receipt.targetAccountId,
    amount_minor: receipt.amountMinor.toString(),
    created_at: receipt.createdAt,
    bank_key: toBase64Url(receipt.bankKey),
    signature: toBase64Url(receipt.signature),
  };
}

function isText(value: unknown, bytesMax: number): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= bytesMax &&
    /^[\x21-\x7e]+$/.test(value);
}

/** Reads a receipt's fields; null when any is missing or malformed (the signature is not checked here). */
export function readReceipt(value: unknown): Receipt | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const fields = value as Record<string, unknown>;
  const { format, entry, hash, kind, transfer_id: transferId, from, to, created_at: createdAt } = fields;
  const amount = fields.amount_minor;
  if (format !== RECEIPT_FORMAT || typeof entry !== "string" || !DIGITS.test(entry)) return null;
  if (typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash) || fromHex(hash) === null) return null;
  if (typeof kind !== "string" || !KINDS.has(kind) || !isText(transferId, LEDGER_ID_BYTES_MAX)) return null;
  if (!isText(from, ACCOUNT_ID_BYTES_MAX) || !isText(to, ACCOUNT_ID_BYTES_MAX)) return null;
  if (typeof amount !== "string" || !DIGITS.test(amount)) return null;
  if (typeof createdAt !== "string" || !TIME.test(createdAt)) return null;
  const bankKey = typeof fields.bank_key === "string" ? fromBase64Url(fields.bank_key) : null;
  const signature = typeof fields.signature === "string" ? fromBase64Url(fields.signature) : null;
  if (bankKey === null || bankKey.length !== KEY_BYTES) return null;
  if (signature === null || signature.length !== ED25519_SIGNATURE_BYTES) return null;
  return {
    entry: BigInt(entry),
    hash,
    kind,
    transferId,
    sourceAccountId: from,
    targetAccountId: to,
    amountMinor: BigInt(amount),
    createdAt,
    bankKey,
    signature,
  };
}
