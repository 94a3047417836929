/**
 * The handshake's cost in one process, both sides over an in-memory pipe (no TLS, no socket): WebCrypto as
 * a browser runs it, and node:crypto as the server does. `deno task bench` measures it live as well
 * (handshakes per second and the server's CPU per handshake).
 *
 * @module
 */
import { randomBytes } from "../lib/bytes.ts";
import { keyIdOf } from "../protocol/credential.ts";
import { webHandshakeCrypto } from "../protocol/handshake_crypto.ts";
import type { HandshakeCrypto } from "../protocol/handshake_crypto.ts";
import { FRAME_BYTES_MIN, KEY_BYTES } from "../protocol/limits.ts";
import { nodeHandshakeCrypto } from "../protocol/node_crypto.ts";
import { clientHandshake, serverHandshake } from "../protocol/session.ts";
import { PipeEnd } from "../protocol/testing.ts";
import { FrameTransport } from "../protocol/transport.ts";

const PIPE_CHUNK_BYTES = 64 * 1024;

async function makeParties(crypto: HandshakeCrypto) {
  const [bank, client] = await Promise.all([
    crypto.signer(randomBytes(KEY_BYTES)),
    crypto.signer(randomBytes(KEY_BYTES)),
  ]);
  return { bank, client, keyId: await keyIdOf(crypto, client.publicKey) };
}

for (
  const [name, crypto] of [["WebCrypto", webHandshakeCrypto], ["node:crypto", nodeHandshakeCrypto]] as const
) {
  const parties = await makeParties(crypto);
  Deno.bench(`handshake, both sides in memory (${name})`, { group: "handshake" }, async () => {
    const [clientEnd, serverEnd] = PipeEnd.pair(PIPE_CHUNK_BYTES);
    const [server, client] = await Promise.all([
      serverHandshake(new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES_MIN }), {
        bank: parties.bank,
        lookupKey: () => Promise.resolve(parties.client),
        decoyPublicKey: parties.client.publicKey,
        crypto,
      }),
      clientHandshake(new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES_MIN }), {
        identity: "client-1",
        keyId: parties.keyId,
        signer: parties.client,
        bankPublicKey: parties.bank.publicKey,
        crypto,
      }),
    ]);
    if (!server.ok || !client.ok) throw new Error("The benchmark's handshake failed");
  });
}
