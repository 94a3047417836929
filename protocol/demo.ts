/**
 * The names both binaries agree on: where a data directory keeps the CA, the bank's public key and the
 * credential files, and how
 * the demo identities and accounts are named (`client-7` owns `ACC-0007`; the original design pays `XYZ`).
 * Plain strings, so this stays browser-safe like the rest of `protocol/`.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { isIdentityName } from "./credential.ts";

/** The data directory both binaries use unless told otherwise. */
export const DATA_DIR_DEFAULT = "./.bank";
/** The CA certificate clients must trust, inside a data directory. */
export const CA_FILE = "ca.crt";
/** The bank's public signing key, which clients pin, inside a data directory (its private half: bank.key). */
export const BANK_PUBLIC_KEY_FILE = "bank.pub";
/** The folder of credential files, inside a data directory. */
export const CREDENTIALS_DIR = "clients";
/** The destination account of the original design's transfers, owned by the bank. */
export const DEMO_TARGET_ACCOUNT_ID = "XYZ";

const DEMO_NAME_PATTERN = /^client-([1-9][0-9]{0,5})$/;

/** Where a data directory keeps the CA certificate. */
export function caPathOf(dataDir: string): string {
  return `${dataDir}/${CA_FILE}`;
}

/** Where a data directory keeps the bank's public signing key. */
export function bankPublicKeyPathOf(dataDir: string): string {
  return `${dataDir}/${BANK_PUBLIC_KEY_FILE}`;
}

/** Where a data directory keeps an identity's credential file. */
export function credentialPathOf(dataDir: string, identity: string): string {
  assert(isIdentityName(identity), `Identity name "${identity}" is not valid`);
  return `${dataDir}/${CREDENTIALS_DIR}/${identity}.json`;
}

/** The name of demo identity number `n` (1-based): `client-7`. */
export function demoIdentityName(n: number): string {
  assert(Number.isInteger(n), `Demo identity number ${n} is out of range`);
  assert(n >= 1, `Demo identity number ${n} is out of range`);
  assert(n < 1_000_000, `Demo identity number ${n} is out of range`);
  return `client-${n}`;
}

/**
 * The account of a demo identity: `client-7` owns `ACC-0007`; null for other names.
 *
 * @example Usage
 * ```ts
 * import { assertEquals } from "@std/assert";
 * import { demoAccountId } from "./demo.ts";
 * assertEquals(demoAccountId("client-7"), "ACC-0007");
 * assertEquals(demoAccountId("ada"), null);
 * ```
 */
export function demoAccountId(identity: string): string | null {
  const match = DEMO_NAME_PATTERN.exec(identity);
  return match === null ? null : `ACC-${match[1]!.padStart(4, "0")}`;
}
