/**
 * Runs a benchmark worker (ours or PyTorch's) to completion and reads the last line of its stdout
 * that starts with "{" as JSON; on failure, a "failed: …" string with the signal or stderr's last lines.
 */
import { spawnSync } from "node:child_process";

export function spawnJson<T>(command: string, args: string[], env: NodeJS.ProcessEnv, stderrLines = 2): T | string {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 24, env, stdio: ["ignore", "pipe", "pipe"] });
  const line = result.stdout?.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (result.status !== 0 || !line) {
    const why = result.signal ? `stopped by ${result.signal}` : (result.stderr || result.error?.message || "").trim().split("\n").slice(-stderrLines).join(" | ");
    return `failed: ${why}`;
  }
  return JSON.parse(line) as T;
}
