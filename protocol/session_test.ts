import { assertEquals, assertStringIncludes } from "@std/assert";
import { AEAD_PAIRS } from "./testing.ts";
import type { AeadPair } from "./testing.ts";
import type { AeadFactory } from "./aead.ts";
import { assert } from "../lib/assert.ts";
import { concatBytes, fromUtf8, randomBytes, utf8 } from "../lib/bytes.ts";
import type { Credential } from "./credential.ts";
import { encodeFrame } from "./frame.ts";
import {
  decodeHello,
  decodeValueBody,
  deriveAuthKey,
  deriveSessionSecrets,
  encodeHello,
  encodeValueBody,
} from "./handshake.ts";
import {
  AES_KEY_BYTES,
  FRAME_BYTES_MIN,
  FRAME_HEADER_BYTES,
  HANDSHAKE_NONCE_BYTES,
  SECRET_BYTES,
} from "./limits.ts";
import { clientHandshake, serverHandshake } from "./session.ts";
import type { ClientHandshakeResult, ServerHandshakeResult } from "./session.ts";
import { FrameTransport } from "./transport.ts";
import type { FrameConn } from "./transport.ts";
import { FrameType, PROTOCOL_VERSION } from "./wire.ts";

/** Bytes one end of a pipe may hold unread; a handshake needs far less. */
const PIPE_BYTES_MAX = 64 * 1024;
const FRAME_BYTES = FRAME_BYTES_MIN;
const IDENTITY = "client-1";

/** Registers one test per pair, its name prefixed with the pair's. */
function testEachPair(name: string, body: (pair: AeadPair) => Promise<void>): void {
  for (const pair of AEAD_PAIRS) Deno.test(`${pair.name}: ${name}`, () => body(pair));
}

/**
 * One end of an in-memory duplex pipe: what one end writes, the other reads. Writes accept at most
 * `writeChunkBytes` at a time, so the transport's partial-write loop runs too.
 */
class PipeEnd implements FrameConn {
  #peer: PipeEnd | null = null;
  readonly #writeChunkBytes: number;
  readonly #incoming: Uint8Array[] = [];
  #incomingBytes = 0;
  #incomingEnded = false;
  #closed = false;
  #wake: (() => void) | null = null;
  /** Every byte this end has received, in order, for comparing what two peers observed. */
  readonly received: Uint8Array[] = [];

  constructor(writeChunkBytes: number) {
    this.#writeChunkBytes = writeChunkBytes;
  }

  static pair(writeChunkBytes = 7): [PipeEnd, PipeEnd] {
    const left = new PipeEnd(writeChunkBytes);
    const right = new PipeEnd(writeChunkBytes);
    left.#peer = right;
    right.#peer = left;
    return [left, right];
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    // Each wake is a delivery or an end, so one wait is enough; the bound guards the test from a bug.
    for (let waits = 0; this.#incoming.length === 0 && !this.#incomingEnded; waits++) {
      assert(waits < 2, "A pipe read must be woken by a delivery or an end");
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#incoming[0];
    if (chunk === undefined) return null;
    const count = Math.min(buffer.length, chunk.length);
    buffer.set(chunk.subarray(0, count));
    if (count === chunk.length) this.#incoming.shift();
    else this.#incoming[0] = chunk.subarray(count);
    this.#incomingBytes -= count;
    return count;
  }

  write(bytes: Uint8Array): Promise<number> {
    const peer = this.#peer;
    assert(peer !== null, "A pipe end must be paired");
    if (this.#closed || peer.#closed) return Promise.reject(new Deno.errors.BrokenPipe("pipe is closed"));
    const count = Math.min(bytes.length, this.#writeChunkBytes);
    peer.#deliver(bytes.slice(0, count));
    return Promise.resolve(count);
  }

  /** Closes both directions, as closing a socket does: the peer's next read past its data ends. */
  close(): void {
    this.#closed = true;
    this.#endIncoming();
    if (this.#peer !== null) this.#peer.#endIncoming();
  }

  #deliver(bytes: Uint8Array): void {
    assert(this.#incomingBytes + bytes.length <= PIPE_BYTES_MAX, "Pipe buffer is full");
    this.#incoming.push(bytes);
    this.received.push(bytes);
    this.#incomingBytes += bytes.length;
    this.#wakeReader();
  }

  #endIncoming(): void {
    this.#incomingEnded = true;
    this.#wakeReader();
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

interface Bank {
  credential: Credential;
  lookupAuthKey: (identity: string) => Uint8Array | null;
  decoyAuthKey: Uint8Array;
  /** The server's implementation; passing the bank as `serverHandshake` options hands it over. */
  aead: AeadFactory;
  /** The implementation the client is given. */
  clientAead: AeadFactory;
}

async function makeBank(pair: AeadPair): Promise<Bank> {
  const credential = { identity: IDENTITY, secret: randomBytes(SECRET_BYTES) };
  const authKey = await deriveAuthKey(credential.secret);
  return {
    credential,
    lookupAuthKey: (identity) => identity === IDENTITY ? authKey : null,
    decoyAuthKey: randomBytes(AES_KEY_BYTES),
    aead: pair.server,
    clientAead: pair.client,
  };
}

/**
 * Runs both handshakes against each other and, as the real server does, sends `handshake_failed` when the
 * server side fails, then closes the server's end.
 */
async function runHandshakes(
  bank: Bank,
  credential: Credential,
): Promise<{
  server: ServerHandshakeResult;
  client: ClientHandshakeResult;
  serverTransport: FrameTransport;
  clientTransport: FrameTransport;
  clientEnd: PipeEnd;
}> {
  const [clientEnd, serverEnd] = PipeEnd.pair();
  const clientTransport = new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES });
  const serverTransport = new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES });
  const clientRun = clientHandshake(clientTransport, credential, { aead: bank.clientAead });
  const server = await serverHandshake(serverTransport, bank);
  if (!server.ok) {
    await serverTransport.sendError("handshake_failed");
    serverEnd.close();
  }
  const client = await clientRun;
  return { server, client, serverTransport, clientTransport, clientEnd };
}

/** Splits what one end received into frame bodies. */
function framesOf(parts: Uint8Array[]): Uint8Array[] {
  const stream = concatBytes(parts);
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (let frames = 0; offset < stream.length && frames < 100; frames++) {
    const length = new DataView(stream.buffer, offset, FRAME_HEADER_BYTES).getUint32(0, false);
    bodies.push(stream.slice(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + length));
    offset += FRAME_HEADER_BYTES + length;
  }
  assertEquals(offset, stream.length, "received bytes must be whole frames");
  return bodies;
}

/** What a client can see of a frame without keys: its length and its type byte. */
function shapeOf(bodies: Uint8Array[]): string[] {
  return bodies.map((body) => `${body.length} bytes of type ${body[0]}`);
}

function validHello(identity = IDENTITY): Uint8Array {
  return encodeHello({ identity, clientNonce: randomBytes(HANDSHAKE_NONCE_BYTES) });
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
    randomBytes(HANDSHAKE_NONCE_BYTES),
  ]);
}

testEachPair(
  "serverHandshake() and clientHandshake() agree on a channel that carries requests both ways",
  async (pair) => {
    const made = { client: 0, server: 0 };
    const bank = await makeBank({
      name: pair.name,
      client: (key) => {
        made.client += 1;
        return pair.client(key);
      },
      server: (key) => {
        made.server += 1;
        return pair.server(key);
      },
    });
    const { server, client, serverTransport, clientTransport } = await runHandshakes(bank, bank.credential);
    assertEquals(made, { client: 2, server: 2 }, "each end must key its channel with its own implementation");
    assert(server.ok, "server handshake must succeed");
    assert(client.ok, "client handshake must succeed");
    assertEquals(server.identity, IDENTITY);

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

testEachPair(
  "serverHandshake() refuses a wrong secret as proof_mismatch and the client sees handshake_failed",
  async (pair) => {
    const bank = await makeBank(pair);
    const impostor = { identity: IDENTITY, secret: randomBytes(SECRET_BYTES) };
    const { server, client } = await runHandshakes(bank, impostor);
    assertEquals(server.ok ? "ok" : server.reason, "proof_mismatch");
    assertEquals(server.ok ? null : server.identity, IDENTITY);
    assert(!client.ok, "client handshake must fail");
    assertStringIncludes(client.error, "handshake_failed");
    assertEquals(client.code, "handshake_failed");
  },
);

testEachPair(
  "serverHandshake() answers an unknown identity exactly as it answers a wrong secret",
  async (pair) => {
    const bank = await makeBank(pair);
    const wrongSecret = await runHandshakes(bank, { identity: IDENTITY, secret: randomBytes(SECRET_BYTES) });
    const unknown = await runHandshakes(bank, { identity: "client-9", secret: randomBytes(SECRET_BYTES) });
    assertEquals(unknown.server.ok ? "ok" : unknown.server.reason, "unknown_identity");
    assertEquals(unknown.server.ok ? null : unknown.server.identity, "client-9");
    assertEquals(wrongSecret.server.ok ? "ok" : wrongSecret.server.reason, "proof_mismatch");

    assertEquals(unknown.client, wrongSecret.client);
    const unknownFrames = framesOf(unknown.clientEnd.received);
    const wrongFrames = framesOf(wrongSecret.clientEnd.received);
    assertEquals(shapeOf(unknownFrames), shapeOf(wrongFrames));
    assertEquals(shapeOf(unknownFrames), ["33 bytes of type 2", "17 bytes of type 15"]);
    assertEquals(unknownFrames[1], wrongFrames[1]);
    assertEquals(fromUtf8(unknownFrames[1]!.subarray(1)), "handshake_failed");
  },
);

testEachPair(
  "serverHandshake() refuses a malformed hello as hello_malformed without answering it",
  async (pair) => {
    const name = utf8(IDENTITY);
    const wrongType = validHello();
    wrongType[0] = FrameType.proof;
    const wrongVersion = validHello();
    wrongVersion[1] = PROTOCOL_VERSION + 1;
    const cases: [string, Uint8Array][] = [
      ["garbage bytes", concatBytes([utf8("GET / HTTP/1.1\r\n"), randomBytes(40)])],
      ["one byte", new Uint8Array([FrameType.hello])],
      ["type and version only", new Uint8Array([FrameType.hello, PROTOCOL_VERSION])],
      ["wrong type byte", wrongType],
      ["type of a sealed frame", rawHello(name, { type: FrameType.sealedText })],
      ["wrong version byte", wrongVersion],
      ["version 0", rawHello(name, { version: 0 })],
      ["name length one too long", rawHello(name, { nameLength: name.length + 1 })],
      ["name length one too short", rawHello(name, { nameLength: name.length - 1 })],
      ["name length 255", rawHello(name, { nameLength: 255 })],
      ["nonce one byte short", validHello().subarray(0, 3 + name.length + HANDSHAKE_NONCE_BYTES - 1)],
      ["nonce one byte long", concatBytes([validHello(), new Uint8Array([0])])],
      ["empty name", rawHello(new Uint8Array(0))],
      ["name with a space", rawHello(utf8("client 1"))],
      ["name with a slash", rawHello(utf8("../client-1"))],
      ["name starting with a dash", rawHello(utf8("-client"))],
      ["name with a NUL", rawHello(utf8("client\u00001"))],
      ["name with non-ASCII letters", rawHello(utf8("clïent"))],
      ["name that is not UTF-8", rawHello(new Uint8Array([0x63, 0xff, 0xfe]))],
      ["name of 65 characters", rawHello(utf8("a".repeat(65)))],
    ];
    for (const [label, body] of cases) {
      const bank = await makeBank(pair);
      const [clientEnd, serverEnd] = PipeEnd.pair();
      const clientTransport = new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES });
      await clientTransport.send(body);
      clientEnd.close();
      const server = await serverHandshake(
        new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }),
        bank,
      );
      assertEquals(server.ok ? "ok" : server.reason, "hello_malformed", label);
      assertEquals(server.ok ? null : server.identity, undefined, label);
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
    await clientEnd.write(bytes.subarray(0, 7));
    if (bytes.length > 7) await clientEnd.write(bytes.subarray(7, 14));
    if (bytes.length > 14) await clientEnd.write(bytes.subarray(14));
    clientEnd.close();
    const server = await serverHandshake(new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }), bank);
    assertEquals(server.ok ? null : [server.reason, server.detail], ["frame_error", detail], label);
  }
});

testEachPair(
  "serverHandshake() reports a client that leaves before its hello as closed_before_hello",
  async (pair) => {
    const bank = await makeBank(pair);
    const [clientEnd, serverEnd] = PipeEnd.pair();
    const serverRun = serverHandshake(new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }), bank);
    clientEnd.close();
    const server = await serverRun;
    assertEquals(server.ok ? null : [server.reason, server.identity], ["closed_before_hello", undefined]);
    assertEquals(clientEnd.received.length, 0);
  },
);

testEachPair(
  "serverHandshake() reports a client that leaves after the challenge as closed_before_proof",
  async (pair) => {
    const bank = await makeBank(pair);
    const [clientEnd, serverEnd] = PipeEnd.pair();
    const clientTransport = new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES });
    const serverRun = serverHandshake(new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }), bank);
    await clientTransport.send(validHello());
    const challenge = await clientTransport.next();
    assertEquals(challenge.kind === "frame" ? challenge.body[0] : null, FrameType.challenge);
    clientEnd.close();
    const server = await serverRun;
    assertEquals(server.ok ? null : [server.reason, server.identity], ["closed_before_proof", IDENTITY]);
  },
);

testEachPair("serverHandshake() refuses a proof of the wrong shape as proof_malformed", async (pair) => {
  const cases: [string, Uint8Array][] = [
    ["wrong type byte", encodeValueBody(FrameType.accept, randomBytes(HANDSHAKE_NONCE_BYTES))],
    ["one byte short", encodeValueBody(FrameType.proof, randomBytes(HANDSHAKE_NONCE_BYTES)).subarray(0, 32)],
    ["a second hello", validHello()],
  ];
  for (const [label, proof] of cases) {
    const bank = await makeBank(pair);
    const [clientEnd, serverEnd] = PipeEnd.pair();
    const clientTransport = new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES });
    const serverRun = serverHandshake(new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }), bank);
    await clientTransport.send(validHello());
    await clientTransport.next();
    await clientTransport.send(proof);
    const server = await serverRun;
    assertEquals(server.ok ? null : server.reason, "proof_malformed", label);
  }
});

/** A server that talks the protocol but does not hold the identity's auth key, or echoes the client. */
async function impersonate(transport: FrameTransport, answer: "own_key" | "echo_proof"): Promise<void> {
  const helloFrame = await transport.next();
  assert(helloFrame.kind === "frame", "impostor must receive a hello");
  assert(decodeHello(helloFrame.body) !== null, "impostor must receive a valid hello");
  const challenge = encodeValueBody(FrameType.challenge, randomBytes(HANDSHAKE_NONCE_BYTES));
  await transport.send(challenge);
  const proofFrame = await transport.next();
  assert(proofFrame.kind === "frame", "impostor must receive a proof");
  const clientProof = decodeValueBody(FrameType.proof, proofFrame.body);
  assert(clientProof !== null, "impostor must receive a valid proof");
  if (answer === "echo_proof") {
    await transport.send(encodeValueBody(FrameType.accept, clientProof));
    return;
  }
  const secrets = await deriveSessionSecrets(randomBytes(AES_KEY_BYTES), {
    hello: helloFrame.body,
    challenge,
  });
  await transport.send(encodeValueBody(FrameType.accept, secrets.serverProof));
}

testEachPair("clientHandshake() refuses a server that cannot prove it knows the identity", async (pair) => {
  const cases: ("own_key" | "echo_proof")[] = ["own_key", "echo_proof"];
  for (const answer of cases) {
    const bank = await makeBank(pair);
    const [clientEnd, serverEnd] = PipeEnd.pair();
    const clientRun = clientHandshake(
      new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES }),
      bank.credential,
      { aead: bank.clientAead },
    );
    await impersonate(new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES }), answer);
    const client = await clientRun;
    assert(!client.ok, `${answer}: client must refuse the server`);
    assertStringIncludes(client.error, "could not prove", answer);
    assertEquals(client.code, undefined, answer);
  }
});

testEachPair("clientHandshake() reports a server that closes or answers nonsense", async (pair) => {
  const cases: [string, Uint8Array | null, string][] = [
    ["closes after the hello", null, "server closed the connection during handshake"],
    [
      "sends an error frame",
      new Uint8Array([FrameType.error, ...utf8("handshake_failed")]),
      "server refused: handshake_failed",
    ],
    [
      "sends a short challenge",
      new Uint8Array([FrameType.challenge, 1, 2, 3]),
      "server sent a malformed challenge",
    ],
    [
      "sends an accept first",
      encodeValueBody(FrameType.accept, randomBytes(HANDSHAKE_NONCE_BYTES)),
      "server sent a malformed challenge",
    ],
  ];
  for (const [label, reply, error] of cases) {
    const bank = await makeBank(pair);
    const [clientEnd, serverEnd] = PipeEnd.pair();
    const clientRun = clientHandshake(
      new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES }),
      bank.credential,
      { aead: bank.clientAead },
    );
    const serverTransport = new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES });
    assertEquals((await serverTransport.next()).kind, "frame", label);
    if (reply !== null) await serverTransport.send(reply);
    serverEnd.close();
    const client = await clientRun;
    assertEquals(client.ok ? null : client.error, error, label);
  }
});
