/**
 * A client's own keys: making a key pair (the private half stays here; the bank is given the public half),
 * enrolling it from afar with a one-time invite code, and rotating it inside a session. Each new key signs
 * the session's transcript hash, so a key change cannot be replayed on another session.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { fromHex, randomBytes } from "../lib/bytes.ts";
import { encodePublicKeyFile, formatKeyId, keyIdOf } from "../protocol/credential.ts";
import type { ClientKey, Credential } from "../protocol/credential.ts";
import type { HandshakeCrypto, Signer } from "../protocol/handshake_crypto.ts";
import { webHandshakeCrypto } from "../protocol/handshake_crypto.ts";
import { inviteSeed } from "../protocol/invite.ts";
import { keyChangeSignedContent } from "../protocol/key_messages.ts";
import { KEY_BYTES } from "../protocol/limits.ts";
import { BankConnection, ClientError } from "./connection.ts";
import type { ConnectOptions } from "./connection.ts";

/** A key pair made here: the credential to keep (mode 0600), and the public key file to hand the bank. */
export interface GeneratedKey {
  credential: Credential;
  publicKey: Uint8Array;
  /** 32 hex digits: how the bank lists this key. */
  keyId: string;
  publicKeyFile: string;
}

/**
 * A key whose private half is kept elsewhere and only signs: a browser's non-extractable WebCrypto key.
 * Its credential is the {@link ClientKey} {@link heldClientKey} makes.
 */
export interface HeldKey {
  signer: Signer;
  publicKey: Uint8Array;
  /** 32 hex digits: how the bank lists this key. */
  keyId: string;
}

/** What a session needs of a held key. */
export function heldClientKey(
  key: HeldKey,
  parts: { identity: string; bankPublicKey: Uint8Array },
): ClientKey {
  const keyId = fromHex(key.keyId);
  assert(keyId !== null, "A held key's id is hex");
  return { identity: parts.identity, keyId, signer: key.signer, bankPublicKey: parts.bankPublicKey };
}

/** The signer of a key: made here (its seed is at hand) or held elsewhere (it signs for us). */
function signerOf(
  key: Credential | ClientKey | GeneratedKey | HeldKey,
  crypto: HandshakeCrypto,
): Promise<Signer> {
  if ("signer" in key) return Promise.resolve(key.signer);
  return crypto.signer("credential" in key ? key.credential.privateKey : key.privateKey);
}

/** Makes a fresh Ed25519 key pair for an identity that trusts the given bank key. */
export async function generateKey(
  request: { identity: string; bankPublicKey: Uint8Array },
  crypto: HandshakeCrypto = webHandshakeCrypto,
): Promise<GeneratedKey> {
  const privateKey = randomBytes(KEY_BYTES);
  const signer = await crypto.signer(privateKey);
  const keyId = formatKeyId(await keyIdOf(crypto, signer.publicKey));
  return {
    credential: { identity: request.identity, privateKey, bankPublicKey: request.bankPublicKey },
    publicKey: signer.publicKey,
    keyId,
    publicKeyFile: encodePublicKeyFile(signer.publicKey, request.identity),
  };
}

/** A key change the bank refused: its code (`key_invalid`, `key_exists`, `key_limit`, `not_allowed`). */
export class KeyChangeError extends Error {
  override name = "KeyChangeError";
  readonly code: string;

  constructor(code: string, message: string) {
    super(`The bank refused the key (${code}): ${message}`);
    this.code = code;
  }
}

/**
 * Enrols a new key with a one-time invite code: authenticates with the key the code stands for, registers
 * a key made here in its place, and returns the credential of the new key. The code never leaves.
 */
export async function enrolWithInvite(
  options: Omit<ConnectOptions, "credential"> & {
    identity: string;
    code: Uint8Array;
    bankPublicKey: Uint8Array;
    /** The key to enrol, when the caller made it already (to save it before it is registered). */
    fresh?: GeneratedKey | HeldKey;
  },
): Promise<GeneratedKey | HeldKey> {
  const crypto = options.crypto ?? webHandshakeCrypto;
  const privateKey = await inviteSeed(crypto, options.code, options.identity);
  const invite: Credential = { identity: options.identity, privateKey, bankPublicKey: options.bankPublicKey };
  const fresh = options.fresh ??
    await generateKey({ identity: options.identity, bankPublicKey: options.bankPublicKey }, crypto);
  const connection = await BankConnection.connect({ ...options, credential: invite }).catch((error) => {
    if (!(error instanceof ClientError) || error.failure?.code !== "handshake_failed") throw error;
    throw new ClientError(
      `The bank refused the invite code for ${options.identity}: it is wrong, used, expired or out of attempts`,
      error.failure,
    );
  });
  try {
    const signer = await signerOf(fresh, crypto);
    const binding = { transcript: connection.transcript, publicKey: fresh.publicKey };
    const signature = await signer.sign(keyChangeSignedContent("bank/2 enrol key", binding));
    const answer = await connection.send({ op: "enrol", id: "enrol", publicKey: fresh.publicKey, signature });
    if (!answer.ok) throw new KeyChangeError(answer.error.code, answer.error.message);
    assert(answer.result.keyId === fresh.keyId, "The bank names the key it registered");
    return fresh;
  } finally {
    await connection.close();
  }
}

/**
 * Replaces the key a connection authenticated with by a new one (both sign the change); returns the new
 * key's credential. The bank revokes the old key, so this session ends after the answer.
 */
export async function rotateKey<Fresh extends GeneratedKey | HeldKey = GeneratedKey>(
  connection: BankConnection,
  credential: Credential | ClientKey,
  options: { crypto?: HandshakeCrypto; fresh?: Fresh } = {},
): Promise<Fresh & { revokedKeyId: string }> {
  const crypto = options.crypto ?? webHandshakeCrypto;
  const fresh = options.fresh ?? await generateKey(credential, crypto) as Fresh;
  const [oldSigner, newSigner] = await Promise.all([
    signerOf(credential, crypto),
    signerOf(fresh, crypto),
  ]);
  const binding = { transcript: connection.transcript, publicKey: fresh.publicKey };
  const [newKeySignature, oldKeySignature] = await Promise.all([
    newSigner.sign(keyChangeSignedContent("bank/2 rotate new key", binding)),
    oldSigner.sign(keyChangeSignedContent("bank/2 rotate old key", binding)),
  ]);
  const answer = await connection.send({
    op: "rotate_key",
    id: "rotate",
    publicKey: fresh.publicKey,
    newKeySignature,
    oldKeySignature,
  });
  if (!answer.ok) throw new KeyChangeError(answer.error.code, answer.error.message);
  if (answer.result.keyId !== fresh.keyId) throw new ClientError("The bank registered another key than sent");
  return { ...fresh, revokedKeyId: answer.result.revokedKeyId };
}
