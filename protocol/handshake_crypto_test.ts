import { assertEquals } from "@std/assert";
import { fromHex, toHex, utf8 } from "../lib/bytes.ts";
import { webHandshakeCrypto } from "./handshake_crypto.ts";
import type { HandshakeCrypto } from "./handshake_crypto.ts";
import { nodeHandshakeCrypto } from "./node_crypto.ts";

const IMPLEMENTATIONS: [string, HandshakeCrypto][] = [["webcrypto", webHandshakeCrypto], [
  "node",
  nodeHandshakeCrypto,
]];

function hex(text: string): Uint8Array {
  const bytes = fromHex(text.replace(/\s+/g, ""));
  if (bytes === null) throw new Error(`Not hex: ${text}`);
  return bytes;
}

/** RFC 8032, section 7.1, test 2 (one-byte message 0x72). */
const ED25519 = {
  seed: hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"),
  publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
  message: hex("72"),
  signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da" +
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
};
/** RFC 7748, section 6.1. */
const X25519 = {
  alicePrivate: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
  alicePublic: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  bobPrivate: hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"),
  bobPublic: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  shared: "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
};

for (const [name, suite] of IMPLEMENTATIONS) {
  Deno.test(`${name}: signer() and verify() give RFC 8032's public key and signature`, async () => {
    const signer = await suite.signer(ED25519.seed);
    assertEquals(toHex(signer.publicKey), ED25519.publicKey);
    const signature = await signer.sign(ED25519.message);
    assertEquals(toHex(signature), ED25519.signature);
    assertEquals(await suite.verify(signer.publicKey, ED25519.message, signature), true);
    assertEquals(await suite.verify(signer.publicKey, hex("73"), signature), false, "another message");
    const flipped = signature.slice();
    flipped[0]! ^= 1;
    assertEquals(
      await suite.verify(signer.publicKey, ED25519.message, flipped),
      false,
      "a changed signature",
    );
    assertEquals(
      await suite.verify(signer.publicKey.slice(1), ED25519.message, signature),
      false,
      "a short key",
    );
    assertEquals(await suite.verify(signer.publicKey, ED25519.message, signature.slice(1)), false);
  });

  Deno.test(`${name}: ephemeral() agrees on RFC 7748's shared secret and refuses small-order keys`, async () => {
    const alice = await suite.ephemeral(X25519.alicePrivate);
    const bob = await suite.ephemeral(X25519.bobPrivate);
    assertEquals(toHex(alice.publicKey), X25519.alicePublic);
    assertEquals(toHex(bob.publicKey), X25519.bobPublic);
    assertEquals(toHex((await alice.agree(bob.publicKey))!), X25519.shared);
    assertEquals(toHex((await bob.agree(alice.publicKey))!), X25519.shared);
    const fresh = await suite.ephemeral();
    assertEquals(fresh.publicKey.length, 32);
    for (
      const small of [new Uint8Array(32), hex("01" + "00".repeat(31)), hex("ec" + "ff".repeat(30) + "7f")]
    ) {
      assertEquals(await fresh.agree(small), null, toHex(small));
    }
    assertEquals(await fresh.agree(new Uint8Array(31)), null, "a short key");
  });

  Deno.test(`${name}: sha256(), hmacSha256() and hkdfSha256() give the RFC test vectors`, async () => {
    assertEquals(
      toHex(await suite.sha256(utf8("abc"))),
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    // RFC 4231, test case 2.
    assertEquals(
      toHex(await suite.hmacSha256(utf8("Jefe"), utf8("what do ya want for nothing?"))),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    // RFC 5869, test case 3 (no salt, no info), the first 32 bytes.
    const okm = await suite.hkdfSha256(hex("0b".repeat(22)), { salt: new Uint8Array(0), info: "" });
    assertEquals(toHex(okm), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
  });
}

Deno.test("webHandshakeCrypto and nodeHandshakeCrypto agree on fresh keys and signatures", async () => {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const [web, node] = await Promise.all([webHandshakeCrypto.signer(seed), nodeHandshakeCrypto.signer(seed)]);
  assertEquals(web.publicKey, node.publicKey);
  const message = utf8("the same bytes");
  assertEquals(await web.sign(message), await node.sign(message), "Ed25519 signing is deterministic");
  const [a, b] = [await webHandshakeCrypto.ephemeral(), await nodeHandshakeCrypto.ephemeral()];
  assertEquals(await a.agree(b.publicKey), await b.agree(a.publicKey));
  assertEquals(
    await webHandshakeCrypto.hkdfSha256(seed, { salt: message, info: "bank/2 test" }),
    await nodeHandshakeCrypto.hkdfSha256(seed, { salt: message, info: "bank/2 test" }),
  );
});
