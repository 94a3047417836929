/**
 * Identity keys as both stores keep them: one row per public key (never a private one), the checks a key
 * change must pass, and what makes a key usable for a handshake now. Kept apart from SQL so both stores
 * decide the same way.
 *
 * @module
 */
import { assert } from "../../lib/assert.ts";
import { isKeyId } from "../../protocol/credential.ts";
import { decodeKey, encodeKey } from "../../protocol/handshake_crypto.ts";
import { IDENTITY_KEYS_MAX } from "./limits.ts";
import type { IdentityKey, KeyChangeResult, NewKey } from "./ledger.ts";
import { timeOf } from "./columns.ts";

/** A row of `identity_keys`. */
export interface IdentityKeyRow {
  identity: string;
  key_id: string;
  public_key: string;
  kind: string;
  status: string;
  expires_at: Date | string | null;
  attempts_left: bigint | number | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** The columns a new key is written with (besides identity, status and times). */
export function newKeyColumns(key: NewKey): {
  key_id: string;
  public_key: string;
  kind: string;
  expires_at: Date | null;
  attempts_left: number | null;
} {
  assert(isKeyId(key.keyId), `Key id ${key.keyId} must be 32 hex digits`);
  const invite = key.kind === "invite";
  if (invite) assert(Number.isInteger(key.attemptsLeft), `Invite attempts ${key.attemptsLeft} must be whole`);
  if (invite) assert(key.attemptsLeft >= 1, `An invite needs an attempt, got ${key.attemptsLeft}`);
  return {
    key_id: key.keyId,
    public_key: encodeKey(key.publicKey),
    kind: key.kind,
    expires_at: invite ? key.expiresAt : null,
    attempts_left: invite ? key.attemptsLeft : null,
  };
}

export function toIdentityKey(row: IdentityKeyRow): IdentityKey {
  const publicKey = decodeKey(String(row.public_key));
  assert(publicKey !== null, `Key ${row.key_id} of ${row.identity} must be 32 bytes of base64url`);
  assert(row.kind === "device" || row.kind === "invite", `Key ${row.key_id} has kind ${row.kind}`);
  assert(row.status === "active" || row.status === "revoked", `Key ${row.key_id} has status ${row.status}`);
  const what = `Key ${row.key_id} of ${row.identity}`;
  return {
    identity: String(row.identity),
    keyId: String(row.key_id),
    publicKey,
    kind: row.kind,
    status: row.status,
    expiresAt: row.expires_at === null ? null : timeOf(row.expires_at, what),
    attemptsLeft: row.attempts_left === null ? null : Number(row.attempts_left),
    createdAt: timeOf(row.created_at, what),
    updatedAt: timeOf(row.updated_at, what),
  };
}

/** Whether a key may authenticate now: active, and for an invite before its deadline with attempts left. */
export function isUsable(key: IdentityKey, now: Date): boolean {
  if (key.status !== "active") return false;
  if (key.kind === "device") return true;
  assert(key.expiresAt !== null, `Invite ${key.keyId} has a deadline`);
  assert(key.attemptsLeft !== null, `Invite ${key.keyId} has attempts`);
  return key.expiresAt.getTime() > now.getTime() && key.attemptsLeft > 0;
}

/**
 * Judges adding a key, given what the store holds: the identity (null when it is not active), its usable
 * keys, and whether the public key is known anywhere already (a key belongs to one identity, once).
 */
export function judgeNewKey(state: {
  identityActive: boolean;
  usableKeys: number;
  publicKeyKnown: boolean;
  replacing?: boolean;
}): KeyChangeResult | null {
  assert(state.usableKeys >= 0, `Usable keys ${state.usableKeys} cannot be negative`);
  if (!state.identityActive) return "not_found";
  if (state.publicKeyKnown) return "key_exists";
  const after = state.usableKeys + (state.replacing === true ? 0 : 1);
  if (after > IDENTITY_KEYS_MAX) return "key_limit";
  return null;
}
