/**
 * The committed `dashboard.js` is what `deno task bundle:dashboard` makes of `main.ts` today: a change to
 * the dashboard's TypeScript that was not bundled fails here, with the command that fixes it.
 *
 * @module
 */
import { assertBundleFresh } from "../../tools/bundle.ts";

Deno.test("dashboard.js is the bundle of main.ts as it stands (deno task bundle:dashboard)", async () => {
  await assertBundleFresh({
    entry: "monitor/dashboard/main.ts",
    bundle: "monitor/dashboard/dashboard.js",
    task: "bundle:dashboard",
  });
});
