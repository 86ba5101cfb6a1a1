/**
 * Command-line flags in nanoGPT's configurator style: `--max_iters=20`, `--max-iters 20` and
 * `--maxIters 20` all set maxIters.
 *
 * parseFlags(argv, schema) checks every value against a declared schema (type, range, choices) and
 * throws a UsageError naming the flag, with the closest known name for a misspelt one.
 * parseArgs(argv) is the untyped version: values become numbers or booleans where they look like one.
 */
import { UsageError } from "../util/cli.js";

export type ArgValue = string | number | boolean;

/** snake_case / kebab-case → camelCase. */
export function camelCase(key: string): string {
  return key.replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** camelCase → snake_case, the spelling the help text and error messages use. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function parseValue(text: string): ArgValue {
  if (text === "true" || text === "True") return true;
  if (text === "false" || text === "False") return false;
  if (text.trim() !== "" && Number.isFinite(Number(text))) return Number(text);
  return text;
}

/** `--key value`, `--key=value` and bare `--flag` (true) into { key: value }, keys camelCased. */
export function parseArgs(argv: string[]): Record<string, ArgValue> {
  const out: Record<string, ArgValue> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument "${arg}" (options look like --key value or --key=value)`);
    const eq = arg.indexOf("=");
    if (eq >= 0) {
      out[camelCase(arg.slice(2, eq))] = parseValue(arg.slice(eq + 1));
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
      out[camelCase(arg.slice(2))] = parseValue(argv[++i]);
    } else {
      out[camelCase(arg.slice(2))] = true;
    }
  }
  return out;
}

/** One flag: its type, the values it allows (bounds are inclusive unless named above/below), a default and help. */
export interface FlagSpec {
  type: "number" | "integer" | "boolean" | "string";
  help: string;
  default?: ArgValue;
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
  /** The only strings allowed. */
  choices?: readonly string[];
}

/** Flags by camelCase name. */
export type FlagSchema = Record<string, FlagSpec>;

type ValueOfType<T> = T extends "boolean" ? boolean : T extends "string" ? string : number;
type FlagValue<F extends FlagSpec> = ValueOfType<F["type"]>;
export type FlagValues<S extends FlagSchema> = {
  [K in keyof S]: S[K] extends { default: ArgValue } ? FlagValue<S[K]> : FlagValue<S[K]> | undefined;
};

export interface ParsedFlags<S extends FlagSchema> {
  /** Every flag's value: the one given, else its default. */
  values: FlagValues<S>;
  /** The flags given on the command line (camelCase). */
  given: Set<keyof S & string>;
  /** Arguments that are not flags (only where the caller allows them). */
  positionals: string[];
  /** --help or -h was given. */
  help: boolean;
}

/**
 * Check argv against `schema`. A boolean flag takes true or false (`--bias=false`, `--bias false`)
 * or nothing (`--resume` is true); every other flag needs a value (`--start=--x` for one that
 * begins with --). Positional arguments are errors
 * unless `options.positionals` names what they are.
 */
export function parseFlags<S extends FlagSchema>(argv: string[], schema: S, options: { positionals?: string } = {}): ParsedFlags<S> {
  const values: Record<string, ArgValue | undefined> = {};
  for (const [name, spec] of Object.entries(schema)) values[name] = spec.default;
  const given = new Set<keyof S & string>();
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") {
      help = true;
      continue;
    }
    if (!arg.startsWith("-") || /^-\d/.test(arg)) {
      if (options.positionals === undefined) {
        throw new UsageError(`unexpected argument "${arg}" (flags look like --name value or --name=value; see --help)`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const written = eq >= 0 ? arg.slice(0, eq) : arg;
    const name = camelCase(written.replace(/^-+/, ""));
    const spec = Object.prototype.hasOwnProperty.call(schema, name) ? schema[name] : undefined;
    if (!spec) throw new UsageError(unknownFlagMessage(written, Object.keys(schema)));
    let text: string | undefined;
    if (eq >= 0) text = arg.slice(eq + 1);
    else if (spec.type !== "boolean") text = i + 1 < argv.length && !argv[i + 1].startsWith("--") ? argv[++i] : undefined;
    else if (argv[i + 1] === "true" || argv[i + 1] === "false") text = argv[++i];
    else text = "true";
    if (text === undefined) throw new UsageError(`--${snakeCase(name)} needs a value (${describeSpec(spec)})`);
    values[name] = checkFlag(name, text, spec);
    given.add(name as keyof S & string);
  }
  return { values: values as FlagValues<S>, given, positionals, help };
}

/** The value of `--name=text`, checked against its spec. */
export function checkFlag(name: string, text: string, spec: FlagSpec): ArgValue {
  const flag = `--${snakeCase(name)}`;
  const wrong = () => new UsageError(`${flag}=${text}: expected ${describeSpec(spec)}`);
  if (spec.type === "boolean") {
    if (text !== "true" && text !== "false") throw wrong();
    return text === "true";
  }
  if (spec.type === "string") {
    if (spec.choices && !spec.choices.includes(text)) {
      const suggestion = closestName(text, spec.choices);
      throw new UsageError(`${flag}=${text}: expected one of ${spec.choices.join(", ")}${suggestion ? ` (did you mean ${suggestion}?)` : ""}`);
    }
    return text;
  }
  const value = text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(value) || (spec.type === "integer" && !Number.isInteger(value))) throw wrong();
  const { min, max, above, below } = spec;
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) throw wrong();
  if ((above !== undefined && value <= above) || (below !== undefined && value >= below)) throw wrong();
  return value;
}

/** "an integer ≥ 1", "a number in [0, 1)", "true or false", "one of cpu, wasm". */
export function describeSpec(spec: FlagSpec): string {
  if (spec.type === "boolean") return "true or false";
  if (spec.type === "string") return spec.choices ? `one of ${spec.choices.join(", ")}` : "a string";
  const what = spec.type === "integer" ? "an integer" : "a number";
  const low = spec.min !== undefined ? `[${spec.min}` : spec.above !== undefined ? `(${spec.above}` : undefined;
  const high = spec.max !== undefined ? `${spec.max}]` : spec.below !== undefined ? `${spec.below})` : undefined;
  if (low && high) return `${what} in ${low}, ${high}`;
  if (low) return `${what} ${low.startsWith("[") ? "≥" : ">"} ${low.slice(1)}`;
  if (high) return `${what} ${high.endsWith("]") ? "≤" : "<"} ${high.slice(0, -1)}`;
  return what;
}

function unknownFlagMessage(written: string, known: string[]): string {
  const suggestion = closestName(snakeCase(camelCase(written.replace(/^-+/, ""))), known.map(snakeCase));
  return `unknown flag ${written}${suggestion ? `; did you mean --${suggestion}?` : ""} (see --help)`;
}

/** The candidate closest to `name` by edit distance, if it is close enough to be a likely typo. */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** Levenshtein distance: the fewest single-character insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The --help text: a usage line, then every flag with what it takes, its default and its help. */
export function formatHelp(usage: string, schema: FlagSchema): string {
  const rows = Object.entries(schema).map(([name, spec]) => {
    const value = { boolean: "", string: spec.choices ? " NAME" : " TEXT", number: " NUMBER", integer: " INTEGER" }[spec.type];
    const allowed = spec.type === "string" && !spec.choices ? [] : [describeSpec(spec)];
    const shown = spec.default === undefined ? [] : [`default ${JSON.stringify(spec.default)}`];
    const details = [...allowed, ...shown].join("; ");
    return [`  --${snakeCase(name)}${value}`, details ? `${spec.help} (${details})` : spec.help];
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [usage, "", ...rows.map(([flag, text]) => flag.padEnd(width) + text), `  --help`.padEnd(width) + "print this help"].join("\n");
}
