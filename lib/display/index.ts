export { inNotebook, type MimeBundle } from "./kernel.js";
export * from "./plotly.js";
export * from "./table.js";
export * from "./format.js";
export * from "./show.js";
export * from "./live.js";
export * from "./figures.js";
