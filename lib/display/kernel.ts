/**
 * The bridge to tslab, the TypeScript Jupyter kernel. Everything that knows
 * about tslab's insides is in this file.
 *
 * tslab's public `display.raw(type, data)` sends one MIME type per output, but a
 * plotly figure needs two in ONE output (the plotly JSON for JupyterLab and
 * VS Code, HTML for the classic Notebook and nbconvert's HTML export). tslab
 * keeps the function that writes a `display_data` message for the running cell
 * in `tslab/dist/jupyter.js` as `lastWriteDisplayData`; `kernelWriter()` is the
 * one place that reaches for it, and without it outputs fall back to
 * tslab's public API with the bundle's HTML (or its best single type).
 */
import { createRequire } from "node:module";
import { sep } from "node:path";

/** MIME type → data, as in a Jupyter `display_data` message (JSON types hold objects). */
export type MimeBundle = Record<string, unknown>;

interface DisplayMessage {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}
type WriteDisplayData = (message: DisplayMessage, update: boolean) => void;

interface TslabDisplay {
  raw(contentType: string, data: string | Uint8Array): unknown;
}
interface TslabApi {
  display: TslabDisplay;
  newDisplay(): TslabDisplay;
}

/** A CommonJS `require`: tslab's own (which hooks "tslab") when lib runs inside tslab, else a fresh one. */
function nodeRequire(): NodeRequire {
  return typeof require === "function" ? require : createRequire(process.cwd() + "/");
}

/** Exports of the already-loaded tslab module `tslab/dist/<file>`, one per tslab copy loaded. */
function loadedTslabModules(file: string): Record<string, unknown>[] {
  const cache = nodeRequire().cache;
  const suffix = `${sep}tslab${sep}dist${sep}${file}`;
  return Object.keys(cache)
    .filter((path) => path.endsWith(suffix))
    .map((path) => cache[path]?.exports as Record<string, unknown>)
    .filter((exports) => exports != null);
}

/** The hook: tslab's writer of display_data for the running cell, or null outside a kernel. */
function kernelWriter(): WriteDisplayData | null {
  for (const jupyter of loadedTslabModules("jupyter.js")) {
    if (typeof jupyter.lastWriteDisplayData === "function") return jupyter.lastWriteDisplayData as WriteDisplayData;
  }
  return null;
}

/** tslab's public API, only when this process is a tslab kernel (never loads tslab into a script). */
function tslabApi(): TslabApi | null {
  if (loadedTslabModules("main.js").length === 0 && loadedTslabModules("jupyter.js").length === 0) return null;
  try {
    return nodeRequire()("tslab") as TslabApi;
  } catch {
    return null;
  }
}

/** True inside a tslab (Jupyter) kernel: rich outputs are shown; elsewhere the show* helpers print text. */
export function inNotebook(): boolean {
  return kernelWriter() !== null || loadedTslabModules("main.js").length > 0;
}

/** The single MIME type tslab's public API can send, best first. */
const fallbackOrder = ["text/html", "text/markdown", "image/svg+xml", "image/png", "text/plain"];

/**
 * One output area: `publish` sends a bundle; with a display id, later
 * publishes overwrite the first (`update_display_data`).
 */
export class OutputChannel {
  private published = false;
  private fallback: TslabDisplay | null = null;

  constructor(private readonly displayId: string | null = null) {}

  publish(bundle: MimeBundle): void {
    const write = kernelWriter();
    if (write) {
      const transient = this.displayId ? { display_id: this.displayId } : {};
      write({ data: bundle, metadata: {}, transient }, this.displayId !== null && this.published);
      this.published = true;
      return;
    }
    this.publishSingleType(bundle);
  }

  private publishSingleType(bundle: MimeBundle): void {
    const tslab = tslabApi();
    if (!tslab) return;
    const type = fallbackOrder.find((t) => typeof bundle[t] === "string");
    if (!type) return;
    this.fallback ??= this.displayId ? tslab.newDisplay() : tslab.display;
    this.fallback.raw(type, bundle[type] as string);
  }
}

/** Random hex id for display ids and plot divs. */
export function randomId(): string {
  let id = "";
  for (let i = 0; i < 16; i++) id += Math.floor(Math.random() * 16).toString(16);
  return id;
}
