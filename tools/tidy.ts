/**
 * The tidy check (`deno task check` runs it), in the spirit of TigerBeetle's `tidy.zig`: the conventions of
 * the tree, kept by a program rather than by memory.
 *
 * - Imports run one way: `lib/` <- `protocol/` <- `server/ledger/` <- `server/`; `client/`, `certs/` and
 *   `monitor/` beside the server import `lib/` and `protocol/` only (the server may import them); `bench/`,
 *   `fuzz/` and `tools/` (development) never import `tests/`. Tests (`*_test.ts`, `tests/`) and the entry
 *   point `main.ts` may import anything.
 * - `protocol/`, the dashboard's code (`monitor/dashboard/`), the web app (`web/`, which may also import
 *   `client/`) and the WebSocket transport (`client/websocket.ts`) stay browser-safe: no `Deno.*`, no
 *   `node:*` (but `protocol/node_crypto.ts`, which browser code never imports).
 * - No file over {@link FILE_LINES_MAX} lines and no function over {@link FUNCTION_LINES_MAX} lines outside
 *   tests; no `index.ts`; no to-do or fix-me markers (work is done or filed as an issue).
 *
 * ```sh
 * deno run --allow-read tools/tidy.ts [ROOT]
 * ```
 *
 * @module
 */

export const FILE_LINES_MAX = 600;
export const FUNCTION_LINES_MAX = 70;

/** The folders a layer's files may import from (their own layer included). */
export const LAYER_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  "lib": ["lib"],
  "protocol": ["lib", "protocol"],
  "server/ledger": ["lib", "protocol", "server/ledger"],
  "server": ["lib", "protocol", "server/ledger", "server", "monitor", "certs"],
  "client": ["lib", "protocol", "client"],
  "certs": ["lib", "protocol", "certs"],
  "monitor": ["lib", "protocol", "monitor"],
  "web": ["lib", "protocol", "client", "web"],
  "tools": ["lib", "protocol", "server/ledger", "server", "client", "certs", "monitor", "tools"],
  "bench": ["lib", "protocol", "server/ledger", "server", "client", "certs", "monitor", "tools", "bench"],
  "fuzz": [
    "lib",
    "protocol",
    "server/ledger",
    "server",
    "client",
    "certs",
    "monitor",
    "tools",
    "bench",
    "fuzz",
  ],
};
/** Files that may import from any layer. */
const UNRESTRICTED = new Set(["main.ts"]);
/** Folders whose code runs in browsers. */
const BROWSER_SAFE = ["protocol/", "monitor/dashboard/", "web/", "client/websocket.ts"];
/** The one `protocol/` module allowed `node:*`: the node:crypto primitives, which browser code never imports. */
const PROTOCOL_NODE_ALLOWED = new Set(["protocol/node_crypto.ts"]);
const SKIPPED_DIRECTORIES = new Set([".git", ".bank", "dist", "node_modules"]);
const IMPORT_PATTERN = /(?:^|\s)(?:import|export)\s[^"';]*?from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm;
const FUNCTION_START = /^(\s*)(?:export\s+)?(?:default\s+)?(?:async\s+)?function\*?\s*[\w$]*\s*[<(]/;
const METHOD_START =
  /^(\s+)(?:(?:public|private|protected|static|override|readonly|async|get|set)\s+)*(#?[\w$]+)\s*(?:<[^>]*>)?\(/;
const NOT_METHODS = new Set([
  "if",
  "for",
  "while",
  "switch",
  "catch",
  "return",
  "function",
  "await",
  "new",
  "super",
]);
/** Spelled in pieces, so that this file does not match itself. */
const MARKERS = new RegExp(`\\b(${["TO", "DO"].join("")}|${["FIX", "ME"].join("")})\\b`);

/** One broken convention, with where it is. */
export interface Violation {
  file: string;
  line: number;
  rule: "import-direction" | "browser-safe" | "file-length" | "function-length" | "index-file" | "marker";
  message: string;
}

/** Checks every TypeScript file under `root`; returns what breaks the conventions. */
export async function tidy(root: string): Promise<Violation[]> {
  const violations: Violation[] = [];
  for await (const file of walk(root, "")) {
    const text = await Deno.readTextFile(`${root}/${file}`);
    violations.push(...checkFile(file, text));
  }
  return violations.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

/** The checks of one file, given its path relative to the root and its text. */
export function checkFile(file: string, text: string): Violation[] {
  const lines = text.split("\n");
  const test = isTest(file);
  const found: Violation[] = [];
  const add = (line: number, rule: Violation["rule"], message: string) =>
    found.push({ file, line, rule, message });
  if (/(^|\/)index\.ts$/.test(file)) add(1, "index-file", "a folder's entry is mod.ts, never index.ts");
  lines.forEach((content, index) => {
    if (MARKERS.test(content)) {
      add(index + 1, "marker", `no ${MARKERS.exec(content)![1]} in the tree: do it or file it`);
    }
  });
  if (!test && lines.length > FILE_LINES_MAX) {
    add(1, "file-length", `${lines.length} lines, over ${FILE_LINES_MAX}: split it by job`);
  }
  if (!test) {
    for (const span of functionSpans(lines)) {
      if (span.length > FUNCTION_LINES_MAX) {
        add(
          span.start + 1,
          "function-length",
          `${span.name} has ${span.length} lines, over ${FUNCTION_LINES_MAX}`,
        );
      }
    }
  }
  found.push(...checkImports(file, text, test));
  if (!test && BROWSER_SAFE.some((folder) => file.startsWith(folder))) {
    found.push(...checkBrowserSafe(file, lines));
  }
  return found;
}

function checkImports(file: string, text: string, test: boolean): Violation[] {
  const layer = layerOf(file);
  const allowed = layer === null ? null : LAYER_IMPORTS[layer];
  const found: Violation[] = [];
  for (const match of text.matchAll(IMPORT_PATTERN)) {
    const specifier = match[1] ?? match[2]!;
    const line = text.slice(0, match.index).split("\n").length;
    if (!specifier.startsWith(".")) continue;
    const target = resolve(file, specifier);
    if (!target.endsWith(".ts")) continue;
    const targetLayer = layerOf(target);
    if (targetLayer === "tests" && !test && !file.startsWith("tests/")) {
      found.push({
        file,
        line,
        rule: "import-direction",
        message: `imports ${target}: only tests import tests/`,
      });
      continue;
    }
    if (test || UNRESTRICTED.has(file) || allowed === null || allowed === undefined) continue;
    if (targetLayer !== null && !allowed.includes(targetLayer)) {
      found.push({
        file,
        line,
        rule: "import-direction",
        message: `${layer}/ imports ${target} (${targetLayer}/): it may import ${allowed.join(", ")} only`,
      });
    }
  }
  return found;
}

function checkBrowserSafe(file: string, lines: string[]): Violation[] {
  const found: Violation[] = [];
  lines.forEach((content, index) => {
    const code = content.replace(/\/\*.*?\*\//g, "").replace(/\/\/.*$/, "").replace(/^\s*(\/\*\*|\*).*$/, "");
    if (/\bDeno\./.test(code)) {
      found.push({
        file,
        line: index + 1,
        rule: "browser-safe",
        message: "browser code must not use Deno.*",
      });
    }
    if (/from\s+"node:/.test(code) && !PROTOCOL_NODE_ALLOWED.has(file)) {
      found.push({
        file,
        line: index + 1,
        rule: "browser-safe",
        message: "browser code must not import node:*",
      });
    }
  });
  return found;
}

/** The spans of named functions and methods: from the header to its closing brace at the same indent. */
export function functionSpans(lines: string[]): { name: string; start: number; length: number }[] {
  const spans: { name: string; start: number; length: number }[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const fn = FUNCTION_START.exec(line);
    const method = fn === null ? METHOD_START.exec(line) : null;
    if (
      fn === null && (method === null || NOT_METHODS.has(method[2]!) || /=>|=\s/.test(line.split("(")[0]!))
    ) {
      continue;
    }
    const indent = (fn ?? method)![1]!;
    const end = closingLine(lines, { from: index, indent });
    if (end === null) continue;
    const name = fn !== null ? (/function\*?\s*([\w$]+)/.exec(line)?.[1] ?? "function") : method![2]!;
    spans.push({ name, start: index, length: end - index + 1 });
  }
  return spans;
}

/** The line that closes a block opened at `indent`: the header must open its body with `{`. */
function closingLine(lines: string[], at: { from: number; indent: string }): number | null {
  let opened = -1;
  for (let index = at.from; index < lines.length && index < at.from + 20; index++) {
    const line = lines[index]!;
    if (line.trimEnd().endsWith(";") && opened < 0) return null; // a declaration without a body
    if (line.trimEnd().endsWith("{")) {
      opened = index;
      break;
    }
  }
  if (opened < 0) return null;
  for (let index = opened + 1; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.startsWith(`${at.indent}}`)) return index;
    if (line.trim() !== "" && !line.startsWith(at.indent)) return null;
  }
  return null;
}

/** The layer a file belongs to, by its folder; null for the root and unknown folders. */
export function layerOf(file: string): string | null {
  if (file.startsWith("server/ledger/")) return "server/ledger";
  const top = file.split("/")[0]!;
  if (top === file) return null;
  if (top === "tests") return "tests";
  return top in LAYER_IMPORTS ? top : null;
}

function isTest(file: string): boolean {
  return file.endsWith("_test.ts") || file.startsWith("tests/");
}

function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

async function* walk(root: string, prefix: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(`${root}/${prefix}`)) {
    const path = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory && !SKIPPED_DIRECTORIES.has(entry.name) && !entry.name.startsWith(".")) {
      yield* walk(root, path);
    } else if (entry.isFile && entry.name.endsWith(".ts")) {
      yield path;
    }
  }
}

if (import.meta.main) {
  const root = Deno.args[0] ?? ".";
  const violations = await tidy(root);
  for (const violation of violations) {
    console.error(`${violation.file}:${violation.line}: ${violation.rule}: ${violation.message}`);
  }
  if (violations.length > 0) {
    console.error(`tidy: ${violations.length} violations`);
    Deno.exit(1);
  }
  console.log("tidy: the tree keeps its conventions");
}
