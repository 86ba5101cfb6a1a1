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
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      skipLibCheck: true,
      types: ["node"],
      typeRoots: [resolve("node_modules/@types")],
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    expect(errors).toEqual([]);
  });

  it("the check above can fail: a misspelt export is reported", () => {
    const dir = mkdtempSync(join(tmpdir(), "readme-"));
    const file = join(dir, "bad.mts");
    writeFileSync(file, `import { useBackendd } from ${JSON.stringify(resolve("lib/index.js"))};\nexport { useBackendd };\n`);
    const program = ts.createProgram([file], { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, types: [] });
    expect(ts.getPreEmitDiagnostics(program).length).toBeGreaterThan(0);
  });

  it("links only to files that exist", () => {
    const links = [...readme.matchAll(/\]\(((?:lib|notebooks|scripts|tests|bench)\/[^)#]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(5);
    expect(links.filter((path) => !existsSync(path))).toEqual([]);
  });
});
