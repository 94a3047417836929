/**
 * bank-server: the TLS transaction server and its monitor, and the commands that administer them.
 *
 * ```sh
 * deno task serve                       # 127.0.0.1:8443 (TLS), monitor on http://127.0.0.1:5000
 * deno task serve --help
 * deno task serve accounts list         # and: accounts open|freeze|unfreeze, ledger verify, clients …
 * ```
 *
 * Exit codes: 0 after a clean shutdown (SIGINT, SIGTERM) or a successful command; 1 when startup fails or a
 * command is refused; 2 for a usage error.
 *
 * @module
 */
import { isAssertionFailure } from "./lib/assert.ts";
import { formatOptionHelp, UsageError } from "./lib/options.ts";
import { ADMIN_COMMANDS, ADMIN_USAGE, runAdmin } from "./server/admin.ts";
import { parseServerConfig, SERVER_OPTIONS } from "./server/config.ts";
import type { ServerConfig } from "./server/config.ts";
import { configureLogging, serverLogger } from "./server/log.ts";
import { serve } from "./server/serve.ts";
import denoConfig from "./deno.json" with { type: "json" };

const USAGE = `bank-server ${denoConfig.version}: a TLS banking transaction server

Usage: bank-server [options]
       bank-server accounts|ledger|clients … (see below)

Options:
${formatOptionHelp(SERVER_OPTIONS)}

Exit codes: 0 clean shutdown, 1 startup failure, 2 usage error.

${ADMIN_USAGE}`;

const log = serverLogger("main");

async function main(args: string[]): Promise<number> {
  const env = (name: string) => Deno.env.get(name);
  if ((ADMIN_COMMANDS as readonly string[]).includes(args[0] ?? "")) return await admin(args, env);
  let config: ServerConfig;
  try {
    config = parseServerConfig(args, env);
  } catch (error) {
    return usageFailure(error, "bank-server --help");
  }
  if (config.help) return print(USAGE);
  if (config.version) return print(`bank-server ${denoConfig.version}`);
  await configureLogging({ level: config.logLevel, format: config.logFormat });
  try {
    return await serve(config);
  } catch (error) {
    if (!(error instanceof Error) || isAssertionFailure(error)) throw error;
    log.error("Startup failed: {message}", { message: error.message });
    return 1;
  }
}

async function admin(args: string[], env: (name: string) => string | undefined): Promise<number> {
  try {
    return await runAdmin(args, env);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error, `bank-server ${args[0]} --help`);
    if (!(error instanceof Error) || isAssertionFailure(error)) throw error;
    console.error(`bank-server: ${error.message}`);
    return 1;
  }
}

function usageFailure(error: unknown, help: string): number {
  if (!(error instanceof UsageError)) throw error;
  console.error(`bank-server: ${error.message}\nRun "${help}" for the options.`);
  return 2;
}

function print(text: string): number {
  console.log(text);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
