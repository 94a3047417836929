import { assertEquals, assertThrows } from "@std/assert";
import { AssertionFailure } from "../lib/assert.ts";
import { randomBytes, toBase64Url } from "../lib/bytes.ts";
import {
  decodeCredential,
  decodePublicKeyFile,
  encodeCredential,
  encodePublicKeyFile,
  formatKeyId,
  isIdentityName,
  keyIdOf,
} from "./credential.ts";
import { webHandshakeCrypto } from "./handshake_crypto.ts";
import { CREDENTIAL_FILE_BYTES_MAX, KEY_BYTES } from "./limits.ts";

const IDENTITY_ERROR = "identity is missing or not a valid name";
const PRIVATE_ERROR = "private_key is missing or not 32 bytes of base64url";
const BANK_ERROR = "bank_public_key is missing or not 32 bytes of base64url";
const VERSION_ERROR = "unsupported version (expected 2)";

function credentialFile(fields: Record<string, unknown>): string {
  return JSON.stringify(fields);
}

Deno.test("encodeCredential() writes a file that decodeCredential() reads back", () => {
  for (const identity of ["client-1", "a", "Ops.Team_2", "x".repeat(64)]) {
    const credential = {
      identity,
      privateKey: randomBytes(KEY_BYTES),
      bankPublicKey: randomBytes(KEY_BYTES),
    };
    const text = encodeCredential(credential);
    assertEquals(text.endsWith("\n"), true, identity);
    assertEquals(JSON.parse(text), {
      version: 2,
      identity,
      private_key: toBase64Url(credential.privateKey),
      bank_public_key: toBase64Url(credential.bankPublicKey),
    });
    assertEquals(decodeCredential(text), { ok: true, credential }, identity);
  }
});

Deno.test("encodeCredential() refuses an invalid name or a key of the wrong size", () => {
  const privateKey = randomBytes(KEY_BYTES);
  const bankPublicKey = randomBytes(KEY_BYTES);
  for (const identity of ["", "bad name", "-x", "x".repeat(65)]) {
    assertThrows(
      () => encodeCredential({ identity, privateKey, bankPublicKey }),
      AssertionFailure,
      undefined,
      identity,
    );
  }
  for (const size of [1, KEY_BYTES - 1, KEY_BYTES + 1]) {
    assertThrows(
      () => encodeCredential({ identity: "a", privateKey: randomBytes(size), bankPublicKey }),
      AssertionFailure,
    );
    assertThrows(
      () => encodeCredential({ identity: "a", privateKey, bankPublicKey: randomBytes(size) }),
      AssertionFailure,
    );
  }
});

Deno.test("decodeCredential() refuses malformed files with a reason that never shows the private key", () => {
  const keyText = toBase64Url(randomBytes(KEY_BYTES));
  const valid = {
    version: 2,
    identity: "client-1",
    private_key: keyText,
    bank_public_key: toBase64Url(randomBytes(32)),
  };
  const cases: [string, string, string][] = [
    ["not JSON", `{"version":2,"identity":"client-1","private_key":"${keyText}"`, "file is not JSON"],
    ["empty", "", "file is not JSON"],
    ["JSON null", "null", "file is not a JSON object"],
    ["a JSON string", JSON.stringify(keyText), "file is not a JSON object"],
    [
      "too large",
      credentialFile({ ...valid, padding: " ".repeat(CREDENTIAL_FILE_BYTES_MAX) }),
      "file is too large",
    ],
    [
      "version 1",
      credentialFile({ version: 1, identity: "client-1", secret: keyText }),
      "version 1 (a shared secret) is no longer accepted: make a key (bank-client keygen)",
    ],
    ["version 3", credentialFile({ ...valid, version: 3 }), VERSION_ERROR],
    ["version as a string", credentialFile({ ...valid, version: "2" }), VERSION_ERROR],
    ["version missing", credentialFile({ ...valid, version: undefined }), VERSION_ERROR],
    ["a JSON array", JSON.stringify([valid]), VERSION_ERROR],
    ["identity missing", credentialFile({ ...valid, identity: undefined }), IDENTITY_ERROR],
    ["identity with a slash", credentialFile({ ...valid, identity: "../client-1" }), IDENTITY_ERROR],
    ["identity of 65 characters", credentialFile({ ...valid, identity: "x".repeat(65) }), IDENTITY_ERROR],
    ["identity as a number", credentialFile({ ...valid, identity: 1 }), IDENTITY_ERROR],
    ["private key missing", credentialFile({ ...valid, private_key: undefined }), PRIVATE_ERROR],
    [
      "private key short by one byte",
      credentialFile({ ...valid, private_key: toBase64Url(randomBytes(31)) }),
      PRIVATE_ERROR,
    ],
    [
      "private key long by one byte",
      credentialFile({ ...valid, private_key: toBase64Url(randomBytes(33)) }),
      PRIVATE_ERROR,
    ],
    ["private key with padding", credentialFile({ ...valid, private_key: `${keyText}=` }), PRIVATE_ERROR],
    [
      "private key in standard base64",
      credentialFile({ ...valid, private_key: `${keyText.slice(0, -2)}+/` }),
      PRIVATE_ERROR,
    ],
    ["private key as bytes", credentialFile({ ...valid, private_key: [1, 2, 3] }), PRIVATE_ERROR],
    ["bank key missing", credentialFile({ ...valid, bank_public_key: undefined }), BANK_ERROR],
    ["bank key cut short", credentialFile({ ...valid, bank_public_key: keyText.slice(0, -1) }), BANK_ERROR],
  ];
  for (const [name, text, error] of cases) {
    const result = decodeCredential(text);
    assertEquals(result, { ok: false, error }, name);
    if (!result.ok) assertEquals(result.error.includes(keyText.slice(0, 8)), false, name);
  }
});

Deno.test("encodePublicKeyFile() writes one line that decodePublicKeyFile() reads back", () => {
  const publicKey = randomBytes(KEY_BYTES);
  const text = encodePublicKeyFile(publicKey, "client-1 laptop");
  assertEquals(text, `ed25519 ${toBase64Url(publicKey)} client-1 laptop\n`);
  assertEquals(decodePublicKeyFile(text), { ok: true, publicKey, comment: "client-1 laptop" });
  assertEquals(decodePublicKeyFile(`ed25519 ${toBase64Url(publicKey)}`), {
    ok: true,
    publicKey,
    comment: "",
  });
  const error = "expected one line: ed25519 <32 bytes of base64url> [comment]";
  for (
    const bad of [
      "",
      "ssh-ed25519 AAAA",
      `ed25519 ${toBase64Url(randomBytes(31))}`,
      `ed25519  ${toBase64Url(publicKey)}`,
      `ed25519 ${toBase64Url(publicKey)}\nmore`,
    ]
  ) {
    assertEquals(decodePublicKeyFile(bad), { ok: false, error }, JSON.stringify(bad));
  }
  assertEquals(decodePublicKeyFile("x".repeat(300)).ok, false);
});

Deno.test("keyIdOf() is the first 16 bytes of the public key's SHA-256, written as 32 hex digits", async () => {
  const publicKey = new Uint8Array(32);
  // SHA-256 of 32 zero bytes is 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925.
  assertEquals(formatKeyId(await keyIdOf(webHandshakeCrypto, publicKey)), "66687aadf862bd776c8fc18b8e9f8e20");
  assertThrows(() => formatKeyId(new Uint8Array(15)), AssertionFailure);
});

Deno.test("isIdentityName() accepts ASCII letters, digits, dot, dash and underscore up to 64", () => {
  for (const name of ["a", "client-1", "A.b_c-9", "9lives", "x".repeat(64)]) {
    assertEquals(isIdentityName(name), true, name);
  }
  for (const name of ["", "-a", ".a", "_a", "a b", "a/b", "é", "a\n", "x".repeat(65)]) {
    assertEquals(isIdentityName(name), false, JSON.stringify(name));
  }
});
