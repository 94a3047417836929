import { assert } from "../../lib/assert.ts";
import { utf8 } from "../../lib/bytes.ts";
import { CONTACT_FIELD_BYTES_MAX } from "../../protocol/limits.ts";
import type { ContactDetails } from "../ledger/ledger.ts";
import type { BankRequest, HandlerContext, Outcome } from "./types.ts";

const EMAIL_PATTERN =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const PHONE_PATTERN = /^\+?[0-9][0-9 ().-]{4,30}$/;
const ADDRESS_CHARACTERS_MIN = 3;
const EMAIL_BYTES_MAX = 254;

/** Checks contact details; returns the first problem in words, or null. */
export function contactProblem(details: ContactDetails): string | null {
  if (details.email !== undefined) {
    if (details.email.length > EMAIL_BYTES_MAX || !EMAIL_PATTERN.test(details.email)) {
      return "email is not valid";
    }
  }
  if (details.phone !== undefined) {
    const digits = details.phone.replace(/[^0-9]/g, "").length;
    if (!PHONE_PATTERN.test(details.phone) || digits < 5 || digits > 15) return "phone is not valid";
  }
  if (details.address !== undefined) {
    const address = details.address;
    const tooShort = address.trim().length < ADDRESS_CHARACTERS_MIN;
    if (tooShort || utf8(address).length > CONTACT_FIELD_BYTES_MAX || hasControlCharacter(address)) {
      return "address is not valid";
    }
  }
  return null;
}

function hasControlCharacter(text: string): boolean {
  for (const character of text) {
    const code = character.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Records the caller's contact details, keeping the history of changes. A request with no fields (the
 * original design's bare command) confirms the details on file and changes nothing.
 */
export async function handleUpdateContact(
  request: Extract<BankRequest, { operation: "update_contact" }>,
  context: HandlerContext,
): Promise<Outcome> {
  const problem = contactProblem(request.details);
  if (problem !== null) {
    return { operation: "update_contact", ok: false, code: "contact_invalid", message: problem };
  }
  const result = await context.ledger.updateContact(context.identity, request.details);
  assert(result.code === "ok", `Contact update returned ${result.code}`);
  const fields = Object.keys(request.details);
  assert(result.changed.every((field) => fields.includes(field)), "Only submitted fields can change");
  return { operation: "update_contact", ok: true, changed: result.changed };
}
