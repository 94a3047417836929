/**
 * Where a client finds its server and its credentials: the options both `bank-client` commands share, and
 * reading the CA and credential files within their size limits.
 *
 * @module
 */
import { readTextFileLimited } from "../lib/files.ts";
import type { Options, OptionSpec } from "../lib/options.ts";
import { decodeCredential } from "../protocol/credential.ts";
import type { Credential } from "../protocol/credential.ts";
import { caPathOf, DATA_DIR_DEFAULT } from "../protocol/demo.ts";
import { CREDENTIAL_FILE_BYTES_MAX, HOST_DEFAULT, PORT_DEFAULT } from "../protocol/limits.ts";
import { CA_FILE_BYTES_MAX } from "./limits.ts";

/** `--host`, `--port`, `--data` and `--ca`. */
export const CONNECTION_OPTIONS: readonly OptionSpec[] = [
  { name: "host", env: "BANK_HOST", value: "HOST", defaultText: HOST_DEFAULT, help: "server address" },
  {
    name: "port",
    env: "BANK_PORT",
    value: "PORT",
    defaultText: String(PORT_DEFAULT),
    help: "server TLS port",
  },
  {
    name: "data",
    env: "BANK_DATA",
    value: "DIR",
    defaultText: DATA_DIR_DEFAULT,
    help: "server data directory (CA, credentials)",
  },
  {
    name: "ca",
    env: "BANK_CA",
    value: "FILE",
    defaultText: "DIR/ca.crt",
    help: "CA certificate to verify the server",
  },
];

/** The values of {@link CONNECTION_OPTIONS}, their defaults filled in. */
export function connectionOf(
  options: Options,
): { host: string; port: number; dataDir: string; caPath: string } {
  const dataDir = options.string("data") ?? DATA_DIR_DEFAULT;
  return {
    host: options.string("host") ?? HOST_DEFAULT,
    port: options.integer("port", { min: 1, max: 65_535, fallback: PORT_DEFAULT }),
    dataDir,
    caPath: options.string("ca") ?? caPathOf(dataDir),
  };
}

/** Reads and checks a credential file; throws with the path and the reason. */
export async function loadCredential(path: string): Promise<Credential> {
  const text = await readTextFileLimited(path, { bytesMax: CREDENTIAL_FILE_BYTES_MAX, what: "credential" });
  const decoded = decodeCredential(text);
  if (!decoded.ok) throw new Error(`Cannot use credential "${path}": ${decoded.error}`);
  return decoded.credential;
}

/** Reads the CA certificate a client verifies the server against. */
export async function loadCa(path: string): Promise<string> {
  return await readTextFileLimited(path, { bytesMax: CA_FILE_BYTES_MAX, what: "CA certificate" });
}
