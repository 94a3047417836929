/**
 * Small byte helpers shared by both sides of the wire.
 *
 * @module
 */
import { assert } from "./assert.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a string as UTF-8. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/**
 * Strings as `u32be(UTF-8 byte length) || UTF-8 bytes` each, one after the other: the framing of every
 * signed or hashed record (chain entries, receipts), in one allocation. ASCII, which is what these records
 * almost always hold, is copied character by character; anything else goes through the encoder.
 */
export function lengthPrefixed(fields: readonly string[]): Uint8Array<ArrayBuffer> {
  const parts = NOT_ASCII.test(fields.join("")) ? fields.map((field) => encoder.encode(field)) : fields;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + 4 + part.length, 0));
  let at = 0;
  for (const part of parts) {
    const length = part.length;
    out[at] = length >>> 24;
    out[at + 1] = (length >>> 16) & 0xff;
    out[at + 2] = (length >>> 8) & 0xff;
    out[at + 3] = length & 0xff;
    at += 4;
    if (typeof part === "string") {
      for (let index = 0; index < length; index++) out[at + index] = part.charCodeAt(index);
    } else {
      out.set(part, at);
    }
    at += length;
  }
  return out;
}

/** Any UTF-16 code unit outside ASCII (surrogates included). */
const NOT_ASCII = /[\u0080-\uffff]/;

/** Decodes UTF-8, or returns null for bytes that are not valid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string | null {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/** Joins byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  assert(offset === total, "Joined bytes must fill the buffer exactly");
  return joined;
}

/** Compares two byte arrays in time that depends only on their length. */
export function timingSafeEqual(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  let difference = 0;
  for (let index = 0; index < left.length; index++) difference |= left[index]! ^ right[index]!;
  return difference === 0;
}

/** Fresh random bytes from the platform's CSPRNG. */
export function randomBytes(count: number): Uint8Array<ArrayBuffer> {
  assert(Number.isInteger(count), `Cannot make ${count} random bytes`);
  assert(count > 0, `Cannot make ${count} random bytes`);
  assert(count <= 65_536, `Cannot make ${count} random bytes`);
  return crypto.getRandomValues(new Uint8Array(count));
}

/** Base64url without padding, the form secrets take in credential files. */
export function toBase64Url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/** Reads canonical unpadded base64url, or returns null: every value has exactly one accepted spelling. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const bytes = Uint8Array.fromBase64(text, { alphabet: "base64url", lastChunkHandling: "loose" });
    return toBase64Url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}

/** Bytes as lower-case hex (natively where the engine has it; browsers before 2025 do not). */
export function toHex(bytes: Uint8Array): string {
  if (typeof bytes.toHex === "function") return bytes.toHex();
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Lower- or upper-case hex as bytes; null when the text is not an even number of hex digits. */
export function fromHex(text: string): Uint8Array<ArrayBuffer> | null {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let index = 0; index < bytes.length; index++) {
    bytes[index] = parseInt(text.slice(2 * index, 2 * index + 2), 16);
  }
  return bytes;
}
