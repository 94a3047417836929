/**
 * The primitives the handshake is built from, behind one interface: SHA-256, HMAC-SHA-256, HKDF-SHA-256,
 * X25519 ephemeral keys and Ed25519 signatures. {@link webHandshakeCrypto} is WebCrypto alone (Deno and
 * browsers); `node_crypto.ts` has the same results through `node:crypto`, which the server uses because it
 * is faster. Keys travel as raw bytes: a 32-byte public key, a 32-byte Ed25519 seed (RFC 8032's private
 * key) or X25519 private key.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { concatBytes, fromBase64Url, toBase64Url, utf8 } from "../lib/bytes.ts";
import { ED25519_SIGNATURE_BYTES, KEY_BYTES } from "./limits.ts";

/** One side's X25519 key pair for one handshake, thrown away after it. */
export interface Ephemeral {
  readonly publicKey: Uint8Array;
  /** The shared secret with the peer's public key; null when the peer's key is refused or small-order. */
  agree(peerPublicKey: Uint8Array): Promise<Uint8Array | null>;
}

/** An Ed25519 private key that signs, with its public half. */
export interface Signer {
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** What the handshake needs from a cryptographic library. */
export interface HandshakeCrypto {
  sha256(data: Uint8Array): Promise<Uint8Array>;
  hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  /** 32 bytes of HKDF-SHA-256 (RFC 5869, extract then expand) with `info` as UTF-8. */
  hkdfSha256(keyMaterial: Uint8Array, options: { salt: Uint8Array; info: string }): Promise<Uint8Array>;
  /** A fresh ephemeral key pair; `privateKey` fixes it (test vectors only). */
  ephemeral(privateKey?: Uint8Array): Promise<Ephemeral>;
  /** The signer of a 32-byte Ed25519 seed. */
  signer(seed: Uint8Array): Promise<Signer>;
  /** Whether `signature` is a valid Ed25519 signature by `publicKey`; false for anything malformed. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
}

/** The DER prefixes that wrap a raw key as PKCS#8 (private) or SPKI (public), from RFC 8410. */
export const PKCS8_PREFIX_ED25519 = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);
export const PKCS8_PREFIX_X25519 = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x6e,
  0x04,
  0x22,
  0x04,
  0x20,
]);
export const SPKI_PREFIX_ED25519 = new Uint8Array([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
]);

/** Tells whether bytes are all zero (an X25519 result with a small-order peer key), in constant time. */
export function isAllZero(bytes: Uint8Array): boolean {
  let bits = 0;
  for (const byte of bytes) bits |= byte;
  return bits === 0;
}

function checkKey(bytes: Uint8Array, what: string): void {
  assert(bytes.length === KEY_BYTES, `${what} must be ${KEY_BYTES} bytes, got ${bytes.length}`);
}

const subtle = globalThis.crypto.subtle;

/** The handshake's primitives through WebCrypto only: what a web page can run. */
export const webHandshakeCrypto: HandshakeCrypto = {
  async sha256(data) {
    return new Uint8Array(await subtle.digest("SHA-256", new Uint8Array(data)));
  },
  async hmacSha256(key, data) {
    const hmacKey = await subtle.importKey(
      "raw",
      new Uint8Array(key),
      { name: "HMAC", hash: "SHA-256" },
      false,
      [
        "sign",
      ],
    );
    return new Uint8Array(await subtle.sign("HMAC", hmacKey, new Uint8Array(data)));
  },
  async hkdfSha256(keyMaterial, options) {
    const key = await subtle.importKey("raw", new Uint8Array(keyMaterial), "HKDF", false, ["deriveBits"]);
    const params = {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(options.salt),
      info: utf8(options.info),
    };
    return new Uint8Array(await subtle.deriveBits(params, key, KEY_BYTES * 8));
  },
  async ephemeral(privateKey) {
    let pair: { privateKey: CryptoKey; publicKey: CryptoKey };
    if (privateKey === undefined) {
      pair = await subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]) as CryptoKeyPair;
    } else {
      checkKey(privateKey, "An X25519 private key");
      const imported = await subtle.importKey(
        "pkcs8",
        concatBytes([PKCS8_PREFIX_X25519, privateKey]),
        { name: "X25519" },
        true,
        ["deriveBits"],
      );
      const jwk = await subtle.exportKey("jwk", imported);
      const x = fromBase64Url(jwk.x ?? "");
      assert(x !== null, "An exported X25519 key has its public half");
      const publicKey = await subtle.importKey("raw", new Uint8Array(x), { name: "X25519" }, true, []);
      pair = { privateKey: imported, publicKey };
    }
    const publicKey = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
    checkKey(publicKey, "An X25519 public key");
    return {
      publicKey,
      async agree(peerPublicKey) {
        if (peerPublicKey.length !== KEY_BYTES) return null;
        try {
          const peer = await subtle.importKey(
            "raw",
            new Uint8Array(peerPublicKey),
            { name: "X25519" },
            false,
            [],
          );
          const bits = await subtle.deriveBits(
            { name: "X25519", public: peer },
            pair.privateKey,
            KEY_BYTES * 8,
          );
          const shared = new Uint8Array(bits);
          return isAllZero(shared) ? null : shared;
        } catch {
          return null;
        }
      },
    };
  },
  async signer(seed) {
    checkKey(seed, "An Ed25519 seed");
    const pkcs8 = concatBytes([PKCS8_PREFIX_ED25519, seed]);
    const exportable = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
    const publicKey = fromBase64Url((await subtle.exportKey("jwk", exportable)).x ?? "");
    assert(publicKey !== null, "An exported Ed25519 key has its public half");
    checkKey(publicKey, "An Ed25519 public key");
    const key = await subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
    return {
      publicKey,
      async sign(message) {
        const signature = new Uint8Array(
          await subtle.sign({ name: "Ed25519" }, key, new Uint8Array(message)),
        );
        assert(signature.length === ED25519_SIGNATURE_BYTES, "An Ed25519 signature is 64 bytes");
        return signature;
      },
    };
  },
  async verify(publicKey, message, signature) {
    if (publicKey.length !== KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES) return false;
    try {
      const key = await subtle.importKey("raw", new Uint8Array(publicKey), { name: "Ed25519" }, false, [
        "verify",
      ]);
      return await subtle.verify(
        { name: "Ed25519" },
        key,
        new Uint8Array(signature),
        new Uint8Array(message),
      );
    } catch {
      return false;
    }
  },
};

/** A raw 32-byte key in base64url, as credential and key files write it. */
export function encodeKey(key: Uint8Array): string {
  checkKey(key, "A key");
  return toBase64Url(key);
}

/** A base64url key of exactly 32 bytes; null for anything else. */
export function decodeKey(text: string): Uint8Array | null {
  const key = fromBase64Url(text);
  return key !== null && key.length === KEY_BYTES ? key : null;
}
