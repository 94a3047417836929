/**
 * Reading command-line options and `BANK_...` environment variables into checked values, for both binaries.
 * A flag wins over its environment variable, which wins over the default.
 *
 * @module
 */
import { parseArgs } from "@std/cli/parse-args";

const DURATION_PATTERN = /^(0|[1-9][0-9]{0,9})(ms|s|m|h|d)$/;
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Reads a duration such as `500ms`, `10s`, `2m`, `1h` or `7d`; null when the text is not one. */
export function parseDurationMs(text: string): number | null {
  const match = DURATION_PATTERN.exec(text);
  if (match === null) return null;
  return Number(match[1]) * DURATION_UNIT_MS[match[2]!]!;
}

/** A mistake in how a program was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One option's documentation, for `--help`. */
export interface OptionSpec {
  name: string;
  env?: string;
  value?: string;
  defaultText?: string;
  help: string;
  repeatable?: boolean;
  boolean?: boolean;
}

/** Parsed flags plus the environment, with typed readers. */
export class Options {
  readonly #flags: Record<string, unknown>;
  readonly #env: (name: string) => string | undefined;
  readonly #specs: ReadonlyMap<string, OptionSpec>;
  readonly positional: string[];

  constructor(
    args: string[],
    options: { specs: readonly OptionSpec[]; env: (name: string) => string | undefined },
  ) {
    const specs = new Map(options.specs.map((spec) => [spec.name, spec]));
    args = attachDashValues(args, specs);
    const unknown: string[] = [];
    const flags = parseArgs(args, {
      string: options.specs.filter((spec) => !spec.boolean).map((spec) => spec.name),
      boolean: options.specs.filter((spec) => spec.boolean).map((spec) => spec.name),
      collect: options.specs.filter((spec) => spec.repeatable).map((spec) => spec.name),
      unknown: (flag: string) => {
        if (flag.startsWith("-")) unknown.push(flag);
        return !flag.startsWith("-");
      },
    }) as Record<string, unknown>;
    if (unknown.length > 0) throw new UsageError(`Unknown option ${describeUnknown(unknown[0]!)}`);
    const repeated = options.specs.find((spec) =>
      !spec.repeatable &&
      args.filter((arg) => arg === `--${spec.name}` || arg.startsWith(`--${spec.name}=`)).length > 1
    );
    if (repeated !== undefined) throw new UsageError(`Option --${repeated.name} may be given once`);
    this.#flags = flags;
    this.#env = options.env;
    this.#specs = specs;
    this.positional = ((flags._ as unknown[]) ?? []).map(String);
  }

  /** A string option: the flag, else its environment variable (an empty one counts as unset), else undefined. */
  string(name: string): string | undefined {
    const spec = this.#specs.get(name);
    if (spec === undefined) throw new UsageError(`Option --${name} is not defined`);
    const flag = this.#flags[name];
    if (typeof flag === "string") return flag;
    const fromEnv = spec.env === undefined ? undefined : this.#env(spec.env);
    return fromEnv === "" ? undefined : fromEnv;
  }

  /** A repeatable string option's values (flags only). */
  strings(name: string): string[] {
    const flag = this.#flags[name];
    return Array.isArray(flag) ? flag.map(String) : [];
  }

  boolean(name: string): boolean {
    return this.#flags[name] === true;
  }

  /** An integer option within [min, max]; the error names the option and the bounds. */
  integer(name: string, bounds: { min: number; max: number; fallback: number }): number {
    const text = this.string(name);
    if (text === undefined) return bounds.fallback;
    if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) {
      throw new UsageError(`--${name} must be a whole number, got "${text}"`);
    }
    const value = Number(text);
    if (value < bounds.min || value > bounds.max) {
      throw new UsageError(`--${name} must be between ${bounds.min} and ${bounds.max}, got ${value}`);
    }
    return value;
  }
}

/**
 * Lets a value that starts with a single dash (a token, a negative-looking text) follow its option:
 * `--monitor-token -x9…` becomes `--monitor-token=-x9…` instead of an unknown option.
 */
function attachDashValues(args: readonly string[], specs: ReadonlyMap<string, OptionSpec>): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const spec = arg.startsWith("--") ? specs.get(arg.slice(2)) : undefined;
    const next = args[index + 1];
    if (spec !== undefined && !spec.boolean && next !== undefined && /^-[^-]/.test(next)) {
      joined.push(`${arg}=${next}`);
      index += 1;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** Names an unknown option without echoing what may be a misplaced secret. */
function describeUnknown(flag: string): string {
  const name = flag.split("=")[0]!;
  return /^--?[a-z][a-z0-9-]{0,40}$/.test(name)
    ? name
    : "(an argument that is not an option name; not shown)";
}

/** Formats option specs as the help text's option list. */
export function formatOptionHelp(specs: readonly OptionSpec[]): string {
  const lines = specs.map((spec) => {
    const flag = `--${spec.name}${spec.value === undefined ? "" : ` ${spec.value}`}`;
    const env = spec.env === undefined ? "" : ` [env ${spec.env}]`;
    const fallback = spec.defaultText === undefined ? "" : ` (default: ${spec.defaultText})`;
    return `  ${flag.padEnd(28)} ${spec.help}${fallback}${env}`;
  });
  return lines.join("\n");
}
