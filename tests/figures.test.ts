import { describe, expect, it } from "vitest";
import { colourAt, contrastingTextColour, heatmap, relativeLuminance, sideBySide } from "../lib/display/figures.js";

interface HeatmapTrace {
  x: (string | number)[];
  y: (string | number)[];
  text?: string[][];
  textfont?: { color?: string };
}
interface Axis {
  type?: string;
  tickvals?: number[];
  ticktext?: string[];
  autorange?: string;
}

const traceOf = (fig: ReturnType<typeof heatmap>) => fig.data[0] as HeatmapTrace;
const axesOf = (fig: ReturnType<typeof heatmap>) => fig.layout as { xaxis: Axis; yaxis: Axis };
const BLACK_TO_WHITE: [number, string][] = [
  [0, "#000000"],
  [1, "#ffffff"],
];

describe("heatmap rows and columns with repeated labels", () => {
  // The one-hot inputs of "emma": the two m's must stay two rows.
  const oneHot = [
    [1, 0, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
    [0, 0, 0, 1],
    [0, 1, 0, 0],
  ];
  const labels = [".", "e", "m", "m", "a"];

  it("gives each of 5 rows labelled . e m m a its own position, the labels as tick text", () => {
    const fig = heatmap(oneHot, { y: labels, x: [".", "a", "e", "m"] });
    const trace = traceOf(fig);
    expect(new Set(trace.y).size).toBe(5);
    expect(trace.y).toEqual([0, 1, 2, 3, 4]);
    expect(axesOf(fig).yaxis).toMatchObject({ type: "linear", tickvals: [0, 1, 2, 3, 4], ticktext: labels, autorange: "reversed" });
    // distinct column labels stay a category axis, labels as they are
    expect(trace.x).toEqual([".", "a", "e", "m"]);
    expect(axesOf(fig).xaxis.type).toBe("category");
  });

  it("does the same for repeated column labels", () => {
    const fig = heatmap([[1, 2, 3]], { x: ["a", "b", "a"] });
    expect(traceOf(fig).x).toEqual([0, 1, 2]);
    expect(axesOf(fig).xaxis.ticktext).toEqual(["a", "b", "a"]);
  });

  it("keeps the tick text when the heatmap is a panel of sideBySide", () => {
    const fig = sideBySide([heatmap([[1]]), heatmap(oneHot, { y: labels })]);
    const layout = fig.layout as Record<string, Axis>;
    expect(layout.yaxis2.ticktext).toEqual(labels);
    expect((fig.data[1] as HeatmapTrace).y).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("heatmap text colour follows the cell's background", () => {
  it("computes WCAG relative luminance (hand-computed for matplotlib Blues' darkest stop #08306b)", () => {
    // 8/255 is below 0.04045: 0.0314/12.92 = 0.00243; 48 → 0.0296, 107 → 0.1470 by ((c + 0.055) / 1.055)^2.4
    // L = 0.2126·0.00243 + 0.7152·0.0296 + 0.0722·0.1470 = 0.0323
    expect(relativeLuminance([8, 48, 107])).toBeCloseTo(0.0323, 4);
    expect(relativeLuminance([0, 0, 0])).toBe(0);
    expect(relativeLuminance([255, 255, 255])).toBeCloseTo(1, 12);
  });

  it("picks white below luminance ≈ 0.179, where white and black contrast equally", () => {
    // grey 102 has L = 0.1329 (white contrasts 5.7:1, black 3.7:1); grey 128 has L = 0.2159 (white 3.9:1, black 5.3:1)
    expect(contrastingTextColour([102, 102, 102])).toBe("white");
    expect(contrastingTextColour([128, 128, 128])).toBe("black");
    expect(contrastingTextColour([8, 48, 107])).toBe("white");
    expect(contrastingTextColour([247, 251, 255])).toBe("black");
  });

  it("reads the colour between a colorscale's stops linearly", () => {
    expect(colourAt(BLACK_TO_WHITE, 0.4)).toEqual([102, 102, 102]);
    expect(colourAt(BLACK_TO_WHITE, 0)).toEqual([0, 0, 0]);
    expect(colourAt([[0, "rgb(0, 0, 0)"], [0.5, "#f00"], [1, "#ffffff"]], 0.75)).toEqual([255, 127.5, 127.5]);
  });

  it("writes dark cells' text in white and light cells' in black (Blues: 0 is near white, the maximum dark blue)", () => {
    const fig = heatmap([[0, 5, 10]], { text: [["a", "b", "c"]] });
    // 5 is halfway: Blues' stop 4 of 8, #6baed6, L = 0.383: black
    expect(traceOf(fig).text).toEqual([[
      '<span style="color:black">a</span>',
      '<span style="color:black">b</span>',
      '<span style="color:white">c</span>',
    ]]);
  });

  it("places values on the scale by zmin/zmax when given, else by the data's range", () => {
    const text = [["x", "y"]];
    // on the data's range 0..0.45, 0.45 is the scale's top, #ffffff: black text
    expect(traceOf(heatmap([[0, 0.45]], { text, colorscale: BLACK_TO_WHITE })).text![0]).toEqual([
      '<span style="color:white">x</span>',
      '<span style="color:black">y</span>',
    ]);
    // on 0..1, 0.45 is grey 114.75 (L = 0.171): still white
    expect(traceOf(heatmap([[0, 0.45]], { text, colorscale: BLACK_TO_WHITE, zmin: 0, zmax: 1 })).text![0][1]).toBe(
      '<span style="color:white">y</span>',
    );
  });

  it("colours every line of a multi-line cell and leaves empty and missing cells alone", () => {
    const fig = heatmap([[10, NaN, 0]], { text: [["em<br>3", "gap", ""]] });
    expect(traceOf(fig).text![0]).toEqual([
      '<span style="color:white">em</span><br><span style="color:white">3</span>',
      "gap",
      "",
    ]);
  });

  it("leaves a named plotly colorscale to plotly's own contrasting colour", () => {
    const trace = traceOf(heatmap([[0, 1]], { text: [["a", "b"]], colorscale: "Viridis" }));
    expect(trace.text).toEqual([["a", "b"]]);
    expect(trace.textfont?.color).toBe("auto");
  });

  it("names the colour it cannot read", () => {
    expect(() => heatmap([[0, 1]], { text: [["a", "b"]], colorscale: [[0, "navy"], [1, "white"]] })).toThrow(
      /colorscale colour "navy"/,
    );
  });
});
