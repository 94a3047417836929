/**
 * Browser bundles are committed (so the server serves them with no build step, also from the compiled
 * binary); a test per bundle checks that the committed file is what `deno bundle` makes of its TypeScript
 * today, and names the task that fixes it when it is stale.
 *
 * @module
 */
import { assertEquals } from "@std/assert";

const ROOT = new URL("../", import.meta.url).pathname;

/** Bundles `entry` (a path from the repository root) and compares it with the committed `bundle`. */
export async function assertBundleFresh(
  parts: { entry: string; bundle: string; task: string },
): Promise<void> {
  const output = await Deno.makeTempFile({ suffix: ".js" });
  try {
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "--output", output, parts.entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
    const fresh = await Deno.readTextFile(output);
    const committed = await Deno.readTextFile(`${ROOT}${parts.bundle}`);
    assertEquals(committed === fresh, true, `${parts.bundle} is stale: run deno task ${parts.task}`);
  } finally {
    await Deno.remove(output);
  }
}
