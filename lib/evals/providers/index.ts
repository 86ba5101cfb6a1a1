export * from "./provider.js";
export * from "./openai.js";
export * from "./anthropic.js";
export * from "./course.js";
