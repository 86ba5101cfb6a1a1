// Every HTML export of the last notebook run (out/notebooks/, written by `npm run notebooks`), opened
// from file:// in headless Chromium with the network blocked: every plotly figure draws (an SVG with
// traces inside it) and no request leaves the machine. With plotly.js itself blocked too, every figure
// still shows its static SVG.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIGURES_SCRIPT, hasChromium, launch, offlineContext, type FigureState } from "./chromium.js";

const outDir = resolve(process.env.COURSE_EXPORTS ?? "out/notebooks");

function exportsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return exportsIn(path);
    return name.endsWith(".html") ? [path] : [];
  });
}

// The exports of notebooks that exist (a renamed notebook's old export is not this run's), or, with
// COURSE_EXPORTS naming another folder, all of them.
const pages = exportsIn(outDir).filter((page) => {
  if (process.env.COURSE_EXPORTS) return true;
  const [folder, name] = relative(outDir, page).split(sep);
  return existsSync(join("notebooks", folder, name.replace(/\.html$/, ".ipynb")));
});
let browser: Browser;
beforeAll(async () => {
  if (hasChromium) browser = await launch();
});
afterAll(async () => browser?.close());

// Elsewhere the checks skip without a browser; in CI (setup --for-tests installs it) they must run.
it.runIf(process.env.CI)("CI has Debian's chromium for these checks", () => expect(hasChromium).toBe(true));

describe.skipIf(!hasChromium)("HTML exports, offline", () => {
  it("there are exports with figures to check (run `npm run notebooks -- --profile ci` first)", () => {
    expect(pages.length, `no .html under ${outDir}`).toBeGreaterThan(0);
    expect(pages.filter(hasFigures).length, `no export under ${outDir} has a figure`).toBeGreaterThan(0);
  });

  it.each(pages.map((p) => [relative(process.cwd(), p), p]))("%s: every figure drew, no request left the machine", async (_, page) => {
    const { context, blocked } = await offlineContext(browser, (url) => url.protocol === "file:");
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (error) => errors.push(String(error)));
    await tab.goto(pathToFileURL(page).href, { waitUntil: "load" });
    const expected = await tab.evaluate(`document.querySelectorAll(".course-plot").length`);
    await tab.waitForFunction(`${FIGURES_SCRIPT}.every((f) => f.drawn && f.traces > 0)`, undefined, { timeout: 90_000 }).catch(() => {});
    const figures = (await tab.evaluate(FIGURES_SCRIPT)) as FigureState[];
    await context.close();
    expect(figures.length).toBe(expected);
    expect(figures.filter((f) => !f.drawn || f.traces === 0).map((f) => f.id)).toEqual([]);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("with plotly.js missing too, every figure still shows its static SVG", async () => {
    const withFigures = pages.filter(hasFigures);
    const { context, blocked } = await offlineContext(browser, (url) => url.protocol === "file:" && !url.pathname.endsWith("/plotly.js"));
    const tab = await context.newPage();
    await tab.goto(pathToFileURL(withFigures[0]).href, { waitUntil: "load" });
    const figures = (await tab.evaluate(FIGURES_SCRIPT)) as FigureState[];
    await context.close();
    expect(blocked.some((url) => url.endsWith("/plotly.js"))).toBe(true);
    expect(figures.length).toBeGreaterThan(0);
    for (const figure of figures) {
      expect(figure, figure.id).toMatchObject({ drawn: false, staticSvg: true });
      expect(figure.staticShapes, figure.id).toBeGreaterThan(1);
    }
  });
});

function hasFigures(page: string): boolean {
  return readFileSync(page, "utf8").includes('class="course-static-plot"');
}
