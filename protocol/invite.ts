/**
 * Invite codes: how a client enrols its own key from afar. The bank prints a one-time code; the code,
 * with the identity's name, determines an Ed25519 key pair, and the bank keeps only that pair's public
 * half (as an invite key: expiring, with a few attempts). The client derives the same pair from the code
 * and authenticates with it like with any key, so the code never travels and the store cannot answer for
 * it. An enrolment session may do one thing: register the client's own new key.
 *
 * Every failed handshake that names an identity with an open invite spends one of the invite's attempts
 * (a wrong code names a key nobody has), so a code can be guessed at most a few times.
 *
 * A code is 20 random bytes in Crockford's base32, in groups of four: `7K3Q-9XW2-…` (32 characters).
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { utf8 } from "../lib/bytes.ts";
import { isIdentityName } from "./credential.ts";
import type { HandshakeCrypto } from "./handshake_crypto.ts";

export const INVITE_CODE_BYTES = 20;
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CODE_CHARACTERS = (INVITE_CODE_BYTES * 8) / 5;
const GROUP_CHARACTERS = 4;

assert((INVITE_CODE_BYTES * 8) % 5 === 0, "An invite code is a whole number of base32 characters");

/** Writes an invite code for people: upper case, in dash-separated groups of four. */
export function formatInviteCode(code: Uint8Array): string {
  assert(code.length === INVITE_CODE_BYTES, `An invite code is ${INVITE_CODE_BYTES} bytes`);
  let bits = 0;
  let value = 0;
  let text = "";
  for (const byte of code) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return text.match(new RegExp(`.{${GROUP_CHARACTERS}}`, "g"))!.join("-");
}

/**
 * Reads an invite code as a person may type it: any case, with or without dashes and spaces, `I` and `L`
 * for `1`, `O` for `0`; null when it is not a code.
 */
export function parseInviteCode(text: string): Uint8Array | null {
  if (text.length > 2 * CODE_CHARACTERS) return null;
  const compact = text.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  if (compact.length !== CODE_CHARACTERS) return null;
  const code = new Uint8Array(INVITE_CODE_BYTES);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const character of compact) {
    const digit = ALPHABET.indexOf(character);
    if (digit < 0) return null;
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      code[at++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  assert(at === INVITE_CODE_BYTES, "A full code fills every byte");
  return code;
}

/** The Ed25519 seed an invite code stands for, bound to the identity it was made for. */
export function inviteSeed(crypto: HandshakeCrypto, code: Uint8Array, identity: string): Promise<Uint8Array> {
  assert(code.length === INVITE_CODE_BYTES, `An invite code is ${INVITE_CODE_BYTES} bytes`);
  assert(isIdentityName(identity), `Identity name "${identity}" is not valid`);
  return crypto.hkdfSha256(code, { salt: utf8("bank/2 invite"), info: `bank/2 invite key ${identity}` });
}
