/**
 * Writing files that hold secrets or state: whole or not at all, with their mode set explicitly.
 *
 * @module
 */
import { assert } from "../protocol/assert.ts";
import { randomBytes, toBase64Url } from "../protocol/bytes.ts";

/** Mode of files only the server's user may read: private keys, secrets, credential files. */
export const PRIVATE_FILE_MODE = 0o600;
/** Mode of directories only the server's user may enter. */
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Writes a file atomically: a temporary file with the final mode, then a rename over the target, so a
 * crash leaves either the old file or the new one.
 */
export async function writeFileAtomic(path: string, text: string, options: { mode: number }): Promise<void> {
  assert(options.mode >= 0 && options.mode <= 0o777, `Mode ${options.mode.toString(8)} is out of range`);
  const temporary = `${path}.tmp-${toBase64Url(randomBytes(6))}`;
  try {
    await Deno.writeTextFile(temporary, text, { mode: options.mode, createNew: true });
    await Deno.chmod(temporary, options.mode);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
  }
}

/** Creates a private directory (and its parents) if it does not exist. */
export async function ensurePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Reads a text file no larger than `maxBytes`; the error names the file and the problem. */
export async function readTextFileLimited(path: string, options: { maxBytes: number }): Promise<string> {
  const info = await Deno.stat(path).catch((error: unknown) => {
    throw new Error(`Cannot read "${path}": ${error instanceof Error ? error.message : String(error)}`);
  });
  if (!info.isFile) throw new Error(`Cannot read "${path}": not a file`);
  if (info.size > options.maxBytes) {
    throw new Error(`Cannot read "${path}": ${info.size} bytes is over the limit of ${options.maxBytes}`);
  }
  return await Deno.readTextFile(path);
}
