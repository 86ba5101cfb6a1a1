export * from "./provider.js";
export * from "./openai-api.js";
export * from "./anthropic-api.js";
export * from "./course.js";
