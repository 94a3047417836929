/**
 * The client's key commands:
 *
 * ```sh
 * bank-client keygen --identity NAME [--out FILE] [--bank-key FILE]       a key pair made here
 * bank-client enrol --identity NAME --invite CODE [--out FILE] [--bank-key FILE]   register it from afar
 * bank-client rotate-key [--credential FILE]                               replace the key, in place
 * ```
 *
 * The private key is written once, to the credential file (mode 0600, never over an existing file but by
 * rotate-key); `keygen` writes the public key beside it (`FILE.pub`) for the bank's operator.
 *
 * @module
 */
import {
  ensurePrivateDir,
  fileExists,
  parentDirOf,
  PRIVATE_FILE_MODE,
  PUBLIC_FILE_MODE,
  readTextFileLimited,
  renameDurably,
  writeFileAtomic,
} from "../lib/files.ts";
import { formatOptionHelp, Options, UsageError } from "../lib/options.ts";
import type { OptionSpec } from "../lib/options.ts";
import { decodePublicKeyFile, encodeCredential, isIdentityName } from "../protocol/credential.ts";
import { bankPublicKeyPathOf, credentialPathOf, DATA_DIR_DEFAULT } from "../protocol/demo.ts";
import { parseInviteCode } from "../protocol/invite.ts";
import { CREDENTIAL_FILE_BYTES_MAX } from "../protocol/limits.ts";
import { BankConnection } from "./connection.ts";
import { enrolWithInvite, generateKey, rotateKey } from "./keys.ts";
import { CONNECTION_OPTIONS, connectionOf, loadCa, loadCredential } from "./setup.ts";

const KEY_OPTIONS: readonly OptionSpec[] = [
  ...CONNECTION_OPTIONS,
  { name: "identity", value: "NAME", help: "keygen, enrol: the identity the key is for" },
  {
    name: "out",
    value: "FILE",
    defaultText: "DIR/clients/NAME.json",
    help: "keygen, enrol: where to write the credential",
  },
  {
    name: "bank-key",
    value: "FILE",
    defaultText: "DIR/bank.pub",
    help: "the bank's public key, as its operator gave it",
  },
  { name: "invite", value: "CODE", help: "enrol: the one-time code from bank-server clients invite" },
  {
    name: "credential",
    value: "FILE",
    defaultText: "DIR/clients/client-1.json",
    help: "rotate-key: the credential to rotate",
  },
  { name: "help", boolean: true, help: "show this help" },
];

export const KEY_COMMANDS = ["keygen", "enrol", "rotate-key"] as const;

const KEY_USAGE = `Keys:
  bank-client keygen --identity NAME [--out FILE] [--bank-key FILE]
      makes a key pair here: the credential (mode 0600) and FILE.pub for the bank's operator
      (bank-server clients add NAME --public-key FILE.pub)
  bank-client enrol --identity NAME --invite CODE [--out FILE] [--bank-key FILE]
      makes a key pair and registers it with a one-time code (bank-server clients invite NAME)
  bank-client rotate-key [--credential FILE]
      replaces the key with a new one (both sign the change); rewrites the credential file

Options:
${formatOptionHelp(KEY_OPTIONS)}`;

/** Runs one key command; returns the exit code (0 done, 1 refused, 2 usage, 3 unreachable). */
export async function keyCommandMain(command: typeof KEY_COMMANDS[number], args: string[]): Promise<number> {
  const options = new Options(args, { specs: KEY_OPTIONS, env: (name) => Deno.env.get(name) });
  if (options.boolean("help")) {
    console.log(KEY_USAGE);
    return 0;
  }
  if (options.positional.length > 0) throw new UsageError(`Unexpected argument "${options.positional[0]}"`);
  if (command === "keygen") return await keygen(options);
  if (command === "enrol") return await enrol(options);
  return await rotate(options);
}

function dataDirOf(options: Options): string {
  return options.string("data") ?? DATA_DIR_DEFAULT;
}

function identityOf(options: Options): string {
  const identity = options.string("identity");
  if (identity === undefined || !isIdentityName(identity)) {
    throw new UsageError("--identity NAME: letters, digits, '.', '_' or '-', at most 64");
  }
  return identity;
}

async function bankKeyOf(options: Options): Promise<Uint8Array> {
  const path = options.string("bank-key") ?? bankPublicKeyPathOf(dataDirOf(options));
  const text = await readTextFileLimited(path, {
    bytesMax: CREDENTIAL_FILE_BYTES_MAX,
    what: "bank public key",
  });
  const decoded = decodePublicKeyFile(text);
  if (!decoded.ok) throw new UsageError(`--bank-key ${path}: ${decoded.error}`);
  return decoded.publicKey;
}

/** Where a new credential goes; refuses to write over one (a private key is never replaced by accident). */
async function outputOf(options: Options, identity: string): Promise<string> {
  const path = options.string("out") ?? credentialPathOf(dataDirOf(options), identity);
  if (await fileExists(path)) {
    throw new UsageError(`${path} exists: choose another --out (keys are never overwritten)`);
  }
  await ensurePrivateDir(parentDirOf(path));
  return path;
}

async function keygen(options: Options): Promise<number> {
  const identity = identityOf(options);
  const bankPublicKey = await bankKeyOf(options);
  const path = await outputOf(options, identity);
  const key = await generateKey({ identity, bankPublicKey });
  await writeFileAtomic(path, encodeCredential(key.credential), { mode: PRIVATE_FILE_MODE });
  await writeFileAtomic(`${path}.pub`, key.publicKeyFile, { mode: PUBLIC_FILE_MODE });
  console.log(
    `Made key ${key.keyId} for ${identity}: private key in ${path} (mode 0600), public key in ${path}.pub.`,
  );
  console.log(`Give ${path}.pub to the bank: bank-server clients add ${identity} --public-key ${path}.pub`);
  return 0;
}

async function enrol(options: Options): Promise<number> {
  const identity = identityOf(options);
  const code = parseInviteCode(options.string("invite") ?? "");
  if (code === null) {
    throw new UsageError("--invite CODE: the 32-character code from bank-server clients invite");
  }
  const bankPublicKey = await bankKeyOf(options);
  const path = await outputOf(options, identity);
  const where = connectionOf(options);
  const caPem = await loadCa(where.caPath);
  // The credential is saved before the key is registered, so a crash never loses a registered key.
  const fresh = await generateKey({ identity, bankPublicKey });
  const pending = `${path}.pending`;
  await writeFileAtomic(pending, encodeCredential(fresh.credential), { mode: PRIVATE_FILE_MODE });
  try {
    await enrolWithInvite({ ...where, caPem, identity, code, bankPublicKey, fresh });
  } catch (error) {
    await Deno.remove(pending).catch(() => {});
    throw error;
  }
  await renameDurably(pending, path);
  console.log(`Enrolled key ${fresh.keyId} for ${identity}: its private key is in ${path} (mode 0600).`);
  return 0;
}

async function rotate(options: Options): Promise<number> {
  const path = options.string("credential") ?? credentialPathOf(dataDirOf(options), "client-1");
  const credential = await loadCredential(path);
  const where = connectionOf(options);
  const connection = await BankConnection.connect({
    ...where,
    caPem: await loadCa(where.caPath),
    credential,
  });
  // The new key is saved beside the old before the bank learns it; it replaces the old once accepted.
  const fresh = await generateKey(credential);
  const pending = `${path}.pending`;
  await writeFileAtomic(pending, encodeCredential(fresh.credential), { mode: PRIVATE_FILE_MODE });
  try {
    const rotated = await rotateKey(connection, credential, { fresh });
    await renameDurably(pending, path);
    console.log(
      `Rotated ${credential.identity}: key ${rotated.keyId} replaces ${rotated.revokedKeyId} in ${path}.`,
    );
    return 0;
  } catch (error) {
    await Deno.remove(pending).catch(() => {});
    throw error;
  } finally {
    await connection.close();
  }
}
