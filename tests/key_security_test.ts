/**
 * What a leak of the bank's side must not give away, tried as an attacker would against the real server:
 *
 * - A copy of the whole data directory but the clients' credential files (the store, the CA, the TLS and
 *   bank keys): every secret in it, and every registered public key used as if it were private, fails the
 *   handshake as every identity. The real credential, as a control, succeeds.
 * - Forward secrecy: a recorded session, with the client's private key, the bank's key and the store
 *   taken afterwards, does not decrypt; the client's ephemeral key, as a control, does.
 * - A server with a valid TLS certificate but without the bank's signing key (a man in the middle) is
 *   refused by the client.
 *
 * @module
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { BankConnection, ClientError } from "../client/connection.ts";
import type { SecureConn } from "../client/connection.ts";
import { assert } from "../lib/assert.ts";
import { concatBytes, randomBytes } from "../lib/bytes.ts";
import { SealedChannel } from "../protocol/channel.ts";
import type { Credential } from "../protocol/credential.ts";
import { FrameReader } from "../protocol/frame.ts";
import { deriveSessionKeys, transcriptHash } from "../protocol/handshake.ts";
import { webHandshakeCrypto } from "../protocol/handshake_crypto.ts";
import type { Ephemeral } from "../protocol/handshake_crypto.ts";
import { KEY_BYTES } from "../protocol/limits.ts";
import { serverHandshake } from "../protocol/session.ts";
import { FrameTransport } from "../protocol/transport.ts";
import { FrameType } from "../protocol/wire.ts";
import { decodeBankKey } from "../server/bank_key.ts";
import { openStore } from "../server/ledger/mod.ts";
import { startServer } from "../tools/harness.ts";
import type { ServerHandle } from "../tools/harness.ts";

const IDENTITIES = 3;

async function tryHandshake(server: ServerHandle, credential: Credential): Promise<"accepted" | string> {
  try {
    const connection = await BankConnection.connect({
      host: "127.0.0.1",
      port: server.port,
      caPem: await server.caPem(),
      credential,
      timeoutMs: 5_000,
    });
    await connection.close();
    return "accepted";
  } catch (error) {
    if (!(error instanceof ClientError)) throw error;
    return error.message;
  }
}

/** Every file of the data directory but the credential files, as an attacker would take it. */
async function copyWithoutCredentials(dataDir: string): Promise<string> {
  const copy = await Deno.makeTempDir({ prefix: "bank-leak-" });
  for await (const entry of Deno.readDir(dataDir)) {
    if (entry.isFile) await Deno.copyFile(`${dataDir}/${entry.name}`, `${copy}/${entry.name}`);
  }
  return copy;
}

/** Every 32-byte value the copy holds: raw runs of any file, base64url words, and the bank's seed. */
async function secretsIn(copy: string): Promise<Uint8Array[]> {
  const found: Uint8Array[] = [];
  const bankSeed = decodeBankKey(await Deno.readTextFile(`${copy}/bank.key`));
  assert(bankSeed !== null, "the copy holds the bank's key");
  found.push(bankSeed);
  for await (const entry of Deno.readDir(copy)) {
    if (!entry.isFile) continue;
    const text = new TextDecoder().decode(await Deno.readFile(`${copy}/${entry.name}`));
    for (const word of text.match(/[A-Za-z0-9_-]{43}/g) ?? []) {
      const bytes = Uint8Array.from(
        atob(word.replaceAll("-", "+").replaceAll("_", "/") + "="),
        (c) => c.charCodeAt(0),
      );
      if (bytes.length === KEY_BYTES) found.push(bytes);
    }
  }
  return found;
}

Deno.test("a copy of the data directory without the credential files impersonates no identity", async () => {
  await using server = await startServer({ args: ["--demo-clients", String(IDENTITIES)] });
  const copy = await copyWithoutCredentials(server.dataDir);
  try {
    const bankPublicKey = (await server.credential("client-1")).bankPublicKey;
    const candidates = await secretsIn(copy);
    {
      await using store = await openStore({ dataDir: copy });
      for (const record of await store.listIdentities({ limit: 100 })) {
        for (const key of await store.listKeys(record.name, { limit: 100 })) candidates.push(key.publicKey);
      }
    }
    assertEquals(candidates.length > IDENTITIES, true, `${candidates.length} candidates`);
    for (let n = 1; n <= IDENTITIES; n++) {
      const identity = `client-${n}`;
      for (const privateKey of candidates) {
        const outcome = await tryHandshake(server, { identity, privateKey, bankPublicKey });
        assertEquals(outcome === "accepted", false, `${identity} with a secret from the copy`);
        assertStringIncludes(outcome, "handshake_failed");
      }
      assertEquals(await tryHandshake(server, await server.credential(identity)), "accepted", "the control");
    }
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

/** A TLS connection that keeps every byte it carries each way: what breaking TLS would give an attacker. */
async function recordingConnect(
  server: ServerHandle,
  record: { sent: Uint8Array[]; received: Uint8Array[] },
) {
  const tls = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.port,
    caCerts: [await server.caPem()],
  });
  const conn: SecureConn = {
    handshake: () => tls.handshake(),
    closeWrite: () => tls.closeWrite(),
    close: () => tls.close(),
    async read(buffer) {
      const count = await tls.read(buffer);
      if (count !== null) record.received.push(buffer.slice(0, count));
      return count;
    },
    async write(bytes) {
      const count = await tls.write(bytes);
      record.sent.push(bytes.slice(0, count));
      return count;
    },
  };
  return conn;
}

/** The frame bodies in a byte stream. */
async function framesOf(parts: Uint8Array[]): Promise<Uint8Array[]> {
  const bytes = concatBytes(parts);
  let offset = 0;
  const reader = new FrameReader({
    read(buffer) {
      if (offset >= bytes.length) return Promise.resolve(null);
      const count = Math.min(buffer.length, bytes.length - offset);
      buffer.set(bytes.subarray(offset, offset + count));
      offset += count;
      return Promise.resolve(count);
    },
  }, { frameBytesMax: 65_536 });
  const bodies: Uint8Array[] = [];
  for (let frames = 0; frames < 100; frames++) {
    const frame = await reader.next();
    if (frame.kind !== "frame") break;
    bodies.push(frame.body);
  }
  return bodies;
}

Deno.test("a recorded session stays sealed when the client's key, the bank's key and the store leak later", async () => {
  await using server = await startServer({ args: ["--demo-clients", "1"] });
  const credential = await server.credential("client-1");
  const record = { sent: [] as Uint8Array[], received: [] as Uint8Array[] };
  const ephemeralPrivate = randomBytes(KEY_BYTES);
  const connection = await BankConnection.connect({
    host: "127.0.0.1",
    port: server.port,
    caPem: await server.caPem(),
    credential,
    connect: () => recordingConnect(server, record),
    freshness: { ephemeral: () => webHandshakeCrypto.ephemeral(ephemeralPrivate) },
  });
  const answer = await connection.sendText("Check Balance");
  assertEquals(answer, "Balance: $500");
  await connection.close();

  const [hello, proof, request] = await framesOf(record.sent);
  const [challenge, , reply] = await framesOf(record.received);
  assert(
    hello !== undefined && proof !== undefined && request !== undefined,
    "the client's frames were recorded",
  );
  assert(challenge !== undefined && reply !== undefined, "the server's frames were recorded");
  const helloHash = await transcriptHash(webHandshakeCrypto, [hello, challenge.subarray(0, 65)]);
  const clientEphemeral = hello.subarray(hello.length - 32);
  const serverEphemeral = challenge.subarray(33, 65);

  const opens = async (shared: Uint8Array | null): Promise<boolean> => {
    if (shared === null) return false;
    const keys = await deriveSessionKeys(webHandshakeCrypto, { shared, helloHash });
    const channel = await SealedChannel.create(keys, { role: "server" });
    return (await channel.open(request)).ok;
  };
  // What leaked afterwards: the client's private key, the bank's signing key, the store's public keys.
  const bankSeed = decodeBankKey(await Deno.readTextFile(`${server.dataDir}/bank.key`))!;
  const leaked = [credential.privateKey, bankSeed, credential.bankPublicKey];
  for (const secret of leaked) {
    for (const peer of [clientEphemeral, serverEphemeral]) {
      const asEphemeral: Ephemeral = await webHandshakeCrypto.ephemeral(secret);
      assertEquals(await opens(await asEphemeral.agree(peer)), false, "a long-term key as the ephemeral");
    }
    assertEquals(await opens(secret), false, "a long-term key as the shared secret");
  }
  const control = await webHandshakeCrypto.ephemeral(ephemeralPrivate);
  assertEquals(
    await opens(await control.agree(serverEphemeral)),
    true,
    "the ephemeral key, thrown away, opens it",
  );
  assertEquals(reply[0], FrameType.sealedText);
  assertEquals(new TextDecoder().decode(request).includes("Check Balance"), false, "the request is sealed");
});

Deno.test("the client refuses a server with a valid certificate but without the bank's signing key", async () => {
  await using server = await startServer({ args: ["--demo-clients", "1"] });
  const credential = await server.credential("client-1");
  const impostor = await webHandshakeCrypto.signer(randomBytes(KEY_BYTES));
  const client = await webHandshakeCrypto.signer(credential.privateKey);
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(`${server.dataDir}/server.crt`),
    key: await Deno.readTextFile(`${server.dataDir}/server.key`),
  });
  const served = (async () => {
    const conn = await listener.accept();
    const result = await serverHandshake(new FrameTransport(conn, { frameBytesMax: 65_536 }), {
      bank: impostor,
      lookupKey: () => Promise.resolve(client),
      decoyPublicKey: client.publicKey,
    });
    conn.close();
    return result;
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  const refused = await BankConnection.connect({
    host: "127.0.0.1",
    port,
    caPem: await server.caPem(),
    credential,
    timeoutMs: 5_000,
  }).then(() => "connected", (error: Error) => error.message);
  assertStringIncludes(refused, "not the bank");
  const result = await served;
  assertEquals(
    result.ok ? "ok" : result.reason,
    "closed_before_proof",
    "the client sent no proof to the impostor",
  );
  listener.close();
});
