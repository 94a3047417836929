import { assertEquals, assertThrows } from "@std/assert";
import { UsageError } from "../lib/options.ts";
import { parseServerConfig } from "./config.ts";

const NO_ENV = (_name: string) => undefined;

Deno.test("parseServerConfig() uses the documented defaults", () => {
  const config = parseServerConfig([], NO_ENV);
  assertEquals([config.host, config.port, config.dataDir], ["127.0.0.1", 8443, "./.bank"]);
  assertEquals([config.monitorHost, config.monitorPort, config.demoClients], ["127.0.0.1", 5000, 100]);
  assertEquals(config.transferLimitMinor, 100_000_000n);
  assertEquals(config.databaseUrl, undefined);
});

Deno.test("parseServerConfig() takes flags over BANK_ variables over defaults", () => {
  const env = (name: string) =>
    ({ BANK_PORT: "9000", BANK_DATA: "/srv/bank", DATABASE_URL: "postgres://db/bank", BANK_LOG_LEVEL: "" })[
      name
    ];
  const config = parseServerConfig(["--port", "9001", "--transfer-limit", "$1,000.50"], env);
  assertEquals([config.port, config.dataDir, config.databaseUrl], [9001, "/srv/bank", "postgres://db/bank"]);
  assertEquals(config.transferLimitMinor, 100_050n);
  assertEquals(config.logLevel, "info", "an empty variable counts as unset");
});

Deno.test("parseServerConfig() takes a token that starts with a dash and never echoes a stray secret", () => {
  const config = parseServerConfig(["--monitor-token", "-Xy0123456789abcdef"], NO_ENV);
  assertEquals(config.monitorToken, "-Xy0123456789abcdef");
  const error = assertThrows(
    () => parseServerConfig(["--Zq-secret-value_that/looks+odd"], NO_ENV),
    UsageError,
  );
  assertEquals((error as Error).message.includes("secret-value"), false);
});

Deno.test("parseServerConfig() refuses bad values with a message naming the option", () => {
  const cases: [string[], RegExp][] = [
    [["--port", "65536"], /--port must be between 0 and 65535/],
    [["--port", "80a"], /--port must be a whole number/],
    [["--frame-max-bytes", "10"], /--frame-max-bytes must be between/],
    [["--idle-timeout-ms", "1"], /--idle-timeout-ms must be between/],
    [["--transfer-limit", "12"], /--transfer-limit must be a dollar amount/],
    [["--log-level", "loud"], /--log-level must be one of/],
    [["--database", "mysql://x"], /postgres:\/\/ URL/],
    [["--database="], /must not be empty/],
    [["--monitor-token", "short"], /--monitor-token must be 16 to 256 characters: letters, digits/],
    [["--monitor-token", "printable-but-not-b64token!"], /--monitor-token must be 16 to 256/],
    [["--monitor-token", "a".repeat(257)], /--monitor-token must be 16 to 256/],
    [["--cert", "a.pem"], /--cert and --key go together/],
    [["--bogus"], /Unknown option --bogus/],
    [["stray"], /Unexpected argument "stray"/],
    [["--port", "1", "--port", "2"], /may be given once/],
  ];
  for (const [args, message] of cases) {
    const error = assertThrows(() => parseServerConfig(args, NO_ENV), UsageError);
    assertEquals(
      message.test((error as Error).message),
      true,
      `${args.join(" ")}: ${(error as Error).message}`,
    );
  }
});
