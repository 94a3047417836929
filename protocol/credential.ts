/**
 * Identity names and the client credential file: the one place a client's secret is written down.
 *
 * ```json
 * { "version": 1, "identity": "client-1", "secret": "<32 bytes, base64url>" }
 * ```
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { fromBase64Url, toBase64Url, utf8 } from "../lib/bytes.ts";
import { CREDENTIAL_FILE_BYTES_MAX, IDENTITY_NAME_BYTES_MAX, SECRET_BYTES } from "./limits.ts";

/** A client's name and its 256-bit secret. */
export interface Credential {
  identity: string;
  secret: Uint8Array;
}

const IDENTITY_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${IDENTITY_NAME_BYTES_MAX - 1}}$`);

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

/** Serializes a credential for its file. */
export function encodeCredential(credential: Credential): string {
  assert(isIdentityName(credential.identity), `Identity name "${credential.identity}" is not valid`);
  assert(credential.secret.length === SECRET_BYTES, "Secret must be 32 bytes");
  const file = { version: 1, identity: credential.identity, secret: toBase64Url(credential.secret) };
  return JSON.stringify(file, null, 2) + "\n";
}

/** Reads a credential file's text; the error says what is wrong without echoing the secret. */
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
  if (file.version !== 1) return { ok: false, error: "unsupported version (expected 1)" };
  if (typeof file.identity !== "string" || !isIdentityName(file.identity)) {
    return { ok: false, error: "identity is missing or not a valid name" };
  }
  const secret = typeof file.secret === "string" ? fromBase64Url(file.secret) : null;
  if (secret === null || secret.length !== SECRET_BYTES) {
    return { ok: false, error: `secret is missing or not ${SECRET_BYTES} bytes of base64url` };
  }
  return { ok: true, credential: { identity: file.identity, secret } };
}
