/**
 * The two standalone binaries: `deno task compile` builds them, and they pass Test Case 1 against each other.
 * `deno compile` embeds the `denort` runtime, which it downloads unless `DENORT_BIN` points at one; build
 * machines without internet skip this test, and say so.
 */
import { assertEquals } from "@std/assert";
import { runClient, startServer, TEST_CASE_1_LINES } from "../tools/harness.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const denortBin = Deno.env.get("DENORT_BIN");
const forced = Deno.env.get("BANK_COMPILE_TEST") === "1";
// A release checks the binaries it built (.github/workflows/release.yml) instead of building its own.
const built = { server: Deno.env.get("BANK_SERVER_BIN"), client: Deno.env.get("BANK_CLIENT_BIN") };
const prebuilt = built.server !== undefined && built.client !== undefined;
const enabled = denortBin !== undefined || forced || prebuilt;

if (!enabled) {
  console.warn(
    "SKIPPED compile test: set DENORT_BIN to a denort binary (or BANK_COMPILE_TEST=1 to let deno download one)",
  );
}

Deno.test({
  name: "deno task compile builds bank-server and bank-client that pass Test Case 1",
  ignore: !enabled,
  async fn() {
    if (!prebuilt) {
      const build = await new Deno.Command(Deno.execPath(), { args: ["task", "compile"], cwd: ROOT })
        .output();
      assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));
    }
    const serverBin = built.server ?? `${ROOT}dist/bank-server`;
    await using server = await startServer({
      args: ["--demo-clients", "1", "--workers", "2"],
      program: { executable: serverBin, args: [] },
    });
    const result = await runClient(server, [], {
      program: { executable: built.client ?? `${ROOT}dist/bank-client`, args: [] },
    });
    assertEquals(result.lines, ["Client 1: Connected.", ...TEST_CASE_1_LINES]);
    const help = await new Deno.Command(serverBin, { args: ["--help"] }).output();
    assertEquals(help.code, 0);
  },
});
