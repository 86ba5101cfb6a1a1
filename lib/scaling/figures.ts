/**
 * Plotly figures for scaling results, on log-log axes: measured points with a fitted law and its
 * band, loss curves coloured by model size, IsoFLOP profiles, and the compute frontier.
 */
import type { Figure } from "../display/plotly.js";
import type { IsoFlopFit } from "./isoflop.js";
import type { PowerLawWithBand } from "./powerlaw.js";

const logAxis = (title: string) => ({ type: "log", title: { text: title } });

/** A colour per index along viridis-like stops (small → dark blue, large → yellow). */
export function sizeColour(index: number, count: number): string {
  const stops: [number, number, number][] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const t = count <= 1 ? 0 : index / (count - 1);
  const at = t * (stops.length - 1);
  const i = Math.min(Math.floor(at), stops.length - 2);
  const f = at - i;
  const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Points (x, loss), the fitted law and its bootstrap band. */
export function powerLawFigure(
  points: { x: number; loss: number }[],
  fitted: PowerLawWithBand,
  options: { title?: string; xTitle?: string; yTitle?: string } = {},
): Figure {
  const { band } = fitted;
  const law = `L = (${fitted.fit.scale.toPrecision(3)} / x)^${fitted.fit.alpha.toFixed(3)}${fitted.fit.offset ? ` + ${fitted.fit.offset.toFixed(3)}` : ""}`;
  return {
    data: [
      { type: "scatter", mode: "lines", name: "95 % band", x: band.map((b) => b.x), y: band.map((b) => b.high), line: { width: 0 }, showlegend: false },
      {
        type: "scatter",
        mode: "lines",
        name: "95 % band",
        x: band.map((b) => b.x),
        y: band.map((b) => b.low),
        line: { width: 0 },
        fill: "tonexty",
        fillcolor: "rgba(31, 119, 180, 0.2)",
      },
      { type: "scatter", mode: "lines", name: law, x: band.map((b) => b.x), y: band.map((b) => b.y), line: { color: "rgb(31, 119, 180)" } },
      { type: "scatter", mode: "markers", name: "runs", x: points.map((p) => p.x), y: points.map((p) => p.loss), marker: { color: "black", size: 7 } },
    ],
    layout: {
      title: options.title ? { text: options.title } : undefined,
      height: 420,
      xaxis: logAxis(options.xTitle ?? "parameters"),
      yaxis: logAxis(options.yTitle ?? "loss"),
    },
  };
}

/** One loss curve per run against tokens seen, coloured by its model size. */
export function lossCurvesFigure(
  runs: { params: number; tokens: number; curve: { step: number; loss: number }[]; label?: string }[],
  options: { title?: string; stepsToTokens?: (run: { tokens: number; curve: { step: number }[] }, step: number) => number } = {},
): Figure {
  const sizes = [...new Set(runs.map((r) => r.params))].sort((a, b) => a - b);
  const lastStep = (r: { curve: { step: number }[] }) => Math.max(1, r.curve[r.curve.length - 1]?.step ?? 1);
  const toTokens = options.stepsToTokens ?? ((r, step) => (r.tokens * step) / lastStep(r));
  const shown = new Set<number>();
  return {
    data: runs.map((r) => {
      const first = !shown.has(r.params);
      shown.add(r.params);
      return {
        type: "scatter",
        mode: "lines+markers",
        name: r.label ?? `${r.params.toLocaleString("en-US")} params`,
        legendgroup: String(r.params),
        showlegend: first,
        x: r.curve.map((p) => Math.max(toTokens(r, p.step), 1)),
        y: r.curve.map((p) => p.loss),
        line: { color: sizeColour(sizes.indexOf(r.params), sizes.length) },
      };
    }),
    layout: { title: options.title ? { text: options.title } : undefined, height: 420, xaxis: logAxis("tokens seen"), yaxis: logAxis("loss") },
  };
}

/** Each budget's runs (loss against N) with its parabola, and the minima. */
export function isoFlopFigure(iso: IsoFlopFit, options: { title?: string } = {}): Figure {
  const count = iso.profiles.length;
  const data: object[] = [];
  iso.profiles.forEach((p, i) => {
    const colour = sizeColour(i, count);
    const name = `C = ${p.flops.toExponential(1)}`;
    data.push({ type: "scatter", mode: "markers", name, legendgroup: name, x: p.points.map((q) => q.n), y: p.points.map((q) => q.loss), marker: { color: colour } });
    const lo = Math.log(Math.min(...p.points.map((q) => q.n)));
    const hi = Math.log(Math.max(...p.points.map((q) => q.n)));
    const xs = Array.from({ length: 40 }, (_, k) => lo + ((hi - lo) * k) / 39);
    data.push({
      type: "scatter",
      mode: "lines",
      name,
      legendgroup: name,
      showlegend: false,
      x: xs.map(Math.exp),
      y: xs.map((x) => p.parabola.c2 * x * x + p.parabola.c1 * x + p.parabola.c0),
      line: { color: colour, dash: "dot" },
    });
  });
  data.push({
    type: "scatter",
    mode: "markers",
    name: "minima",
    x: iso.profiles.map((p) => p.nOpt),
    y: iso.profiles.map((p) => p.lossOpt),
    marker: { color: "red", size: 10, symbol: "x" },
  });
  return { data, layout: { title: options.title ? { text: options.title } : undefined, height: 420, xaxis: logAxis("parameters N"), yaxis: { title: { text: "loss" } } } };
}

/** Runs as (FLOPs, loss) coloured by size, with a frontier curve (e.g. the fit's compute-optimal loss). */
export function frontierFigure(
  runs: { params: number; flops: number; loss: number }[],
  frontier: { flops: number; loss: number }[],
  options: { title?: string; frontierName?: string } = {},
): Figure {
  const sizes = [...new Set(runs.map((r) => r.params))].sort((a, b) => a - b);
  const data: object[] = sizes.map((size, i) => {
    const mine = runs.filter((r) => r.params === size);
    return {
      type: "scatter",
      mode: "markers",
      name: `${size.toPrecision(3)} params`,
      x: mine.map((r) => r.flops),
      y: mine.map((r) => r.loss),
      marker: { color: sizeColour(i, sizes.length) },
      showlegend: sizes.length <= 12,
    };
  });
  data.push({ type: "scatter", mode: "lines", name: options.frontierName ?? "compute-optimal", x: frontier.map((f) => f.flops), y: frontier.map((f) => f.loss), line: { color: "red" } });
  return { data, layout: { title: options.title ? { text: options.title } : undefined, height: 420, xaxis: logAxis("training FLOPs"), yaxis: logAxis("loss") } };
}
