// The command-line scripts as a user runs them: `npm run train` stopped by SIGINT/SIGTERM sent to
// its whole process group (as a terminal's Ctrl-C is) saves a checkpoint that loads; sampling and
// bench stop cleanly; bad flags give one line and exit 2.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { useBackend } from "../lib/engine/index.js";
import { loadCheckpoint } from "../lib/train/index.js";

interface Run {
  /** Resolves once `pattern` has appeared in stdout or stderr (in `stream` only, if given). */
  waitFor(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<void>;
  /** Send a signal to the whole process group. */
  signal(name: NodeJS.Signals): void;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

/** Start a command in a process group of its own, killed (the whole group) after `limitMs`. */
function start(command: string, args: string[], limitMs = 90_000): Run {
  const child = spawn(command, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, COURSE_DEBUG: "" } });
  let stdout = "";
  let stderr = "";
  const waiters: { pattern: RegExp; stream?: "stdout" | "stderr"; resolve: () => void }[] = [];
  const check = () => {
    for (const w of waiters.splice(0)) {
      const text = w.stream === "stdout" ? stdout : w.stream === "stderr" ? stderr : stdout + stderr;
      (w.pattern.test(text) ? w.resolve : () => waiters.push(w))();
    }
  };
  child.stdout.on("data", (d) => ((stdout += d), check()));
  child.stderr.on("data", (d) => ((stderr += d), check()));
  const group = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  const watchdog = setTimeout(() => group("SIGKILL"), limitMs);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      for (const w of waiters.splice(0)) w.resolve(); // the caller's expectations then fail on the output
      resolve({ code, signal, stdout, stderr });
    }),
  );
  return {
    waitFor: (pattern, stream) => new Promise((resolve) => (waiters.push({ pattern, stream, resolve }), check())),
    signal: group,
    exit,
  };
}

const dir = mkdtempSync(join(tmpdir(), "cli-test-"));
const tinyTrain = [
  "--preset", "shakespeare-char-cpu", "--n_layer=1", "--n_head=2", "--n_embd=16", "--block_size=16", "--batch_size=4",
  "--max_iters=100000", "--lr_decay_iters=100000", "--eval_interval=100000", "--eval_iters=2", "--log_interval=1",
  "--backend=cpu", "--sample_tokens=0",
];

beforeAll(async () => {
  await useBackend("cpu");
});

describe("npm run train, stopped by a signal to its process group", () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`${signal}: saves a loadable checkpoint after the steps done and exits ${code}`, async () => {
      const out = join(dir, signal);
      const run = start("npm", ["run", "--silent", "train", "--", ...tinyTrain, "--out", out]);
      await run.waitFor(/iter 3: loss/);
      run.signal(signal);
      const result = await run.exit;
      expect(result.stderr).toMatch(new RegExp(`${signal}: stopping after this step`));
      expect(result.stderr).not.toMatch(/quitting now/); // npm's forwarded copy of the signal is not a second press
      expect(result.code).toBe(code);
      const ckpt = join(out, "ckpt.safetensors");
      expect(existsSync(ckpt)).toBe(true);
      const { model, state } = loadCheckpoint(ckpt);
      expect(state.iter).toBeGreaterThan(3);
      expect(model.config).toMatchObject({ nLayer: 1, nEmbd: 16, blockSize: 16 });
      expect(result.stdout).toContain(`checkpoint: ${ckpt}`);
      model.dispose();
    });
  }
});

describe("npm run sample", () => {
  it("stops between tokens on SIGINT and exits 130", async () => {
    const ckptDir = join(dir, "SIGINT"); // a folder is accepted: ckpt.safetensors inside it
    if (!existsSync(join(ckptDir, "ckpt.safetensors"))) throw new Error("the SIGINT train test must run first");
    const run = start("npm", ["run", "--silent", "sample", "--", "--ckpt", ckptDir, "--max_new_tokens=1000000", "--backend=cpu"]);
    await run.waitFor(/^\n[^]{20}/, "stdout"); // the prompt and 20 sampled characters
    run.signal("SIGINT");
    const result = await run.exit;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/SIGINT: stopping after this token/);
    expect(result.stdout.endsWith("\n---------------\n")).toBe(true);
    expect(result.stdout.length).toBeLessThan(100_000); // stopped long before max_new_tokens
  });

  it("says what --ckpt should name: a file with tokenizer.model next to it, or a folder with ckpt.safetensors", async () => {
    const sample = (ckpt: string) => start("node", ["--import", "tsx", "scripts/sample.ts", "--ckpt", ckpt]).exit;
    const missing = join(dir, "missing.safetensors");
    expect((await sample(missing)).stderr.trim()).toBe(`error: --ckpt ${missing}: no such file (train one with npm run train, or pass --ckpt)`);
    const lonely = join(dir, "lonely.safetensors");
    writeFileSync(lonely, "");
    const noTokenizer = await sample(lonely);
    expect(noTokenizer.code).toBe(2);
    expect(noTokenizer.stderr.trim()).toBe(
      `error: no tokenizer for ${lonely}: expected ${join(dir, "tokenizer.model")} next to it (npm run train writes both into its out folder)`,
    );
    const folder = await sample(dir);
    expect(folder.code).toBe(2);
    expect(folder.stderr.trim()).toBe(
      `error: --ckpt ${dir} is a folder without ckpt.safetensors: pass a checkpoint file, or the folder npm run train wrote (ckpt.safetensors and tokenizer.model)`,
    );
  });
});

describe("npm run bench", () => {
  it("SIGTERM stops the running benchmark and skips the rest, exit 143", async () => {
    const run = start("npm", ["run", "--silent", "bench", "--", "tokenizer", "dropout"]);
    await run.waitFor(/=== bench\/dropout\.ts ===/);
    run.signal("SIGTERM");
    const result = await run.exit;
    expect(result.code).toBe(143);
    expect(result.stdout).toMatch(/=== bench\/dropout\.ts: stopped in/);
    expect(result.stdout).not.toMatch(/=== bench\/tokenizer\.ts ===/);
  });
});

describe("bad input: one line on stderr, no stack trace, exit 2", () => {
  const cases: [string, string[], string][] = [
    ["train", ["--bias=no"], "error: --bias=no: expected true or false"],
    ["train", ["--learning_rate=abc"], "error: --learning_rate=abc: expected a number ≥ 0"],
    ["train", ["--learning_rate=-1"], "error: --learning_rate=-1: expected a number ≥ 0"],
    ["train", ["--grad_clip=-1"], "error: --grad_clip=-1: expected a number ≥ 0"],
    ["train", ["--seed=abc"], "error: --seed=abc: expected an integer in [0, 4294967295]"],
    ["train", ["--always_save_checkpoint=yes"], "error: --always_save_checkpoint=yes: expected true or false"],
    ["train", ["--block_size=4000000000000", "--backend=cpu", "--out", join(dir, "big")],
      "error: block_size 4000000000000 is larger than the validation split (111,540 tokens): each window needs block_size + 1 tokens"],
    ["train", ["--n_embd=30", "--n_head=4"], "error: GPTConfig.nEmbd (30) must be divisible by nHead (4)"],
    ["sample", ["--top_p", "1.5"], "error: --top_p=1.5: expected a number in (0, 1]"],
    ["sample", ["--top_k", "1.5"], "error: --top_k=1.5: expected an integer ≥ 1"],
    ["sample", ["--max_new_tokens", "-5"], "error: --max_new_tokens=-5: expected an integer ≥ 0"],
    ["sample", ["--num_samples", "0"], "error: --num_samples=0: expected an integer ≥ 1"],
    ["sample", ["--tempreature", "1"], "error: unknown flag --tempreature; did you mean --temperature? (see --help)"],
    ["data", ["--bogus"], "error: unknown flag --bogus (see --help)"],
    ["data", ["tinyshakspeare"], "error: unknown dataset \"tinyshakspeare\"; did you mean tinyshakespeare? (known: "],
    ["bench", ["--rounds=2"], "error: unknown flag --rounds (see --help)"],
  ];

  it(`${cases.length} cases`, async () => {
    const file = (script: string) => (script === "bench" ? "bench/index.ts" : `scripts/${script}.ts`);
    for (let i = 0; i < cases.length; i += 2) {
      const pair = cases.slice(i, i + 2); // two at a time: the machine may have two cores
      const results = await Promise.all(pair.map(([script, args]) => start("node", ["--import", "tsx", file(script), ...args], 60_000).exit));
      pair.forEach(([script, args, line], j) => {
        const { code, stderr } = results[j];
        const what = `npm run ${script} -- ${args.join(" ")}: ${stderr}`;
        expect(code, what).toBe(2);
        expect(stderr.trim().slice(0, line.length), what).toBe(line);
        expect(stderr.trim().split("\n"), what).toHaveLength(1);
      });
    }
  });

  it("prints the stack with COURSE_DEBUG=1, --help prints every flag and exits 0", async () => {
    const debug = spawnSync(process.execPath, ["--import", "tsx", "scripts/sample.ts", "--top_p=2"], { encoding: "utf8", env: { ...process.env, COURSE_DEBUG: "1" } });
    expect(debug.status).toBe(2);
    expect(debug.stderr).toMatch(/UsageError: --top_p=2: expected a number in \(0, 1\]\n\s+at /);
    const help = spawnSync(process.execPath, ["--import", "tsx", "scripts/sample.ts", "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    for (const flag of ["--ckpt", "--start", "--num_samples", "--max_new_tokens", "--temperature", "--top_k", "--top_p", "--seed", "--backend"]) {
      expect(help.stdout).toContain(`  ${flag}`);
    }
  });
});

describe("a stop signal (lib/util/cli.ts)", () => {
  const script = [
    'import { onStopSignal } from "./lib/util/cli.ts";',
    'onStopSignal(() => console.log("stop requested"), "stopping", { quit: () => console.log("quit hook") });',
    'console.log("ready"); setInterval(() => {}, 1000);',
  ].join("\n");

  it("counts a copy within 250 ms as the same press; a later second one quits at once", async () => {
    const run = start("node", ["--import", "tsx", "--input-type=module", "--eval", script], 30_000);
    await run.waitFor(/ready/);
    run.signal("SIGTERM");
    run.signal("SIGTERM"); // what npm's forwarding adds to the terminal's own signal
    await run.waitFor(/stop requested/);
    await new Promise((resolve) => setTimeout(resolve, 400));
    run.signal("SIGINT");
    const result = await run.exit;
    expect(result.stdout).toBe("ready\nstop requested\nquit hook\n");
    expect(result.stderr).toMatch(/SIGINT again: quitting now/);
    expect(result.code).toBe(143); // the status of the first signal
  });
});
