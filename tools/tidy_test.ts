import { assertEquals } from "@std/assert";
import { checkFile, FILE_LINES_MAX, FUNCTION_LINES_MAX, tidy } from "./tidy.ts";

/** A tree with every convention broken once, and files that keep them beside. */
const PLANTED: Record<string, string> = {
  "lib/ok.ts": "export const ONE = 1;\n",
  "protocol/wire.ts": 'import { ONE } from "../lib/ok.ts";\nexport const TWO = ONE + 1;\n',
  "protocol/leaky.ts": 'import { x } from "../server/ledger/rules.ts";\nexport const y = Deno.pid + x;\n',
  "server/ledger/rules.ts": 'import { TWO } from "../../protocol/wire.ts";\nexport const x = TWO;\n',
  "client/cli.ts": 'import { x } from "../server/ledger/rules.ts";\nexport const z = x;\n',
  "bench/uses_test.ts_helper.ts": 'import { h } from "../tests/helper.ts";\nexport const w = h;\n',
  "tests/helper.ts": 'import { x } from "../server/ledger/rules.ts";\nexport const h = x;\n',
  "server/index.ts": "export {};\n",
  "server/long.ts": "export const a = 1;\n".repeat(FILE_LINES_MAX + 1),
  "server/long_fn.ts": `export function tooLong(): number {\n${
    "  void 0;\n".repeat(FUNCTION_LINES_MAX)
  }  return 1;\n}\n`,
  "server/marker.ts": `// ${"TO"}${"DO"}: later\nexport {};\n`,
  "monitor/dashboard/page.ts": 'import { readFile } from "node:fs";\nexport const r = readFile;\n',
  "server/long_test.ts": "export const a = 1;\n".repeat(FILE_LINES_MAX + 1),
};

Deno.test("tidy() finds each planted violation, once, and nothing in the files that keep the rules", async () => {
  const root = await Deno.makeTempDir({ prefix: "tidy-" });
  try {
    for (const [file, text] of Object.entries(PLANTED)) {
      await Deno.mkdir(`${root}/${file.split("/").slice(0, -1).join("/")}`, { recursive: true });
      await Deno.writeTextFile(`${root}/${file}`, text);
    }
    const found = (await tidy(root)).map((violation) => `${violation.file} ${violation.rule}`);
    assertEquals(found, [
      "bench/uses_test.ts_helper.ts import-direction",
      "client/cli.ts import-direction",
      "monitor/dashboard/page.ts browser-safe",
      "protocol/leaky.ts import-direction",
      "protocol/leaky.ts browser-safe",
      "server/index.ts index-file",
      "server/long_fn.ts function-length",
      "server/long.ts file-length",
      "server/marker.ts marker",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("checkFile() names the layer, the target and what is allowed", () => {
  const [violation] = checkFile("client/cli.ts", 'import { x } from "../server/ledger/rules.ts";\n');
  assertEquals(
    violation?.message,
    "client/ imports server/ledger/rules.ts (server/ledger/): it may import lib, protocol, client only",
  );
});

Deno.test("checkFile() lets tests and main.ts import any layer, and only tests import tests/", () => {
  const ledger = 'import { x } from "./server/ledger/rules.ts";\n';
  assertEquals(checkFile("main.ts", ledger), []);
  assertEquals(checkFile("client/cli_test.ts", 'import { x } from "../server/ledger/rules.ts";\n'), []);
  assertEquals(checkFile("tests/a_test.ts", 'import { h } from "./helper.ts";\n'), []);
  const [violation] = checkFile("main.ts", 'import { h } from "./tests/helper.ts";\n');
  assertEquals(violation?.rule, "import-direction");
});

Deno.test("the project's own tree keeps its conventions", async () => {
  const violations = await tidy(new URL("..", import.meta.url).pathname);
  assertEquals(violations.map((violation) => `${violation.file}:${violation.line} ${violation.message}`), []);
});
