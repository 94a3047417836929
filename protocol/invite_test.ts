import { assertEquals } from "@std/assert";
import { randomBytes, toHex } from "../lib/bytes.ts";
import { webHandshakeCrypto } from "./handshake_crypto.ts";
import { formatInviteCode, INVITE_CODE_BYTES, inviteSeed, parseInviteCode } from "./invite.ts";

Deno.test("formatInviteCode() writes 32 base32 characters in groups that parseInviteCode() reads back", () => {
  assertEquals(
    formatInviteCode(new Uint8Array(INVITE_CODE_BYTES)),
    "0000-0000-0000-0000-0000-0000-0000-0000",
  );
  assertEquals(
    formatInviteCode(new Uint8Array(INVITE_CODE_BYTES).fill(0xff)),
    "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ",
  );
  for (let round = 0; round < 200; round++) {
    const code = randomBytes(INVITE_CODE_BYTES);
    const text = formatInviteCode(code);
    assertEquals(parseInviteCode(text), code);
    assertEquals(
      parseInviteCode(text.toLowerCase().replaceAll("-", " ")),
      code,
      "any case, spaces for dashes",
    );
  }
});

Deno.test("parseInviteCode() reads I, L and O as 1, 1 and 0, and refuses anything that is not a code", () => {
  const code = parseInviteCode("0000-0000-0000-0000-0000-0000-0000-0001");
  assertEquals(parseInviteCode("OOOO-OOOO-OOOO-OOOO-OOOO-OOOO-OOOO-OOOI"), code);
  assertEquals(parseInviteCode("oooooooooooooooooooooooooooooool"), code);
  for (
    const bad of ["", "0000", "0".repeat(31), "0".repeat(33), "U".repeat(32), "!".repeat(32), "0".repeat(100)]
  ) {
    assertEquals(parseInviteCode(bad), null, bad);
  }
});

Deno.test("inviteSeed() binds the code to the identity it was made for", async () => {
  const code = new Uint8Array(INVITE_CODE_BYTES).fill(7);
  const one = await inviteSeed(webHandshakeCrypto, code, "client-1");
  assertEquals(one.length, 32);
  assertEquals(toHex(one), toHex(await inviteSeed(webHandshakeCrypto, code, "client-1")));
  assertEquals(toHex(one) === toHex(await inviteSeed(webHandshakeCrypto, code, "client-2")), false);
});
