/**
 * The committed `web/app.js` is what `deno task bundle:web` makes of `web/src/main.ts` today (with the
 * client library and protocol code it imports): a change that was not bundled fails here.
 *
 * @module
 */
import { assertBundleFresh } from "../tools/bundle.ts";

Deno.test("web/app.js is the bundle of web/src/main.ts as it stands (deno task bundle:web)", async () => {
  await assertBundleFresh({ entry: "web/src/main.ts", bundle: "web/app.js", task: "bundle:web" });
});
