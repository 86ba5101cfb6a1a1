// Loaded into the course kernel before tslab (scripts/kernel.sh: node --require). An error no cell
// awaited (thrown in a setTimeout callback, a promise rejection nobody handles) never reaches the
// cell's reply: tslab only prints it to stderr, and only into a cell that is still running. When the
// notebook runner names a file in COURSE_KERNEL_ERRORS, each such error is appended to it as one JSON
// line, which the runner reads after every cell to fail the notebook. In the live Notebook this does
// nothing: tslab's own handlers still print the error.
"use strict";
const file = process.env.COURSE_KERNEL_ERRORS;
if (file) {
  const { appendFileSync } = require("node:fs");
  const describe = (error) => (error instanceof Error ? error.stack || String(error) : String(error));
  const record = (kind) => (error) => {
    try {
      appendFileSync(file, JSON.stringify({ kind, message: describe(error) }) + "\n");
    } catch {
      // The runner is gone (its file with it): nothing left to tell.
    }
  };
  process.on("uncaughtException", record("uncaught exception"));
  process.on("unhandledRejection", record("unhandled promise rejection"));
}
