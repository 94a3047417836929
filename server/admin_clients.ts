/**
 * The operator's identity commands (admin.ts runs them):
 *
 * ```sh
 * bank-server clients add NAME --public-key FILE   register a key the client made (bank-client keygen)
 * bank-server clients add NAME [--output FILE]     or make a key pair here and write the credential file
 * bank-server clients invite NAME [--expires 1d] [--attempts 5]   a one-time code to enrol from afar
 * bank-server clients keys NAME
 * bank-server clients rotate NAME [--output FILE]  a new key pair made here replaces all of its keys
 * bank-server clients revoke NAME [--key KEY_ID]   one key, or the whole identity
 * bank-server clients list
 * ```
 *
 * The store keeps public keys only: a private key made here is written once, to the credential file.
 *
 * @module
 */
import { readTextFileLimited } from "../lib/files.ts";
import { type Options, parseDurationMs, UsageError } from "../lib/options.ts";
import type { OptionSpec } from "../lib/options.ts";
import {
  decodePublicKeyFile,
  isIdentityName,
  isKeyId,
  isReservedIdentityName,
} from "../protocol/credential.ts";
import { bankPublicKeyPathOf, credentialPathOf, DATA_DIR_DEFAULT } from "../protocol/demo.ts";
import { nodeHandshakeCrypto } from "../protocol/node_crypto.ts";
import { CREDENTIAL_FILE_BYTES_MAX } from "../protocol/limits.ts";
import { formatDollars } from "../protocol/money.ts";
import { parseDeposit } from "./admin_deposit.ts";
import { ensureBankKey } from "./bank_key.ts";
import { activeKeyIds, createIdentity, createInvite, issueKeyPair, registerPublicKey } from "./identities.ts";
import type { BankStore } from "./ledger/ledger.ts";
import { IDENTITIES_PAGE_MAX, IDENTITY_KEYS_PAGE_MAX } from "./ledger/limits.ts";
import {
  DEMO_DEPOSIT_MINOR,
  IDENTITIES_MAX,
  INVITE_ATTEMPTS_DEFAULT,
  INVITE_ATTEMPTS_MAX,
  INVITE_TTL_MS_DEFAULT,
  INVITE_TTL_MS_MAX,
} from "./limits.ts";

export const CLIENT_OPTIONS: readonly OptionSpec[] = [
  {
    name: "output",
    value: "FILE",
    defaultText: "DIR/clients/NAME.json",
    help: "where clients add/rotate write the credential",
  },
  {
    name: "public-key",
    value: "FILE",
    help: "clients add: the client's public key file (bank-client keygen)",
  },
  {
    name: "expires",
    value: "TIME",
    defaultText: "1d",
    help: "clients invite: how long the code works (at most 7d)",
  },
  {
    name: "attempts",
    value: "N",
    defaultText: String(INVITE_ATTEMPTS_DEFAULT),
    help: `clients invite: failed handshakes the code survives (at most ${INVITE_ATTEMPTS_MAX})`,
  },
  { name: "key", value: "KEY_ID", help: "clients revoke: revoke this key only" },
];

export const CLIENT_USAGE =
  `  bank-server clients add NAME --public-key FILE   register a key the client made (bank-client keygen)
  bank-server clients add NAME [--output FILE]     make a key pair here; writes the credential file (0600)
  bank-server clients invite NAME [--expires 1d] [--attempts ${INVITE_ATTEMPTS_DEFAULT}] [--deposit $500]
                                                   print a one-time enrolment code; opens an account if none
  bank-server clients keys NAME                    the identity's keys
  bank-server clients rotate NAME [--output FILE]  a key pair made here replaces all its keys; sessions end
  bank-server clients revoke NAME [--key KEY_ID]   a key, or the identity, stops working; sessions end
  bank-server clients list`;

type ClientAction = (store: BankStore, options: Options, subject: string | undefined) => Promise<number>;

export const CLIENT_ACTIONS: Record<string, ClientAction> = {
  "clients add": addClient,
  "clients invite": inviteClient,
  "clients keys": listKeys,
  "clients rotate": rotateClient,
  "clients revoke": revokeClient,
  "clients list": listClients,
};

const KEY_COLUMNS = [
  "KEY ID".padEnd(32),
  "KIND".padEnd(6),
  "STATUS".padEnd(7),
  "CREATED".padEnd(24),
  "EXPIRES",
];

function identityName(subject: string | undefined): string {
  if (subject === undefined || !isIdentityName(subject)) {
    throw new UsageError("Name the identity: letters, digits, '.', '_' or '-', at most 64");
  }
  if (isReservedIdentityName(subject)) {
    throw new UsageError(`"${subject}" is reserved for the bank's own accounts`);
  }
  return subject;
}

function dataDirOf(options: Options): string {
  return options.string("data") ?? DATA_DIR_DEFAULT;
}

async function context(store: BankStore, options: Options) {
  const bank = await ensureBankKey(dataDirOf(options), nodeHandshakeCrypto);
  return { store, crypto: nodeHandshakeCrypto, bankPublicKey: bank.publicKey };
}

async function addClient(store: BankStore, options: Options, subject: string | undefined): Promise<number> {
  const name = identityName(subject);
  const keyFile = options.string("public-key");
  if (keyFile !== undefined) {
    const text = await readTextFileLimited(keyFile, {
      bytesMax: CREDENTIAL_FILE_BYTES_MAX,
      what: "public key file",
    });
    const decoded = decodePublicKeyFile(text);
    if (!decoded.ok) throw new UsageError(`--public-key ${keyFile}: ${decoded.error}`);
    const added = await registerPublicKey({ store, crypto: nodeHandshakeCrypto }, {
      name,
      publicKey: decoded.publicKey,
    });
    if (!added.ok) {
      console.error(added.error);
      return 1;
    }
    console.log(`Registered key ${added.keyId} for identity ${name}. The bank keeps only the public key.`);
    console.log(
      `Give the client the bank's public key ${bankPublicKeyPathOf(dataDirOf(options))} and the CA.`,
    );
    return 0;
  }
  const path = options.string("output") ?? credentialPathOf(dataDirOf(options), name);
  const written = await createIdentity(await context(store, options), { name, path });
  if (written === null) {
    console.error(`Identity ${name} already exists (add a key with --public-key, or invite a device)`);
    return 1;
  }
  console.log(`Created identity ${name}. Its private key is in ${written} (mode 0600).`);
  console.log("This is the only copy: the bank keeps the public key only. Hand the file to the client.");
  return 0;
}

async function inviteClient(
  store: BankStore,
  options: Options,
  subject: string | undefined,
): Promise<number> {
  const name = identityName(subject);
  const expires = options.string("expires");
  const ttlMs = expires === undefined ? INVITE_TTL_MS_DEFAULT : parseDurationMs(expires);
  if (ttlMs === null || ttlMs < 60_000 || ttlMs > INVITE_TTL_MS_MAX) {
    throw new UsageError("--expires must be a time from 1m to 7d, like 30m, 12h or 2d");
  }
  const attempts = options.integer("attempts", {
    min: 1,
    max: INVITE_ATTEMPTS_MAX,
    fallback: INVITE_ATTEMPTS_DEFAULT,
  });
  const expiresAt = new Date(Date.now() + ttlMs);
  const invite = await createInvite({ store, crypto: nodeHandshakeCrypto }, { name, expiresAt, attempts });
  if (!invite.ok) {
    console.error(invite.error);
    return 1;
  }
  const account = await openFirstAccount(store, { name, deposit: options.string("deposit") });
  console.log(invite.code);
  console.error(
    `One-time code for ${name}, valid until ${expiresAt.toISOString()} or ${attempts} failed attempts. ` +
      `The client runs: bank-client enrol --identity ${name} --invite CODE, or enrols in the web app.`,
  );
  if (account !== null) console.error(`Opened account ${account.id} for ${name} with ${account.deposit}.`);
  return 0;
}

/**
 * A customer invited from afar gets an account to bank with, as a demo identity does: when the identity owns
 * none, one is opened with `deposit` (the demo deposit unless given; `$0` for an empty one).
 */
async function openFirstAccount(
  store: BankStore,
  parts: { name: string; deposit: string | undefined },
): Promise<{ id: string; deposit: string } | null> {
  const depositMinor = parseDeposit(parts.deposit, DEMO_DEPOSIT_MINOR);
  if ((await store.accountsOf(parts.name)).length > 0) return null;
  const opened = await store.openAccount({ owner: parts.name, depositMinor });
  if (opened.code !== "ok") throw new Error(`Cannot open an account for ${parts.name}: ${opened.code}`);
  return { id: opened.account.id, deposit: formatDollars(depositMinor) };
}

async function listKeys(store: BankStore, _options: Options, subject: string | undefined): Promise<number> {
  const name = identityName(subject);
  const keys = await store.listKeys(name, { limit: IDENTITY_KEYS_PAGE_MAX });
  console.log(KEY_COLUMNS.join(" "));
  for (const key of keys) {
    const expires = key.expiresAt === null
      ? ""
      : `${key.expiresAt.toISOString()} (${key.attemptsLeft} ${
        key.attemptsLeft === 1 ? "attempt" : "attempts"
      } left)`;
    console.log(
      [key.keyId, key.kind.padEnd(6), key.status.padEnd(7), key.createdAt.toISOString().padEnd(24), expires]
        .join(" "),
    );
  }
  return 0;
}

async function rotateClient(
  store: BankStore,
  options: Options,
  subject: string | undefined,
): Promise<number> {
  const name = identityName(subject);
  const path = options.string("output") ?? credentialPathOf(dataDirOf(options), name);
  const replacing = await activeKeyIds(store, name);
  const issued = await issueKeyPair(await context(store, options), { name, path, replacing });
  if (!issued.ok) {
    console.error(issued.error);
    return 1;
  }
  console.log(`Rotated identity ${name}: key ${issued.keyId} replaces ${replacing.length} keys.`);
  console.log(
    `Its private key is in ${path} (mode 0600); open sessions of the old keys end within a second.`,
  );
  return 0;
}

async function revokeClient(
  store: BankStore,
  options: Options,
  subject: string | undefined,
): Promise<number> {
  const name = identityName(subject);
  const keyId = options.string("key");
  if (keyId !== undefined) {
    if (!isKeyId(keyId)) {
      throw new UsageError("--key must be a key id: 32 hex digits (clients keys NAME)");
    }
    if ((await store.revokeKey(name, keyId)) !== "ok") {
      console.error(`No active key ${keyId} of ${name}`);
      return 1;
    }
    console.log(`Revoked key ${keyId} of ${name}: its open sessions end within a second.`);
    return 0;
  }
  if ((await store.revokeIdentity(name)) !== "ok") {
    console.error(`No active identity ${name}`);
    return 1;
  }
  console.log(`Revoked identity ${name}: new handshakes fail, and open sessions end within a second.`);
  return 0;
}

async function listClients(
  store: BankStore,
  _options: Options,
  subject: string | undefined,
): Promise<number> {
  if (subject !== undefined) throw new UsageError(`Unexpected argument "${subject}"`);
  console.log(["NAME".padEnd(24), "STATUS".padEnd(8), "GENERATION".padEnd(11), "UPDATED"].join(" "));
  let after: string | undefined;
  for (let page = 0; page <= IDENTITIES_MAX / IDENTITIES_PAGE_MAX; page++) {
    const records = await store.listIdentities({
      limit: IDENTITIES_PAGE_MAX,
      ...(after === undefined ? {} : { after }),
    });
    for (const record of records) {
      const columns = [record.name.padEnd(24), record.status.padEnd(8), String(record.generation).padEnd(11)];
      console.log([...columns, record.updatedAt.toISOString()].join(" "));
    }
    if (records.length < IDENTITIES_PAGE_MAX) break;
    after = records.at(-1)!.name;
  }
  return 0;
}
