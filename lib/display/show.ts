/**
 * Show rich output in a notebook; outside one (tests, scripts) print a short
 * text form instead, or nothing where text would say nothing (raw HTML).
 */
import { inNotebook, OutputChannel, type MimeBundle } from "./kernel.js";
import { plotlyBundle, plotSummary, type Figure } from "./plotly.js";
import { tableToHtml, tableToText, type TableInput, type TableOptions } from "./table.js";

export function htmlBundle(html: string): MimeBundle {
  return { "text/html": html };
}

export function markdownBundle(markdown: string): MimeBundle {
  return { "text/markdown": markdown, "text/plain": markdown };
}

export function tableBundle(table: TableInput, options: TableOptions = {}): MimeBundle {
  return { "text/html": tableToHtml(table, options), "text/plain": tableToText(table, options) };
}

export function imageBundle(png: Uint8Array): MimeBundle {
  return { "image/png": Buffer.from(png).toString("base64"), "text/plain": imageSummary(png) };
}

/** `[image] PNG 640×480, 12.3 kB` (size read from the PNG header). */
export function imageSummary(png: Uint8Array): string {
  const isPng = png.length >= 24 && png[0] === 0x89 && png[1] === 0x50 && png[2] === 0x4e && png[3] === 0x47;
  const kb = `${(png.length / 1000).toFixed(1)} kB`;
  if (!isPng) return `[image] ${kb}`;
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return `[image] PNG ${view.getUint32(16)}×${view.getUint32(20)}, ${kb}`;
}

/** Send a bundle as a new output in the notebook, or print its text form (if any) elsewhere. */
export function showBundle(bundle: MimeBundle): void {
  if (inNotebook()) {
    new OutputChannel().publish(bundle);
    return;
  }
  const text = bundle["text/plain"];
  if (typeof text === "string") console.log(text);
}

export function showHtml(html: string): void {
  showBundle(htmlBundle(html));
}

export function showMarkdown(markdown: string): void {
  showBundle(markdownBundle(markdown));
}

/** A plotly figure ({ data, layout }): drawn in JupyterLab, VS Code, classic Notebook and HTML exports. */
export function showPlot(figure: Figure): void {
  if (inNotebook()) new OutputChannel().publish(plotlyBundle(figure));
  else console.log(plotSummary(figure));
}

/** Rows (objects) or a nodejs-polars DataFrame as a table of at most `maxRows` rows (default 20). */
export function showTable(table: TableInput, options: TableOptions = {}): void {
  showBundle(tableBundle(table, options));
}

export function showImage(png: Uint8Array): void {
  showBundle(imageBundle(png));
}
