// Every lib file must compile under the TypeScript that tslab bundles (5.0.4), with the options
// tslab compiles notebook cells with: ES2022 target and lib, Node10 resolution, not strict.
import { createRequire } from "node:module";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const ts = require("@tslab/typescript-for-tslab") as typeof import("typescript");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

describe("tslab compatibility", () => {
  it("uses tslab's bundled TypeScript 5.0.4", () => {
    expect(ts.version).toBe("5.0.4");
  });

  it("compiles lib/ with tslab's compiler options", () => {
    const files = ["lib.ts", ...tsFiles("lib")];
    const program = ts.createProgram(files, {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts"],
      esModuleInterop: true,
      resolveJsonModule: true,
      skipLibCheck: true,
      noEmit: true,
      types: ["node"],
      typeRoots: ["node_modules/@types"],
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : "";
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
    expect(diagnostics).toEqual([]);
  });

  it("rejects what tslab would reject (the check can fail)", () => {
    const source = "export const last = [1, 2, 3].findLast((x) => x > 1);\n";
    const host = ts.createCompilerHost({});
    const original = host.getSourceFile;
    host.getSourceFile = (name, version) =>
      name === "probe.ts" ? ts.createSourceFile(name, source, version) : original(name, version);
    const program = ts.createProgram(["probe.ts"], { lib: ["lib.es2022.d.ts"], noEmit: true, types: [] }, host);
    expect(ts.getPreEmitDiagnostics(program).length).toBeGreaterThan(0);
  });
});
