/**
 * Lets notebooks write `import { ... } from "./lib"`: tslab resolves "./lib" to this file
 * (it does not look for lib/index), so this re-exports the library's real entry point.
 */
export * from "./lib/index.js";
