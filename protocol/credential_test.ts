import { assertEquals, assertThrows } from "@std/assert";
import { AssertionFailure } from "../lib/assert.ts";
import { randomBytes, toBase64Url } from "../lib/bytes.ts";
import { decodeCredential, encodeCredential, isIdentityName } from "./credential.ts";
import { CREDENTIAL_FILE_BYTES_MAX, SECRET_BYTES } from "./limits.ts";

const IDENTITY_ERROR = "identity is missing or not a valid name";
const SECRET_ERROR = `secret is missing or not ${SECRET_BYTES} bytes of base64url`;

function credentialFile(fields: Record<string, unknown>): string {
  return JSON.stringify(fields);
}

Deno.test("encodeCredential() writes a file that decodeCredential() reads back", () => {
  for (const identity of ["client-1", "a", "Ops.Team_2", "x".repeat(64)]) {
    const secret = randomBytes(SECRET_BYTES);
    const text = encodeCredential({ identity, secret });
    assertEquals(text.endsWith("\n"), true, identity);
    assertEquals(JSON.parse(text), { version: 1, identity, secret: toBase64Url(secret) }, identity);
    assertEquals(decodeCredential(text), { ok: true, credential: { identity, secret } }, identity);
  }
});

Deno.test("encodeCredential() refuses an invalid name or a secret of the wrong size", () => {
  const secret = randomBytes(SECRET_BYTES);
  for (const identity of ["", "bad name", "-x", "x".repeat(65)]) {
    assertThrows(() => encodeCredential({ identity, secret }), AssertionFailure, undefined, identity);
  }
  for (const size of [1, SECRET_BYTES - 1, SECRET_BYTES + 1]) {
    const short = randomBytes(size);
    assertThrows(() => encodeCredential({ identity: "client-1", secret: short }), AssertionFailure);
  }
});

Deno.test("decodeCredential() refuses malformed files with a reason that never shows the secret", () => {
  const secretText = toBase64Url(randomBytes(SECRET_BYTES));
  const valid = { version: 1, identity: "client-1", secret: secretText };
  const cases: [string, string, string][] = [
    ["not JSON", `{"version":1,"identity":"client-1","secret":"${secretText}"`, "file is not JSON"],
    ["empty", "", "file is not JSON"],
    ["JSON null", "null", "file is not a JSON object"],
    ["a JSON string", JSON.stringify(secretText), "file is not a JSON object"],
    [
      "too large",
      credentialFile({ ...valid, padding: " ".repeat(CREDENTIAL_FILE_BYTES_MAX) }),
      "file is too large",
    ],
    ["version 2", credentialFile({ ...valid, version: 2 }), "unsupported version (expected 1)"],
    ["version as a string", credentialFile({ ...valid, version: "1" }), "unsupported version (expected 1)"],
    ["version missing", credentialFile({ ...valid, version: undefined }), "unsupported version (expected 1)"],
    ["a JSON array", JSON.stringify([valid]), "unsupported version (expected 1)"],
    ["identity missing", credentialFile({ ...valid, identity: undefined }), IDENTITY_ERROR],
    ["identity empty", credentialFile({ ...valid, identity: "" }), IDENTITY_ERROR],
    ["identity with a space", credentialFile({ ...valid, identity: "client 1" }), IDENTITY_ERROR],
    ["identity with a slash", credentialFile({ ...valid, identity: "../client-1" }), IDENTITY_ERROR],
    ["identity starting with a dot", credentialFile({ ...valid, identity: ".client" }), IDENTITY_ERROR],
    ["identity of 65 characters", credentialFile({ ...valid, identity: "x".repeat(65) }), IDENTITY_ERROR],
    ["identity as a number", credentialFile({ ...valid, identity: 1 }), IDENTITY_ERROR],
    ["secret missing", credentialFile({ ...valid, secret: undefined }), SECRET_ERROR],
    ["secret empty", credentialFile({ ...valid, secret: "" }), SECRET_ERROR],
    [
      "secret short by one byte",
      credentialFile({ ...valid, secret: toBase64Url(randomBytes(31)) }),
      SECRET_ERROR,
    ],
    [
      "secret long by one byte",
      credentialFile({ ...valid, secret: toBase64Url(randomBytes(33)) }),
      SECRET_ERROR,
    ],
    ["secret with padding", credentialFile({ ...valid, secret: `${secretText}=` }), SECRET_ERROR],
    [
      "secret in standard base64",
      credentialFile({ ...valid, secret: `${secretText.slice(0, -2)}+/` }),
      SECRET_ERROR,
    ],
    ["secret with a space", credentialFile({ ...valid, secret: ` ${secretText}` }), SECRET_ERROR],
    ["secret cut short", credentialFile({ ...valid, secret: secretText.slice(0, -1) }), SECRET_ERROR],
    ["secret as bytes", credentialFile({ ...valid, secret: [1, 2, 3] }), SECRET_ERROR],
  ];
  for (const [name, text, error] of cases) {
    const result = decodeCredential(text);
    assertEquals(result, { ok: false, error }, name);
    if (result.ok) continue;
    assertEquals(result.error.includes(secretText), false, name);
    assertEquals(result.error.includes(secretText.slice(0, 8)), false, name);
  }
});

Deno.test("isIdentityName() accepts ASCII letters, digits, dot, dash and underscore up to 64", () => {
  for (const name of ["a", "client-1", "A.b_c-9", "9lives", "x".repeat(64)]) {
    assertEquals(isIdentityName(name), true, name);
  }
  for (const name of ["", "-a", ".a", "_a", "a b", "a/b", "é", "a\n", "x".repeat(65)]) {
    assertEquals(isIdentityName(name), false, JSON.stringify(name));
  }
});
