/**
 * Client identities: making them (with the one credential file that holds each secret), and watching the
 * store for rotations and revocations so that the sessions they invalidate end within a second. The store
 * keeps only the auth key derived from each secret (protocol/handshake.ts), never the secret.
 *
 * @module
 */
import { assert } from "../lib/assert.ts";
import { randomBytes } from "../lib/bytes.ts";
import { encodeCredential, isReservedIdentityName } from "../protocol/credential.ts";
import { credentialPathOf, demoIdentityName } from "../protocol/demo.ts";
import { deriveAuthKey } from "../protocol/handshake.ts";
import { SECRET_BYTES } from "../protocol/limits.ts";
import { IDENTITIES_PAGE_MAX } from "./ledger/limits.ts";
import { IDENTITIES_MAX, IDENTITY_REFRESH_MS } from "./limits.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE, renameDurably, writeFileAtomic } from "../lib/files.ts";
import type { IdentityDirectory, IdentityStatus } from "./ledger/ledger.ts";
import { serverLogger } from "./log.ts";

const log = serverLogger("identities");

/**
 * A new secret, written to a pending credential file next to `path` (mode 0600, flushed), with the auth key
 * the store will keep. {@link commit} moves the file into place once the store has the key; {@link discard}
 * removes it when the store refused, so a credential file on disk always matches the store.
 */
async function issueSecret(name: string, path: string) {
  const secret = randomBytes(SECRET_BYTES);
  const pending = `${path}.pending`;
  await ensurePrivateDir(path.slice(0, Math.max(path.lastIndexOf("/"), 0)) || ".");
  await writeFileAtomic(pending, encodeCredential({ identity: name, secret }), { mode: PRIVATE_FILE_MODE });
  return {
    authKey: await deriveAuthKey(secret),
    commit: () => renameDurably(pending, path),
    discard: () => Deno.remove(pending).catch(() => {}),
  };
}

/**
 * On a store with no identities at all, makes `client-1` … `client-N` and writes their credential files.
 * Returns how many were made (0 when the store already had identities).
 */
export async function provisionDemoIdentities(
  store: IdentityDirectory,
  options: { dataDir: string; count: number },
): Promise<number> {
  assert(
    options.count >= 0 && options.count <= IDENTITIES_MAX,
    `Demo count ${options.count} is out of range`,
  );
  if (options.count === 0 || (await store.countIdentities()) > 0) return 0;
  let made = 0;
  for (let n = 1; n <= options.count; n++) {
    const name = demoIdentityName(n);
    if ((await createIdentity(store, { name, path: credentialPathOf(options.dataDir, name) })) !== null) {
      made += 1;
    }
  }
  return made;
}

/** Creates one identity and writes its credential file; null when the name is taken. */
export async function createIdentity(
  store: IdentityDirectory,
  options: { name: string; path: string },
): Promise<string | null> {
  assert(!isReservedIdentityName(options.name), `Identity name ${options.name} is reserved`);
  const issued = await issueSecret(options.name, options.path);
  if ((await store.addIdentity(options.name, issued.authKey)) === "exists") {
    await issued.discard();
    return null;
  }
  await issued.commit();
  return options.path;
}

/** Gives an active identity a new secret (the old one stops working); null when there is no such identity. */
export async function rotateIdentity(
  store: IdentityDirectory,
  options: { name: string; path: string },
): Promise<string | null> {
  const issued = await issueSecret(options.name, options.path);
  if ((await store.rotateIdentity(options.name, issued.authKey)) !== "ok") {
    await issued.discard();
    return null;
  }
  await issued.commit();
  return options.path;
}

/** A change the watcher saw: this identity's sessions below `generation` must end. */
export interface IdentityChange {
  name: string;
  status: IdentityStatus;
  generation: number;
}

/**
 * Follows the store's identity changes once a second (every server process does, so a change made through
 * any of them, or the command line, reaches all). Remembers the newest generation of each changed identity,
 * so a session that authenticated just before a change it had not yet seen can still be ended.
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
