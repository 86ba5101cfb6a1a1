// tslab loads lib/ through its own require, which registers a module only after running it: an
// import cycle between lib files recurses until "Maximum call stack size exceeded" and no notebook
// can import "./lib". So lib/ must have no cycle of value imports (`import type` is erased, and a
// dynamic import() runs only when called). The same require looks for a package name next to the
// importing file first, so `import … from "bullmq"` in lib/x/bullmq.ts imports that file itself.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, expect, it } from "vitest";

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** The lib files a file imports at load time: static `import … from` and `export … from`, not `import type`. */
export function valueImports(file: string, source: string): string[] {
  const imports: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*["'](\.{1,2}\/[^"']+)["']/gm;
  for (const match of source.matchAll(statement)) {
    if (match[2]) continue; // import type / export type
    const names = match[3];
    const specifiers = /^\{([^}]*)\}$/.exec(names.trim())?.[1].split(",").map((n) => n.trim()).filter(Boolean);
    if (specifiers && specifiers.length > 0 && specifiers.every((n) => n.startsWith("type "))) continue; // import { type A }: erased
    imports.push(normalize(join(dirname(file), match[4].replace(/\.js$/, ".ts"))));
  }
  return imports;
}

/** One cycle of the graph as a list of files (the first repeated at the end), or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, "active");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "active") return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(node, "done");
    return null;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const cycle = visit(node);
      if (cycle) return cycle;
    }
  }
  return null;
}

/** Package names (static or dynamic imports) that tslab would resolve to a lib file beside the importer. */
export function shadowedPackages(file: string, source: string, exists: (path: string) => boolean = existsSync): string[] {
  const specifiers = [...source.matchAll(/(?:from\s*|import\s*\(\s*)["']([^"'.][^"']*)["']/g)].map((m) => m[1]);
  return specifiers.filter((name) => !name.startsWith("node:") && exists(join(dirname(file), `${name}.ts`)));
}

describe("lib import graph", () => {
  it("imports no package whose name is a file beside the importer (tslab would load that file)", () => {
    const shadowed = ["lib.ts", ...tsFiles("lib")].flatMap((file) => shadowedPackages(file, readFileSync(file, "utf8")).map((name) => `${file}: "${name}"`));
    expect(shadowed).toEqual([]);
  });

  it("sees a package shadowed by a sibling file", () => {
    const source = 'import { Queue } from "bullmq";\nconst gpu = await import("webgpu");\nimport { z } from "zod";\nimport { a } from "./a.js";\n';
    const siblings = new Set(["lib/x/bullmq.ts", "lib/x/webgpu.ts", "lib/x/a.ts"]);
    expect(shadowedPackages("lib/x/bullmq.ts", source, (path) => siblings.has(path))).toEqual(["bullmq", "webgpu"]);
  });

  it("has no cycle of value imports (tslab cannot load one)", () => {
    const graph = new Map(["lib.ts", ...tsFiles("lib")].map((file) => [normalize(file), valueImports(file, readFileSync(file, "utf8"))]));
    expect(findCycle(graph)).toBeNull();
  });

  it("sees a cycle, and ignores type-only imports (the check can fail)", () => {
    const a = valueImports("lib/a.ts", 'import { b } from "./b.js";\nimport type { C } from "./c.js";\nimport { type D } from "./d.js";\n');
    expect(a).toEqual(["lib/b.ts"]);
    const b = valueImports("lib/b.ts", 'export * from "./a.js";\n');
    expect(findCycle(new Map([["lib/a.ts", a], ["lib/b.ts", b]]))).toEqual(["lib/a.ts", "lib/b.ts", "lib/a.ts"]);
    expect(findCycle(new Map([["lib/a.ts", a], ["lib/b.ts", []]]))).toBeNull();
  });
});
