/**
 * Both sides of the handshake, driven over a {@link FrameTransport}. They return a {@link SealedChannel}
 * ready for requests, or a reason for the failure that the caller may log but must not send to the peer.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import type { AeadFactory } from "./aead.ts";
import { randomBytes, timingSafeEqual } from "../lib/bytes.ts";
import { SealedChannel } from "./channel.ts";
import type { Credential } from "./credential.ts";
import {
  decodeHello,
  decodeValueBody,
  deriveAuthKey,
  deriveSessionSecrets,
  encodeHello,
  encodeValueBody,
} from "./handshake.ts";
import { HANDSHAKE_NONCE_BYTES } from "./limits.ts";
import type { FrameTransport } from "./transport.ts";
import { decodeErrorBody, FrameType } from "./wire.ts";
import type { WireErrorCode } from "./wire.ts";

/** Why a server-side handshake failed: for the server's log only. */
export type HandshakeFailure =
  | "closed_before_hello"
  | "hello_malformed"
  | "unknown_identity"
  | "closed_before_proof"
  | "proof_malformed"
  | "proof_mismatch"
  | "frame_error"
  | "refused";

export type ServerHandshakeResult =
  | { ok: true; identity: string; channel: SealedChannel }
  | { ok: false; reason: HandshakeFailure; detail: string; identity?: string };

/** Looks up the auth key of an identity the server knows, or null. */
export type AuthKeyLookup = (identity: string) => Uint8Array | null | Promise<Uint8Array | null>;

/**
 * Decides, once an identity has proven itself, whether it may open a session now: null to accept, or the
 * code sent instead of the accept (`rate_limited` when it holds as many sessions as it may).
 */
export type SessionAuthorizer = (identity: string) => WireErrorCode | null;

/**
 * Runs the server side. An unknown identity is answered with a challenge like any other (under a decoy key
 * the client cannot know), so the peer cannot tell unknown names from wrong secrets.
 */
export async function serverHandshake(
  transport: FrameTransport,
  options: {
    lookupAuthKey: AuthKeyLookup;
    decoyAuthKey: Uint8Array;
    authorize?: SessionAuthorizer;
    aead?: AeadFactory;
  },
): Promise<ServerHandshakeResult> {
  const helloFrame = await transport.next();
  if (helloFrame.kind === "end") return { ok: false, reason: "closed_before_hello", detail: "no hello" };
  if (helloFrame.kind === "error") return { ok: false, reason: "frame_error", detail: helloFrame.code };
  const hello = decodeHello(helloFrame.body);
  if (hello === null) return { ok: false, reason: "hello_malformed", detail: describeBody(helloFrame.body) };

  const authKey = await options.lookupAuthKey(hello.identity);
  const challenge = encodeValueBody(FrameType.challenge, randomBytes(HANDSHAKE_NONCE_BYTES));
  await transport.send(challenge);
  const secrets = await deriveSessionSecrets(authKey ?? options.decoyAuthKey, {
    hello: helloFrame.body,
    challenge,
  });

  const proofFrame = await transport.next();
  const identity = hello.identity;
  if (proofFrame.kind === "end") {
    return { ok: false, reason: "closed_before_proof", detail: "no proof", identity };
  }
  if (proofFrame.kind === "error") {
    return { ok: false, reason: "frame_error", detail: proofFrame.code, identity };
  }
  const proof = decodeValueBody(FrameType.proof, proofFrame.body);
  if (proof === null) {
    return { ok: false, reason: "proof_malformed", detail: describeBody(proofFrame.body), identity };
  }
  const proofMatches = timingSafeEqual(proof, secrets.clientProof);
  if (authKey === null) {
    return { ok: false, reason: "unknown_identity", detail: "no such identity", identity };
  }
  if (!proofMatches) return { ok: false, reason: "proof_mismatch", detail: "wrong key", identity };
  const refusal = options.authorize?.(identity) ?? null;
  if (refusal !== null) {
    await transport.sendError(refusal);
    return { ok: false, reason: "refused", detail: refusal, identity };
  }

  await transport.send(encodeValueBody(FrameType.accept, secrets.serverProof));
  const channel = await SealedChannel.create(secrets, { role: "server", ...aeadOption(options.aead) });
  return { ok: true, identity, channel };
}

/** Why the client side failed, in words for its user. */
export type ClientHandshakeResult =
  | { ok: true; channel: SealedChannel }
  | { ok: false; error: string; code?: WireErrorCode };

/** Runs the client side: proves the credential and checks that the server knows it too. */
export async function clientHandshake(
  transport: FrameTransport,
  credential: Credential,
  options: { aead?: AeadFactory } = {},
): Promise<ClientHandshakeResult> {
  const hello = encodeHello({
    identity: credential.identity,
    clientNonce: randomBytes(HANDSHAKE_NONCE_BYTES),
  });
  await transport.send(hello);
  const challengeFrame = await transport.next();
  if (challengeFrame.kind !== "frame") {
    return { ok: false, error: "server closed the connection during handshake" };
  }
  const serverError = decodeErrorBody(challengeFrame.body);
  if (serverError !== null) return { ok: false, error: `server refused: ${serverError}`, code: serverError };
  if (decodeValueBody(FrameType.challenge, challengeFrame.body) === null) {
    return { ok: false, error: "server sent a malformed challenge" };
  }
  const authKey = await deriveAuthKey(credential.secret);
  const secrets = await deriveSessionSecrets(authKey, { hello, challenge: challengeFrame.body });
  await transport.send(encodeValueBody(FrameType.proof, secrets.clientProof));

  const acceptFrame = await transport.next();
  if (acceptFrame.kind !== "frame") {
    return { ok: false, error: "server closed the connection during handshake" };
  }
  const refusal = decodeErrorBody(acceptFrame.body);
  if (refusal !== null) return { ok: false, error: `server refused: ${refusal}`, code: refusal };
  const serverProof = decodeValueBody(FrameType.accept, acceptFrame.body);
  if (serverProof === null) return { ok: false, error: "server sent a malformed accept" };
  if (!timingSafeEqual(serverProof, secrets.serverProof)) {
    return { ok: false, error: "server could not prove it knows this identity" };
  }
  const channel = await SealedChannel.create(secrets, { role: "client", ...aeadOption(options.aead) });
  assert(channel.sentFrames === 0n, "A new channel starts at sequence 0");
  return { ok: true, channel };
}

function aeadOption(aead: AeadFactory | undefined): { aead?: AeadFactory } {
  return aead === undefined ? {} : { aead };
}

/** Describes a body for a log line without echoing its bytes. */
function describeBody(body: Uint8Array): string {
  return `${body.length} bytes, type 0x${(body[0] ?? 0).toString(16).padStart(2, "0")}`;
}
