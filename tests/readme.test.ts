// The README's API guide is code a learner pastes: its snippets, joined in order (they build on each
// other), must type-check against lib with the repository's strict compiler settings, and every file it
// links to must exist.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const readme = readFileSync("README.md", "utf8");
const guide = readme.slice(readme.indexOf("## API guide"), readme.indexOf("## Roadmap"));

/** The guide's ```ts blocks as one module: their imports from "./lib" merged into one. */
function guideModule(): string {
  const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const names = new Set<string>();
  const bodies = blocks.map((block) =>
    block.replace(/import \{([^}]*)\} from "\.\/lib";\n/g, (_, list: string) => {
      for (const name of list.split(",")) if (name.trim()) names.add(name.trim());
      return "";
    }),
  );
  const lib = resolve("lib/index.js").replace(/\\/g, "/");
  return `import { ${[...names].join(", ")} } from ${JSON.stringify(lib)};\n${bodies.join("\n")}\nexport {};\n`;
}

/** The repository's own tsc settings (tsconfig.json: strict), so the guide is checked as lib is. */
function repoCompilerOptions(): ts.CompilerOptions {
  const { config } = ts.readConfigFile("tsconfig.json", ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, resolve(".")).options;
}

describe("README", () => {
  it("has an API guide with a snippet for each part of lib", () => {
    for (const part of ["Engine", "Data", "Tokenizers", "Models", "Training", "Sampling", "Display"]) {
      expect(guide).toContain(`**${part}**`);
    }
    expect([...guide.matchAll(/```ts\n/g)].length).toBeGreaterThanOrEqual(7);
  });

  it("API guide snippets type-check against lib (strict)", () => {
    const dir = mkdtempSync(join(tmpdir(), "readme-"));
    const file = join(dir, "guide.mts");
    writeFileSync(file, guideModule());
    const program = ts.createProgram([file], { ...repoCompilerOptions(), noEmit: true });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1} ` : "";
      return where + ts.flattenDiagnosticMessageText(d.messageText, "\n");
    });
    expect(errors).toEqual([]);
  });

  it("the check above can fail: a misspelt export is reported", () => {
    const dir = mkdtempSync(join(tmpdir(), "readme-"));
    const file = join(dir, "bad.mts");
    const profile = resolve("lib/util/profile.js").replace(/\\/g, "/");
    writeFileSync(file, `import { profileBaner } from ${JSON.stringify(profile)};\nexport { profileBaner };\n`);
    const program = ts.createProgram([file], { ...repoCompilerOptions(), noEmit: true });
    expect(ts.getPreEmitDiagnostics(program).length).toBeGreaterThan(0);
  });

  it("links only to files that exist", () => {
    const links = [...readme.matchAll(/\]\(((?:lib|notebooks|scripts|tests|bench)\/[^)#]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((path) => !existsSync(path))).toEqual([]);
  });
});
