// Every `npm run <script>` that the library, the scripts or the README tell a user to run must exist.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const scripts = Object.keys(JSON.parse(readFileSync("package.json", "utf8")).scripts as Record<string, string>);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "vendor") return [];
    if (statSync(path).isDirectory()) return files(path);
    return /\.(ts|mjs|md)$/.test(name) ? [path] : [];
  });
}

function suggested(text: string): string[] {
  return [...text.matchAll(/npm run ([a-z][\w:-]*[\w])/g)].map((m) => m[1]);
}

describe("npm scripts named in messages and docs", () => {
  it("finds the suggestions it checks (the scan can fail)", () => {
    expect(suggested("run `npm run cpu:install-tf` (CPU)")).toEqual(["cpu:install-tf"]);
    expect(scripts).not.toContain("cpu:install-tf");
  });

  it("names only scripts that package.json defines", () => {
    const missing: string[] = [];
    for (const path of ["README.md", ...files("lib"), ...files("scripts")]) {
      for (const name of suggested(readFileSync(path, "utf8"))) {
        if (!scripts.includes(name)) missing.push(`${path}: npm run ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
