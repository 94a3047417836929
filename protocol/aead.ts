/**
 * AES-256-GCM behind one small interface, so the primitive can change without touching callers, and its
 * WebCrypto implementation, which runs anywhere (browsers too). `node_crypto.ts` has the same bytes through
 * `node:crypto` (12-byte nonce, 16-byte tag appended to the ciphertext, AAD as given). Callers supply the
 * nonce: the channel derives it from a per-direction counter, so it is never reused under a key.
 *
 * @module
 */
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
