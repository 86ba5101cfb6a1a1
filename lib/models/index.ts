export * from "./bigram/index.js";
export * from "./gpt/index.js";
