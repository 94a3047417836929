/**
 * The per-connection handshake inside TLS. The client names its identity and sends a fresh nonce; the
 * server answers with its own fresh nonce; both derive proofs and session keys with HKDF-SHA-256 from the
 * identity's auth key, salted with a hash of the transcript. Each side proves possession of the key without
 * sending it, and each session gets one AES-256-GCM key per direction.
 *
 * ```
 * client -> server  HELLO      01 | version | name length | name | client nonce (32)
 * server -> client  CHALLENGE  02 | server nonce (32)
 * client -> server  PROOF      03 | client proof (32)
 * server -> client  ACCEPT     04 | server proof (32)       (or an error frame, then close)
 * ```
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { concatBytes, fromUtf8, utf8 } from "../lib/bytes.ts";
import { AES_KEY_BYTES, HANDSHAKE_NONCE_BYTES, PROOF_BYTES, SECRET_BYTES } from "./limits.ts";
import { isIdentityName } from "./credential.ts";
import { FrameType, PROTOCOL_VERSION } from "./wire.ts";

/** Everything a session needs after a successful handshake. */
export interface SessionSecrets {
  clientProof: Uint8Array;
  serverProof: Uint8Array;
  clientToServerKey: Uint8Array;
  serverToClientKey: Uint8Array;
}

/** What the server learns from a well-formed hello. */
export interface Hello {
  identity: string;
  clientNonce: Uint8Array;
}

const LABEL_AUTH_KEY = "bank/1 identity auth key";
const LABEL_CLIENT_PROOF = "bank/1 client proof";
const LABEL_SERVER_PROOF = "bank/1 server proof";
const LABEL_CLIENT_TO_SERVER = "bank/1 client to server key";
const LABEL_SERVER_TO_CLIENT = "bank/1 server to client key";

/**
 * Derives the auth key the server stores for an identity. The raw secret stays with the client; the server
 * keeps only this key, which is all it needs to verify proofs.
 */
export async function deriveAuthKey(secret: Uint8Array): Promise<Uint8Array> {
  assert(secret.length === SECRET_BYTES, `Secret must be ${SECRET_BYTES} bytes, got ${secret.length}`);
  const authKey = await hkdf(secret, { salt: new Uint8Array(0), label: LABEL_AUTH_KEY });
  assert(authKey.length === AES_KEY_BYTES, "Auth key must be 32 bytes");
  return authKey;
}

/** Derives both proofs and both direction keys for one handshake transcript. */
export async function deriveSessionSecrets(
  authKey: Uint8Array,
  transcript: { hello: Uint8Array; challenge: Uint8Array },
): Promise<SessionSecrets> {
  assert(authKey.length === AES_KEY_BYTES, "Auth key must be 32 bytes");
  const salt = new Uint8Array(
    await crypto.subtle.digest("SHA-256", concatBytes([transcript.hello, transcript.challenge])),
  );
  const [clientProof, serverProof, clientToServerKey, serverToClientKey] = await Promise.all([
    hkdf(authKey, { salt, label: LABEL_CLIENT_PROOF }),
    hkdf(authKey, { salt, label: LABEL_SERVER_PROOF }),
    hkdf(authKey, { salt, label: LABEL_CLIENT_TO_SERVER }),
    hkdf(authKey, { salt, label: LABEL_SERVER_TO_CLIENT }),
  ]);
  return { clientProof, serverProof, clientToServerKey, serverToClientKey };
}

/** Builds a hello body. */
export function encodeHello(hello: Hello): Uint8Array {
  assert(isIdentityName(hello.identity), `Identity name "${hello.identity}" is not valid`);
  assert(hello.clientNonce.length === HANDSHAKE_NONCE_BYTES, "Client nonce must be 32 bytes");
  const name = utf8(hello.identity);
  return concatBytes([
    new Uint8Array([FrameType.hello, PROTOCOL_VERSION, name.length]),
    name,
    hello.clientNonce,
  ]);
}

/** Reads a hello body; null when it is not a well-formed hello of our version. */
export function decodeHello(body: Uint8Array): Hello | null {
  if (body.length < 3 || body[0] !== FrameType.hello || body[1] !== PROTOCOL_VERSION) return null;
  const nameBytes = body[2]!;
  if (body.length !== 3 + nameBytes + HANDSHAKE_NONCE_BYTES) return null;
  const identity = fromUtf8(body.subarray(3, 3 + nameBytes));
  if (identity === null || !isIdentityName(identity)) return null;
  return { identity, clientNonce: body.slice(3 + nameBytes) };
}

/** Builds a body that carries one 32-byte value after its type byte (challenge, proof, accept). */
export function encodeValueBody(type: FrameType, value: Uint8Array): Uint8Array {
  assert(value.length === HANDSHAKE_NONCE_BYTES, `Handshake value must be 32 bytes, got ${value.length}`);
  assert(HANDSHAKE_NONCE_BYTES === PROOF_BYTES, "Nonces and proofs must share one size");
  return concatBytes([new Uint8Array([type]), value]);
}

/** Reads the 32-byte value of a challenge, proof or accept body; null when malformed. */
export function decodeValueBody(type: FrameType, body: Uint8Array): Uint8Array | null {
  if (body.length !== 1 + PROOF_BYTES || body[0] !== type) return null;
  return body.slice(1);
}

async function hkdf(
  keyMaterial: Uint8Array,
  options: { salt: Uint8Array; label: string },
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new Uint8Array(keyMaterial), "HKDF", false, [
    "deriveBits",
  ]);
  const params = {
    name: "HKDF",
    hash: "SHA-256",
    salt: new Uint8Array(options.salt),
    info: utf8(options.label),
  };
  return new Uint8Array(await crypto.subtle.deriveBits(params, key, AES_KEY_BYTES * 8));
}
