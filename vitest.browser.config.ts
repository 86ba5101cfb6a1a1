import { defineConfig } from "vitest/config";

// The headless-browser checks (Debian's chromium through playwright-core). They read what the
// notebook run wrote to out/notebooks/, so `npm test` runs them after it, not with the unit suites.
export default defineConfig({
  test: {
    include: ["tests/browser/**/*.e2e.ts"],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    pool: "forks",
    fileParallelism: false,
  },
});
