/**
 * AES-256-GCM behind one small interface, so the primitive can change without touching callers. Two
 * implementations produce the same bytes (12-byte nonce, 16-byte tag appended to the ciphertext, AAD as
 * given): WebCrypto, and `node:crypto`, which runs on the calling thread and is several times faster for
 * small frames. Callers supply the nonce: the channel derives it from a per-direction counter, so it is
 * never reused under a key.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createSecretKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { assert } from "../lib/assert.ts";
import { AES_KEY_BYTES, GCM_NONCE_BYTES, GCM_TAG_BYTES } from "./limits.ts";

/** Seals and opens with one fixed key. */
export interface Aead {
  /** Returns ciphertext followed by the 16-byte tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Returns the plaintext, or null when the tag does not verify (wrong key, nonce, AAD or bytes). */
  open(nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array | null>;
}

/** Makes an {@link Aead} from a raw 256-bit key. */
export type AeadFactory = (key: Uint8Array) => Promise<Aead>;

/** AES-256-GCM through WebCrypto, with IV and tag length spelled out. */
export const webCryptoAead: AeadFactory = async (keyBytes) => {
  assert(
    keyBytes.length === AES_KEY_BYTES,
    `AES-256 key must be ${AES_KEY_BYTES} bytes, got ${keyBytes.length}`,
  );
  const key = await crypto.subtle.importKey("raw", new Uint8Array(keyBytes), { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
  const tagLength = GCM_TAG_BYTES * 8;
  return {
    async seal(nonce, plaintext, aad) {
      assert(nonce.length === GCM_NONCE_BYTES, `GCM nonce must be ${GCM_NONCE_BYTES} bytes`);
      const params = {
        name: "AES-GCM",
        iv: new Uint8Array(nonce),
        additionalData: new Uint8Array(aad),
        tagLength,
      };
      const sealed = new Uint8Array(await crypto.subtle.encrypt(params, key, new Uint8Array(plaintext)));
      assert(sealed.length === plaintext.length + GCM_TAG_BYTES, "Sealed bytes must be plaintext plus tag");
      return sealed;
    },
    async open(nonce, sealed, aad) {
      assert(nonce.length === GCM_NONCE_BYTES, `GCM nonce must be ${GCM_NONCE_BYTES} bytes`);
      if (sealed.length < GCM_TAG_BYTES) return null;
      const params = {
        name: "AES-GCM",
        iv: new Uint8Array(nonce),
        additionalData: new Uint8Array(aad),
        tagLength,
      };
      try {
        return new Uint8Array(await crypto.subtle.decrypt(params, key, new Uint8Array(sealed)));
      } catch {
        return null;
      }
    },
  };
};

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
