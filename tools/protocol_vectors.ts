/**
 * The test vectors of docs/PROTOCOL.md section 11, computed by the project's own handshake and channel
 * with fixed keys, nonces and ephemeral keys, and printed as the document lists them. The document's
 * values are checked twice: by `tests/protocol_vectors_test.ts` against this code, and by
 * `tests/protocol_document_test.ts`, an implementation written from the document alone.
 *
 * ```sh
 * deno run tools/protocol_vectors.ts
 * ```
 *
 * @module
 */
import { concatBytes, toHex, utf8 } from "../lib/bytes.ts";
import { keyIdOf } from "../protocol/credential.ts";
import { deriveSessionKeys, transcriptHash } from "../protocol/handshake.ts";
import { webHandshakeCrypto } from "../protocol/handshake_crypto.ts";
import { FrameSplitter } from "../protocol/frame.ts";
import { FRAME_BYTES_MIN, FRAME_HEADER_BYTES } from "../protocol/limits.ts";
import { clientHandshake, serverHandshake } from "../protocol/session.ts";
import { PipeEnd } from "../protocol/testing.ts";
import { FrameTransport } from "../protocol/transport.ts";
import { FrameType } from "../protocol/wire.ts";

/** 32 bytes counting up from `start`: the fixed inputs of the vectors. */
export function counting(start: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, index) => (start + index) & 0xff);
}

export const VECTOR_INPUTS = {
  identity: "client-1",
  clientPrivateKey: counting(0x00),
  clientEphemeralPrivate: counting(0x20),
  serverEphemeralPrivate: counting(0x40),
  bankPrivateKey: counting(0x60),
  clientNonce: counting(0x80),
  serverNonce: counting(0xa0),
} as const;

/** Every value section 11 lists, by name, in hex. */
export async function computeVectors(): Promise<Record<string, string>> {
  const crypto = webHandshakeCrypto;
  const input = VECTOR_INPUTS;
  const [client, bank] = await Promise.all([
    crypto.signer(input.clientPrivateKey),
    crypto.signer(input.bankPrivateKey),
  ]);
  const keyId = await keyIdOf(crypto, client.publicKey);
  const [clientEnd, serverEnd] = PipeEnd.pair(1 << 16);
  const [server, session] = await Promise.all([
    serverHandshake(new FrameTransport(serverEnd, { frameBytesMax: FRAME_BYTES_MIN }), {
      bank,
      lookupKey: () => Promise.resolve(client),
      decoyPublicKey: client.publicKey,
      crypto,
      nonce: () => input.serverNonce,
      ephemeral: () => crypto.ephemeral(input.serverEphemeralPrivate),
    }),
    clientHandshake(new FrameTransport(clientEnd, { frameBytesMax: FRAME_BYTES_MIN }), {
      identity: input.identity,
      keyId,
      signer: client,
      bankPublicKey: bank.publicKey,
      crypto,
      nonce: () => input.clientNonce,
      ephemeral: () => crypto.ephemeral(input.clientEphemeralPrivate),
    }),
  ]);
  if (!server.ok || !session.ok) throw new Error("The vectors' handshake failed");
  const [hello, proof] = splitFrames(serverEnd);
  const [challenge, accept] = splitFrames(clientEnd);
  const [clientEphemeral, serverEphemeral] = await Promise.all([
    crypto.ephemeral(input.clientEphemeralPrivate),
    crypto.ephemeral(input.serverEphemeralPrivate),
  ]);
  const shared = (await clientEphemeral.agree(serverEphemeral.publicKey))!;
  const helloHash = await transcriptHash(crypto, [hello!, challenge!.subarray(0, 65)]);
  const keys = await deriveSessionKeys(crypto, { shared, helloHash });
  const request = await session.channel.seal(FrameType.sealedText, utf8("Check Balance"));
  const reply = await server.channel.seal(FrameType.sealedText, utf8("Balance: $500"));
  const hex = (bytes: Uint8Array) => toHex(bytes);
  return {
    client_public_key: hex(client.publicKey),
    key_id: hex(keyId),
    bank_public_key: hex(bank.publicKey),
    client_ephemeral_public: hex(clientEphemeral.publicKey),
    server_ephemeral_public: hex(serverEphemeral.publicKey),
    hello: hex(hello!),
    shared_secret: hex(shared),
    hello_hash: hex(helloHash),
    client_to_server_key: hex(keys.clientToServerKey),
    server_to_client_key: hex(keys.serverToClientKey),
    server_finished_key: hex(keys.serverFinishedKey),
    client_finished_key: hex(keys.clientFinishedKey),
    accept_key: hex(keys.acceptKey),
    challenge: hex(challenge!),
    proof: hex(proof!),
    transcript_hash: hex(session.transcript),
    accept: hex(accept!),
    first_request_frame: hex(request),
    first_answer_frame: hex(reply),
  };
}

/** The frame bodies one end of a pipe received. */
function splitFrames(end: PipeEnd): Uint8Array[] {
  return new FrameSplitter().push(concatBytes(end.received)).map((frame) => frame.slice(FRAME_HEADER_BYTES));
}

if (import.meta.main) {
  for (const [name, value] of Object.entries(await computeVectors())) {
    console.log(`${name.padEnd(24)} ${value}`);
  }
}
