/**
 * Identity names, the client credential file (the one place a client's private key is written down), and
 * public key files (what a client hands the bank, and the bank's own key that clients pin).
 *
 * ```json
 * { "version": 2, "identity": "client-1", "private_key": "<Ed25519 seed, 32 bytes base64url>",
 *   "bank_public_key": "<the bank's Ed25519 public key, 32 bytes base64url>" }
 * ```
 *
 * A public key file is one line: `ed25519 <32 bytes base64url> <comment>`.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { toHex, utf8 } from "../lib/bytes.ts";
import type { HandshakeCrypto, Signer } from "./handshake_crypto.ts";
import { decodeKey, encodeKey } from "./handshake_crypto.ts";
import { CREDENTIAL_FILE_BYTES_MAX, IDENTITY_NAME_BYTES_MAX, KEY_ID_BYTES } from "./limits.ts";

/** A client's name, its private key and the bank's public key it expects. */
export interface Credential {
  identity: string;
  /** The client's Ed25519 seed (RFC 8032's private key): it never leaves the client. */
  privateKey: Uint8Array;
  bankPublicKey: Uint8Array;
}

export const CREDENTIAL_VERSION = 2;
const IDENTITY_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${IDENTITY_NAME_BYTES_MAX - 1}}$`);
const PUBLIC_KEY_LINE = /^ed25519 ([A-Za-z0-9_-]{43})(?: ([\x20-\x7e]{0,128}))?\n?$/;

/** Names that belong to the bank's own accounts and can never be a client identity. */
const RESERVED_IDENTITY_NAMES: readonly string[] = ["bank", "external"];

/** Tells whether a name is reserved for the bank itself (compared without case). */
export function isReservedIdentityName(name: string): boolean {
  return RESERVED_IDENTITY_NAMES.includes(name.toLowerCase());
}

/** Tells whether a name is a valid identity name: ASCII letters, digits, `.`, `_`, `-`, at most 64. */
export function isIdentityName(name: string): boolean {
  return IDENTITY_PATTERN.test(name);
}

/** A key's id: the first 16 bytes of the SHA-256 of its public key. */
export async function keyIdOf(crypto: HandshakeCrypto, publicKey: Uint8Array): Promise<Uint8Array> {
  return (await crypto.sha256(publicKey)).slice(0, KEY_ID_BYTES);
}

/** What a credential gives the handshake: the name, the key's id and signer, and the bank's key. */
export interface ClientKey {
  identity: string;
  keyId: Uint8Array;
  signer: Signer;
  bankPublicKey: Uint8Array;
}

/** A credential made ready for handshakes (its signer imported, its key id computed). */
export async function clientKeyOf(crypto: HandshakeCrypto, credential: Credential): Promise<ClientKey> {
  const signer = await crypto.signer(credential.privateKey);
  const keyId = await keyIdOf(crypto, signer.publicKey);
  return { identity: credential.identity, keyId, signer, bankPublicKey: credential.bankPublicKey };
}

/** Tells whether text is a key id as people, the store and the messages write it (32 lower-case hex digits). */
export function isKeyId(text: string): boolean {
  return /^[0-9a-f]{32}$/.test(text);
}

/** A key id as people and the store write it: 32 lower-case hex digits. */
export function formatKeyId(keyId: Uint8Array): string {
  assert(keyId.length === KEY_ID_BYTES, `A key id must be ${KEY_ID_BYTES} bytes, got ${keyId.length}`);
  return toHex(keyId);
}

/** Serializes a credential for its file. */
export function encodeCredential(credential: Credential): string {
  assert(isIdentityName(credential.identity), `Identity name "${credential.identity}" is not valid`);
  const file = {
    version: CREDENTIAL_VERSION,
    identity: credential.identity,
    private_key: encodeKey(credential.privateKey),
    bank_public_key: encodeKey(credential.bankPublicKey),
  };
  return JSON.stringify(file, null, 2) + "\n";
}

/** Reads a credential file's text; the error says what is wrong without echoing the key. */
export function decodeCredential(
  text: string,
): { ok: true; credential: Credential } | { ok: false; error: string } {
  if (utf8(text).length > CREDENTIAL_FILE_BYTES_MAX) return { ok: false, error: "file is too large" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: "file is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null) return { ok: false, error: "file is not a JSON object" };
  const file = parsed as Record<string, unknown>;
  if (file.version === 1) {
    return {
      ok: false,
      error: "version 1 (a shared secret) is no longer accepted: make a key (bank-client keygen)",
    };
  }
  if (file.version !== CREDENTIAL_VERSION) return { ok: false, error: "unsupported version (expected 2)" };
  if (typeof file.identity !== "string" || !isIdentityName(file.identity)) {
    return { ok: false, error: "identity is missing or not a valid name" };
  }
  const privateKey = typeof file.private_key === "string" ? decodeKey(file.private_key) : null;
  if (privateKey === null) return { ok: false, error: "private_key is missing or not 32 bytes of base64url" };
  const bankPublicKey = typeof file.bank_public_key === "string" ? decodeKey(file.bank_public_key) : null;
  if (bankPublicKey === null) {
    return { ok: false, error: "bank_public_key is missing or not 32 bytes of base64url" };
  }
  return { ok: true, credential: { identity: file.identity, privateKey, bankPublicKey } };
}

/** A public key file's line. */
export function encodePublicKeyFile(publicKey: Uint8Array, comment: string): string {
  assert(/^[\x20-\x7e]{0,128}$/.test(comment), "A key comment is at most 128 printable characters");
  return `ed25519 ${encodeKey(publicKey)}${comment === "" ? "" : ` ${comment}`}\n`;
}

/** Reads a public key file: the key, or what is wrong with the file. */
export function decodePublicKeyFile(
  text: string,
): { ok: true; publicKey: Uint8Array; comment: string } | { ok: false; error: string } {
  if (text.length > 256) return { ok: false, error: "a public key file is one short line" };
  const match = PUBLIC_KEY_LINE.exec(text);
  const publicKey = match === null ? null : decodeKey(match[1]!);
  if (match === null || publicKey === null) {
    return { ok: false, error: "expected one line: ed25519 <32 bytes of base64url> [comment]" };
  }
  return { ok: true, publicKey, comment: match[2] ?? "" };
}
