// lib/interp/visuals.ts: the figures carry the numbers they were given, colours come from the
// scale's ends, HTML is escaped, and the interactive head view works in headless Chromium with
// the network blocked (its script is inline): hovering a token shades every key by its weight.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  attentionHeadsBundle,
  attentionHeadsHtml,
  attentionPatterns,
  attributionBars,
  coloredTokensHtml,
  layerDifferences,
  patchingHeatmap,
  probeHeatmap,
  probeLines,
  residualPlot,
  tokenLabels,
} from "../lib/interp/visuals.js";
import { hasChromium, launch, offlineContext } from "./browser/chromium.js";

const tokens = ["<", "a", "b", "|"];
// Two causal heads: head 0 attends to the previous token, head 1 spreads evenly.
const previous = tokens.map((_, q) => tokens.map((_, k) => (q === 0 ? (k === 0 ? 1 : 0) : k === q - 1 ? 1 : 0)));
const uniform = tokens.map((_, q) => tokens.map((_, k) => (k <= q ? 1 / (q + 1) : 0)));

describe("figures", () => {
  it("attentionPatterns: one heatmap per head with the weights and token labels", () => {
    const fig = attentionPatterns([previous, uniform], tokens, { headNames: ["L0H0", "L0H1"] });
    expect(fig.data.length).toBe(2);
    const [a, b] = fig.data as { z: number[][]; x: string[]; xaxis: string }[];
    expect(a.z).toEqual(previous);
    expect(b.z[3][2]).toBeCloseTo(0.25, 12);
    expect(a.x).toEqual(["< (0)", "a (1)", "b (2)", "| (3)"]);
    expect([a.xaxis, b.xaxis]).toEqual(["x", "x2"]);
    expect(JSON.stringify(fig.layout)).toContain("L0H1");
    expect(() => attentionPatterns([[[1]]], tokens)).toThrow(/must be 4 × 4/);
    expect(tokenLabels([" x", "\n", ""])).toEqual(["·x (0)", "↵ (1)", "∅ (2)"]);
  });

  it("patching, probes, attribution, residual: values, symmetric colour range, hand-computed differences", () => {
    const patch = patchingHeatmap([[0.5, -2], [1, 0]], ["0", "1"], ["p0", "p1"]);
    const trace = patch.data[0] as { zmin: number; zmax: number; z: number[][] };
    expect([trace.zmin, trace.zmax]).toEqual([-2, 2]);
    expect(trace.z).toEqual([[0.5, -2], [1, 0]]);
    const probe = probeHeatmap([[0.5, 1]], ["L0"], ["1st", "2nd"]);
    expect((probe.data[0] as { text: string[][] }).text[0][1]).toContain("100%");
    const lines = probeLines([[0.1, 0.2], [0.3, 0.4]], ["L0", "L1"], ["1st", "2nd"]);
    expect((lines.data as { y: number[] }[]).map((d) => d.y)).toEqual([[0.1, 0.3], [0.2, 0.4]]);
    const bars = attributionBars(["0.0", "mlp0"], [1.5, -0.5]);
    expect((bars.data[0] as { marker: { color: string[] } }).marker.color).toEqual(["#b2182b", "#2166ac"]);
    expect(() => attributionBars(["a"], [1, 2])).toThrow(/1 labels but 2 values/);
    expect((residualPlot(["embed", "0_pre"], [0.1, 2]).data[0] as { y: number[] }).y).toEqual([0.1, 2]);
    expect(layerDifferences([1, 3, 2.5, 2.5])).toEqual([2, -0.5, 0]);
  });
});

describe("coloredTokensHtml", () => {
  it("the smallest value gets the scale's first colour, the largest its last; text is escaped", () => {
    const html = coloredTokensHtml(["<", "a", "b&"], [null, 0, 1]);
    expect(html).toContain("&lt;");
    expect(html).toContain("b&amp;");
    expect(html).toContain("background:rgb(247,251,255)"); // BLUES[0] = #f7fbff
    expect(html).toContain("background:rgb(8,48,107);color:white"); // BLUES[8] = #08306b
    expect(html).toContain('title="1.000"');
    expect(() => coloredTokensHtml(["a"], [])).toThrow(/1 tokens but 0 values/);
  });
});

describe("attentionHeadsHtml", () => {
  it("inline data cannot end its script; the text form names each query's most-attended key", () => {
    const html = attentionHeadsHtml([previous], ["</script>", "a", "b", "c"]);
    expect(html.match(/<\/script>/g)!.length).toBe(1);
    const bundle = attentionHeadsBundle([previous], tokens);
    expect(bundle["text/plain"]).toContain("head 0: 0→0 1→0 2→1 3→2");
  });

  let browser: Browser;
  beforeAll(async () => {
    if (hasChromium) browser = await launch();
  });
  afterAll(async () => browser?.close());

  it.skipIf(!hasChromium)("in Chromium, offline: hover shades keys by weight, head buttons switch heads", async () => {
    const { context, blocked } = await offlineContext(browser, () => false);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.setContent(`<html><body>${attentionHeadsHtml([previous, uniform], tokens, { headNames: ["prev", "uniform"] })}</body></html>`);
    const alphas = () => page.evaluate(`[...document.querySelectorAll(".course-attention-heads .tokens span")].map((s) => Number(s.dataset.weight))`) as Promise<number[]>;
    const shaded = () => page.evaluate(`[...document.querySelectorAll(".course-attention-heads .tokens span")].map((s) => s.style.background)`) as Promise<string[]>;
    // Pinned at the last token at first: head 0 looks at token 2.
    expect(await alphas()).toEqual([0, 0, 1, 0]);
    expect((await shaded())[2]).toBe("rgb(33, 113, 181)");
    await page.hover('.course-attention-heads .tokens span[data-pos="2"]');
    expect(await alphas()).toEqual([0, 1, 0, 0]);
    await page.click('.course-attention-heads button[data-head="1"]');
    await page.hover('.course-attention-heads .tokens span[data-pos="2"]');
    const uniformRow = await alphas();
    expect(uniformRow.slice(0, 3).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0.3333, 0.3333, 0.3333]);
    expect(uniformRow[3]).toBe(0);
    expect(await page.getAttribute(".course-attention-heads", "data-head")).toBe("1");
    expect(await page.textContent(".course-attention-heads .info")).toContain("uniform: token 2 attends most to token 0");
    await context.close();
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
  });
});
