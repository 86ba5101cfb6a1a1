export * from "./vocab.js";
export * from "./counts.js";
export * from "./neural.js";
export * from "./figures.js";
