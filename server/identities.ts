/**
 * Client identities and their keys: registering a client's public key (checked: no small-order or
 * non-canonical Ed25519 point, which would verify forged signatures), the one-step flow that makes a key
 * pair here and writes the credential file (demos, `clients add NAME`), invites, and watching the store for
 * changes so that the sessions they invalidate end within a second. The store keeps public keys only.
 *
 * @module
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { assert } from "../lib/assert.ts";
import { randomBytes } from "../lib/bytes.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE, renameDurably, writeFileAtomic } from "../lib/files.ts";
import { encodeCredential, formatKeyId, isReservedIdentityName, keyIdOf } from "../protocol/credential.ts";
import { credentialPathOf, demoIdentityName } from "../protocol/demo.ts";
import type { HandshakeCrypto } from "../protocol/handshake_crypto.ts";
import { formatInviteCode, INVITE_CODE_BYTES, inviteSeed } from "../protocol/invite.ts";
import { KEY_BYTES } from "../protocol/limits.ts";
import { IDENTITIES_PAGE_MAX, IDENTITY_KEYS_PAGE_MAX } from "./ledger/limits.ts";
import { IDENTITIES_MAX, IDENTITY_REFRESH_MS } from "./limits.ts";
import type { IdentityDirectory, IdentityStatus, KeyChangeResult } from "./ledger/ledger.ts";
import { serverLogger } from "./log.ts";

const log = serverLogger("identities");

/** What registering a key needs: the store, the crypto to name the key, and the bank's public key. */
export interface KeyContext {
  store: IdentityDirectory;
  crypto: HandshakeCrypto;
}

/**
 * Why a public key is refused, or null when it may be registered: it must decode to a canonical point of
 * the prime-order subgroup (the identity point, and any small-order point, verify forged signatures).
 */
export function checkPublicKey(publicKey: Uint8Array): string | null {
  if (publicKey.length !== KEY_BYTES) return `an Ed25519 public key is ${KEY_BYTES} bytes`;
  let point: InstanceType<typeof ed25519.Point>;
  try {
    point = ed25519.Point.fromBytes(publicKey, false);
  } catch {
    return "not a canonical Ed25519 point";
  }
  if (point.isSmallOrder()) return "a small-order point, which would verify forged signatures";
  if (!point.isTorsionFree()) return "a point outside the prime-order subgroup";
  return null;
}

/** Registers a device's public key for an identity, making the identity when it is new. */
export async function registerPublicKey(
  context: KeyContext,
  request: { name: string; publicKey: Uint8Array },
): Promise<{ ok: true; keyId: string } | { ok: false; error: string }> {
  assert(!isReservedIdentityName(request.name), `Identity name ${request.name} is reserved`);
  const problem = checkPublicKey(request.publicKey);
  if (problem !== null) return { ok: false, error: `The public key is refused: ${problem}` };
  await context.store.addIdentity(request.name);
  const keyId = formatKeyId(await keyIdOf(context.crypto, request.publicKey));
  const added = await context.store.addKey(request.name, {
    kind: "device",
    keyId,
    publicKey: request.publicKey,
  });
  return added === "ok" ? { ok: true, keyId } : { ok: false, error: describeKeyChange(added, request.name) };
}

/** A key change's refusal in words. */
export function describeKeyChange(result: Exclude<KeyChangeResult, "ok">, name: string): string {
  switch (result) {
    case "not_found":
      return `No active identity ${name} (or no such usable key)`;
    case "key_exists":
      return "This public key is already registered";
    case "key_limit":
      return `Identity ${name} holds as many usable keys as it may: revoke one first`;
  }
}

/**
 * A key pair made here for an identity (the one-step flow): its public half registered, its credential
 * written to a pending file beside `path` first and moved into place only once the store has the key, so a
 * credential file on disk always matches the store. `replacing` revokes those keys in the same step.
 */
export async function issueKeyPair(
  context: KeyContext & { bankPublicKey: Uint8Array },
  request: { name: string; path: string; replacing?: readonly string[] },
): Promise<{ ok: true; keyId: string } | { ok: false; error: string }> {
  const privateKey = randomBytes(KEY_BYTES);
  const signer = await context.crypto.signer(privateKey);
  const keyId = formatKeyId(await keyIdOf(context.crypto, signer.publicKey));
  const pending = `${request.path}.pending`;
  await ensurePrivateDir(request.path.slice(0, Math.max(request.path.lastIndexOf("/"), 0)) || ".");
  const credential = encodeCredential({
    identity: request.name,
    privateKey,
    bankPublicKey: context.bankPublicKey,
  });
  await writeFileAtomic(pending, credential, { mode: PRIVATE_FILE_MODE });
  const key = { kind: "device" as const, keyId, publicKey: signer.publicKey };
  const [first, ...others] = request.replacing ?? [];
  const result = first === undefined
    ? await context.store.addKey(request.name, key)
    : await context.store.replaceKey(request.name, { oldKeyId: first, key });
  if (result !== "ok") {
    await Deno.remove(pending).catch(() => {});
    return { ok: false, error: describeKeyChange(result, request.name) };
  }
  for (const keyIdToRevoke of others) await context.store.revokeKey(request.name, keyIdToRevoke);
  await renameDurably(pending, request.path);
  return { ok: true, keyId };
}

/** Makes an identity with a key pair made here and writes its credential file; null when the name is taken. */
export async function createIdentity(
  context: KeyContext & { bankPublicKey: Uint8Array },
  request: { name: string; path: string },
): Promise<string | null> {
  assert(!isReservedIdentityName(request.name), `Identity name ${request.name} is reserved`);
  if ((await context.store.addIdentity(request.name)) === "exists") return null;
  const issued = await issueKeyPair(context, request);
  assert(issued.ok, `A new identity takes its first key: ${issued.ok ? "" : issued.error}`);
  return request.path;
}

/** The active key ids of an identity. */
export async function activeKeyIds(store: IdentityDirectory, name: string): Promise<string[]> {
  const keys = await store.listKeys(name, { limit: IDENTITY_KEYS_PAGE_MAX });
  return keys.filter((key) => key.status === "active").map((key) => key.keyId);
}

/**
 * On a store with no identities at all, makes `client-1` … `client-N` and writes their credential files;
 * a demo identity left without a key (a store from before public keys) gets a new key pair and file.
 * Returns how many identities were made or given a key.
 */
export async function provisionDemoIdentities(
  context: KeyContext & { bankPublicKey: Uint8Array },
  options: { dataDir: string; count: number },
): Promise<number> {
  assert(options.count >= 0, `Demo count ${options.count} is out of range`);
  assert(options.count <= IDENTITIES_MAX, `Demo count ${options.count} is out of range`);
  if (options.count === 0) return 0;
  const fresh = (await context.store.countIdentities()) === 0;
  let made = 0;
  for (let n = 1; n <= options.count; n++) {
    const name = demoIdentityName(n);
    const path = credentialPathOf(options.dataDir, name);
    if (fresh) {
      if ((await createIdentity(context, { name, path })) !== null) made += 1;
    } else if ((await activeKeyIds(context.store, name)).length === 0) {
      if ((await issueKeyPair(context, { name, path })).ok) made += 1;
    }
  }
  return made;
}

/** An invite for an identity (made when new): its one-time code, to hand to the client, and its deadline. */
export async function createInvite(
  context: KeyContext,
  request: { name: string; expiresAt: Date; attempts: number },
): Promise<{ ok: true; code: string; keyId: string } | { ok: false; error: string }> {
  assert(!isReservedIdentityName(request.name), `Identity name ${request.name} is reserved`);
  const code = randomBytes(INVITE_CODE_BYTES);
  const signer = await context.crypto.signer(await inviteSeed(context.crypto, code, request.name));
  const keyId = formatKeyId(await keyIdOf(context.crypto, signer.publicKey));
  await context.store.addIdentity(request.name);
  const key = {
    kind: "invite" as const,
    keyId,
    publicKey: signer.publicKey,
    expiresAt: request.expiresAt,
    attemptsLeft: request.attempts,
  };
  const added = await context.store.addKey(request.name, key);
  if (added !== "ok") return { ok: false, error: describeKeyChange(added, request.name) };
  return { ok: true, code: formatInviteCode(code), keyId };
}

/** A change the watcher saw: this identity's sessions below `generation` must be checked. */
export interface IdentityChange {
  name: string;
  status: IdentityStatus;
  generation: number;
}

/**
 * Follows the store's identity changes once a second (every server process does, so a change made through
 * any of them, or the command line, reaches all). Remembers the newest generation of each changed identity,
 * so a session that authenticated just before a change it had not yet seen can still be checked.
 */
export class IdentityWatcher {
  readonly #store: IdentityDirectory;
  readonly #onChange: (change: IdentityChange) => void;
  readonly #generations = new Map<string, number>();
  #cursor = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<void> = Promise.resolve();

  constructor(store: IdentityDirectory, onChange: (change: IdentityChange) => void) {
    this.#store = store;
    this.#onChange = onChange;
  }

  /** Reads every change so far (without reporting them), then polls. */
  async start(): Promise<void> {
    await this.#catchUp(false);
    this.#timer = setInterval(() => {
      this.#polling = this.#polling.then(() => this.#catchUp(true)).catch((error: unknown) => {
        log.warning("Cannot read identity changes: {kind}", {
          kind: error instanceof Error ? error.name : "error",
        });
      });
    }, IDENTITY_REFRESH_MS);
  }

  /** The newest generation seen for an identity, or 0 when it never changed since start. */
  latestGeneration(name: string): number {
    return this.#generations.get(name) ?? 0;
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
  }

  async #catchUp(report: boolean): Promise<void> {
    for (let page = 0; page <= IDENTITIES_MAX / IDENTITIES_PAGE_MAX; page++) {
      const { cursor, changes } = await this.#store.identityChangesSince(this.#cursor, {
        limit: IDENTITIES_PAGE_MAX,
      });
      this.#cursor = cursor;
      for (const change of changes) {
        if (this.#generations.size < IDENTITIES_MAX || this.#generations.has(change.name)) {
          this.#generations.set(change.name, change.generation);
        }
        if (report) this.#onChange(change);
      }
      if (changes.length < IDENTITIES_PAGE_MAX) return;
    }
  }
}
