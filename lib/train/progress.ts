/**
 * Watching a run: a one-line progress bar in the terminal and a live loss chart in notebooks.
 * Both are TrainerCallbacks; the Trainer itself never writes anywhere.
 */
import { inNotebook, liveDisplay } from "../display/index.js";
import { flopsPerToken, formatMfu } from "./mfu.js";
import type { TrainerCallbacks } from "./trainer.js";

interface Writable {
  write(text: string): unknown;
  isTTY?: boolean;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(rest).padStart(2, "0")}s` : `${rest}s`;
}

/**
 * A progress bar on stderr: "iter 120/2000 [████░░░░] 6% | loss 2.1345 | 4.20 it/s | ETA 7m27s",
 * rewritten in place on a terminal; on a non-terminal (a log file, CI) one line every logInterval
 * steps. Loss estimates and checkpoints get lines of their own. With `throughput`, every line also
 * says tokens/s and the MFU against throughput.peakFlops (FLOP/s; null: "MFU n/a"), as build-nanogpt logs.
 */
export function terminalProgress(
  options: { stream?: Writable; logInterval?: number; width?: number; throughput?: { peakFlops: number | null } } = {},
): TrainerCallbacks {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const width = options.width ?? 24;
  let maxIters = 0;
  let startIter = 0;
  let startTime = 0;
  let lastLength = 0;
  let logInterval = options.logInterval ?? 1;
  let perToken = 0;
  const throughput = (tokensPerSecond: number) =>
    options.throughput ? `, ${Math.round(tokensPerSecond).toLocaleString("en-US")} tok/s, ${formatMfu(tokensPerSecond, perToken, options.throughput.peakFlops)}` : "";
  const line = (text: string) => {
    if (tty && lastLength > 0) stream.write("\r" + " ".repeat(lastLength) + "\r");
    stream.write(text + "\n");
    lastLength = 0;
  };
  return {
    onStart(info) {
      maxIters = info.maxIters;
      startIter = info.startIter;
      startTime = performance.now();
      logInterval = options.logInterval ?? info.trainer.config.logInterval;
      perToken = flopsPerToken(info.trainer.model.config, info.trainer.model.numParams());
    },
    onStep(info) {
      const done = info.iter + 1;
      const rate = (done - startIter) / ((performance.now() - startTime) / 1000);
      const fraction = maxIters > 0 ? done / maxIters : 1;
      const filled = Math.round(fraction * width);
      const text =
        `iter ${done}/${maxIters} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${Math.floor(fraction * 100)}%` +
        ` | loss ${info.loss.toFixed(4)} | ${rate.toFixed(2)} it/s${throughput(info.tokensPerSecond).replace(/, /g, " | ")} | ETA ${formatDuration((maxIters - done) / rate)}`;
      if (tty) {
        stream.write("\r" + text.padEnd(lastLength));
        lastLength = text.length;
      } else if (info.iter % logInterval === 0 || done === maxIters) {
        stream.write(`iter ${info.iter}: loss ${info.loss.toFixed(4)}, time ${info.ms.toFixed(0)}ms, lr ${info.lr.toExponential(2)}${throughput(info.tokensPerSecond)}\n`);
      }
    },
    onEval(info) {
      line(`step ${info.iter}: train loss ${info.train.toFixed(4)}, val loss ${info.val.toFixed(4)}`);
    },
    onCheckpoint(info) {
      line(`saving checkpoint to ${info.path}`);
    },
    onEnd() {
      if (tty && lastLength > 0) stream.write("\n");
      lastLength = 0;
    },
  };
}

/** Anything with plot(figure) that redraws one output in place, such as lib/display's liveDisplay(). */
export interface PlotTarget {
  plot(figure: { data: object[]; layout?: object }): void;
}

/**
 * A plotly loss chart (per-step training loss, and the train/val estimates) redrawn as training
 * runs, at most every `everyMs` milliseconds and at every estimate; its title tells the progress
 * (iteration, loss, it/s, ETA):
 *   trainer = new Trainer(model, data, config, [lossChart(liveDisplay())])
 */
export function lossChart(target: PlotTarget, options: { everyMs?: number; title?: string } = {}): TrainerCallbacks {
  const everyMs = options.everyMs ?? 1000;
  const steps: number[] = [];
  const losses: number[] = [];
  const evals: { iter: number; train: number; val: number }[] = [];
  let lastDraw = -Infinity;
  let status = "";
  let maxIters = 0;
  let startIter = 0;
  let startTime = 0;
  const draw = () => {
    lastDraw = performance.now();
    target.plot({
      data: [
        { x: steps, y: losses, type: "scatter", mode: "lines", name: "train (step)", line: { width: 1 }, opacity: 0.5 },
        { x: evals.map((e) => e.iter), y: evals.map((e) => e.train), type: "scatter", mode: "lines+markers", name: "train" },
        { x: evals.map((e) => e.iter), y: evals.map((e) => e.val), type: "scatter", mode: "lines+markers", name: "val" },
      ],
      layout: {
        title: { text: `${options.title ?? "Loss"}${status}` },
        xaxis: { title: { text: "iteration" } },
        yaxis: { title: { text: "cross-entropy loss" } },
        height: 360,
      },
    });
  };
  return {
    onStart(info) {
      evals.push(...info.trainer.evals);
      maxIters = info.maxIters;
      startIter = info.startIter;
      startTime = performance.now();
    },
    onStep(info) {
      steps.push(info.iter);
      losses.push(info.loss);
      const done = info.iter + 1;
      const rate = (done - startIter) / ((performance.now() - startTime) / 1000);
      status = ` · iter ${done}/${maxIters} · loss ${info.loss.toFixed(4)} · ${rate.toFixed(2)} it/s · ETA ${formatDuration((maxIters - done) / rate)}`;
      if (performance.now() - lastDraw >= everyMs) draw();
    },
    onEval(info) {
      evals.push(info);
      draw();
    },
    onEnd: draw,
  };
}

/** The live loss chart in a notebook, the progress bar in a terminal. */
export function trainingProgress(): TrainerCallbacks {
  return inNotebook() ? lossChart(liveDisplay()) : terminalProgress();
}
