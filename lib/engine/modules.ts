import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { repoRoot } from "../util/paths.js";

/**
 * `require` resolving from the project root. Library files are compiled both as ES modules
 * (tsx, vitest) and as CommonJS (tslab), so they cannot use `import.meta.url` or rely on a
 * global `require`.
 */
export function projectRequire(): NodeRequire {
  return createRequire(join(repoRoot(), "package.json"));
}

/** The folder of the engine's sources (for its vendored files). */
export function engineDir(): string {
  // CommonJS (tslab) defines __dirname; ES modules fall back to the repository layout.
  if (typeof __dirname === "string" && existsSync(join(__dirname, "vendor"))) return __dirname;
  return join(repoRoot(), "lib", "engine");
}

/**
 * Imports an optional package by name, or returns why it could not be loaded. The name is a
 * variable so that TypeScript and bundlers do not insist the package be installed.
 */
export async function importOptional(name: string): Promise<{ module?: unknown; error?: string }> {
  try {
    projectRequire().resolve(name);
  } catch {
    return { error: `${name} is not installed` };
  }
  try {
    return { module: await import(name) };
  } catch (error) {
    return { error: `${name} failed to load: ${firstLine(error)}` };
  }
}

export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}
