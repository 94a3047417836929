/**
 * Both sides of the handshake (handshake.ts), driven over a {@link FrameTransport}. They return a
 * {@link SealedChannel} ready for requests and the session's transcript hash (what in-session signatures
 * bind to), or a reason for the failure that the caller may log but must not send to the peer.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { randomBytes, timingSafeEqual } from "../lib/bytes.ts";
import type { AeadFactory } from "./aead.ts";
import { SealedChannel } from "./channel.ts";
import {
  CHALLENGE_SIGNED_BYTES,
  decodeAccept,
  decodeChallenge,
  decodeHello,
  decodeProof,
  deriveSessionKeys,
  encodeAccept,
  encodeChallenge,
  encodeChallengeStart,
  encodeHello,
  encodeProof,
  PROOF_SIGNED_BYTES,
  signedContent,
  transcriptHash,
} from "./handshake.ts";
import type { Hello, SessionKeys } from "./handshake.ts";
import type { Ephemeral, HandshakeCrypto, Signer } from "./handshake_crypto.ts";
import { webHandshakeCrypto } from "./handshake_crypto.ts";
import { HANDSHAKE_NONCE_BYTES } from "./limits.ts";
import type { FrameTransport } from "./transport.ts";
import { decodeErrorBody, FrameType } from "./wire.ts";
import type { WireErrorCode } from "./wire.ts";

/** Why a server-side handshake failed: for the server's log only. */
export type HandshakeFailure =
  | "closed_before_hello"
  | "hello_malformed"
  | "ephemeral_refused"
  | "unknown_key"
  | "closed_before_proof"
  | "proof_malformed"
  | "signature_invalid"
  | "finished_mismatch"
  | "frame_error"
  | "refused";

/** A key the server verifies clients with: at least its public half. */
export interface VerifyingKey {
  publicKey: Uint8Array;
}

export type ServerHandshakeResult<K extends VerifyingKey> =
  | { ok: true; identity: string; keyId: Uint8Array; key: K; channel: SealedChannel; transcript: Uint8Array }
  | { ok: false; reason: HandshakeFailure; detail: string; identity?: string; keyId?: Uint8Array };

/** Finds the active key an identity authenticates with, by key id; null when there is none. */
export type KeyLookup<K extends VerifyingKey> = (identity: string, keyId: Uint8Array) => Promise<K | null>;

/**
 * Decides, once a client has proven itself, whether it may open a session now: null to accept, or the
 * code sent instead of the accept (`rate_limited` when the identity holds as many sessions as it may).
 */
export type SessionAuthorizer = (identity: string) => WireErrorCode | null;

/** Where fresh values come from; tests fix them to reproduce the documented vectors. */
export interface HandshakeFreshness {
  nonce?: () => Uint8Array;
  ephemeral?: () => Promise<Ephemeral>;
}

/** What the server side needs besides the connection. */
export interface ServerHandshakeOptions<K extends VerifyingKey> extends HandshakeFreshness {
  /** The bank's signing key, whose public half clients pin. */
  bank: Signer;
  lookupKey: KeyLookup<K>;
  /** Verified against when no key matches, so that an unknown name costs what a wrong key costs. */
  decoyPublicKey: Uint8Array;
  authorize?: SessionAuthorizer;
  crypto?: HandshakeCrypto;
  aead?: AeadFactory;
}

/**
 * Runs the server side. A hello that names no active key is answered like any other and fails at the
 * proof, so the peer cannot tell unknown names from wrong keys.
 */
export async function serverHandshake<K extends VerifyingKey>(
  transport: FrameTransport,
  options: ServerHandshakeOptions<K>,
): Promise<ServerHandshakeResult<K>> {
  const crypto = options.crypto ?? webHandshakeCrypto;
  const helloFrame = await transport.next();
  if (helloFrame.kind === "end") return { ok: false, reason: "closed_before_hello", detail: "no hello" };
  if (helloFrame.kind === "error") return { ok: false, reason: "frame_error", detail: helloFrame.code };
  const hello = decodeHello(helloFrame.body);
  if (hello === null) return { ok: false, reason: "hello_malformed", detail: describeBody(helloFrame.body) };
  const named = { identity: hello.identity, keyId: hello.keyId };
  const [key, answer] = await Promise.all([
    options.lookupKey(hello.identity, hello.keyId),
    answerHello(crypto, { hello, helloBody: helloFrame.body, options }),
  ]);
  if (answer === null) return { ok: false, reason: "ephemeral_refused", detail: "small-order key", ...named };
  await transport.send(answer.challenge);

  const proofFrame = await transport.next();
  if (proofFrame.kind === "end") {
    return { ok: false, reason: "closed_before_proof", detail: "no proof", ...named };
  }
  if (proofFrame.kind === "error") {
    return { ok: false, reason: "frame_error", detail: proofFrame.code, ...named };
  }
  const transcript = [helloFrame.body, answer.challenge, proofFrame.body];
  const problem = await checkProof(crypto, { transcript, keys: answer.keys, key, options });
  if (problem !== null) return { ok: false, ...problem, ...named };
  const refusal = options.authorize?.(hello.identity) ?? null;
  if (refusal !== null) {
    await transport.sendError(refusal);
    return { ok: false, reason: "refused", detail: refusal, ...named };
  }
  const transcriptDigest = await transcriptHash(crypto, transcript);
  await transport.send(encodeAccept(await crypto.hmacSha256(answer.keys.acceptKey, transcriptDigest)));
  const channel = await openChannel(answer.keys, { role: "server", aead: options.aead });
  return { ok: true, ...named, key: key!, channel, transcript: transcriptDigest };
}

/** The challenge that answers a hello, and the session's keys; null when the client's ephemeral key is refused. */
async function answerHello<K extends VerifyingKey>(
  crypto: HandshakeCrypto,
  input: { hello: Hello; helloBody: Uint8Array; options: ServerHandshakeOptions<K> },
): Promise<{ challenge: Uint8Array; keys: SessionKeys } | null> {
  const { options } = input;
  const ephemeral = await (options.ephemeral?.() ?? crypto.ephemeral());
  const shared = await ephemeral.agree(input.hello.clientEphemeral);
  if (shared === null) return null;
  const serverNonce = options.nonce?.() ?? randomBytes(HANDSHAKE_NONCE_BYTES);
  const challengeStart = encodeChallengeStart(serverNonce, ephemeral.publicKey);
  const helloHash = await transcriptHash(crypto, [input.helloBody, challengeStart]);
  const keys = await deriveSessionKeys(crypto, { shared, helloHash });
  const serverSignature = await options.bank.sign(signedContent("bank/2 server signature", [helloHash]));
  const serverFinished = await crypto.hmacSha256(
    keys.serverFinishedKey,
    await transcriptHash(crypto, [input.helloBody, challengeStart, serverSignature]),
  );
  const challenge = encodeChallenge({
    serverNonce,
    serverEphemeral: ephemeral.publicKey,
    serverSignature,
    serverFinished,
  });
  return { challenge, keys };
}

/** Checks a proof against the transcript `[hello, challenge, proof]`: null when it holds, else why not. */
async function checkProof<K extends VerifyingKey>(
  crypto: HandshakeCrypto,
  input: { transcript: Uint8Array[]; keys: SessionKeys; key: K | null; options: ServerHandshakeOptions<K> },
): Promise<{ reason: HandshakeFailure; detail: string } | null> {
  const [helloBody, challenge, proofBody] = input.transcript as [Uint8Array, Uint8Array, Uint8Array];
  const proof = decodeProof(proofBody);
  if (proof === null) return { reason: "proof_malformed", detail: describeBody(proofBody) };
  const signed = signedContent("bank/2 client signature", [
    await transcriptHash(crypto, [helloBody, challenge]),
  ]);
  const publicKey = input.key?.publicKey ?? input.options.decoyPublicKey;
  const signatureValid = await crypto.verify(publicKey, signed, proof.clientSignature);
  if (input.key === null) return { reason: "unknown_key", detail: "no such active key" };
  if (!signatureValid) return { reason: "signature_invalid", detail: "wrong key" };
  const clientFinished = await crypto.hmacSha256(
    input.keys.clientFinishedKey,
    await transcriptHash(crypto, [helloBody, challenge, proofBody.subarray(0, PROOF_SIGNED_BYTES)]),
  );
  return timingSafeEqual(clientFinished, proof.clientFinished)
    ? null
    : { reason: "finished_mismatch", detail: "keys differ" };
}

/** Who the client is and whom it expects: its key and the bank's pinned public key. */
export interface ClientHandshakeOptions extends HandshakeFreshness {
  identity: string;
  keyId: Uint8Array;
  signer: Signer;
  bankPublicKey: Uint8Array;
  crypto?: HandshakeCrypto;
  aead?: AeadFactory;
}

/** Why the client side failed, in words for its user. */
export type ClientHandshakeResult =
  | { ok: true; channel: SealedChannel; transcript: Uint8Array }
  | { ok: false; error: string; code?: WireErrorCode };

/** Runs the client side: checks that the server holds the bank's key, then proves its own. */
export async function clientHandshake(
  transport: FrameTransport,
  options: ClientHandshakeOptions,
): Promise<ClientHandshakeResult> {
  const crypto = options.crypto ?? webHandshakeCrypto;
  const ephemeral = await (options.ephemeral?.() ?? crypto.ephemeral());
  const hello = encodeHello({
    identity: options.identity,
    keyId: options.keyId,
    clientNonce: options.nonce?.() ?? randomBytes(HANDSHAKE_NONCE_BYTES),
    clientEphemeral: ephemeral.publicKey,
  });
  await transport.send(hello);
  const challengeFrame = await transport.next();
  if (challengeFrame.kind !== "frame") {
    return { ok: false, error: "Server closed the connection during the handshake" };
  }
  const serverError = decodeErrorBody(challengeFrame.body);
  if (serverError !== null) return { ok: false, error: `Server refused: ${serverError}`, code: serverError };
  const challenge = decodeChallenge(challengeFrame.body);
  if (challenge === null) return { ok: false, error: "Server sent a malformed challenge" };
  const notTheBank = {
    ok: false,
    error: "Server could not prove it holds the bank's key: not the bank",
  } as const;
  const shared = await ephemeral.agree(challenge.serverEphemeral);
  if (shared === null) return notTheBank;
  const challengeStart = challengeFrame.body.subarray(0, CHALLENGE_SIGNED_BYTES);
  const helloHash = await transcriptHash(crypto, [hello, challengeStart]);
  const signed = signedContent("bank/2 server signature", [helloHash]);
  if (!(await crypto.verify(options.bankPublicKey, signed, challenge.serverSignature))) return notTheBank;
  const keys = await deriveSessionKeys(crypto, { shared, helloHash });
  const serverFinished = await crypto.hmacSha256(
    keys.serverFinishedKey,
    await transcriptHash(crypto, [hello, challengeStart, challenge.serverSignature]),
  );
  if (!timingSafeEqual(serverFinished, challenge.serverFinished)) return notTheBank;

  const challengeHash = await transcriptHash(crypto, [hello, challengeFrame.body]);
  const clientSignature = await options.signer.sign(
    signedContent("bank/2 client signature", [challengeHash]),
  );
  const clientFinished = await crypto.hmacSha256(
    keys.clientFinishedKey,
    await transcriptHash(crypto, [
      hello,
      challengeFrame.body,
      new Uint8Array([FrameType.proof]),
      clientSignature,
    ]),
  );
  const proof = encodeProof({ clientSignature, clientFinished });
  await transport.send(proof);

  const acceptFrame = await transport.next();
  if (acceptFrame.kind !== "frame") {
    return { ok: false, error: "Server closed the connection during the handshake" };
  }
  const refusal = decodeErrorBody(acceptFrame.body);
  if (refusal !== null) return { ok: false, error: `Server refused: ${refusal}`, code: refusal };
  const acceptMac = decodeAccept(acceptFrame.body);
  if (acceptMac === null) return { ok: false, error: "Server sent a malformed accept" };
  const transcript = await transcriptHash(crypto, [hello, challengeFrame.body, proof]);
  if (!timingSafeEqual(acceptMac, await crypto.hmacSha256(keys.acceptKey, transcript))) return notTheBank;
  const channel = await openChannel(keys, { role: "client", aead: options.aead });
  assert(channel.sentFrames === 0n, "A new channel starts at sequence 0");
  return { ok: true, channel, transcript };
}

function openChannel(
  keys: SessionKeys,
  options: { role: "client" | "server"; aead: AeadFactory | undefined },
): Promise<SealedChannel> {
  return SealedChannel.create(keys, {
    role: options.role,
    ...(options.aead === undefined ? {} : { aead: options.aead }),
  });
}

/** Describes a body for a log line without echoing its bytes. */
function describeBody(body: Uint8Array): string {
  return `${body.length} bytes, type 0x${(body[0] ?? 0).toString(16).padStart(2, "0")}`;
}
