import { assertEquals, assertStringIncludes } from "@std/assert";
import { isErrorCode } from "../../protocol/codes.ts";
import type { ErrorCode } from "../../protocol/codes.ts";
import { messageFor } from "./messages.ts";

const CODES: ErrorCode[] = [
  "malformed_request",
  "unsupported_version",
  "unknown_operation",
  "invalid_field",
  "amount_malformed",
  "amount_must_be_positive",
  "amount_over_limit",
  "key_reused_with_other_fields",
  "accounts_must_differ",
  "account_not_found",
  "account_frozen",
  "insufficient_funds",
  "contact_invalid",
  "key_invalid",
  "key_exists",
  "key_limit",
  "not_allowed",
  "unavailable",
  "rate_limited",
];

Deno.test("messageFor() gives every error code a sentence of its own, and names a bad contact field", () => {
  for (const code of CODES) assertEquals(isErrorCode(code), true, code);
  const sentences = CODES.map((code) => messageFor(code));
  assertEquals(new Set(sentences).size, CODES.length, "no two codes read the same");
  for (const sentence of sentences) assertEquals(/^[A-Z].*\.$/.test(sentence), true, sentence);
  assertStringIncludes(messageFor("contact_invalid", "email is not valid"), "(email is not valid)");
});
