/**
 * Files that hold secrets or state: read with a size ceiling, written whole or not at all with their mode
 * set explicitly.
 *
 * @module
 */
import { assert } from "./assert.ts";
import { fromUtf8, randomBytes, toBase64Url } from "./bytes.ts";

/** Mode of files only the server's user may read: private keys, secrets, credential files. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of files anyone on the machine may read: certificates. */
export const PUBLIC_FILE_MODE = 0o644;
/** Mode of directories only the server's user may enter. */
export const PRIVATE_DIR_MODE = 0o700;

const TEMPORARY_SUFFIX_BYTES = 6;

/**
 * Writes a file atomically and durably: a temporary file with the final mode, flushed to disk, then renamed
 * over the target and the directory flushed, so a crash or power loss leaves either the old file or the new
 * one, never an empty or partial file.
 */
export async function writeFileAtomic(path: string, text: string, options: { mode: number }): Promise<void> {
  assert(options.mode >= 0, `Mode ${options.mode.toString(8)} is out of range`);
  assert(options.mode <= 0o777, `Mode ${options.mode.toString(8)} is out of range`);
  const temporary = `${path}.tmp-${toBase64Url(randomBytes(TEMPORARY_SUFFIX_BYTES))}`;
  try {
    await writeDurably(temporary, text, options.mode);
    await renameDurably(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw new Error(`Cannot write "${path}": ${reasonOf(error)}`, { cause: error });
  }
}

/** The directory a path names a file in (`.` for a bare name, `/` for a file at the root). */
export function parentDirOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
}

/** Renames a file and flushes its directory, so the rename survives a power loss. */
export async function renameDurably(from: string, to: string): Promise<void> {
  await Deno.rename(from, to);
  const directory = parentDirOf(to);
  try {
    using handle = await Deno.open(directory, { read: true });
    await handle.sync();
  } catch {
    // Some platforms cannot open or flush a directory; the rename itself is still atomic.
  }
}

async function writeDurably(path: string, text: string, mode: number): Promise<void> {
  using file = await Deno.open(path, { write: true, createNew: true, mode });
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  for (let writes = 0; offset < bytes.length && writes <= bytes.length; writes++) {
    offset += await file.write(bytes.subarray(offset));
  }
  assert(offset === bytes.length, `Wrote ${offset} of ${bytes.length} bytes`);
  await file.sync();
  await Deno.chmod(path, mode);
}

/** Creates a private directory (and its parents) if it does not exist, and makes it private if it does. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
  await Deno.chmod(path, PRIVATE_DIR_MODE);
}

/**
 * Makes sure a file that will hold secrets exists with mode 0600 before anything else opens it (SQLite
 * gives its -wal and -shm files the mode of the database file).
 */
export async function ensurePrivateFile(path: string): Promise<void> {
  try {
    await Deno.writeFile(path, new Uint8Array(0), { createNew: true, mode: PRIVATE_FILE_MODE });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  await Deno.chmod(path, PRIVATE_FILE_MODE);
}

/**
 * Reads at most `bytesMax` of a file, however large it claims or grows to be.
 *
 * @param options.what Names the file in errors, e.g. `"certificate"`.
 */
export async function readFileLimited(
  path: string,
  options: { bytesMax: number; what: string },
): Promise<Uint8Array> {
  assert(Number.isInteger(options.bytesMax), `Bad read limit ${options.bytesMax}`);
  assert(options.bytesMax > 0, `Bad read limit ${options.bytesMax}`);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound ? "file not found" : reasonOf(error);
    throw new Error(`Cannot read ${options.what} "${path}": ${reason}`, { cause: error });
  }
  using _file = file;
  const buffer = new Uint8Array(options.bytesMax + 1);
  let length = 0;
  for (let reads = 0; reads <= options.bytesMax && length < buffer.length; reads += 1) {
    const count = await file.read(buffer.subarray(length));
    if (count === null) break;
    length += count;
  }
  if (length > options.bytesMax) {
    throw new Error(`Cannot read ${options.what} "${path}": file is over ${options.bytesMax} bytes`);
  }
  return buffer.slice(0, length);
}

/** Reads a UTF-8 text file of at most `bytesMax`. */
export async function readTextFileLimited(
  path: string,
  options: { bytesMax: number; what: string },
): Promise<string> {
  const text = fromUtf8(await readFileLimited(path, options));
  if (text === null) throw new Error(`Cannot read ${options.what} "${path}": not UTF-8 text`);
  return text;
}

/** Whether a regular file exists at `path` (a link or directory does not count). */
export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await Deno.lstat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new Error(`Cannot inspect "${path}": ${reasonOf(error)}`, { cause: error });
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
