export * from "./registry.js";
export * from "./load.js";
