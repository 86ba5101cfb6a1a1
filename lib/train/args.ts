/**
 * Command-line overrides in nanoGPT's configurator style: `--max_iters=20`, `--max-iters 20` and
 * `--maxIters 20` all set maxIters; values are parsed as numbers or booleans where they look like one.
 */
export type ArgValue = string | number | boolean;

/** snake_case / kebab-case → camelCase. */
export function camelCase(key: string): string {
  return key.replace(/[-_]+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
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
