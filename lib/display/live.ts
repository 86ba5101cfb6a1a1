/**
 * One output that is overwritten in place (update_display_data), e.g. a loss
 * curve redrawn while a model trains. Outside a notebook only `text` prints.
 */
import { inNotebook, OutputChannel, randomId, type MimeBundle } from "./kernel.js";
import { plotlyBundle, type Figure } from "./plotly.js";
import { htmlBundle, markdownBundle, tableBundle } from "./show.js";
import type { TableInput, TableOptions } from "./table.js";

export interface LiveDisplay {
  html(html: string): void;
  markdown(markdown: string): void;
  plot(figure: Figure): void;
  table(table: TableInput, options?: TableOptions): void;
  /** Plain text; printed (one line per call) outside a notebook. */
  text(text: string): void;
}

export function liveDisplay(): LiveDisplay {
  const channel = new OutputChannel(randomId());
  const publish = (bundle: MimeBundle) => {
    if (inNotebook()) channel.publish(bundle);
  };
  return {
    html: (html) => publish(htmlBundle(html)),
    markdown: (markdown) => publish(markdownBundle(markdown)),
    // A fresh div id per update, so the HTML form draws into its own new div.
    plot: (figure) => publish(plotlyBundle(figure)),
    table: (table, options) => publish(tableBundle(table, options)),
    text: (text) => {
      if (inNotebook()) channel.publish({ "text/plain": text });
      else console.log(text);
    },
  };
}
