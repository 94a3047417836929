/**
 * The identities the server knows. For each it stores only the auth key derived from the client's secret
 * (see protocol/handshake.ts), never the secret itself, in `identities.json` (mode 0600). On first start it
 * provisions demo identities `client-1` … `client-N` and writes each one's credential file to
 * `clients/NAME.json` (mode 0600) for the client to use.
 *
 * @module
 */
import { assert } from "../protocol/assert.ts";
import { fromBase64Url, randomBytes, toBase64Url } from "../protocol/bytes.ts";
import { encodeCredential, isIdentityName } from "../protocol/credential.ts";
import { deriveAuthKey } from "../protocol/handshake.ts";
import { AES_KEY_BYTES, IDENTITIES_MAX, IDENTITY_STORE_BYTES_MAX, SECRET_BYTES } from "../protocol/limits.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE, readTextFileLimited, writeFileAtomic } from "./files.ts";

const STORE_FILE = "identities.json";
const CLIENTS_DIR = "clients";

interface StoredIdentity {
  name: string;
  auth_key: string;
  created_at: string;
}

/** The name of demo identity number `n` (1-based). */
export function demoIdentityName(n: number): string {
  assert(Number.isInteger(n) && n >= 1, `Demo identity number ${n} must be a positive integer`);
  return `client-${n}`;
}

/** Where the credential file of an identity lives in a data directory. */
export function credentialPath(dataDir: string, name: string): string {
  assert(isIdentityName(name), `Identity name "${name}" is not valid`);
  return `${dataDir}/${CLIENTS_DIR}/${name}.json`;
}

export class IdentityStore {
  readonly #authKeys: ReadonlyMap<string, Uint8Array>;

  private constructor(authKeys: ReadonlyMap<string, Uint8Array>) {
    this.#authKeys = authKeys;
  }

  /**
   * Opens the store of a data directory. When it does not exist yet, provisions `demoClients` identities and
   * writes their credential files first.
   */
  static async open(dataDir: string, options: { demoClients: number }): Promise<IdentityStore> {
    assert(
      options.demoClients >= 0 && options.demoClients <= IDENTITIES_MAX,
      "Demo client count out of range",
    );
    const path = `${dataDir}/${STORE_FILE}`;
    const exists = await Deno.stat(path).then(() => true, () => false);
    if (!exists) await provisionDemoIdentities(dataDir, options.demoClients);
    const text = await readTextFileLimited(path, {
      maxBytes: IDENTITY_STORE_BYTES_MAX,
      what: "identity store",
    });
    return new IdentityStore(parseStore(text, path));
  }

  /** The auth key of a known identity, or null. */
  lookupAuthKey(name: string): Uint8Array | null {
    return this.#authKeys.get(name) ?? null;
  }

  names(): string[] {
    return [...this.#authKeys.keys()];
  }
}

async function provisionDemoIdentities(dataDir: string, count: number): Promise<void> {
  await ensurePrivateDir(`${dataDir}/${CLIENTS_DIR}`);
  const stored: StoredIdentity[] = [];
  for (let n = 1; n <= count; n++) {
    const name = demoIdentityName(n);
    const secret = randomBytes(SECRET_BYTES);
    await writeFileAtomic(credentialPath(dataDir, name), encodeCredential({ identity: name, secret }), {
      mode: PRIVATE_FILE_MODE,
    });
    const authKey = await deriveAuthKey(secret);
    stored.push({ name, auth_key: toBase64Url(authKey), created_at: new Date().toISOString() });
  }
  const text = JSON.stringify({ version: 1, identities: stored }, null, 2) + "\n";
  await writeFileAtomic(`${dataDir}/${STORE_FILE}`, text, { mode: PRIVATE_FILE_MODE });
}

function parseStore(text: string, path: string): Map<string, Uint8Array> {
  const problem = (what: string) => new Error(`Cannot load identities from "${path}": ${what}`);
  let parsed: { version?: unknown; identities?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw problem("not JSON");
  }
  if (parsed.version !== 1 || !Array.isArray(parsed.identities)) {
    throw problem("expected version 1 with identities");
  }
  if (parsed.identities.length > IDENTITIES_MAX) throw problem(`more than ${IDENTITIES_MAX} identities`);
  const keys = new Map<string, Uint8Array>();
  for (const entry of parsed.identities as Partial<StoredIdentity>[]) {
    const name = entry.name;
    if (typeof name !== "string" || !isIdentityName(name)) throw problem("an identity has an invalid name");
    if (keys.has(name)) throw problem(`identity "${name}" appears twice`);
    const authKey = typeof entry.auth_key === "string" ? fromBase64Url(entry.auth_key) : null;
    if (authKey === null || authKey.length !== AES_KEY_BYTES) {
      throw problem(`identity "${name}" has a bad key`);
    }
    keys.set(name, authKey);
  }
  return keys;
}
