import { assertEquals, assertStringIncludes } from "@std/assert";
import { assert } from "../lib/assert.ts";
import { concatBytes, fromUtf8, randomBytes, utf8 } from "../lib/bytes.ts";
import { keyIdOf } from "./credential.ts";
import { encodeFrame } from "./frame.ts";
import {
  decodeChallenge,
  decodeHello,
  encodeAccept,
  encodeChallenge,
  encodeHello,
  encodeProof,
} from "./handshake.ts";
import type { Signer } from "./handshake_crypto.ts";
import { FRAME_BYTES_MIN, HANDSHAKE_NONCE_BYTES, KEY_BYTES, KEY_ID_BYTES } from "./limits.ts";
import { clientHandshake, serverHandshake } from "./session.ts";
import type {
  ClientHandshakeResult,
  ServerHandshakeOptions,
  ServerHandshakeResult,
  VerifyingKey,
} from "./session.ts";
import { AEAD_PAIRS, PipeEnd } from "./testing.ts";
import type { AeadPair } from "./testing.ts";
import { FrameTransport } from "./transport.ts";
import { FrameType, PROTOCOL_VERSION } from "./wire.ts";

const FRAME_BYTES = FRAME_BYTES_MIN;
const IDENTITY = "client-1";

/** Registers one test per pair of implementations, its name prefixed with the pair's. */
function testEachPair(name: string, body: (pair: AeadPair) => Promise<void>): void {
  for (const pair of AEAD_PAIRS) Deno.test(`${pair.name}: ${name}`, () => body(pair));
}

/** The bank's key, one client's key (as the client holds it), and the server's options over them. */
interface Bank {
  bank: Signer;
  client: Signer;
  keyId: Uint8Array;
  server: ServerHandshakeOptions<VerifyingKey>;
  pair: AeadPair;
}

async function makeBank(pair: AeadPair): Promise<Bank> {
  const [bank, client, decoy] = await Promise.all(
    [0, 1, 2].map(() => pair.serverCrypto.signer(randomBytes(KEY_BYTES))),
  );
  const keyId = await keyIdOf(pair.clientCrypto, client!.publicKey);
  const server: ServerHandshakeOptions<VerifyingKey> = {
    bank: bank!,
    lookupKey: (identity, id) =>
      Promise.resolve(
        identity === IDENTITY && id.every((byte, index) => byte === keyId[index]) ? client! : null,
      ),
    decoyPublicKey: decoy!.publicKey,
    crypto: pair.serverCrypto,
    aead: pair.server,
  };
  return { bank: bank!, client: client!, keyId, server, pair };
}

interface Run {
  server: ServerHandshakeResult<VerifyingKey>;
  client: ClientHandshakeResult;
  serverTransport: FrameTransport;
  clientTransport: FrameTransport;
  clientEnd: PipeEnd;
}

/**
 * Runs both handshakes against each other and, as the real server does, sends `handshake_failed` when the
 * server side fails, then closes the server's end.
 */
async function runHandshakes(
  bank: Bank,
  client: { identity?: string; signer?: Signer; keyId?: Uint8Array; bankPublicKey?: Uint8Array } = {},
): Promise<Run> {
  const [clientEnd, serverEnd] = PipeEnd.pair();
  const clientTransport = new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES });
  const serverTransport = new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES });
  const clientRun = clientHandshake(clientTransport, {
    identity: client.identity ?? IDENTITY,
    keyId: client.keyId ?? bank.keyId,
    signer: client.signer ?? bank.client,
    bankPublicKey: client.bankPublicKey ?? bank.bank.publicKey,
    crypto: bank.pair.clientCrypto,
    aead: bank.pair.client,
  }).then((result) => {
    // A client that refuses the server hangs up, as the real one does.
    if (!result.ok) clientEnd.close();
    return result;
  });
  const server = await serverHandshake(serverTransport, bank.server);
  if (!server.ok) {
    await serverTransport.sendError("handshake_failed");
    serverEnd.close();
  }
  const client_ = await clientRun;
  return { server, client: client_, serverTransport, clientTransport, clientEnd };
}

/** Splits what one end received into frame bodies. */
function framesOf(parts: Uint8Array[]): Uint8Array[] {
  const stream = concatBytes(parts);
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (let frames = 0; offset < stream.length && frames < 100; frames++) {
    const length = new DataView(stream.buffer, offset, 4).getUint32(0, false);
    bodies.push(stream.slice(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  assertEquals(offset, stream.length, "received bytes must be whole frames");
  return bodies;
}

function validHello(identity = IDENTITY, clientEphemeral = randomBytes(KEY_BYTES)): Uint8Array {
  return encodeHello({
    identity,
    keyId: randomBytes(KEY_ID_BYTES),
    clientNonce: randomBytes(HANDSHAKE_NONCE_BYTES),
    clientEphemeral,
  });
}

/** A hello laid out by hand, so the tests can build names `encodeHello` would refuse. */
function rawHello(
  nameBytes: Uint8Array,
  options: { type?: number; version?: number; nameLength?: number } = {},
) {
  return concatBytes([
    new Uint8Array([
      options.type ?? FrameType.hello,
      options.version ?? PROTOCOL_VERSION,
      options.nameLength ?? nameBytes.length,
    ]),
    nameBytes,
    randomBytes(KEY_ID_BYTES + HANDSHAKE_NONCE_BYTES + KEY_BYTES),
  ]);
}

testEachPair(
  "serverHandshake() and clientHandshake() agree on a channel that carries requests both ways",
  async (pair) => {
    const bank = await makeBank(pair);
    const { server, client, serverTransport, clientTransport } = await runHandshakes(bank);
    assert(server.ok, "server handshake must succeed");
    assert(client.ok, "client handshake must succeed");
    assertEquals(server.identity, IDENTITY);
    assertEquals(server.keyId, bank.keyId);
    assertEquals(server.transcript, client.transcript, "both ends hash the same transcript");

    await clientTransport.sendFrame(await client.channel.seal(FrameType.sealedText, utf8("Check Balance")));
    const request = await serverTransport.next();
    assert(request.kind === "frame", "server must receive the request");
    assertEquals(await server.channel.open(request.body), {
      ok: true,
      type: FrameType.sealedText,
      plaintext: utf8("Check Balance"),
    });
    const answer = utf8('{"v":1,"id":"r1","ok":true,"result":{}}');
    await serverTransport.sendFrame(await server.channel.seal(FrameType.sealedJson, answer));
    const response = await clientTransport.next();
    assert(response.kind === "frame", "client must receive the answer");
    assertEquals(await client.channel.open(response.body), {
      ok: true,
      type: FrameType.sealedJson,
      plaintext: answer,
    });
  },
);

testEachPair("two handshakes with the same keys share no session key or transcript", async (pair) => {
  const bank = await makeBank(pair);
  const first = await runHandshakes(bank);
  const second = await runHandshakes(bank);
  const [one, two] = [first.client, second.client];
  assert(one.ok && two.ok, "both handshakes must succeed");
  assert(first.server.ok && second.server.ok, "both handshakes must succeed");
  assertEquals(one.transcript.length, 32);
  assertEquals(
    one.transcript.some((byte, index) => byte !== two.transcript[index]),
    true,
    "fresh transcripts",
  );
  const secondServer = second.server;
  assert(secondServer.ok, "the second handshake must succeed");
  const frame = await one.channel.seal(FrameType.sealedText, utf8("Check Balance"));
  const opened = await secondServer.channel.open(frame.subarray(4));
  assertEquals(
    opened,
    { ok: false, reason: "sealed_not_authentic" },
    "fresh ephemeral keys, fresh session keys",
  );
});

testEachPair(
  "serverHandshake() refuses a wrong key as signature_invalid and the client sees handshake_failed",
  async (pair) => {
    const bank = await makeBank(pair);
    const impostor = await pair.clientCrypto.signer(randomBytes(KEY_BYTES));
    const { server, client } = await runHandshakes(bank, { signer: impostor });
    assertEquals(server.ok ? "ok" : server.reason, "signature_invalid");
    assertEquals(server.ok ? null : server.identity, IDENTITY);
    assert(!client.ok, "client handshake must fail");
    assertEquals(client.code, "handshake_failed");
  },
);

testEachPair(
  "serverHandshake() answers an unknown name or key id exactly as it answers a wrong key",
  async (pair) => {
    const bank = await makeBank(pair);
    const impostor = await pair.clientCrypto.signer(randomBytes(KEY_BYTES));
    const wrongKey = await runHandshakes(bank, { signer: impostor });
    const unknownName = await runHandshakes(bank, { identity: "client-9" });
    const unknownKeyId = await runHandshakes(bank, { keyId: randomBytes(KEY_ID_BYTES) });
    for (const run of [unknownName, unknownKeyId]) {
      assertEquals(run.server.ok ? "ok" : run.server.reason, "unknown_key");
      assertEquals(run.client, wrongKey.client);
      const frames = framesOf(run.clientEnd.received);
      const wrongFrames = framesOf(wrongKey.clientEnd.received);
      assertEquals(frames.map((body) => body.length), wrongFrames.map((body) => body.length));
      assertEquals(frames.map((body) => body.length), [161, 17]);
      assertEquals(fromUtf8(frames[1]!.subarray(1)), "handshake_failed");
    }
  },
);

testEachPair(
  "clientHandshake() refuses a server without the bank's key, as a man in the middle is",
  async (pair) => {
    const bank = await makeBank(pair);
    const other = await pair.serverCrypto.signer(randomBytes(KEY_BYTES));
    const impostorBank = { ...bank, server: { ...bank.server, bank: other } };
    const { client } = await runHandshakes(impostorBank);
    assert(!client.ok, "client must refuse the server");
    assertStringIncludes(client.error, "not the bank");
    assertEquals(client.code, undefined);
  },
);

testEachPair(
  "serverHandshake() fails a small-order client ephemeral key with the generic error",
  async (pair) => {
    for (const small of [new Uint8Array(32), concatBytes([new Uint8Array([1]), new Uint8Array(31)])]) {
      const bank = await makeBank(pair);
      const [clientEnd, serverEnd] = PipeEnd.pair();
      const clientTransport = new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES });
      await clientTransport.send(validHello(IDENTITY, small));
      const server = await serverHandshake(
        new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }),
        bank.server,
      );
      assertEquals(server.ok ? "ok" : server.reason, "ephemeral_refused");
      assertEquals(clientEnd.received.length, 0, "no challenge is signed for a refused key");
    }
  },
);

testEachPair(
  "serverHandshake() refuses a malformed hello as hello_malformed without answering it",
  async (pair) => {
    const name = utf8(IDENTITY);
    const wrongType = validHello();
    wrongType[0] = FrameType.proof;
    const cases: [string, Uint8Array][] = [
      ["garbage bytes", concatBytes([utf8("GET / HTTP/1.1\r\n"), randomBytes(40)])],
      ["one byte", new Uint8Array([FrameType.hello])],
      ["type and version only", new Uint8Array([FrameType.hello, PROTOCOL_VERSION])],
      ["wrong type byte", wrongType],
      ["type of a sealed frame", rawHello(name, { type: FrameType.sealedText })],
      ["version 1 (shared secrets)", rawHello(name, { version: 1 })],
      ["version 3", rawHello(name, { version: PROTOCOL_VERSION + 1 })],
      ["a version 1 hello", concatBytes([new Uint8Array([1, 1, name.length]), name, randomBytes(32)])],
      ["name length one too long", rawHello(name, { nameLength: name.length + 1 })],
      ["name length one too short", rawHello(name, { nameLength: name.length - 1 })],
      ["name length 255", rawHello(name, { nameLength: 255 })],
      ["one byte short", validHello().subarray(0, validHello().length - 1)],
      ["one byte long", concatBytes([validHello(), new Uint8Array([0])])],
      ["empty name", rawHello(new Uint8Array(0))],
      ["name with a space", rawHello(utf8("client 1"))],
      ["name with a slash", rawHello(utf8("../client-1"))],
      ["name starting with a dash", rawHello(utf8("-client"))],
      ["name with a NUL", rawHello(utf8("client\u00001"))],
      ["name that is not UTF-8", rawHello(new Uint8Array([0x63, 0xff, 0xfe]))],
      ["name of 65 characters", rawHello(utf8("a".repeat(65)))],
    ];
    for (const [label, body] of cases) {
      const bank = await makeBank(pair);
      const [clientEnd, serverEnd] = PipeEnd.pair();
      await new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES }).send(body);
      clientEnd.close();
      const server = await serverHandshake(
        new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }),
        bank.server,
      );
      assertEquals(server.ok ? "ok" : server.reason, "hello_malformed", label);
      assertEquals(clientEnd.received.length, 0, `${label}: server must not answer`);
    }
  },
);

testEachPair("serverHandshake() reports a broken first frame as frame_error", async (pair) => {
  const cases: [string, Uint8Array, string][] = [
    ["zero length", new Uint8Array([0, 0, 0, 0]), "frame_empty"],
    ["over the frame limit", new Uint8Array([0, 0, 0xff, 0xff]), "frame_too_large"],
    ["cut short", encodeFrame(validHello()).subarray(0, 20), "frame_truncated"],
  ];
  for (const [label, bytes, detail] of cases) {
    const bank = await makeBank(pair);
    const [clientEnd, serverEnd] = PipeEnd.pair();
    for (let at = 0; at < bytes.length; at += 7) await clientEnd.write(bytes.subarray(at, at + 7));
    clientEnd.close();
    const server = await serverHandshake(
      new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }),
      bank.server,
    );
    assertEquals(server.ok ? null : [server.reason, server.detail], ["frame_error", detail], label);
  }
});

testEachPair("serverHandshake() reports a client that leaves before its hello or its proof", async (pair) => {
  const bank = await makeBank(pair);
  const [early, earlyServer] = PipeEnd.pair();
  const earlyRun = serverHandshake(
    new FrameTransport(earlyServer, { frameBytesMax: FRAME_BYTES }),
    bank.server,
  );
  early.close();
  const before = await earlyRun;
  assertEquals(before.ok ? null : [before.reason, before.identity], ["closed_before_hello", undefined]);

  const [clientEnd, serverEnd] = PipeEnd.pair();
  const clientTransport = new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES });
  const serverRun = serverHandshake(
    new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }),
    bank.server,
  );
  await clientTransport.send(validHello());
  const challenge = await clientTransport.next();
  assertEquals(challenge.kind === "frame" ? challenge.body[0] : null, FrameType.challenge);
  clientEnd.close();
  const after = await serverRun;
  assertEquals(after.ok ? null : [after.reason, after.identity], ["closed_before_proof", IDENTITY]);
});

testEachPair(
  "serverHandshake() refuses a proof of the wrong shape or with a wrong finished MAC",
  async (pair) => {
    const bank = await makeBank(pair);
    const cases: [string, (challenge: Uint8Array) => Promise<Uint8Array>, string][] = [
      ["wrong type byte", () => Promise.resolve(encodeAccept(randomBytes(32))), "proof_malformed"],
      ["one byte short", () =>
        Promise.resolve(
          encodeProof({ clientSignature: randomBytes(64), clientFinished: randomBytes(32) }).subarray(0, 96),
        ), "proof_malformed"],
      ["a second hello", () => Promise.resolve(validHello()), "proof_malformed"],
      [
        "random signature",
        () =>
          Promise.resolve(encodeProof({ clientSignature: randomBytes(64), clientFinished: randomBytes(32) })),
        "signature_invalid",
      ],
    ];
    for (const [label, makeProof, reason] of cases) {
      const [clientEnd, serverEnd] = PipeEnd.pair();
      const clientTransport = new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES });
      const serverRun = serverHandshake(
        new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }),
        bank.server,
      );
      const hello = encodeHello({
        identity: IDENTITY,
        keyId: bank.keyId,
        clientNonce: randomBytes(32),
        clientEphemeral: (await pair.clientCrypto.ephemeral()).publicKey,
      });
      await clientTransport.send(hello);
      const challenge = await clientTransport.next();
      assert(challenge.kind === "frame", label);
      await clientTransport.send(await makeProof(challenge.body));
      const server = await serverRun;
      assertEquals(server.ok ? null : server.reason, reason, label);
    }
  },
);

/** The genuine server's challenge to a hello, with one part changed on the way to the client. */
async function relayedChallenge(
  bank: Bank,
  helloBody: Uint8Array,
  change: "none" | "signature" | "finished" | "ephemeral",
): Promise<Uint8Array> {
  const [relay, serverEnd] = PipeEnd.pair();
  const run = serverHandshake(new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }), bank.server);
  const transport = new FrameTransport(relay, { frameBytesMax: FRAME_BYTES });
  await transport.send(helloBody);
  const frame = await transport.next();
  relay.close();
  await run;
  assert(frame.kind === "frame", "the server answers with a challenge");
  const challenge = decodeChallenge(frame.body);
  assert(challenge !== null, "the server's challenge is well formed");
  if (change === "signature") challenge.serverSignature[10]! ^= 1;
  if (change === "finished") challenge.serverFinished[0]! ^= 1;
  if (change === "ephemeral") challenge.serverEphemeral = new Uint8Array(32);
  return encodeChallenge(challenge);
}

testEachPair(
  "clientHandshake() refuses a challenge whose signature, finished MAC or ephemeral key was changed",
  async (pair) => {
    const bank = await makeBank(pair);
    const cases: ["none" | "signature" | "finished" | "ephemeral", string][] = [
      ["none", "Server closed the connection during the handshake"],
      ["signature", "Server could not prove it holds the bank's key: not the bank"],
      ["finished", "Server could not prove it holds the bank's key: not the bank"],
      ["ephemeral", "Server could not prove it holds the bank's key: not the bank"],
    ];
    for (const [change, error] of cases) {
      const [clientEnd, relayEnd] = PipeEnd.pair();
      const relay = new FrameTransport(relayEnd, { frameBytesMax: FRAME_BYTES });
      const clientRun = clientHandshake(new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES }), {
        identity: IDENTITY,
        keyId: bank.keyId,
        signer: bank.client,
        bankPublicKey: bank.bank.publicKey,
        crypto: pair.clientCrypto,
      });
      const hello = await relay.next();
      assert(hello.kind === "frame" && decodeHello(hello.body) !== null, change);
      await relay.send(await relayedChallenge(bank, hello.body, change));
      if (change === "none") {
        assertEquals((await relay.next()).kind, "frame", "an untouched challenge gets a proof");
      }
      relayEnd.close();
      const client = await clientRun;
      assertEquals(client.ok ? null : client.error, error, change);
    }
  },
);

testEachPair("clientHandshake() reports a server that closes or answers nonsense", async (pair) => {
  const cases: [string, Uint8Array | null, string][] = [
    ["closes after the hello", null, "Server closed the connection during the handshake"],
    [
      "sends an error frame",
      new Uint8Array([FrameType.error, ...utf8("handshake_failed")]),
      "Server refused: handshake_failed",
    ],
    [
      "sends a short challenge",
      new Uint8Array([FrameType.challenge, 1, 2, 3]),
      "Server sent a malformed challenge",
    ],
    ["sends an accept first", encodeAccept(randomBytes(32)), "Server sent a malformed challenge"],
  ];
  for (const [label, reply, error] of cases) {
    const bank = await makeBank(pair);
    const [clientEnd, serverEnd] = PipeEnd.pair();
    const clientRun = clientHandshake(new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES }), {
      identity: IDENTITY,
      keyId: bank.keyId,
      signer: bank.client,
      bankPublicKey: bank.bank.publicKey,
      crypto: pair.clientCrypto,
    });
    const serverTransport = new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES });
    assertEquals((await serverTransport.next()).kind, "frame", label);
    if (reply !== null) await serverTransport.send(reply);
    serverEnd.close();
    const client = await clientRun;
    assertEquals(client.ok ? null : client.error, error, label);
  }
});

testEachPair("serverHandshake() sends the authorizer's code instead of the accept", async (pair) => {
  const bank = await makeBank(pair);
  const refusing = { ...bank, server: { ...bank.server, authorize: () => "rate_limited" as const } };
  const { server, client } = await runHandshakes(refusing);
  assertEquals(server.ok ? null : [server.reason, server.detail], ["refused", "rate_limited"]);
  assertEquals(client.ok ? null : client.code, "rate_limited");
});
