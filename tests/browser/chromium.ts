/** Debian's chromium driven by playwright-core, with every request that is not to `allowed` blocked and recorded. */
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

export const CHROMIUM = process.env.COURSE_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--disable-gpu", "--no-first-run"] });
}

/** A browser context that lets through only URLs `allowed` accepts; `blocked` lists the others it stopped. */
export async function offlineContext(browser: Browser, allowed: (url: URL) => boolean) {
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const blocked: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || url.protocol === "blob:" || allowed(url)) return route.continue();
    blocked.push(url.href);
    return route.abort("internetdisconnected");
  });
  return { context, blocked };
}

/** For every plotly figure div on the page: whether plotly drew it (its SVG with traces), and what is in it. */
export const FIGURES_SCRIPT = `[...document.querySelectorAll(".course-plot")].map((div) => ({
  id: div.id,
  drawn: div.querySelector(".plot-container .main-svg") !== null,
  traces: div.querySelectorAll(".scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm, .heatmaplayer image").length,
  staticSvg: div.querySelector("svg.course-static-plot") !== null,
  staticShapes: div.querySelectorAll("svg.course-static-plot rect, svg.course-static-plot path, svg.course-static-plot circle").length,
}))`;

export interface FigureState {
  id: string;
  drawn: boolean;
  traces: number;
  staticSvg: boolean;
  staticShapes: number;
}
