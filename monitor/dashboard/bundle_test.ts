/**
 * The committed `dashboard.js` is what `deno task bundle:dashboard` makes of `main.ts` today: a change to
 * the dashboard's TypeScript that was not bundled fails here, with the command that fixes it.
 *
 * @module
 */
import { assertEquals } from "@std/assert";

Deno.test("dashboard.js is the bundle of main.ts as it stands (deno task bundle:dashboard)", async () => {
  const output = await Deno.makeTempFile({ suffix: ".js" });
  try {
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--quiet", "--platform", "browser", "--output", output, "monitor/dashboard/main.ts"],
      cwd: new URL("../..", import.meta.url).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(bundle.code, 0, new TextDecoder().decode(bundle.stderr));
    const fresh = await Deno.readTextFile(output);
    const committed = await Deno.readTextFile(new URL("./dashboard.js", import.meta.url));
    assertEquals(
      committed === fresh,
      true,
      "monitor/dashboard/dashboard.js is stale: run deno task bundle:dashboard",
    );
  } finally {
    await Deno.remove(output);
  }
});
