export * from "./registry.js";
export * from "./load.js";
export { checksumsPath } from "./checksums.js";
export * from "./shards.js";
