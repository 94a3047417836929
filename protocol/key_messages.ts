/**
 * The two structured requests that change a client's keys, and their answers (messages.ts carries them):
 *
 * ```json
 * {"v":1,"id":"r1","op":"enrol","public_key":"<32 bytes base64url>","signature":"<64 bytes base64url>"}
 * {"v":1,"id":"r2","op":"rotate_key","public_key":"…","new_key_signature":"…","old_key_signature":"…"}
 * {"v":1,"id":"r1","ok":true,"result":{"key_id":"<32 hex digits>"}}
 * {"v":1,"id":"r2","ok":true,"result":{"key_id":"…","revoked_key_id":"…"}}
 * ```
 *
 * Each signature binds the new public key to this session: it signs, with the context of its role, the
 * session's transcript hash and the new key (see {@link keyChangeSignedContent}). An enrolment session
 * (authenticated with an invite's key) may only enrol; a device's session may rotate its own key.
 *
 * @module
 */
import { fromBase64Url, toBase64Url } from "../lib/bytes.ts";
import { isKeyId } from "./credential.ts";
import { signedContent } from "./handshake.ts";
import type { SignatureContext } from "./handshake.ts";
import { ED25519_SIGNATURE_BYTES, KEY_BYTES } from "./limits.ts";

export type KeyRequest =
  | { op: "enrol"; id: string; publicKey: Uint8Array; signature: Uint8Array }
  | {
    op: "rotate_key";
    id: string;
    publicKey: Uint8Array;
    newKeySignature: Uint8Array;
    oldKeySignature: Uint8Array;
  };

export interface KeyResultOf {
  enrol: { keyId: string };
  rotate_key: { keyId: string; revokedKeyId: string };
}

/** The wire fields each key operation takes besides `v`, `id` and `op`. */
export const KEY_FIELDS = {
  enrol: ["public_key", "signature"],
  rotate_key: ["public_key", "new_key_signature", "old_key_signature"],
} as const;

/** What a key change's signature signs: its role's context, the session's transcript hash, the new key. */
export function keyChangeSignedContent(
  context: Extract<SignatureContext, "bank/2 enrol key" | "bank/2 rotate new key" | "bank/2 rotate old key">,
  binding: { transcript: Uint8Array; publicKey: Uint8Array },
): Uint8Array {
  return signedContent(context, [binding.transcript, binding.publicKey]);
}

function readBytes(value: unknown, bytes: number): Uint8Array | null {
  const decoded = typeof value === "string" ? fromBase64Url(value) : null;
  return decoded !== null && decoded.length === bytes ? decoded : null;
}

/** Reads a key request's fields; a message naming the first bad field otherwise. */
export function decodeKeyRequest(
  op: "enrol" | "rotate_key",
  id: string,
  fields: Record<string, unknown>,
): { ok: true; request: KeyRequest } | { ok: false; message: string } {
  const publicKey = readBytes(fields.public_key, KEY_BYTES);
  if (publicKey === null) return { ok: false, message: "public_key must be 32 bytes of base64url" };
  const signatureError = (name: string) => ({
    ok: false as const,
    message: `${name} must be 64 bytes of base64url`,
  });
  if (op === "enrol") {
    const signature = readBytes(fields.signature, ED25519_SIGNATURE_BYTES);
    if (signature === null) return signatureError("signature");
    return { ok: true, request: { op, id, publicKey, signature } };
  }
  const newKeySignature = readBytes(fields.new_key_signature, ED25519_SIGNATURE_BYTES);
  if (newKeySignature === null) return signatureError("new_key_signature");
  const oldKeySignature = readBytes(fields.old_key_signature, ED25519_SIGNATURE_BYTES);
  if (oldKeySignature === null) return signatureError("old_key_signature");
  return { ok: true, request: { op, id, publicKey, newKeySignature, oldKeySignature } };
}

/** A key request's wire fields. */
export function encodeKeyRequest(request: KeyRequest): Record<string, string> {
  if (request.op === "enrol") {
    return { public_key: toBase64Url(request.publicKey), signature: toBase64Url(request.signature) };
  }
  return {
    public_key: toBase64Url(request.publicKey),
    new_key_signature: toBase64Url(request.newKeySignature),
    old_key_signature: toBase64Url(request.oldKeySignature),
  };
}

/** A key result's wire fields. */
export function encodeKeyResult(
  result: ({ op: "enrol" } & KeyResultOf["enrol"]) | ({ op: "rotate_key" } & KeyResultOf["rotate_key"]),
): Record<string, string> {
  return result.op === "enrol"
    ? { key_id: result.keyId }
    : { key_id: result.keyId, revoked_key_id: result.revokedKeyId };
}

/** Reads a key result; null when malformed. */
export function readKeyResult(
  op: "enrol" | "rotate_key",
  result: Record<string, unknown>,
): ({ op: "enrol" } & KeyResultOf["enrol"]) | ({ op: "rotate_key" } & KeyResultOf["rotate_key"]) | null {
  const keyId = result.key_id;
  if (typeof keyId !== "string" || !isKeyId(keyId)) return null;
  if (op === "enrol") return { op, keyId };
  const revoked = result.revoked_key_id;
  if (typeof revoked !== "string" || !isKeyId(revoked)) return null;
  return { op, keyId, revokedKeyId: revoked };
}
