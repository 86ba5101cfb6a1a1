/**
 * `npm run bench [-- <filter>...]`: runs every benchmark in bench/ (each in its own process, so
 * backends and native kernels do not leak between them). Each prints its own numbers as ratios
 * against a reference measured in the same run.
 *
 * Ctrl-C or SIGTERM stops the running benchmark (and the processes it started) and skips the rest
 * (exit 130 / 143); a second one quits at once.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseFlags, type FlagSchema } from "../lib/train/index.js";
import { UsageError, onStopSignal, runCli } from "../lib/util/cli.js";

runCli(async () => {
  const { positionals: filters, help } = parseFlags(process.argv.slice(2), {} satisfies FlagSchema, { positionals: "filters" });
  const all = readdirSync("bench").filter((name) => name.endsWith(".ts") && name !== "index.ts").sort();
  if (help) {
    console.log(`npm run bench [-- <filter>...]   runs the benchmarks named by a filter, or whose file names contain one: ${all.join(", ")}`);
    return;
  }
  // A filter that names a benchmark exactly picks only it ("gpt" is not also "gpt2").
  const picks = (f: string) => (all.includes(`${f}.ts`) ? [`${f}.ts`] : all.filter((name) => name.includes(f)));
  const benches = filters.length === 0 ? all : all.filter((name) => filters.some((f) => picks(f).includes(name)));
  if (benches.length === 0) throw new UsageError(`no benchmark matches ${filters.join(", ")} (there are ${all.join(", ")})`);

  // Each benchmark runs in a process group of its own, so that a stop reaches its workers too.
  let running: number | undefined;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (running !== undefined) process.kill(-running, signal);
    } catch {
      // the group has already exited
    }
  };
  const stop = onStopSignal(signalGroup, "stopping the benchmark and skipping the rest", { quit: () => signalGroup("SIGKILL") });
  let failed = 0;
  for (const name of benches) {
    if (stop.signal !== null) break;
    console.log(`\n=== bench/${name} ===`);
    const started = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", join("bench", name)], { stdio: ["ignore", "inherit", "inherit"], detached: true });
    running = child.pid;
    const status = await new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    running = undefined;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (status !== 0) failed++;
    const outcome = status === 0 ? "done" : stop.signal !== null ? "stopped" : "FAILED";
    console.log(`=== bench/${name}: ${outcome} in ${seconds} s ===`);
  }
  return stop.exitCode || (failed ? 1 : 0);
});
