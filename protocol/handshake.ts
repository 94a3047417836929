/**
 * The per-connection handshake inside TLS, version 2: both sides send fresh X25519 ephemeral keys and
 * nonces; the bank signs the transcript with its Ed25519 key (which clients pin) and the client with its
 * own (of which the bank keeps only the public half); HMACs over the transcript confirm that both derived
 * the same keys. Session keys come from the ephemeral shared secret alone, so they are gone with the
 * ephemeral keys: a long-term key that leaks later decrypts no recorded session.
 *
 * ```
 * client -> server  HELLO      01 | 02 | name length | name | key id (16) | client nonce (32) | client ephemeral (32)
 * server -> client  CHALLENGE  02 | server nonce (32) | server ephemeral (32) | server signature (64) | server finished (32)
 * client -> server  PROOF      03 | client signature (64) | client finished (32)
 * server -> client  ACCEPT     04 | accept MAC (32)                          (or an error frame, then close)
 * ```
 *
 * docs/PROTOCOL.md section 4 specifies every byte; this module is that section in code.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { concatBytes, fromUtf8, utf8 } from "../lib/bytes.ts";
import { isIdentityName } from "./credential.ts";
import type { HandshakeCrypto } from "./handshake_crypto.ts";
import {
  ED25519_SIGNATURE_BYTES,
  HANDSHAKE_NONCE_BYTES,
  KEY_BYTES,
  KEY_ID_BYTES,
  MAC_BYTES,
} from "./limits.ts";
import { FrameType, PROTOCOL_VERSION } from "./wire.ts";

/** What the client sends first. */
export interface Hello {
  identity: string;
  keyId: Uint8Array;
  clientNonce: Uint8Array;
  clientEphemeral: Uint8Array;
}

/** The server's answer to a hello. */
export interface Challenge {
  serverNonce: Uint8Array;
  serverEphemeral: Uint8Array;
  serverSignature: Uint8Array;
  serverFinished: Uint8Array;
}

/** The client's proof of its key. */
export interface Proof {
  clientSignature: Uint8Array;
  clientFinished: Uint8Array;
}

/** The keys one handshake derives from its ephemeral shared secret. */
export interface SessionKeys {
  clientToServerKey: Uint8Array;
  serverToClientKey: Uint8Array;
  serverFinishedKey: Uint8Array;
  clientFinishedKey: Uint8Array;
  acceptKey: Uint8Array;
}

/** What each signature is for: the context string signed before the transcript hash. */
export type SignatureContext =
  | "bank/2 server signature"
  | "bank/2 client signature"
  | "bank/2 enrol key"
  | "bank/2 rotate new key"
  | "bank/2 rotate old key"
  | "bank/2 receipt";

const KEY_LABELS: Readonly<Record<keyof SessionKeys, string>> = {
  clientToServerKey: "bank/2 client to server key",
  serverToClientKey: "bank/2 server to client key",
  serverFinishedKey: "bank/2 server finished",
  clientFinishedKey: "bank/2 client finished",
  acceptKey: "bank/2 accept",
};
/** 64 spaces before every signed context, as TLS 1.3 does, so no signed text can be mistaken for another. */
const SIGNATURE_PAD = new Uint8Array(64).fill(0x20);

/** Bytes of a challenge before its signature: type, server nonce, server ephemeral. */
export const CHALLENGE_SIGNED_BYTES = 1 + HANDSHAKE_NONCE_BYTES + KEY_BYTES;
const CHALLENGE_BYTES = CHALLENGE_SIGNED_BYTES + ED25519_SIGNATURE_BYTES + MAC_BYTES;
/** Bytes of a proof before its finished MAC: type and client signature. */
export const PROOF_SIGNED_BYTES = 1 + ED25519_SIGNATURE_BYTES;
const PROOF_BYTES = PROOF_SIGNED_BYTES + MAC_BYTES;
const ACCEPT_BYTES = 1 + MAC_BYTES;

/** Builds a hello body. */
export function encodeHello(hello: Hello): Uint8Array {
  assert(isIdentityName(hello.identity), `Identity name "${hello.identity}" is not valid`);
  assert(hello.keyId.length === KEY_ID_BYTES, `A key id must be ${KEY_ID_BYTES} bytes`);
  assert(
    hello.clientNonce.length === HANDSHAKE_NONCE_BYTES,
    `A nonce must be ${HANDSHAKE_NONCE_BYTES} bytes`,
  );
  assert(hello.clientEphemeral.length === KEY_BYTES, `An ephemeral key must be ${KEY_BYTES} bytes`);
  const name = utf8(hello.identity);
  return concatBytes([
    new Uint8Array([FrameType.hello, PROTOCOL_VERSION, name.length]),
    name,
    hello.keyId,
    hello.clientNonce,
    hello.clientEphemeral,
  ]);
}

/** Reads a hello body; null when it is not a well-formed hello of this version. */
export function decodeHello(body: Uint8Array): Hello | null {
  if (body.length < 3 || body[0] !== FrameType.hello || body[1] !== PROTOCOL_VERSION) return null;
  const nameBytes = body[2]!;
  if (body.length !== 3 + nameBytes + KEY_ID_BYTES + HANDSHAKE_NONCE_BYTES + KEY_BYTES) return null;
  const identity = fromUtf8(body.subarray(3, 3 + nameBytes));
  if (identity === null || !isIdentityName(identity)) return null;
  let at = 3 + nameBytes;
  const take = (bytes: number) => body.slice(at, at += bytes);
  return {
    identity,
    keyId: take(KEY_ID_BYTES),
    clientNonce: take(HANDSHAKE_NONCE_BYTES),
    clientEphemeral: take(KEY_BYTES),
  };
}

/** The first {@link CHALLENGE_SIGNED_BYTES} bytes of a challenge: what the server's signature covers. */
export function encodeChallengeStart(serverNonce: Uint8Array, serverEphemeral: Uint8Array): Uint8Array {
  assert(serverNonce.length === HANDSHAKE_NONCE_BYTES, `A nonce must be ${HANDSHAKE_NONCE_BYTES} bytes`);
  assert(serverEphemeral.length === KEY_BYTES, `An ephemeral key must be ${KEY_BYTES} bytes`);
  return concatBytes([new Uint8Array([FrameType.challenge]), serverNonce, serverEphemeral]);
}

/** Builds a challenge body. */
export function encodeChallenge(challenge: Challenge): Uint8Array {
  assert(challenge.serverSignature.length === ED25519_SIGNATURE_BYTES, "A signature must be 64 bytes");
  assert(challenge.serverFinished.length === MAC_BYTES, `A MAC must be ${MAC_BYTES} bytes`);
  const body = concatBytes([
    encodeChallengeStart(challenge.serverNonce, challenge.serverEphemeral),
    challenge.serverSignature,
    challenge.serverFinished,
  ]);
  assert(body.length === CHALLENGE_BYTES, `A challenge is ${CHALLENGE_BYTES} bytes`);
  return body;
}

/** Reads a challenge body; null when malformed. */
export function decodeChallenge(body: Uint8Array): Challenge | null {
  if (body.length !== CHALLENGE_BYTES || body[0] !== FrameType.challenge) return null;
  let at = 1;
  const take = (bytes: number) => body.slice(at, at += bytes);
  return {
    serverNonce: take(HANDSHAKE_NONCE_BYTES),
    serverEphemeral: take(KEY_BYTES),
    serverSignature: take(ED25519_SIGNATURE_BYTES),
    serverFinished: take(MAC_BYTES),
  };
}

/** Builds a proof body. */
export function encodeProof(proof: Proof): Uint8Array {
  assert(proof.clientSignature.length === ED25519_SIGNATURE_BYTES, "A signature must be 64 bytes");
  assert(proof.clientFinished.length === MAC_BYTES, `A MAC must be ${MAC_BYTES} bytes`);
  return concatBytes([new Uint8Array([FrameType.proof]), proof.clientSignature, proof.clientFinished]);
}

/** Reads a proof body; null when malformed. */
export function decodeProof(body: Uint8Array): Proof | null {
  if (body.length !== PROOF_BYTES || body[0] !== FrameType.proof) return null;
  return {
    clientSignature: body.slice(1, 1 + ED25519_SIGNATURE_BYTES),
    clientFinished: body.slice(1 + ED25519_SIGNATURE_BYTES),
  };
}

/** Builds an accept body. */
export function encodeAccept(acceptMac: Uint8Array): Uint8Array {
  assert(acceptMac.length === MAC_BYTES, `A MAC must be ${MAC_BYTES} bytes`);
  return concatBytes([new Uint8Array([FrameType.accept]), acceptMac]);
}

/** Reads an accept body's MAC; null when malformed. */
export function decodeAccept(body: Uint8Array): Uint8Array | null {
  if (body.length !== ACCEPT_BYTES || body[0] !== FrameType.accept) return null;
  return body.slice(1);
}

/** SHA-256 over the transcript so far: the message bodies in the order they were sent. */
export function transcriptHash(crypto: HandshakeCrypto, parts: readonly Uint8Array[]): Promise<Uint8Array> {
  return crypto.sha256(concatBytes(parts));
}

/**
 * Every key of one session, from the X25519 shared secret with the hash of hello and challenge start
 * (both nonces, both ephemeral keys, the name, the key id and the version) as the HKDF salt.
 */
export async function deriveSessionKeys(
  crypto: HandshakeCrypto,
  material: { shared: Uint8Array; helloHash: Uint8Array },
): Promise<SessionKeys> {
  assert(material.shared.length === KEY_BYTES, `A shared secret must be ${KEY_BYTES} bytes`);
  const names = Object.keys(KEY_LABELS) as (keyof SessionKeys)[];
  const keys = await Promise.all(
    names.map((name) =>
      crypto.hkdfSha256(material.shared, { salt: material.helloHash, info: KEY_LABELS[name] })
    ),
  );
  return Object.fromEntries(names.map((name, index) => [name, keys[index]!])) as unknown as SessionKeys;
}

/** What a signature of `context` over a hash actually signs: 64 spaces, the context, a zero byte, the hash. */
export function signedContent(context: SignatureContext, parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes([SIGNATURE_PAD, utf8(context), new Uint8Array([0]), ...parts]);
}
