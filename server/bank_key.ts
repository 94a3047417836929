/**
 * The bank's Ed25519 signing key: every handshake's challenge is signed with it, and clients pin its public
 * half, so a server with a valid TLS certificate but without this key (a man in the middle) is refused. It
 * lives in the data directory as `bank.key` (PKCS#8 PEM, mode 0600) beside `bank.pub` (one line, what
 * clients are given), made on first start. Clients are unaffected by TLS certificate renewals.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { concatBytes, randomBytes } from "../lib/bytes.ts";
import {
  ensurePrivateDir,
  fileExists,
  PRIVATE_FILE_MODE,
  PUBLIC_FILE_MODE,
  readTextFileLimited,
  writeFileAtomic,
} from "../lib/files.ts";
import { encodePublicKeyFile } from "../protocol/credential.ts";
import { PKCS8_PREFIX_ED25519 } from "../protocol/handshake_crypto.ts";
import type { HandshakeCrypto, Signer } from "../protocol/handshake_crypto.ts";
import { bankPublicKeyPathOf } from "../protocol/demo.ts";
import { KEY_BYTES } from "../protocol/limits.ts";

const BANK_KEY_FILE = "bank.key";
const PEM_LABEL = "PRIVATE KEY";
const BANK_KEY_FILE_BYTES_MAX = 1024;

/** The bank's signing key, made on first start. */
export async function ensureBankKey(dataDir: string, crypto: HandshakeCrypto): Promise<Signer> {
  await ensurePrivateDir(dataDir);
  const path = `${dataDir}/${BANK_KEY_FILE}`;
  if (!(await fileExists(path))) {
    const seed = randomBytes(KEY_BYTES);
    await writeFileAtomic(path, encodeBankKey(seed), { mode: PRIVATE_FILE_MODE });
  }
  const signer = await loadBankKey(dataDir, crypto);
  const publicText = encodePublicKeyFile(signer.publicKey, "bank");
  const publicPath = bankPublicKeyPathOf(dataDir);
  const current = await readTextFileLimited(publicPath, {
    bytesMax: BANK_KEY_FILE_BYTES_MAX,
    what: "bank public key",
  }).catch(() => null);
  if (current !== publicText) await writeFileAtomic(publicPath, publicText, { mode: PUBLIC_FILE_MODE });
  return signer;
}

/** The bank's signing key from its data directory; throws a clear error when the file is missing or not a key. */
export async function loadBankKey(dataDir: string, crypto: HandshakeCrypto): Promise<Signer> {
  const path = `${dataDir}/${BANK_KEY_FILE}`;
  const text = await readTextFileLimited(path, {
    bytesMax: BANK_KEY_FILE_BYTES_MAX,
    what: "bank signing key",
  });
  const seed = decodeBankKey(text);
  if (seed === null) {
    throw new Error(`Cannot read the bank's signing key ${path}: not an Ed25519 PKCS#8 PEM key`);
  }
  return await crypto.signer(seed);
}

/** An Ed25519 seed as PKCS#8 PEM (what `openssl pkey` reads). */
export function encodeBankKey(seed: Uint8Array): string {
  assert(seed.length === KEY_BYTES, `An Ed25519 seed must be ${KEY_BYTES} bytes`);
  const der = concatBytes([PKCS8_PREFIX_ED25519, seed]);
  const base64 = btoa(String.fromCharCode(...der));
  return `-----BEGIN ${PEM_LABEL}-----\n${base64}\n-----END ${PEM_LABEL}-----\n`;
}

/** The seed of a PKCS#8 PEM Ed25519 key; null for anything else. */
export function decodeBankKey(text: string): Uint8Array | null {
  const match = new RegExp(
    `^-----BEGIN ${PEM_LABEL}-----\\n([A-Za-z0-9+/=\\n]+)-----END ${PEM_LABEL}-----\\n?$`,
  )
    .exec(text);
  if (match === null) return null;
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(match[1]!.replaceAll("\n", "")), (character) => character.charCodeAt(0));
  } catch {
    return null;
  }
  const prefix = PKCS8_PREFIX_ED25519;
  if (der.length !== prefix.length + KEY_BYTES || !prefix.every((byte, index) => der[index] === byte)) {
    return null;
  }
  return der.slice(prefix.length);
}
