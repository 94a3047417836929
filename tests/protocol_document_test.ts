/**
 * An independent implementation of docs/PROTOCOL.md, written from the document alone: `@noble/curves`,
 * `@noble/hashes` and `@noble/ciphers` for the cryptography, `Deno.connectTls` for the transport, and
 * nothing from `protocol/`, `client/` or `server/`. It reproduces section 11's test vectors from their
 * fixed inputs, then completes a live session with a real server as `client-1`, reading the raw
 * credential file. If the document and the code part ways, this test fails.
 *
 * @module
 */
import { gcm } from "@noble/ciphers/aes.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { assert, assertEquals, assertRejects } from "@std/assert";
import { startServer } from "../tools/harness.ts";
import { readDocumentVectors } from "./protocol_document.ts";

// ---- Bytes (section 1) ----------------------------------------------------------------------------

const text = new TextEncoder();
const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
};
const u32be = (n: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
};
const u64be = (n: bigint): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n, false);
  return out;
};
const base64url = (value: string): Uint8Array =>
  Uint8Array.from(atob(value.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
const equalInConstantTime = (a: Uint8Array, b: Uint8Array): boolean => {
  let difference = a.length ^ b.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
};

// ---- Handshake (section 4) ------------------------------------------------------------------------

const H = (...parts: Uint8Array[]): Uint8Array => sha256(cat(...parts));
const signed = (context: string, ...parts: Uint8Array[]): Uint8Array =>
  cat(new Uint8Array(64).fill(0x20), text.encode(context), Uint8Array.of(0), ...parts);

interface Keys {
  c2s: Uint8Array;
  s2c: Uint8Array;
  serverFinished: Uint8Array;
  clientFinished: Uint8Array;
  accept: Uint8Array;
}

function keySchedule(shared: Uint8Array, helloHash: Uint8Array): Keys {
  const derive = (label: string) => hkdf(sha256, shared, helloHash, text.encode(label), 32);
  return {
    c2s: derive("bank/2 client to server key"),
    s2c: derive("bank/2 server to client key"),
    serverFinished: derive("bank/2 server finished"),
    clientFinished: derive("bank/2 client finished"),
    accept: derive("bank/2 accept"),
  };
}

function helloBody(name: string, keyId: Uint8Array, nonce: Uint8Array, ephemeral: Uint8Array): Uint8Array {
  const nameBytes = text.encode(name);
  return cat(Uint8Array.of(0x01, 0x02, nameBytes.length), nameBytes, keyId, nonce, ephemeral);
}

/** What the bank sends (step 8 and 9), for the vectors: the document's server side. */
function challengeBody(
  hello: Uint8Array,
  bankSeed: Uint8Array,
  serverNonce: Uint8Array,
  serverEphemeralPrivate: Uint8Array,
  clientEphemeral: Uint8Array,
): Uint8Array {
  const start = cat(Uint8Array.of(0x02), serverNonce, x25519.getPublicKey(serverEphemeralPrivate));
  const helloHash = H(hello, start);
  const keys = keySchedule(x25519.getSharedSecret(serverEphemeralPrivate, clientEphemeral), helloHash);
  const signature = ed25519.sign(signed("bank/2 server signature", helloHash), bankSeed);
  return cat(start, signature, hmac(sha256, keys.serverFinished, H(hello, start, signature)));
}

/** The client's side (section 11.3): checks CHALLENGE, answers PROOF, and knows what ACCEPT must be. */
function answerChallenge(
  hello: Uint8Array,
  challenge: Uint8Array,
  own: { seed: Uint8Array; ephemeralPrivate: Uint8Array; bankPublicKey: Uint8Array },
): { proof: Uint8Array; accept: Uint8Array; keys: Keys; shared: Uint8Array; helloHash: Uint8Array } {
  if (challenge.length !== 161 || challenge[0] !== 0x02) throw new Error("not a CHALLENGE");
  const start = challenge.subarray(0, 65);
  const shared = x25519.getSharedSecret(own.ephemeralPrivate, challenge.subarray(33, 65));
  if (shared.every((byte) => byte === 0)) throw new Error("all-zero shared secret");
  const helloHash = H(hello, start);
  const serverSignature = challenge.subarray(65, 129);
  if (!ed25519.verify(serverSignature, signed("bank/2 server signature", helloHash), own.bankPublicKey)) {
    throw new Error("the bank's signature does not verify");
  }
  const keys = keySchedule(shared, helloHash);
  const expected = hmac(sha256, keys.serverFinished, H(hello, start, serverSignature));
  if (!equalInConstantTime(expected, challenge.subarray(129))) throw new Error("server_finished is wrong");
  const clientSignature = ed25519.sign(signed("bank/2 client signature", H(hello, challenge)), own.seed);
  const clientFinished = hmac(
    sha256,
    keys.clientFinished,
    H(hello, challenge, Uint8Array.of(0x03), clientSignature),
  );
  const proof = cat(Uint8Array.of(0x03), clientSignature, clientFinished);
  const accept = cat(Uint8Array.of(0x04), hmac(sha256, keys.accept, H(hello, challenge, proof)));
  return { proof, accept, keys, shared, helloHash };
}

// ---- Sealed channel (section 5) -------------------------------------------------------------------

function seal(
  key: Uint8Array,
  direction: number,
  seq: bigint,
  type: number,
  plaintext: Uint8Array,
): Uint8Array {
  const header = cat(u32be(1 + 8 + plaintext.length + 16), Uint8Array.of(type), u64be(seq));
  return cat(header, gcm(key, cat(u32be(direction), u64be(seq)), header).encrypt(plaintext));
}

function open(key: Uint8Array, direction: number, seq: bigint, frame: Uint8Array): Uint8Array {
  const header = frame.subarray(0, 13);
  if (hex(header.subarray(5)) !== hex(u64be(seq))) throw new Error("out of sequence");
  return gcm(key, cat(u32be(direction), u64be(seq)), header).decrypt(frame.subarray(13));
}

// ---- Transport (sections 2 and 3) -----------------------------------------------------------------

class Wire {
  #buffered: Uint8Array = new Uint8Array(0);
  constructor(readonly conn: Deno.TlsConn) {}

  async send(body: Uint8Array): Promise<void> {
    const frame = cat(u32be(body.length), body);
    for (let written = 0; written < frame.length;) written += await this.conn.write(frame.subarray(written));
  }

  /** One whole wire frame (prefix included), at most 65 536 bytes of body, within 10 s. */
  async frame(): Promise<Uint8Array> {
    const deadline = Date.now() + 10_000;
    const need = async (count: number) => {
      while (this.#buffered.length < count) {
        if (Date.now() > deadline) throw new Error("no frame within 10 s");
        const chunk = new Uint8Array(16_384);
        const read = await this.conn.read(chunk);
        if (read === null) throw new Error("the server closed the connection");
        this.#buffered = cat(this.#buffered, chunk.subarray(0, read));
      }
    };
    await need(4);
    const length = new DataView(this.#buffered.buffer, this.#buffered.byteOffset).getUint32(0, false);
    if (length === 0 || length > 65_536) throw new Error(`bad frame length ${length}`);
    await need(4 + length);
    const frame = this.#buffered.slice(0, 4 + length);
    this.#buffered = this.#buffered.slice(4 + length);
    return frame;
  }

  async body(): Promise<Uint8Array> {
    const body = (await this.frame()).subarray(4);
    if (body[0] === 0x0f) throw new Error(`ERROR ${new TextDecoder().decode(body.subarray(1))}`);
    return body;
  }
}

/** A whole session as section 11.3 outlines it; returns the answers to `requests`, in order. */
async function session(
  port: number,
  caPem: string,
  credential: { identity: string; private_key: string; bank_public_key: string },
  requests: string[],
): Promise<string[]> {
  const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caPem] });
  try {
    const wire = new Wire(conn);
    const seed = base64url(credential.private_key);
    const keyId = sha256(ed25519.getPublicKey(seed)).subarray(0, 16);
    const ephemeralPrivate = crypto.getRandomValues(new Uint8Array(32));
    const hello = helloBody(
      credential.identity,
      keyId,
      crypto.getRandomValues(new Uint8Array(32)),
      x25519.getPublicKey(ephemeralPrivate),
    );
    await wire.send(hello);
    const challenge = await wire.body();
    const answer = answerChallenge(hello, challenge, {
      seed,
      ephemeralPrivate,
      bankPublicKey: base64url(credential.bank_public_key),
    });
    await wire.send(answer.proof);
    if (!equalInConstantTime(await wire.body(), answer.accept)) throw new Error("ACCEPT is wrong");
    const answers: string[] = [];
    for (const [index, request] of requests.entries()) {
      const seq = BigInt(index);
      const frame = seal(answer.keys.c2s, 1, seq, 0x10, text.encode(request));
      for (let written = 0; written < frame.length;) written += await conn.write(frame.subarray(written));
      const reply = await wire.frame();
      if (reply[4] === 0x0f) throw new Error(`ERROR ${new TextDecoder().decode(reply.subarray(5))}`);
      answers.push(new TextDecoder("utf-8", { fatal: true }).decode(open(answer.keys.s2c, 2, seq, reply)));
    }
    return answers;
  } finally {
    conn.close();
  }
}

// ---- The tests ------------------------------------------------------------------------------------

Deno.test("docs/PROTOCOL.md alone, with @noble/*, reproduces every test vector of section 11", async () => {
  const { inputs, values, ...frames } = await readDocumentVectors();
  const clientPublicKey = ed25519.getPublicKey(inputs.clientPrivateKey);
  const keyId = H(clientPublicKey).subarray(0, 16);
  const clientEphemeral = x25519.getPublicKey(inputs.clientEphemeralPrivate);
  const hello = helloBody(inputs.identity, keyId, inputs.clientNonce, clientEphemeral);
  const challenge = challengeBody(
    hello,
    inputs.bankPrivateKey,
    inputs.serverNonce,
    inputs.serverEphemeralPrivate,
    clientEphemeral,
  );
  const client = answerChallenge(hello, challenge, {
    seed: inputs.clientPrivateKey,
    ephemeralPrivate: inputs.clientEphemeralPrivate,
    bankPublicKey: ed25519.getPublicKey(inputs.bankPrivateKey),
  });
  const computed: Record<string, Uint8Array> = {
    "client public key": clientPublicKey,
    "key id": keyId,
    "bank public key": ed25519.getPublicKey(inputs.bankPrivateKey),
    "client ephemeral public": clientEphemeral,
    "server ephemeral public": x25519.getPublicKey(inputs.serverEphemeralPrivate),
    "shared": client.shared,
    "hello_hash": client.helloHash,
    "c2s_key": client.keys.c2s,
    "s2c_key": client.keys.s2c,
    "server_finished_key": client.keys.serverFinished,
    "client_finished_key": client.keys.clientFinished,
    "accept_key": client.keys.accept,
    "transcript_hash": H(hello, challenge, client.proof),
  };
  for (const [name, value] of Object.entries(computed)) assertEquals(values.get(name), hex(value), name);
  assertEquals(frames.hello, hex(hello));
  assertEquals(frames.challenge, hex(challenge));
  assertEquals(frames.proof, hex(client.proof));
  assertEquals(frames.accept, hex(client.accept));
  const request = seal(client.keys.c2s, 1, 0n, 0x10, text.encode("Check Balance"));
  const reply = seal(client.keys.s2c, 2, 0n, 0x10, text.encode("Balance: $500"));
  assertEquals(frames.firstRequestFrame, hex(request));
  assertEquals(frames.firstAnswerFrame, hex(reply));
  assertEquals(
    new TextDecoder().decode(open(client.keys.s2c, 2, 0n, fromHexText(frames.firstAnswerFrame))),
    "Balance: $500",
  );
  assertEquals(frames.errorFrame, hex(cat(u32be(17), Uint8Array.of(0x0f), text.encode("handshake_failed"))));
});

/** Hex to bytes, for frames read from the document. */
function fromHexText(hexText: string): Uint8Array {
  return Uint8Array.from(hexText.match(/../g)!, (pair) => parseInt(pair, 16));
}

Deno.test("docs/PROTOCOL.md alone, with @noble/*, completes a live session with the real server", async () => {
  await using server = await startServer();
  const caPem = await Deno.readTextFile(`${server.dataDir}/ca.crt`);
  const credential = JSON.parse(await Deno.readTextFile(`${server.dataDir}/clients/client-1.json`));
  assertEquals(credential.version, 2);
  const answers = await session(server.port, caPem, credential, [
    "Check Balance",
    "Transfer $100 to Account XYZ",
    "Check Balance",
  ]);
  assertEquals(answers, ["Balance: $500", "Transaction Successful", "Balance: $400"]);

  // The controls: the same client with another key is refused, and a forged bank key is noticed.
  const stranger = { ...credential, private_key: "A".repeat(43) };
  await assertRejects(
    () => session(server.port, caPem, stranger, ["Check Balance"]),
    Error,
    "handshake_failed",
  );
  const forged = { ...credential, bank_public_key: credential.private_key };
  await assertRejects(
    () => session(server.port, caPem, forged, []),
    Error,
    "the bank's signature does not verify",
  );
  assert(server.alive());
});
