/**
 * A local pool's worker process: runs what its parent sends, one at a time, and exits when the
 * parent goes away (so a SIGKILLed sweep leaves no orphans behind).
 */
import type { PoolMessage, PoolReply } from "./pool.js";
import { executeRun } from "./task.js";

const send = (reply: PoolReply) => process.send?.(reply);

process.on("disconnect", () => process.exit(0));
process.on("message", (message: PoolMessage) => {
  if (message.type !== "run") return;
  const { run } = message;
  executeRun(run, (step, loss) => send({ type: "progress", id: run.id, step, loss })).then(
    (record) => send({ type: "done", id: run.id, record }),
    (error: unknown) => send({ type: "error", id: run.id, message: error instanceof Error ? error.message : String(error) }),
  );
});
send({ type: "ready" });
