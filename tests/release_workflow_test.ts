/**
 * The release workflow cannot run here (no internet, no GitHub), so it is checked as a file: it validates
 * against GitHub's workflow schema (@action-validator/core), and it does what a release must: on a version
 * tag, the checks and tests first, then both binaries for every target through tools/release.ts (which
 * takes its flags from deno.json's compile tasks), the compile test on the Linux binaries, and a release
 * with the binaries and their SHA-256 sums.
 */
import { assertEquals } from "@std/assert";
import { assert } from "../lib/assert.ts";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";
import { compileArgs, RELEASE_TARGETS, releaseFileName } from "../tools/release.ts";

const WORKFLOW = new URL("../.github/workflows/release.yml", import.meta.url);

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  steps: Step[];
  strategy?: { matrix: { target: string[] } };
}

async function workflow(): Promise<
  { text: string; on: { push: { tags: string[] } }; jobs: Record<string, Job> }
> {
  const text = await Deno.readTextFile(WORKFLOW);
  return { text, ...parse(text) };
}

Deno.test("release.yml validates against GitHub's workflow schema", async () => {
  const { text } = await workflow();
  assertEquals(validateWorkflow(text).errors, []);
  // The validator is not a rubber stamp: a misspelt key is an error.
  assert(
    validateWorkflow(text.replace("runs-on:", "run-on:")).errors.length > 0,
    "a misspelt key is refused",
  );
});

Deno.test("release.yml checks and tests, builds every target, tests the Linux binaries, releases with sums", async () => {
  const { on, jobs } = await workflow();
  assertEquals(on.push.tags, ["v*"]);
  const { check, build, release } = jobs;
  assert(
    check !== undefined && build !== undefined && release !== undefined,
    "check, build and release jobs",
  );
  assert(check.steps.some((step) => step.run?.trim() === "./.ci/run"), "the checks and tests run .ci/run");
  assertEquals(build.needs, "check");
  assertEquals(release.needs, "build");
  assertEquals(build.strategy?.matrix.target, [...RELEASE_TARGETS]);
  assert(
    build.steps.some((step) => step.run?.includes("tools/release.ts --target ${{ matrix.target }}")),
    "each target is built by tools/release.ts",
  );
  const compileTest = build.steps.find((step) => step.run?.includes("tests/compile_test.ts"));
  assertEquals(compileTest?.if, "matrix.target == 'x86_64-unknown-linux-gnu'");
  assertEquals(compileTest?.env, {
    BANK_SERVER_BIN: `dist/release/${releaseFileName("bank-server", "x86_64-unknown-linux-gnu")}`,
    BANK_CLIENT_BIN: `dist/release/${releaseFileName("bank-client", "x86_64-unknown-linux-gnu")}`,
  });
  assert(release.steps.some((step) => step.run?.includes("sha256sum bank-* > SHA256SUMS")), "sums are made");
  const published = release.steps.find((step) => step.uses?.startsWith("softprops/action-gh-release"));
  assertEquals(String(published?.with?.files).trim().split("\n").map((line) => line.trim()), [
    "dist/bank-*",
    "dist/SHA256SUMS",
  ]);
});

Deno.test("tools/release.ts builds with exactly the compile tasks' flags, for the target asked", () => {
  const server = compileArgs("bank-server", "x86_64-pc-windows-msvc", "out");
  assertEquals(server.slice(server.indexOf("--output"), server.indexOf("--output") + 4), [
    "--output",
    "out/bank-server-x86_64-pc-windows-msvc.exe",
    "--target",
    "x86_64-pc-windows-msvc",
  ]);
  for (const flag of ["--allow-net", "--allow-ffi", "--include", "main.ts"]) {
    assert(server.includes(flag), flag);
  }
  const client = compileArgs("bank-client", "aarch64-apple-darwin", "out");
  assertEquals(client.at(-1), "client/main.ts");
  assert(
    client.includes("out/bank-client-aarch64-apple-darwin"),
    "the client's file is named for its target",
  );
  assert(!client.includes("--allow-ffi"), "the client keeps its own, narrower permissions");
});
