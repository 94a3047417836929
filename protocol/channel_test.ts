import {
  assert as assertTrue,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "@std/assert";
import { AEAD_PAIRS } from "./testing.ts";
import type { AeadPair } from "./testing.ts";
import type { AeadFactory } from "./aead.ts";
import { AssertionFailure } from "../lib/assert.ts";
import { concatBytes, randomBytes, utf8 } from "../lib/bytes.ts";
import { makeNonce, SealedChannel } from "./channel.ts";
import type { OpenResult, SealedType } from "./channel.ts";
import { deriveSessionKeys } from "./handshake.ts";
import type { SessionKeys } from "./handshake.ts";
import { webHandshakeCrypto } from "./handshake_crypto.ts";
import {
  AES_KEY_BYTES,
  FRAME_HEADER_BYTES,
  GCM_TAG_BYTES,
  SEALED_HEADER_BYTES,
  SESSION_FRAMES_MAX,
} from "./limits.ts";
import { FrameType } from "./wire.ts";

/** The direction labels that open the GCM nonce (channel.ts). */
const CLIENT_TO_SERVER = 1;
const SERVER_TO_CLIENT = 2;
const AAD_BYTES = FRAME_HEADER_BYTES + SEALED_HEADER_BYTES;
const NONCE_FRAMES = 1_000;

/** Keys as a real handshake would derive them, from a fresh random shared secret and transcript hash. */
function randomSecrets(): Promise<SessionKeys> {
  return deriveSessionKeys(webHandshakeCrypto, {
    shared: randomBytes(AES_KEY_BYTES),
    helloHash: randomBytes(32),
  });
}

/** Registers one test per pair, its name prefixed with the pair's. */
function testEachPair(name: string, body: (pair: AeadPair) => Promise<void>): void {
  for (const pair of AEAD_PAIRS) Deno.test(`${pair.name}: ${name}`, () => body(pair));
}

async function openSession(
  pair: AeadPair,
  options: { secrets?: SessionKeys } = {},
): Promise<{ secrets: SessionKeys; client: SealedChannel; server: SealedChannel }> {
  const secrets = options.secrets ?? await randomSecrets();
  const client = await SealedChannel.create(secrets, { role: "client", aead: pair.client });
  const server = await SealedChannel.create(secrets, { role: "server", aead: pair.server });
  return { secrets, client, server };
}

/** Wraps an implementation so that every nonce it seals under is recorded, in order. */
function recording(factory: AeadFactory, usedNonces: string[]): AeadFactory {
  return async (key) => {
    const inner = await factory(key);
    return {
      seal(nonce, plaintext, aad) {
        usedNonces.push(toHex(nonce));
        return inner.seal(nonce, plaintext, aad);
      },
      open: (nonce, sealed, aad) => inner.open(nonce, sealed, aad),
    };
  };
}

/** The body of a wire frame, after checking that its length prefix counts exactly the rest of the frame. */
function bodyOf(frame: Uint8Array): Uint8Array {
  const length = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES).getUint32(0, false);
  assertEquals(length, frame.length - FRAME_HEADER_BYTES, "length prefix");
  return frame.slice(FRAME_HEADER_BYTES);
}

function sequenceOf(frame: Uint8Array): bigint {
  return new DataView(frame.buffer, frame.byteOffset + FRAME_HEADER_BYTES + 1, 8).getBigUint64(0, false);
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function reasonOf(result: OpenResult): string {
  return result.ok ? "ok" : result.reason;
}

async function sealBody(channel: SealedChannel, text: string): Promise<Uint8Array> {
  return bodyOf(await channel.seal(FrameType.sealedText, utf8(text)));
}

testEachPair(
  "SealedChannel.open() returns what seal() sealed, text and JSON, in both directions",
  async (pair) => {
    const { client, server } = await openSession(pair);
    const messages: [string, SealedChannel, SealedChannel, SealedType, string][] = [
      ["client text", client, server, FrameType.sealedText, "Check Balance"],
      ["server text", server, client, FrameType.sealedText, "Balance: $500"],
      ["client JSON", client, server, FrameType.sealedJson, '{"v":1,"id":"r1","op":"balance"}'],
      ["server JSON", server, client, FrameType.sealedJson, '{"v":1,"id":"r1","ok":true,"result":{}}'],
      ["client empty text", client, server, FrameType.sealedText, ""],
      ["client text again", client, server, FrameType.sealedText, "Update Contact Information"],
      ["server text again", server, client, FrameType.sealedText, "é ✓ multi-byte"],
    ];
    for (const [name, sender, receiver, type, text] of messages) {
      const plaintext = utf8(text);
      const frame = await sender.seal(type, plaintext);
      assertEquals(frame.length, AAD_BYTES + plaintext.length + GCM_TAG_BYTES, name);
      assertEquals(frame[FRAME_HEADER_BYTES], type, name);
      assertEquals(await receiver.open(bodyOf(frame)), { ok: true, type, plaintext }, name);
    }
    assertEquals([client.sentFrames, server.receivedFrames], [4n, 4n]);
    assertEquals([server.sentFrames, client.receivedFrames], [3n, 3n]);
  },
);

testEachPair(
  "SealedChannel.seal() writes a length prefix that counts the rest of the frame",
  async (pair) => {
    const { client, server } = await openSession(pair);
    for (const length of [0, 1, 15, 16, 17, 1_000, 60_000]) {
      const frame = await client.seal(FrameType.sealedJson, new Uint8Array(length).fill(0x41));
      const body = bodyOf(frame);
      assertEquals(body.length, SEALED_HEADER_BYTES + length + GCM_TAG_BYTES, `${length}`);
      assertEquals(reasonOf(await server.open(body)), "ok", `${length}`);
    }
  },
);

testEachPair(
  "SealedChannel.seal() never reuses a nonce: sequences count 0..999 in each direction",
  async (pair) => {
    const usedNonces: string[] = [];
    const recordingPair = {
      ...pair,
      client: recording(pair.client, usedNonces),
      server: recording(pair.server, usedNonces),
    };
    const { client, server } = await openSession(recordingPair);
    const expectedNonces: string[] = [];
    const directions: [number, SealedChannel, SealedChannel][] = [
      [CLIENT_TO_SERVER, client, server],
      [SERVER_TO_CLIENT, server, client],
    ];
    for (const [direction, sender, receiver] of directions) {
      for (let index = 0; index < NONCE_FRAMES; index++) {
        const frame = await sender.seal(FrameType.sealedText, utf8(`message ${index}`));
        assertEquals(sequenceOf(frame), BigInt(index));
        expectedNonces.push(toHex(makeNonce(direction, sequenceOf(frame))));
        assertEquals(reasonOf(await receiver.open(bodyOf(frame))), "ok", `${direction}/${index}`);
      }
    }
    assertEquals(usedNonces, expectedNonces);
    assertEquals(new Set(usedNonces).size, 2 * NONCE_FRAMES);
    assertEquals([client.sentFrames, server.sentFrames], [BigInt(NONCE_FRAMES), BigInt(NONCE_FRAMES)]);
  },
);

testEachPair(
  "SealedChannel.seal() output is plain WebCrypto AES-256-GCM over the documented nonce and AAD",
  async (pair) => {
    const { secrets, client, server } = await openSession(pair);
    const cases: [string, SealedChannel, Uint8Array, number][] = [
      ["client to server", client, secrets.clientToServerKey, CLIENT_TO_SERVER],
      ["server to client", server, secrets.serverToClientKey, SERVER_TO_CLIENT],
    ];
    for (const [name, sender, keyBytes, direction] of cases) {
      await sender.seal(FrameType.sealedText, utf8("skip sequence 0"));
      await sender.seal(FrameType.sealedText, utf8("skip sequence 1"));
      const plaintext = utf8('{"v":1,"id":"r3","op":"balance"}');
      const frame = await sender.seal(FrameType.sealedJson, plaintext);
      assertEquals(sequenceOf(frame), 2n, name);
      const key = await crypto.subtle.importKey("raw", new Uint8Array(keyBytes), { name: "AES-GCM" }, false, [
        "encrypt",
        "decrypt",
      ]);
      const iv = new Uint8Array([0, 0, 0, direction, 0, 0, 0, 0, 0, 0, 0, 2]);
      const params = { name: "AES-GCM", iv, additionalData: frame.slice(0, AAD_BYTES), tagLength: 128 };
      const opened = new Uint8Array(await crypto.subtle.decrypt(params, key, frame.slice(AAD_BYTES)));
      assertEquals(opened, plaintext, name);
      const sealed = new Uint8Array(await crypto.subtle.encrypt(params, key, new Uint8Array(plaintext)));
      assertEquals(sealed, frame.subarray(AAD_BYTES), name);
    }
  },
);

testEachPair("SealedChannel.open() refuses a replayed frame as sealed_out_of_sequence", async (pair) => {
  const { client, server } = await openSession(pair);
  const first = await sealBody(client, "Transfer $100 to Account XYZ");
  const second = await sealBody(client, "Check Balance");
  assertEquals(reasonOf(await server.open(first)), "ok");
  assertEquals(reasonOf(await server.open(first)), "sealed_out_of_sequence");
  assertEquals(reasonOf(await server.open(second)), "ok");
  assertEquals(reasonOf(await server.open(second)), "sealed_out_of_sequence");
  assertEquals(reasonOf(await server.open(first)), "sealed_out_of_sequence");
  assertEquals(server.receivedFrames, 2n);
});

testEachPair(
  "SealedChannel.open() refuses reordered and skipped frames as sealed_out_of_sequence",
  async (pair) => {
    const { client, server } = await openSession(pair);
    const bodies = [
      await sealBody(client, "zero"),
      await sealBody(client, "one"),
      await sealBody(client, "two"),
    ];
    assertEquals(reasonOf(await server.open(bodies[1]!)), "sealed_out_of_sequence");
    assertEquals(reasonOf(await server.open(bodies[0]!)), "ok");
    assertEquals(reasonOf(await server.open(bodies[2]!)), "sealed_out_of_sequence");
    assertEquals(reasonOf(await server.open(bodies[1]!)), "ok");
    assertEquals(reasonOf(await server.open(bodies[2]!)), "ok");
  },
);

testEachPair("SealedChannel.open() refuses every single bit flip in a sealed body", async (pair) => {
  const { client, server } = await openSession(pair);
  const body = await sealBody(client, "hi!!");
  assertEquals(body.length, SEALED_HEADER_BYTES + 4 + GCM_TAG_BYTES);
  for (let position = 0; position < body.length; position++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = body.slice();
      flipped[position]! ^= 1 << bit;
      let expected = "sealed_not_authentic";
      if (position === 0) {
        expected = flipped[0] === FrameType.sealedJson ? "sealed_not_authentic" : "sealed_malformed";
      }
      if (position >= 1 && position < SEALED_HEADER_BYTES) expected = "sealed_out_of_sequence";
      assertEquals(reasonOf(await server.open(flipped)), expected, `byte ${position}, bit ${bit}`);
    }
  }
  assertEquals(server.receivedFrames, 0n);
  assertEquals(reasonOf(await server.open(body)), "ok");
});

testEachPair("SealedChannel.open() refuses a sealed body that is cut short or extended", async (pair) => {
  const { client, server } = await openSession(pair);
  const body = await sealBody(client, "Check Balance");
  for (let length = 0; length < body.length; length++) {
    const expected = length < SEALED_HEADER_BYTES + GCM_TAG_BYTES
      ? "sealed_malformed"
      : "sealed_not_authentic";
    assertEquals(reasonOf(await server.open(body.slice(0, length))), expected, `${length} bytes`);
  }
  for (const extra of [new Uint8Array([0]), randomBytes(16)]) {
    const extended = concatBytes([body, extra]);
    assertEquals(reasonOf(await server.open(extended)), "sealed_not_authentic", `${extra.length} more`);
  }
  assertEquals(reasonOf(await server.open(body)), "ok");
});

testEachPair("SealedChannel.open() refuses a frame sealed under another session's keys", async (pair) => {
  const first = await openSession(pair);
  const second = await openSession(pair);
  const foreign = await sealBody(first.client, "Transfer $100 to Account XYZ");
  assertEquals(reasonOf(await second.server.open(foreign)), "sealed_not_authentic");
  const foreignReply = await sealBody(first.server, "Transaction Successful");
  assertEquals(reasonOf(await second.client.open(foreignReply)), "sealed_not_authentic");
  assertEquals(reasonOf(await second.server.open(await sealBody(second.client, "mine"))), "ok");
});

testEachPair(
  "SealedChannel.open() refuses a frame reflected back to the side that sealed it",
  async (pair) => {
    const { client, server } = await openSession(pair);
    const fromClient = await sealBody(client, "Check Balance");
    assertEquals(reasonOf(await client.open(fromClient)), "sealed_not_authentic");
    const fromServer = await sealBody(server, "Balance: $500");
    assertEquals(reasonOf(await server.open(fromServer)), "sealed_not_authentic");
    assertEquals(reasonOf(await server.open(fromClient)), "ok");
    assertEquals(reasonOf(await client.open(fromServer)), "ok");
  },
);

testEachPair("SealedChannel.create() refuses secrets whose two directions share a key", async (pair) => {
  const secrets = await randomSecrets();
  const shared = { ...secrets, serverToClientKey: secrets.clientToServerKey.slice() };
  for (const role of ["client", "server"] as const) {
    const aead = role === "client" ? pair.client : pair.server;
    await assertRejects(
      () => SealedChannel.create(shared, { role, aead }),
      AssertionFailure,
      "its own key",
      role,
    );
  }
});

testEachPair("SealedChannel.open() still opens the next frame after refusing others", async (pair) => {
  const { client, server } = await openSession(pair);
  const good = await sealBody(client, "Check Balance");
  const tampered = good.slice();
  tampered[tampered.length - 1]! ^= 0x80;
  const refused: [string, Uint8Array][] = [
    ["garbage", randomBytes(40)],
    ["empty", new Uint8Array(0)],
    ["tampered tag", tampered],
    ["a future sequence", await sealBody(client, "one")],
    ["wrong type", concatBytes([new Uint8Array([FrameType.hello]), good.subarray(1)])],
  ];
  for (const [name, body] of refused) {
    assertNotEquals(reasonOf(await server.open(body)), "ok", name);
    assertEquals(server.receivedFrames, 0n, name);
  }
  assertEquals(await server.open(good), {
    ok: true,
    type: FrameType.sealedText,
    plaintext: utf8("Check Balance"),
  });
  assertEquals(server.receivedFrames, 1n);
});

Deno.test("makeNonce() puts the direction label before the big-endian sequence number", () => {
  assertEquals(makeNonce(CLIENT_TO_SERVER, 0n), new Uint8Array([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]));
  assertEquals(
    makeNonce(SERVER_TO_CLIENT, 0x0102_0304n),
    new Uint8Array([0, 0, 0, 2, 0, 0, 0, 0, 1, 2, 3, 4]),
  );
  const last = makeNonce(CLIENT_TO_SERVER, SESSION_FRAMES_MAX - 1n);
  assertEquals(toHex(last), "00000001" + "0000ffffffffffff");
});

Deno.test("makeNonce() refuses unknown directions and sequences outside the session", () => {
  const cases: [number, bigint][] = [
    [0, 0n],
    [3, 0n],
    [-1, 0n],
    [CLIENT_TO_SERVER, -1n],
    [CLIENT_TO_SERVER, SESSION_FRAMES_MAX],
    [SERVER_TO_CLIENT, 2n ** 64n],
  ];
  for (const [direction, sequence] of cases) {
    assertThrows(
      () => makeNonce(direction, sequence),
      AssertionFailure,
      undefined,
      `${direction}/${sequence}`,
    );
  }
  assertTrue(makeNonce(SERVER_TO_CLIENT, 0n).length === 12);
});
