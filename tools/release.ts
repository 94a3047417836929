/**
 * Builds the two release binaries for one target with `deno compile --target`, with exactly the flags of
 * `deno task compile:server` and `compile:client` (deno.json), so a download runs with the permissions the
 * source does. Used by `.github/workflows/release.yml`.
 *
 * ```sh
 * deno run -A tools/release.ts --target x86_64-unknown-linux-gnu --out dist/release
 * ```
 *
 * @module
 */
import { parseArgs } from "@std/cli/parse-args";
import denoConfig from "../deno.json" with { type: "json" };

/** The targets a release carries: Linux x86_64 and arm64, macOS x86_64 and arm64, Windows x86_64. */
export const RELEASE_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;
export type ReleaseTarget = typeof RELEASE_TARGETS[number];

/** The file a binary takes in a release: its name, its target, and `.exe` on Windows. */
export function releaseFileName(program: "bank-server" | "bank-client", target: ReleaseTarget): string {
  return `${program}-${target}${target.includes("windows") ? ".exe" : ""}`;
}

/** `deno compile`'s arguments for one program and target, from its task in deno.json. */
export function compileArgs(
  program: "bank-server" | "bank-client",
  target: ReleaseTarget,
  outDir: string,
): string[] {
  const task = program === "bank-server"
    ? denoConfig.tasks["compile:server"]
    : denoConfig.tasks["compile:client"];
  const words = task.split(/\s+/);
  if (words[0] !== "deno" || words[1] !== "compile") {
    throw new Error(`The ${program} task is not a deno compile`);
  }
  const output = words.indexOf("--output");
  if (output < 0 || words[output + 1] !== `dist/${program}`) {
    throw new Error(`The ${program} task has no --output`);
  }
  const args = [...words.slice(2)];
  args.splice(output - 2, 2, "--output", `${outDir}/${releaseFileName(program, target)}`, "--target", target);
  return args;
}

async function main(): Promise<number> {
  const flags = parseArgs(Deno.args, { string: ["target", "out"] });
  const target = RELEASE_TARGETS.find((known) => known === flags.target);
  if (target === undefined) {
    console.error(`tools/release.ts: --target is one of ${RELEASE_TARGETS.join(", ")}`);
    return 2;
  }
  const outDir = flags.out ?? "dist/release";
  await Deno.mkdir(outDir, { recursive: true });
  for (const program of ["bank-server", "bank-client"] as const) {
    const args = compileArgs(program, target, outDir);
    console.log(`deno compile ${args.join(" ")}`);
    const built = await new Deno.Command(Deno.execPath(), { args: ["compile", ...args] }).spawn().status;
    if (!built.success) return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
