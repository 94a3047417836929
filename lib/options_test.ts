import { assertEquals, assertThrows } from "@std/assert";
import { formatOptionHelp, Options, UsageError } from "./options.ts";
import type { OptionSpec } from "./options.ts";

const SPECS: readonly OptionSpec[] = [
  { name: "port", env: "APP_PORT", value: "N", defaultText: "8443", help: "port to listen on" },
  { name: "token", env: "APP_TOKEN", value: "TOKEN", help: "a secret" },
  { name: "peer", repeatable: true, help: "a peer, again and again" },
  { name: "verbose", boolean: true, help: "say more" },
];
const ENV: Record<string, string> = { APP_PORT: "9000", APP_TOKEN: "" };

function parse(args: string[], env: Record<string, string> = ENV): Options {
  return new Options(args, { specs: SPECS, env: (name) => env[name] });
}

Deno.test("Options: a flag wins over its environment variable, which wins over the default", () => {
  assertEquals(parse(["--port", "1"]).integer("port", { min: 0, max: 65_535, fallback: 8443 }), 1);
  assertEquals(parse([]).integer("port", { min: 0, max: 65_535, fallback: 8443 }), 9000);
  assertEquals(parse([], {}).integer("port", { min: 0, max: 65_535, fallback: 8443 }), 8443);
  assertEquals(parse([]).string("token"), undefined, "an empty variable counts as unset");
});

Deno.test("Options: booleans, repeated values, positionals and a value that starts with a dash", () => {
  const options = parse(["--verbose", "--peer", "a", "--peer=b", "extra", "--token", "-x9secret"]);
  assertEquals(options.boolean("verbose"), true);
  assertEquals(options.strings("peer"), ["a", "b"]);
  assertEquals(options.positional, ["extra"]);
  assertEquals(options.string("token"), "-x9secret");
  assertEquals(parse([]).boolean("verbose"), false);
});

Deno.test("Options: refuses what it cannot read with a message naming the option", () => {
  const cases: [string[], string][] = [
    [["--nope"], "Unknown option --nope"],
    [["--port", "1", "--port", "2"], "Option --port may be given once"],
  ];
  for (const [args, message] of cases) assertThrows(() => parse(args), UsageError, message);
  const bounds = { min: 1, max: 100, fallback: 5 };
  for (
    const [text, message] of [
      ["0", "--port must be between 1 and 100, got 0"],
      ["101", "--port must be between 1 and 100, got 101"],
      ["1.5", '--port must be a whole number, got "1.5"'],
      ["007", '--port must be a whole number, got "007"'],
      ["1e3", '--port must be a whole number, got "1e3"'],
      ["99999999999999999", "--port must be a whole number"],
    ]
  ) {
    assertThrows(() => parse(["--port", text!]).integer("port", bounds), UsageError, message);
  }
  assertThrows(() => parse([]).string("missing"), UsageError, "Option --missing is not defined");
});

Deno.test("Options: never echoes an unknown argument that does not look like an option name", () => {
  const error = assertThrows(() => parse(["--s3cr3t=hunter2-with_odd/chars"]), UsageError);
  assertEquals(error.message.includes("hunter2"), false, error.message);
});

Deno.test("formatOptionHelp() lists each flag with its value, help, default and variable", () => {
  const help = formatOptionHelp(SPECS).split("\n");
  assertEquals(help.length, SPECS.length);
  assertEquals(help[0], `  ${"--port N".padEnd(28)} port to listen on (default: 8443) [env APP_PORT]`);
  assertEquals(help[3], `  ${"--verbose".padEnd(28)} say more`);
});
