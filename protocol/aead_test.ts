import { assertEquals, assertNotEquals, assertRejects } from "@std/assert";
import { webCryptoAead } from "./aead.ts";
import { aeadByName, FAST_AEAD, HYBRID_THRESHOLD_BYTES, hybridAead, nodeCryptoAead } from "./node_crypto.ts";
import type { Aead, AeadFactory } from "./aead.ts";
import { AssertionFailure } from "../lib/assert.ts";
import { concatBytes } from "../lib/bytes.ts";
import { AES_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES } from "./limits.ts";
import { seededRandom } from "../lib/random.ts";

const IMPLEMENTATIONS: readonly [string, AeadFactory][] = [
  ["webcrypto", webCryptoAead],
  ["node", nodeCryptoAead],
];
const PLAINTEXT_SIZES = [0, 1, 15, 16, 17, 64, 1000, 65_000];
/** Random keys, nonces and AADs tried for each plaintext size. */
const ROUNDS_PER_SIZE = 12;
const AAD_BYTES_MAX = 64;

/** Bytes from a seeded PRNG, so a failure replays from its seed. */
function seededBytes(random: () => number, count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let index = 0; index < count; index++) bytes[index] = Math.floor(random() * 256);
  return bytes;
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex);
}

/** Both implementations under one key. */
async function bothUnder(key: Uint8Array): Promise<[string, Aead][]> {
  return [["webcrypto", await webCryptoAead(key)], ["node", await nodeCryptoAead(key)]];
}

/** A small sealed message and everything needed to open it, for the tampering tests. */
async function smallSealed(seed: number) {
  const random = seededRandom(seed);
  const key = seededBytes(random, AES_KEY_BYTES);
  const nonce = seededBytes(random, GCM_NONCE_BYTES);
  const aad = seededBytes(random, 13);
  const plaintext = seededBytes(random, 5);
  const sealed = await (await webCryptoAead(key)).seal(nonce, plaintext, aad);
  return { key, nonce, aad, plaintext, sealed, aeads: await bothUnder(key) };
}

Deno.test("nodeCryptoAead() seals exactly the bytes webCryptoAead() seals, and each opens the other's", async () => {
  for (const size of PLAINTEXT_SIZES) {
    const random = seededRandom(0x5eed + size);
    for (let round = 0; round < ROUNDS_PER_SIZE; round++) {
      const key = seededBytes(random, AES_KEY_BYTES);
      const nonce = seededBytes(random, GCM_NONCE_BYTES);
      const aadBytes = round === 0 ? 0 : Math.floor(random() * (AAD_BYTES_MAX + 1));
      const aad = seededBytes(random, aadBytes);
      const plaintext = seededBytes(random, size);
      const label = `size ${size}, round ${round}, AAD ${aadBytes} bytes`;
      const web = await webCryptoAead(key);
      const node = await nodeCryptoAead(key);
      const webSealed = await web.seal(nonce, plaintext, aad);
      const nodeSealed = await node.seal(nonce, plaintext, aad);
      assertEquals(webSealed.length, size + GCM_TAG_BYTES, label);
      assertEquals(toHex(nodeSealed), toHex(webSealed), label);
      assertEquals(await web.open(nonce, nodeSealed, aad), plaintext, label);
      assertEquals(await node.open(nonce, webSealed, aad), plaintext, label);
      assertEquals(await node.open(nonce, nodeSealed, aad), plaintext, label);
    }
  }
});

Deno.test("nodeCryptoAead() and webCryptoAead() match the GCM specification's AES-256 test case 16", async () => {
  const key = fromHex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
  const nonce = fromHex("cafebabefacedbaddecaf888");
  const aad = fromHex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
  const plaintext = fromHex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" +
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
  );
  const expected = "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" +
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662" + "76fc6ece0f4e1768cddf8853bb2d551b";
  for (const [name, aead] of await bothUnder(key)) {
    assertEquals(toHex(await aead.seal(nonce, plaintext, aad)), expected, name);
    assertEquals(await aead.open(nonce, fromHex(expected), aad), plaintext, name);
  }
});

Deno.test("nodeCryptoAead() returns a plain Uint8Array that owns its bytes", async () => {
  const random = seededRandom(7);
  const key = seededBytes(random, AES_KEY_BYTES);
  const nonce = seededBytes(random, GCM_NONCE_BYTES);
  const node = await nodeCryptoAead(key);
  const sealed = await node.seal(nonce, seededBytes(random, 64), new Uint8Array(0));
  const opened = await node.open(nonce, sealed, new Uint8Array(0));
  for (const [label, bytes] of [["sealed", sealed], ["opened", opened]] as const) {
    assertEquals(bytes?.constructor, Uint8Array, label);
    assertEquals(bytes?.byteOffset, 0, label);
    assertEquals(bytes?.buffer.byteLength, bytes?.length, label);
  }
});

Deno.test("nodeCryptoAead() keeps its own copy of the key", async () => {
  const random = seededRandom(8);
  const key = seededBytes(random, AES_KEY_BYTES);
  const nonce = seededBytes(random, GCM_NONCE_BYTES);
  const plaintext = seededBytes(random, 20);
  const expected = await (await webCryptoAead(key)).seal(nonce, plaintext, new Uint8Array(0));
  const node = await nodeCryptoAead(key);
  key.fill(0);
  assertEquals(await node.seal(nonce, plaintext, new Uint8Array(0)), expected);
});

Deno.test("Aead.open() refuses every single bit flip in a sealed message, with both implementations", async () => {
  const { nonce, aad, sealed, aeads } = await smallSealed(1);
  assertEquals(sealed.length, 5 + GCM_TAG_BYTES);
  for (const [name, aead] of aeads) {
    for (let position = 0; position < sealed.length; position++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = sealed.slice();
        flipped[position]! ^= 1 << bit;
        assertEquals(await aead.open(nonce, flipped, aad), null, `${name}: byte ${position}, bit ${bit}`);
      }
    }
  }
});

Deno.test("Aead.open() refuses a wrong AAD, nonce or key, with both implementations", async () => {
  const { key, nonce, aad, plaintext, sealed, aeads } = await smallSealed(2);
  const otherKey = key.slice();
  otherKey[31]! ^= 1;
  const otherKeyAeads = await bothUnder(otherKey);
  for (const [index, [name, aead]] of aeads.entries()) {
    const wrongAads: [string, Uint8Array][] = [
      ["empty", new Uint8Array(0)],
      ["one byte short", aad.subarray(0, aad.length - 1)],
      ["one byte more", concatBytes([aad, new Uint8Array([0])])],
      ["plaintext as AAD", plaintext],
    ];
    for (let position = 0; position < aad.length; position++) {
      const flipped = aad.slice();
      flipped[position]! ^= 0x01;
      wrongAads.push([`byte ${position} flipped`, flipped]);
    }
    for (const [label, wrongAad] of wrongAads) {
      assertEquals(await aead.open(nonce, sealed, wrongAad), null, `${name}: AAD ${label}`);
    }
    for (let position = 0; position < nonce.length; position++) {
      const wrongNonce = nonce.slice();
      wrongNonce[position]! ^= 0x80;
      assertEquals(await aead.open(wrongNonce, sealed, aad), null, `${name}: nonce byte ${position}`);
    }
    const [, otherAead] = otherKeyAeads[index]!;
    assertEquals(await otherAead.open(nonce, sealed, aad), null, `${name}: other key`);
    assertEquals(await aead.open(nonce, sealed, aad), plaintext, `${name}: untouched`);
  }
});

Deno.test("Aead.open() refuses truncated, short and extended input, with both implementations", async () => {
  const { nonce, aad, plaintext, sealed, aeads } = await smallSealed(3);
  const emptySealed = await aeads[0]![1].seal(nonce, new Uint8Array(0), aad);
  for (const [name, aead] of aeads) {
    for (let length = 0; length < sealed.length; length++) {
      assertEquals(await aead.open(nonce, sealed.slice(0, length), aad), null, `${name}: ${length} bytes`);
    }
    for (let cut = 1; cut <= GCM_TAG_BYTES; cut++) {
      const ciphertext = sealed.subarray(0, plaintext.length);
      const shortTag = sealed.subarray(plaintext.length, sealed.length - cut);
      const label = `${name}: tag cut by ${cut}`;
      assertEquals(await aead.open(nonce, concatBytes([ciphertext, shortTag]), aad), null, label);
    }
    const extensions = [new Uint8Array([0]), sealed.subarray(0, GCM_TAG_BYTES), sealed];
    for (const extra of extensions) {
      const extended = concatBytes([sealed, extra]);
      assertEquals(await aead.open(nonce, extended, aad), null, `${name}: ${extra.length} more`);
    }
    assertEquals(await aead.open(nonce, emptySealed, aad), new Uint8Array(0), `${name}: empty plaintext`);
    const emptyFlipped = emptySealed.slice();
    emptyFlipped[0]! ^= 1;
    assertEquals(await aead.open(nonce, emptyFlipped, aad), null, `${name}: empty plaintext, tag flipped`);
    assertEquals(await aead.open(nonce, new Uint8Array(GCM_TAG_BYTES), aad), null, `${name}: zero tag`);
  }
});

Deno.test("Aead.open() refuses random bytes of every small length, with both implementations", async () => {
  const random = seededRandom(4);
  const { nonce, aad, aeads } = await smallSealed(4);
  for (let length = 0; length < 64; length++) {
    const garbage = seededBytes(random, length);
    for (const [name, aead] of aeads) {
      assertEquals(await aead.open(nonce, garbage, aad), null, `${name}: ${length} random bytes`);
    }
  }
});

Deno.test("nodeCryptoAead() and webCryptoAead() refuse keys that are not 32 bytes", async () => {
  for (const [name, factory] of IMPLEMENTATIONS) {
    for (const keyBytes of [0, 1, 16, 24, 31, 33, 64]) {
      await assertRejects(
        () => factory(new Uint8Array(keyBytes)),
        AssertionFailure,
        `got ${keyBytes}`,
        `${name}: ${keyBytes}-byte key`,
      );
    }
  }
});

Deno.test("Aead.seal() and Aead.open() refuse nonces that are not 12 bytes, with both implementations", async () => {
  const { nonce, aad, sealed, aeads } = await smallSealed(5);
  for (const [name, aead] of aeads) {
    for (const nonceBytes of [0, 1, 8, 11, 13, 16, 32]) {
      const badNonce = new Uint8Array(nonceBytes);
      const label = `${name}: ${nonceBytes}-byte nonce`;
      await assertRejects(() => aead.seal(badNonce, new Uint8Array(4), aad), AssertionFailure, "12", label);
      await assertRejects(() => aead.open(badNonce, sealed, aad), AssertionFailure, "12", label);
    }
    assertNotEquals(await aead.open(nonce, sealed, aad), null, `${name}: the right nonce still opens`);
  }
});

Deno.test("aeadByName() names each implementation, and FAST_AEAD is the hybrid", () => {
  assertEquals(aeadByName("webcrypto"), webCryptoAead);
  assertEquals(aeadByName("node"), nodeCryptoAead);
  assertEquals(aeadByName("hybrid"), hybridAead);
  assertEquals(FAST_AEAD, hybridAead);
});

Deno.test("hybridAead() seals exactly like WebCrypto on both sides of its threshold, and opens either", async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const [hybrid, web] = await Promise.all([hybridAead(key), webCryptoAead(key)]);
  for (
    const size of [
      0,
      64,
      HYBRID_THRESHOLD_BYTES - 1,
      HYBRID_THRESHOLD_BYTES,
      HYBRID_THRESHOLD_BYTES + 1,
      40_000,
    ]
  ) {
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const aad = crypto.getRandomValues(new Uint8Array(13));
    const plaintext = crypto.getRandomValues(new Uint8Array(size));
    const sealed = await hybrid.seal(nonce, plaintext, aad);
    assertEquals(sealed, await web.seal(nonce, plaintext, aad), `size ${size}`);
    assertEquals(await web.open(nonce, sealed, aad), plaintext);
    assertEquals(await hybrid.open(nonce, sealed, aad), plaintext);
    sealed[0] = sealed[0]! ^ 1;
    assertEquals(
      await hybrid.open(nonce, sealed, aad),
      size === 0 ? await hybrid.open(nonce, sealed, aad) : null,
    );
  }
});
