/**
 * Key changes inside a session: enrolment (a session authenticated with an invite's key registers the
 * client's own new key in its place) and rotation (a device's session replaces its key with a new one,
 * signed by both). Each new key must sign this session's transcript, so a request cannot be replayed on
 * another session, and must pass the same checks as a key an operator registers.
 *
 * @module
 */
import { formatKeyId, keyIdOf } from "../../protocol/credential.ts";
import { keyChangeSignedContent } from "../../protocol/key_messages.ts";
import { checkPublicKey, describeKeyChange } from "../identities.ts";
import type { KeyChangeResult } from "../ledger/ledger.ts";
import type { BankRequest, Failure, HandlerContext, Outcome } from "./types.ts";

type Enrol = Extract<BankRequest, { operation: "enrol" }>;
type Rotate = Extract<BankRequest, { operation: "rotate_key" }>;

/** Registers the client's new key in place of the invite its session authenticated with. */
export async function handleEnrol(request: Enrol, context: HandlerContext): Promise<Outcome> {
  const { session } = context;
  if (session.kind !== "invite") {
    return refused("enrol", "not_allowed", "only an invite's session enrols a key");
  }
  const problem = checkPublicKey(request.publicKey);
  if (problem !== null) return refused("enrol", "key_invalid", `the public key is refused: ${problem}`);
  const binding = { transcript: session.transcript, publicKey: request.publicKey };
  const signed = keyChangeSignedContent("bank/2 enrol key", binding);
  if (!(await session.crypto.verify(request.publicKey, signed, request.signature))) {
    return refused(
      "enrol",
      "key_invalid",
      "the signature does not verify with the new key over this session",
    );
  }
  const { keyId, result } = await replaceSessionKey(request.publicKey, context);
  return result === "ok"
    ? { operation: "enrol", ok: true, keyId }
    : keyRefusal("enrol", result, context.identity);
}

/** Replaces the session's own device key with a new one; both keys sign the change. */
export async function handleRotateKey(request: Rotate, context: HandlerContext): Promise<Outcome> {
  const { session } = context;
  if (session.kind !== "device") {
    return refused("rotate_key", "not_allowed", "only a device's session rotates its key");
  }
  const problem = checkPublicKey(request.publicKey);
  if (problem !== null) return refused("rotate_key", "key_invalid", `the public key is refused: ${problem}`);
  const binding = { transcript: session.transcript, publicKey: request.publicKey };
  const [newValid, oldValid] = await Promise.all([
    session.crypto.verify(
      request.publicKey,
      keyChangeSignedContent("bank/2 rotate new key", binding),
      request.newKeySignature,
    ),
    session.crypto.verify(
      session.publicKey,
      keyChangeSignedContent("bank/2 rotate old key", binding),
      request.oldKeySignature,
    ),
  ]);
  if (!newValid || !oldValid) {
    return refused("rotate_key", "key_invalid", "both keys must sign the new key over this session");
  }
  const { keyId, result } = await replaceSessionKey(request.publicKey, context);
  if (result !== "ok") return keyRefusal("rotate_key", result, context.identity);
  return { operation: "rotate_key", ok: true, keyId, revokedKeyId: session.keyId };
}

/** Registers `publicKey` as a device key in place of the key this session authenticated with. */
async function replaceSessionKey(
  publicKey: Uint8Array,
  context: HandlerContext,
): Promise<{ keyId: string; result: KeyChangeResult }> {
  const { session } = context;
  const keyId = formatKeyId(await keyIdOf(session.crypto, publicKey));
  const key = { kind: "device" as const, keyId, publicKey };
  return {
    keyId,
    result: await session.identities.replaceKey(context.identity, { oldKeyId: session.keyId, key }),
  };
}

function refused(operation: "enrol" | "rotate_key", code: Failure["code"], message: string): Failure {
  return { operation, ok: false, code, message };
}

function keyRefusal(
  operation: "enrol" | "rotate_key",
  result: Exclude<KeyChangeResult, "ok">,
  name: string,
): Failure {
  const codes = { not_found: "not_allowed", key_exists: "key_exists", key_limit: "key_limit" } as const;
  return refused(operation, codes[result], describeKeyChange(result, name).toLowerCase());
}
