/**
 * The `node:crypto` implementations of the protocol's primitives, for the server and the bench: AES-256-GCM
 * byte for byte what {@link webCryptoAead} produces, and the handshake's primitives as
 * `handshake_crypto.ts` specifies them. They run on the calling thread and are several times faster than
 * WebCrypto for small messages. The one module of `protocol/` that imports `node:*`: browser code never
 * imports it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  sign,
  verify,
} from "node:crypto";
import type { KeyObject } from "node:crypto";
import { assert } from "../lib/assert.ts";
import { concatBytes, utf8 } from "../lib/bytes.ts";
import type { Aead, AeadFactory } from "./aead.ts";
import { webCryptoAead } from "./aead.ts";
import {
  isAllZero,
  PKCS8_PREFIX_ED25519,
  PKCS8_PREFIX_X25519,
  SPKI_PREFIX_ED25519,
} from "./handshake_crypto.ts";
import type { Ephemeral, HandshakeCrypto, Signer } from "./handshake_crypto.ts";
import {
  AES_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  KEY_BYTES,
} from "./limits.ts";

/** The GCM mode name and options `node:crypto` needs, with the tag length spelled out. */
const NODE_GCM_CIPHER = "aes-256-gcm";
const NODE_GCM_OPTIONS = { authTagLength: GCM_TAG_BYTES } as const;

/** What one seal or open works on, besides the key. */
interface GcmInput {
  nonce: Uint8Array;
  aad: Uint8Array;
}

/**
 * AES-256-GCM through `node:crypto`, byte for byte what {@link webCryptoAead} produces. The work runs on
 * the calling thread (no hop to a thread pool); results still come as promises, and failed asserts as
 * rejections, exactly as from {@link webCryptoAead}. The key is copied into a `KeyObject` that only this
 * closure holds.
 */
export const nodeCryptoAead: AeadFactory = (keyBytes) =>
  Promise.try(() => {
    assert(
      keyBytes.length === AES_KEY_BYTES,
      `AES-256 key must be ${AES_KEY_BYTES} bytes, got ${keyBytes.length}`,
    );
    const key = createSecretKey(new Uint8Array(keyBytes));
    assert(key.symmetricKeySize === AES_KEY_BYTES, "Key object must hold the whole key");
    const aead: Aead = {
      seal: (nonce, plaintext, aad) => Promise.try(() => nodeSeal(key, plaintext, { nonce, aad })),
      open: (nonce, sealed, aad) => Promise.try(() => nodeOpen(key, sealed, { nonce, aad })),
    };
    return aead;
  });

function nodeSeal(key: KeyObject, plaintext: Uint8Array, input: GcmInput): Uint8Array {
  assert(input.nonce.length === GCM_NONCE_BYTES, `GCM nonce must be ${GCM_NONCE_BYTES} bytes`);
  const cipher = createCipheriv(NODE_GCM_CIPHER, key, input.nonce, NODE_GCM_OPTIONS);
  cipher.setAAD(input.aad);
  // Copied into a fresh array: a Buffer may be a view of a shared pool.
  const sealed = new Uint8Array(plaintext.length + GCM_TAG_BYTES);
  const head = cipher.update(plaintext);
  sealed.set(head, 0);
  const tail = cipher.final();
  sealed.set(tail, head.length);
  assert(head.length + tail.length === plaintext.length, "GCM ciphertext must be as long as the plaintext");
  const tag = cipher.getAuthTag();
  assert(tag.length === GCM_TAG_BYTES, `GCM tag must be ${GCM_TAG_BYTES} bytes, got ${tag.length}`);
  sealed.set(tag, plaintext.length);
  return sealed;
}

function nodeOpen(key: KeyObject, sealed: Uint8Array, input: GcmInput): Uint8Array | null {
  assert(input.nonce.length === GCM_NONCE_BYTES, `GCM nonce must be ${GCM_NONCE_BYTES} bytes`);
  if (sealed.length < GCM_TAG_BYTES) return null;
  const ciphertextBytes = sealed.length - GCM_TAG_BYTES;
  const decipher = createDecipheriv(NODE_GCM_CIPHER, key, input.nonce, NODE_GCM_OPTIONS);
  decipher.setAAD(input.aad);
  decipher.setAuthTag(sealed.subarray(ciphertextBytes));
  const plaintext = new Uint8Array(ciphertextBytes);
  const head = decipher.update(sealed.subarray(0, ciphertextBytes));
  plaintext.set(head, 0);
  let tail: Uint8Array;
  try {
    tail = decipher.final();
  } catch {
    // final() throws exactly when the tag does not verify: the unverified bytes never leave.
    head.fill(0);
    plaintext.fill(0);
    return null;
  }
  plaintext.set(tail, head.length);
  assert(head.length + tail.length === ciphertextBytes, "GCM plaintext must be as long as the ciphertext");
  return plaintext;
}

/**
 * Messages up to this size go through `node:crypto` (several times faster on small messages); larger ones
 * through WebCrypto, which is faster there and runs off the main thread. Both give identical bytes.
 */
export const HYBRID_THRESHOLD_BYTES = 8 * 1024;

/** `node:crypto` for small messages, WebCrypto for large ones: the fastest conforming primitive measured. */
export const hybridAead: AeadFactory = async (keyBytes) => {
  const [small, large] = await Promise.all([nodeCryptoAead(keyBytes), webCryptoAead(keyBytes)]);
  return {
    seal: (nonce, plaintext, aad) =>
      (plaintext.length <= HYBRID_THRESHOLD_BYTES ? small : large).seal(nonce, plaintext, aad),
    open: (nonce, sealed, aad) =>
      (sealed.length <= HYBRID_THRESHOLD_BYTES + GCM_TAG_BYTES ? small : large).open(nonce, sealed, aad),
  };
};

/** The primitive the server and the bench client use. */
export const FAST_AEAD: AeadFactory = hybridAead;

/** Names of the AES-256-GCM implementations, for configuration and benchmarks. */
export type AeadName = "webcrypto" | "node" | "hybrid";

/** The AES-256-GCM implementation with this name. */
export function aeadByName(name: AeadName): AeadFactory {
  if (name === "webcrypto") return webCryptoAead;
  if (name === "node") return nodeCryptoAead;
  assert(name === "hybrid", `Unknown AEAD "${name}"`);
  return hybridAead;
}

const SPKI_PREFIX_X25519 = new Uint8Array([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x03,
  0x21,
  0x00,
]);

function nodePrivateKey(prefix: Uint8Array, raw: Uint8Array): KeyObject {
  assert(raw.length === KEY_BYTES, `A private key must be ${KEY_BYTES} bytes, got ${raw.length}`);
  return createPrivateKey({ key: Buffer.from(concatBytes([prefix, raw])), format: "der", type: "pkcs8" });
}

function nodePublicKey(prefix: Uint8Array, raw: Uint8Array): KeyObject | null {
  if (raw.length !== KEY_BYTES) return null;
  try {
    return createPublicKey({ key: Buffer.from(concatBytes([prefix, raw])), format: "der", type: "spki" });
  } catch {
    return null;
  }
}

/** The raw 32 bytes of a public key object (its SPKI encoding without the fixed prefix). */
function rawPublicKey(key: KeyObject): Uint8Array {
  const spki = new Uint8Array(key.export({ format: "der", type: "spki" }));
  assert(spki.length === SPKI_PREFIX_ED25519.length + KEY_BYTES, "An SPKI key is its prefix and 32 bytes");
  return spki.slice(SPKI_PREFIX_ED25519.length);
}

/** The handshake's primitives through `node:crypto`: the same results as {@link webHandshakeCrypto}. */
export const nodeHandshakeCrypto: HandshakeCrypto = {
  sha256: (data) => Promise.try(() => new Uint8Array(createHash("sha256").update(data).digest())),
  hmacSha256: (key, data) =>
    Promise.try(() => new Uint8Array(createHmac("sha256", key).update(data).digest())),
  hkdfSha256: (keyMaterial, options) =>
    Promise.try(() =>
      new Uint8Array(hkdfSync("sha256", keyMaterial, options.salt, utf8(options.info), KEY_BYTES))
    ),
  ephemeral: (privateKey) =>
    Promise.try(() => {
      const ownKey = privateKey === undefined
        ? generateKeyPairSync("x25519").privateKey
        : nodePrivateKey(PKCS8_PREFIX_X25519, privateKey);
      const publicKey = rawPublicKey(createPublicKey(ownKey));
      const ephemeral: Ephemeral = {
        publicKey,
        agree: (peerPublicKey) =>
          Promise.try(() => {
            const peer = nodePublicKey(SPKI_PREFIX_X25519, peerPublicKey);
            if (peer === null) return null;
            try {
              const shared = new Uint8Array(diffieHellman({ privateKey: ownKey, publicKey: peer }));
              return isAllZero(shared) ? null : shared;
            } catch {
              return null;
            }
          }),
      };
      return ephemeral;
    }),
  signer: (seed) =>
    Promise.try(() => {
      const key = nodePrivateKey(PKCS8_PREFIX_ED25519, seed);
      const signer: Signer = {
        publicKey: rawPublicKey(createPublicKey(key)),
        sign: (message) => Promise.try(() => new Uint8Array(sign(null, message, key))),
      };
      return signer;
    }),
  verify: (publicKey, message, signature) =>
    Promise.try(() => {
      const key = nodePublicKey(SPKI_PREFIX_ED25519, publicKey);
      if (key === null || signature.length !== ED25519_SIGNATURE_BYTES) return false;
      try {
        return verify(null, message, key, signature);
      } catch {
        return false;
      }
    }),
};
