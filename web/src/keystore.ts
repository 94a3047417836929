/**
 * What the browser keeps, in IndexedDB: this browser's key (a non-extractable WebCrypto Ed25519 key: no
 * script, this one included, can read its private half; it can only ask the browser to sign), the name it
 * is enrolled as and the bank key it pins; and transfers sent whose outcome is not yet known, each with the
 * idempotency key that makes a retry safe. Signing out deletes all of it.
 *
 * @module
 */
import { toHex } from "../../lib/bytes.ts";
import type { HeldKey } from "../../client/keys.ts";

const DATABASE = "bank";
const VERSION = 1;
const KEYS = "keys";
const PENDING = "pending";
/** The one key record: this browser holds one identity at a time. */
const KEY_RECORD = "current";

/** The key this browser is enrolled with. */
export interface StoredKey {
  identity: string;
  keyId: string;
  publicKey: Uint8Array;
  privateKey: CryptoKey;
  bankPublicKey: Uint8Array;
  enrolledAt: string;
}

/** A transfer sent, kept until the bank's answer is known. */
export interface PendingTransfer {
  idempotencyKey: string;
  from: string;
  to: string;
  /** Minor units, as decimal digits (IndexedDB keeps no bigint in every browser). */
  amountMinor: string;
  sentAt: string;
}

/** Makes a key pair whose private half never leaves the browser's key store. */
export async function makeBrowserKey(): Promise<HeldKey & { privateKey: CryptoKey }> {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  return await heldKeyOf(
    pair.privateKey,
    new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey)),
  );
}

/** The signer of a stored key. */
export async function heldKeyOf(
  privateKey: CryptoKey,
  publicKey: Uint8Array,
): Promise<HeldKey & { privateKey: CryptoKey }> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", publicKey as BufferSource));
  return {
    privateKey,
    publicKey,
    keyId: toHex(digest.subarray(0, 16)),
    signer: {
      publicKey,
      sign: async (message) =>
        new Uint8Array(await crypto.subtle.sign("Ed25519", privateKey, message as BufferSource)),
    },
  };
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(KEYS);
      request.result.createObjectStore(PENDING, { keyPath: "idempotencyKey" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(
  store: string,
  mode: IDBTransactionMode,
  work: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const database = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = database.transaction(store, mode);
      const request = work(transaction.objectStore(store));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    database.close();
  }
}

export function loadKey(): Promise<StoredKey | undefined> {
  return run<StoredKey | undefined>(KEYS, "readonly", (store) => store.get(KEY_RECORD));
}

export async function saveKey(key: StoredKey): Promise<void> {
  await run(KEYS, "readwrite", (store) => store.put(key, KEY_RECORD));
}

export function listPending(): Promise<PendingTransfer[]> {
  return run<PendingTransfer[]>(PENDING, "readonly", (store) => store.getAll());
}

export async function savePending(transfer: PendingTransfer): Promise<void> {
  await run(PENDING, "readwrite", (store) => store.put(transfer));
}

export async function forgetPending(idempotencyKey: string): Promise<void> {
  await run(PENDING, "readwrite", (store) => store.delete(idempotencyKey));
}

/** Signing out: the key and everything else this browser kept for the bank. */
export async function forgetEverything(): Promise<void> {
  await run(KEYS, "readwrite", (store) => store.clear());
  await run(PENDING, "readwrite", (store) => store.clear());
}
