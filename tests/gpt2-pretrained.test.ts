// GPT-2 from Hugging Face weights (issue 14): presets, the tanh GELU, the download through
// @huggingface/hub into the HF cache (from a loopback hub, no network), the HF layout's mapping
// and its errors, the export back, and logits against an independent PyTorch GPT-2
// (tests/reference/gpt2_reference.py, float64, reading HF's layout itself) on cpu, wasm and WebGPU.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, lstatSync, openSync, writeSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { freemem, tmpdir } from "node:os";
import { join } from "node:path";
import { getHFHubCachePath } from "@huggingface/hub";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { BackendUnavailable, shutdownEngine, tf, useBackend, type BackendChoice } from "../lib/engine/index.js";
import { FileFormatError, decodeSafetensors, encodeSafetensors, loadSafetensors, type StoredTensor } from "../lib/io/index.js";
import {
  GPT, GPT2_PRESETS, HubDownloadError, cachedHubFile, geluTanh, gptParamSpecs, hasPretrainedWeights, loadGPT, loadPretrainedGPT, saveGPT,
  saveHuggingFace, type GPTConfig, type PretrainedOptions,
} from "../lib/models/gpt/index.js";
import { loadTiktokenEncoding } from "../lib/tokenizers/index.js";
import { editHeader, editMetadataJson } from "./support/checkpoint-files.js";
import { startHubServer, type HubServer } from "./support/hub-server.js";

const PYTHON = "/usr/bin/python3";
const hasTorch = spawnSync(PYTHON, ["-c", "import torch"]).status === 0;
if (!hasTorch) console.warn(`SKIPPING GPT-2 loader tests: ${PYTHON} cannot import torch, which writes their checkpoint (apt-get install python3-torch)`);

const REPO = "openai-community/gpt2";
const SEED_002 = "Hello, I am an language model, I have a total of 124M";

function reference(args: string[]): void {
  const result = spawnSync(PYTHON, ["tests/reference/gpt2_reference.py", ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`gpt2_reference.py ${args[0]} failed:\n${result.stderr}`);
}

const temp = (label: string) => mkdtempSync(join(tmpdir(), `gpt2-${label}-`));
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** PyTorch's float64 logits for a model folder and token rows. */
function referenceLogits(folder: string, tokens: number[][]): Float64Array {
  const dir = temp("ref");
  writeFileSync(join(dir, "tokens.json"), JSON.stringify(tokens));
  reference(["logits", folder, join(dir, "tokens.json"), join(dir, "logits.safetensors")]);
  return loadSafetensors(join(dir, "logits.safetensors")).tensors.logits.data as Float64Array;
}

async function ourLogits(model: GPT, tokens: number[][]): Promise<Float32Array> {
  const idx = tf.tensor2d(tokens.flat(), [tokens.length, tokens[0].length], "int32");
  const { logits } = model.forward(idx);
  const values = (await logits.data()) as Float32Array;
  tf.dispose([idx, logits]);
  return values;
}

/** Worst |ours − ref| / (tol·(|ref| + mean|ref|)): ≤ 1 means every logit agrees within tol. */
function worstError(ours: ArrayLike<number>, ref: ArrayLike<number>, tol: number): number {
  expect(ours.length).toBe(ref.length);
  let meanAbs = 0;
  for (let i = 0; i < ref.length; i++) meanAbs += Math.abs(ref[i]) / ref.length;
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i] - ref[i]) / (tol * (Math.abs(ref[i]) + meanAbs)));
  return worst;
}

/** Bit-for-bit equal typed arrays (toEqual walks a 3M-element array for seconds). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function expectSameWeights(actual: GPT, expected: GPT): void {
  expect(Object.keys(actual.params)).toEqual(Object.keys(expected.params));
  for (const [name, v] of Object.entries(expected.params)) expect(sameBytes(actual.params[name].dataSync(), v.dataSync()), name).toBe(true);
}

/** A loopback port nothing listens on (fetch refuses some well-known ones, such as 9). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

function loadError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}

async function loadErrorAsync(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

afterAll(async () => {
  await shutdownEngine();
});

describe("GPT-2 presets and the tanh GELU", () => {
  beforeAll(async () => {
    await useBackend("cpu");
  });

  const count = (config: GPTConfig) => gptParamSpecs(config).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);

  it("has GPT-2's shapes and parameter counts (124,439,808 for gpt2; 123,653,376 without position embeddings)", () => {
    const gpt2 = GPT2_PRESETS.gpt2;
    expect(gpt2).toEqual({ vocabSize: 50257, blockSize: 1024, nLayer: 12, nHead: 12, nEmbd: 768, dropout: 0, bias: true, activation: "gelu_tanh" });
    expect(count(gpt2)).toBe(124_439_808);
    expect(count(gpt2) - 1024 * 768).toBe(123_653_376);
    // The other three as Hugging Face reports them (model.num_parameters()).
    expect(count(GPT2_PRESETS["gpt2-medium"])).toBe(354_823_168);
    expect(count(GPT2_PRESETS["gpt2-large"])).toBe(774_030_080);
    expect(count(GPT2_PRESETS["gpt2-xl"])).toBe(1_557_611_200);
  });

  it("keeps exact GELU as the default (char models) and rejects an unknown activation", () => {
    const model = new GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4 });
    expect(model.config.activation).toBe("gelu");
    model.dispose();
    expect(() => new GPT({ vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, activation: "relu" as never })).toThrow(/GPTConfig.activation must be gelu or gelu_tanh, got "relu"/);
  });

  it.skipIf(!hasTorch)("geluTanh and its gradient equal PyTorch's gelu(approximate='tanh')", () => {
    const xs = Array.from({ length: 41 }, (_, i) => -6 + 0.3 * i);
    const torch = spawnSync(PYTHON, ["-c", [
      "import json, sys, torch",
      "x = torch.tensor(json.load(sys.stdin), dtype=torch.float64, requires_grad=True)",
      "y = torch.nn.functional.gelu(x, approximate='tanh'); y.sum().backward()",
      "print(json.dumps({'y': y.tolist(), 'dy': x.grad.tolist()}))",
    ].join("\n")], { input: JSON.stringify(xs), encoding: "utf8" });
    expect(torch.status, torch.stderr).toBe(0);
    const ref = JSON.parse(torch.stdout) as { y: number[]; dy: number[] };
    const x = tf.tensor1d(xs);
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => tf.sum(geluTanh(t)) as tf.Scalar)([x]);
    const y = tf.tidy(() => geluTanh(x));
    const ours = { y: Array.from(y.dataSync()), dy: Array.from(grads[0].dataSync()) };
    ours.y.forEach((v, i) => expect(Math.abs(v - ref.y[i]), `gelu_tanh(${xs[i]})`).toBeLessThan(2e-6));
    ours.dy.forEach((v, i) => expect(Math.abs(v - ref.dy[i]), `gelu_tanh'(${xs[i]})`).toBeLessThan(2e-6));
    // Not the exact GELU: at x = 3 the two forms differ by about 4e-4.
    const atThree = ref.y[xs.findIndex((v) => Math.abs(v - 3) < 1e-9)];
    expect(Math.abs(atThree - 3 * 0.5 * (1 + erf(3 / Math.SQRT2)))).toBeGreaterThan(1e-4);
    tf.dispose([x, value, y, ...grads]);
  });

  it("GPT builds its parameters from given values without drawing an init, and names what is missing", () => {
    const config = { vocabSize: 5, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 4, dropout: 0, bias: true };
    const random = new GPT(config, { seed: 3 });
    const weights = new Map(Object.entries(random.params).map(([name, v]) => [name, Float32Array.from(v.dataSync(), (x) => x + 1)]));
    const before = tf.memory().numTensors;
    const given = new GPT(config, { weights });
    for (const [name, v] of Object.entries(given.params)) expect(Array.from(v.dataSync()), name).toEqual(Array.from(weights.get(name)!));
    given.dispose();
    expect(tf.memory().numTensors).toBe(before);
    weights.delete("transformer.h.0.mlp.c_fc.bias");
    expect(() => new GPT(config, { weights })).toThrow('GPT: options.weights has no Float32Array for "transformer.h.0.mlp.c_fc.bias"');
    expect(tf.memory().numTensors).toBe(before); // checked before any variable was made
    weights.set("transformer.h.0.mlp.c_fc.bias", new Float32Array(3));
    expect(() => new GPT(config, { weights })).toThrow(/has 3 values, shape \[16\] needs 16/);
    random.dispose();
  });

  it("loads a checkpoint saved before activation existed as exact GELU; a bad activation is one line", async () => {
    const dir = temp("old");
    const model = new GPT({ vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 2, nEmbd: 8 }, { seed: 1 });
    const path = join(dir, "model.safetensors");
    await saveGPT(model, path);
    writeFileSync(path, editHeader(path, editMetadataJson("gpt_config", (c) => { delete c.activation; })));
    const old = loadGPT(path);
    expect(old.config.activation).toBe("gelu");
    writeFileSync(path, editHeader(path, editMetadataJson("gpt_config", (c) => ({ ...c, activation: "swish" }))));
    expect(loadError(() => loadGPT(path))).toMatch(new RegExp(`^${path}: gpt_config.activation: Invalid option: expected one of "gelu"\\|"gelu_tanh"$`));
    const tanh = new GPT({ ...model.config, activation: "gelu_tanh" }, { seed: 1 });
    await saveGPT(tanh, path);
    const back = loadGPT(path);
    expect(back.config.activation).toBe("gelu_tanh");
    tanh.dispose();
    back.dispose();
    model.dispose();
    old.dispose();
  });
});

/** erf by its Maclaurin series (good to 1e-12 for |x| < 4). */
function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe.skipIf(!hasTorch)("GPT-2 from a hub (loopback) into the Hugging Face cache", () => {
  let hub: HubServer;
  let root: string;
  const repoFolder = () => join(root, ...REPO.split("/"));

  beforeAll(async () => {
    await useBackend("cpu");
    root = temp("hub");
    mkdirSync(repoFolder(), { recursive: true });
    reference(["make", repoFolder(), "1"]);
    hub = await startHubServer(root);
  });

  afterAll(async () => {
    await hub?.close();
  });

  const options = (cacheDir: string, extra: PretrainedOptions = {}): PretrainedOptions => ({ cacheDir, hubUrl: hub.url, offline: false, quiet: true, ...extra });

  it("downloads through downloadFileToCacheDir into the HF layout, with a progress bar; a second call makes no request", async () => {
    const cacheDir = temp("cache");
    const writes: string[] = [];
    const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (writes.push(String(chunk)), true));
    let model: GPT;
    try {
      model = await GPT.fromPretrained("gpt2", options(cacheDir, { quiet: false }));
    } finally {
      spy.mockRestore();
    }
    expect(model.config).toEqual({ vocabSize: 50257, blockSize: 128, nLayer: 2, nHead: 4, nEmbd: 64, dropout: 0, bias: true, activation: "gelu_tanh" });
    // What the library asks, in order, for each of the two files.
    expect(hub.requests.map((r) => `${r.method} ${r.path}${r.range ? ` ${r.range}` : ""}`)).toEqual(["config.json", "model.safetensors"].flatMap((file) => [
      `POST /api/models/${REPO}/paths-info/main`,
      `GET /${REPO}/resolve/main/${file} bytes=0-0`,
      `GET /${REPO}/resolve/main/${file}`,
    ]));
    const bar = writes.filter((w) => w.startsWith("\rmodel.safetensors ["));
    expect(bar.length).toBeGreaterThan(10);
    expect(bar.at(-1)).toMatch(/^\rmodel\.safetensors \[#{30}\] 100% 13\.43 MB$/);
    expect(writes.some((w) => w.includes("config.json ["))).toBe(false); // no bar for small files

    // The standard layout: blobs named by sha256 (LFS) or git oid, snapshot symlinks, refs/main.
    const storage = join(cacheDir, "models--openai-community--gpt2");
    const weightsSha = sha256(join(repoFolder(), "model.safetensors"));
    expect(readFileSync(join(storage, "refs", "main"), "utf8")).toBe(hub.commit);
    const link = join(storage, "snapshots", hub.commit, "model.safetensors");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(`../../blobs/${weightsSha}`);
    expect(sha256(realpathSync(link))).toBe(weightsSha);
    expect(readdirSync(join(storage, "blobs")).sort()).toHaveLength(2);

    const before = hub.requests.length;
    const again = await loadPretrainedGPT("gpt2", options(cacheDir));
    expect(hub.requests.length).toBe(before);
    expectSameWeights(again, model);
    model.dispose();
    again.dispose();
  });

  it("honours HF_ENDPOINT and HF_HUB_CACHE", async () => {
    const cacheDir = temp("env");
    const saved = { endpoint: process.env.HF_ENDPOINT, cache: process.env.HF_HUB_CACHE };
    process.env.HF_ENDPOINT = hub.url;
    process.env.HF_HUB_CACHE = cacheDir;
    try {
      const before = hub.downloads();
      const model = await loadPretrainedGPT(REPO, { quiet: true, offline: false });
      expect(hub.downloads() - before).toBe(2);
      expect(existsSync(join(cacheDir, "models--openai-community--gpt2", "snapshots", hub.commit, "config.json"))).toBe(true);
      model.dispose();
    } finally {
      for (const [key, value] of [["HF_ENDPOINT", saved.endpoint], ["HF_HUB_CACHE", saved.cache]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("uses what Python's transformers cached (the old name models--gpt2 too) without asking the hub", async () => {
    const cacheDir = temp("python");
    const storage = join(cacheDir, "models--gpt2");
    const commit = "607a30d783dfa663caf39e06633721c8d4cfcd7e";
    mkdirSync(join(storage, "blobs"), { recursive: true });
    mkdirSync(join(storage, "snapshots", commit), { recursive: true });
    mkdirSync(join(storage, "refs"));
    writeFileSync(join(storage, "refs", "main"), commit);
    for (const file of ["config.json", "model.safetensors"]) {
      const blob = sha256(join(repoFolder(), file));
      writeFileSync(join(storage, "blobs", blob), readFileSync(join(repoFolder(), file)));
      symlinkSync(`../../blobs/${blob}`, join(storage, "snapshots", commit, file));
    }
    expect(hasPretrainedWeights("gpt2", { cacheDir })).toBe(true);
    expect(hasPretrainedWeights("gpt2-medium", { cacheDir })).toBe(false);
    const before = hub.requests.length;
    const model = await loadPretrainedGPT("gpt2", options(cacheDir));
    expect(hub.requests.length).toBe(before);
    expect(model.config.nLayer).toBe(2);
    model.dispose();
  });

  it("an interrupted download leaves nothing in the cache, and the next call completes it", async () => {
    const cacheDir = temp("cut");
    hub.cutNextDownload("model.safetensors", 1_000_000);
    const error = await loadErrorAsync(() => loadPretrainedGPT("gpt2", options(cacheDir)));
    expect(error).toBeInstanceOf(HubDownloadError);
    expect(error.message).toMatch(/^Cannot get model\.safetensors of the Hugging Face model openai-community\/gpt2 \(revision main\): terminated/);
    expect(error.message).not.toContain("\n");
    const storage = join(cacheDir, "models--openai-community--gpt2");
    expect(readdirSync(join(storage, "blobs"))).toHaveLength(1); // config.json's blob only: no partial file, no .incomplete
    expect(existsSync(join(storage, "snapshots", hub.commit, "model.safetensors"))).toBe(false);

    const downloads = hub.downloads("model.safetensors");
    const model = await loadPretrainedGPT("gpt2", options(cacheDir));
    expect(hub.downloads("model.safetensors")).toBe(downloads + 1);
    expect(sha256(join(storage, "snapshots", hub.commit, "model.safetensors"))).toBe(sha256(join(repoFolder(), "model.safetensors")));
    model.dispose();
  });

  it("a body that ends early without a transport error never becomes a blob (the library alone would keep it)", async () => {
    const cacheDir = temp("short");
    const shortBody: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      if (!url.endsWith("/model.safetensors") || new Headers(init?.headers).has("range")) return response;
      const bytes = new Uint8Array(await response.arrayBuffer()).subarray(0, 5000);
      return new Response(bytes, { status: 200 }); // no Content-Length: only the size the probe reported tells
    };
    const error = await loadErrorAsync(() => loadPretrainedGPT("gpt2", options(cacheDir, { fetch: shortBody })));
    expect(error.message).toMatch(/: the download ended after 5000 of 13433072 bytes, and the cache .* does not have it/);
    const storage = join(cacheDir, "models--openai-community--gpt2");
    expect(readdirSync(join(storage, "blobs"))).toHaveLength(1);
  });

  it("offline with nothing cached: one line naming the repo, the file and how to get it here", async () => {
    const cacheDir = temp("offline");
    const before = hub.requests.length;
    const offline = await loadErrorAsync(() => loadPretrainedGPT("gpt2", options(cacheDir, { offline: true })));
    expect(hub.requests.length).toBe(before);
    expect(offline.message).toBe(
      `Cannot get config.json of the Hugging Face model openai-community/gpt2 (revision main): offline (HF_HUB_OFFLINE), and the cache ${cacheDir} does not have it. ` +
        `To get it onto this machine: run this once where ${hub.url} can be reached (HF_ENDPOINT names a mirror), ` +
        `or copy the folder models--openai-community--gpt2 from another machine's Hugging Face cache (~/.cache/huggingface/hub) into ${cacheDir}, ` +
        "or put config.json and model.safetensors in a folder and load that folder.",
    );
    const port = await closedPort();
    const unreachable = await loadErrorAsync(() => loadPretrainedGPT("gpt2", options(cacheDir, { hubUrl: `http://127.0.0.1:${port}` })));
    expect(unreachable.message).toMatch(new RegExp(`^Cannot get config\\.json of the Hugging Face model openai-community/gpt2 \\(revision main\\): fetch failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\), and the cache`));
    const missing = await loadErrorAsync(() => loadPretrainedGPT("someone/no-such-model", options(cacheDir)));
    expect(missing.message).toMatch(/^Cannot get config\.json of the Hugging Face model someone\/no-such-model \(revision main\): the hub answered 404: Repository not found, and the cache .* load that folder\. \(There is no folder someone\/no-such-model here either\.\)$/);
    for (const e of [offline, unreachable, missing]) expect(e.message).not.toContain("\n");
    expect(await loadErrorAsync(() => loadPretrainedGPT("./no/such/folder"))).toHaveProperty("message", "./no/such/folder: not a model folder, a GPT-2 preset (gpt2, gpt2-medium, gpt2-large, gpt2-xl) or a hub repo id (owner/name)");
  });

  it("the cache lookup follows refs/<branch> and ignores a dangling snapshot link", () => {
    const cacheDir = temp("lookup");
    const storage = join(cacheDir, "models--a--b");
    mkdirSync(join(storage, "snapshots", "c".repeat(40)), { recursive: true });
    mkdirSync(join(storage, "refs"));
    writeFileSync(join(storage, "refs", "main"), "c".repeat(40));
    symlinkSync("../../blobs/gone", join(storage, "snapshots", "c".repeat(40), "config.json"));
    expect(cachedHubFile(cacheDir, "a/b", "main", "config.json")).toBeUndefined();
    writeFileSync(join(storage, "snapshots", "c".repeat(40), "model.safetensors"), "x");
    expect(cachedHubFile(cacheDir, "a/b", "main", "model.safetensors")).toBe(join(storage, "snapshots", "c".repeat(40), "model.safetensors"));
    expect(cachedHubFile(cacheDir, "a/b", "c".repeat(40), "model.safetensors")).toBeDefined();
    expect(cachedHubFile(cacheDir, "a/b", "v2", "model.safetensors")).toBeUndefined();
  });
});

describe.skipIf(!hasTorch)("GPT-2 logits against PyTorch", () => {
  let folder: string;
  let tokens: number[][];

  beforeAll(async () => {
    await useBackend("cpu");
    folder = temp("model");
    reference(["make", folder, "2"]);
    const encoding = await loadTiktokenEncoding("gpt2");
    const seed = encoding.encode(SEED_002);
    expect(seed).toHaveLength(15);
    const other = encoding.encode(" To be, or not to be, that is the question: whether 'tis nobler in the mind").slice(0, 15);
    tokens = [seed, other];
  });

  const backends: BackendChoice[] = ["cpu", "wasm"];
  for (const backend of backends) {
    it(`agree within 1e-4 on ${backend}`, async () => {
      await useBackend(backend);
      const model = await loadPretrainedGPT(folder);
      const ref = referenceLogits(folder, tokens);
      const ours = await ourLogits(model, tokens);
      const worst = worstError(ours, ref, 1e-4);
      console.log(`GPT-2 logits on ${backend}: worst error ${worst.toFixed(3)} of the 1e-4 tolerance`);
      expect(worst).toBeLessThanOrEqual(1);
      model.dispose();
      await useBackend("cpu");
    });
  }

  it("the check can fail: the exact GELU instead of GPT-2's tanh form is outside the tolerance", async () => {
    const model = await loadPretrainedGPT(folder);
    const exact = new GPT({ ...model.config, activation: "gelu" }, { weights: Object.fromEntries(Object.entries(model.params).map(([n, v]) => [n, v.dataSync() as Float32Array])) });
    expect(worstError(await ourLogits(exact, tokens), referenceLogits(folder, tokens), 1e-4)).toBeGreaterThan(1);
    model.dispose();
    exact.dispose();
  });

  it("seed 002's causality check: the first 8 positions of the 15-token input equal the 8-token prefix's", async () => {
    const model = await loadPretrainedGPT(folder);
    const full = await ourLogits(model, [tokens[0]]);
    const prefix = await ourLogits(model, [tokens[0].slice(0, 8)]);
    const V = model.config.vocabSize;
    expect(worstError(full.subarray(0, 8 * V), prefix, 1e-5)).toBeLessThanOrEqual(1);
    // And later tokens do change later positions (the check is not vacuous).
    expect(worstError(full.subarray(8 * V, 9 * V), (await ourLogits(model, [tokens[0].slice(0, 8).concat([tokens[1][8]])])).subarray(8 * V), 1e-5)).toBeGreaterThan(1);
    model.dispose();
  });

  it('a repo whose names carry "transformer." loads the same weights', async () => {
    const prefixed = temp("prefixed");
    reference(["make", prefixed, "2", "--prefix"]);
    expect(Object.keys(loadSafetensors(join(prefixed, "model.safetensors")).tensors)[0]).toMatch(/^transformer\./);
    const a = await loadPretrainedGPT(folder);
    const b = await loadPretrainedGPT(prefixed);
    expectSameWeights(b, a);
    a.dispose();
    b.dispose();
  });

  it("loading and disposing leaves no tensor behind", async () => {
    const before = tf.memory().numTensors;
    const model = await loadPretrainedGPT(folder);
    await ourLogits(model, tokens);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  const webgpuRequired = process.env.COURSE_REQUIRE_WEBGPU === "1";
  it("agree within 1e-4 on WebGPU (the software adapter when no GPU)", async (context) => {
    const info = await useBackend("webgpu", { allowSoftware: true }).catch((error: unknown) => {
      if (webgpuRequired || !(error instanceof BackendUnavailable)) throw error;
      console.warn(`SKIPPING WebGPU GPT-2 parity: ${error.reason}`);
      return undefined;
    });
    if (!info) return context.skip();
    try {
      const model = await loadPretrainedGPT(folder);
      const worst = worstError(await ourLogits(model, tokens), referenceLogits(folder, tokens), 1e-4);
      console.log(`GPT-2 logits on WebGPU (${info.device}): worst error ${worst.toFixed(3)} of the 1e-4 tolerance`);
      expect(worst).toBeLessThanOrEqual(1);
      model.dispose();
    } finally {
      await useBackend("cpu");
    }
  });
});

describe.skipIf(!hasTorch)("export to Hugging Face's layout", () => {
  let folder: string;

  beforeAll(async () => {
    await useBackend("cpu");
    folder = temp("src");
    reference(["make", folder, "3"]);
  });

  it("round trip: ours → HF layout → fromPretrained(folder) gives equal weights; the file is HF's layout", async () => {
    const model = await loadPretrainedGPT(folder);
    const out = temp("export");
    await saveHuggingFace(model, out);
    const back = await loadPretrainedGPT(out);
    expect(back.config).toEqual(model.config);
    expectSameWeights(back, model);
    // Same tensors as the original file (minus its mask buffers), bit for bit, same names, Conv1D (in, out).
    const original = loadSafetensors(join(folder, "model.safetensors"));
    const exported = loadSafetensors(join(out, "model.safetensors"));
    expect(exported.metadata).toEqual({ format: "pt" });
    const parameters = Object.keys(original.tensors).filter((n) => !/\.attn\.(masked_)?bias$/.test(n));
    expect(Object.keys(exported.tensors).sort()).toEqual(parameters.sort());
    for (const name of parameters) {
      expect(exported.tensors[name].shape, name).toEqual(original.tensors[name].shape);
      expect(sameBytes(exported.tensors[name].data, original.tensors[name].data), name).toBe(true);
    }
    const config = JSON.parse(readFileSync(join(out, "config.json"), "utf8"));
    expect(config).toMatchObject({ model_type: "gpt2", architectures: ["GPT2LMHeadModel"], n_layer: 2, n_head: 4, n_embd: 64, n_positions: 128, vocab_size: 50257, activation_function: "gelu_new" });
    model.dispose();
    back.dispose();
  });

  it("PyTorch's reference reads the export of a char-style model (no biases, exact GELU) and agrees", async () => {
    const model = new GPT({ vocabSize: 65, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, dropout: 0, bias: false }, { seed: 5 });
    const out = temp("char");
    await saveHuggingFace(model, out);
    expect(JSON.parse(readFileSync(join(out, "config.json"), "utf8")).activation_function).toBe("gelu");
    const rows = [[1, 5, 9, 13, 2, 64, 0, 7], [3, 3, 3, 40, 41, 42, 10, 11]];
    const worst = worstError(await ourLogits(model, rows), referenceLogits(out, rows), 1e-4);
    expect(worst).toBeLessThanOrEqual(1);
    const back = await loadPretrainedGPT(out);
    expect(back.config).toEqual({ ...model.config, bias: true }); // zero biases: the same function
    expect(worstError(await ourLogits(back, rows), await ourLogits(model, rows), 1e-6)).toBeLessThanOrEqual(1);
    model.dispose();
    back.dispose();
  });
});

describe.skipIf(!hasTorch)("loader errors: one line naming the file and the tensor or offset", () => {
  let folder: string;
  let bytes: Uint8Array;

  beforeAll(async () => {
    await useBackend("cpu");
    folder = temp("errors-src");
    reference(["make", folder, "4"]);
    bytes = readFileSync(join(folder, "model.safetensors"));
  });

  /** A model folder whose model.safetensors is `weights` (and the good config.json). */
  function folderWith(weights: Uint8Array, config?: unknown): string {
    const dir = temp("bad");
    writeFileSync(join(dir, "model.safetensors"), weights);
    writeFileSync(join(dir, "config.json"), config === undefined ? readFileSync(join(folder, "config.json")) : JSON.stringify(config));
    return dir;
  }

  function edited(edit: (tensors: Record<string, StoredTensor>) => void): Uint8Array {
    const { tensors, metadata } = decodeSafetensors(bytes);
    edit(tensors);
    return encodeSafetensors(tensors, metadata);
  }

  async function failure(dir: string): Promise<string> {
    const error = await loadErrorAsync(() => loadPretrainedGPT(dir));
    expect(error).toBeInstanceOf(FileFormatError);
    expect(error.message).not.toContain("\n");
    return error.message;
  }

  it("missing, misshapen, unexpected, wrong dtype, non-finite, truncated", async () => {
    const file = (dir: string) => join(dir, "model.safetensors");
    let dir = folderWith(edited((t) => delete t["h.1.mlp.c_fc.bias"]));
    expect(await failure(dir)).toBe(`${file(dir)}: tensor "h.1.mlp.c_fc.bias" is missing (config.json's GPT-2 of 2 layers, 4 heads, width 64, vocab 50257, context 128 has it)`);

    dir = folderWith(edited((t) => (t["h.0.attn.c_attn.weight"] = { dtype: "F32", shape: [192, 64], data: t["h.0.attn.c_attn.weight"].data })));
    expect(await failure(dir)).toBe(`${file(dir)}: tensor "h.0.attn.c_attn.weight" has shape [192,64], expected [64,192] (a Conv1D weight, stored (in, out)) for 2 layers, 4 heads, width 64, vocab 50257, context 128`);

    dir = folderWith(edited((t) => (t["h.2.ln_1.weight"] = { dtype: "F32", shape: [64], data: new Float32Array(64) })));
    expect(await failure(dir)).toBe(`${file(dir)}: tensor "h.2.ln_1.weight" is not a parameter of GPT-2 with 2 layers, 4 heads, width 64, vocab 50257, context 128 (unexpected tensor)`);

    dir = folderWith(edited((t) => (t["wpe.weight"] = { dtype: "I32", shape: [128, 64], data: new Int32Array(128 * 64) })));
    expect(await failure(dir)).toBe(`${file(dir)}: tensor "wpe.weight" is I32; weights must be F32, F16 or BF16`);

    dir = folderWith(edited((t) => ((t["ln_f.bias"].data as Float32Array)[5] = NaN)));
    expect(await failure(dir)).toBe(`${file(dir)}: tensor "ln_f.bias" holds NaN at index 5; weights must be finite`);
    dir = folderWith(edited((t) => ((t["h.1.mlp.c_proj.weight"].data as Float32Array)[7000] = -Infinity)));
    expect(await failure(dir)).toBe(`${file(dir)}: tensor "h.1.mlp.c_proj.weight" holds -Infinity at index 7000; weights must be finite`);

    dir = folderWith(bytes.subarray(0, bytes.length - 100));
    expect(await failure(dir)).toMatch(new RegExp(`^${file(dir)}: tensors cover \\d+ bytes but the data section has \\d+ \\(truncated or extended file\\?\\)$`));
  });

  it("F16 and BF16 weights are widened; config.json is checked field by field", async () => {
    const half = folderWith(edited((t) => {
      const v = t["ln_f.weight"].data as Float32Array;
      t["ln_f.weight"] = { dtype: "BF16", shape: [64], data: Uint16Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length), (bits) => bits >>> 16) };
    }));
    const model = await loadPretrainedGPT(half);
    expect(model.params["transformer.ln_f.weight"].dataSync()[0]).toBeCloseTo((loadSafetensors(join(folder, "model.safetensors")).tensors["ln_f.weight"].data as Float32Array)[0], 2);
    model.dispose();

    const config = JSON.parse(readFileSync(join(folder, "config.json"), "utf8"));
    const cases: [Record<string, unknown>, string][] = [
      [{ ...config, n_layer: undefined }, "config.n_layer: Invalid input: expected number, received undefined"],
      [{ ...config, activation_function: "relu" }, 'activation_function "relu" is not one of gelu_new, gelu_pytorch_tanh, gelu'],
      [{ ...config, n_head: 5 }, "GPTConfig.nEmbd (64) must be divisible by nHead (5)"],
      [{ ...config, layer_norm_epsilon: 1e-6 }, "layer_norm_epsilon is 0.000001; this GPT's LayerNorm uses 1e-5"],
      [{ ...config, model_type: "llama" }, 'model_type is "llama"; only GPT-2 ("gpt2") is supported'],
      [{ ...config, n_positions: undefined, n_ctx: undefined }, "has neither n_positions nor n_ctx (the context length)"],
    ];
    for (const [bad, message] of cases) {
      const dir = folderWith(bytes, bad);
      expect(await failure(dir)).toBe(`${join(dir, "config.json")}: ${message}`);
    }
    const dir = folderWith(bytes);
    writeFileSync(join(dir, "config.json"), "{ n_layer: 2");
    expect(await failure(dir)).toMatch(new RegExp(`^${join(dir, "config.json")}: is not valid JSON \\(`));
  });
});

const roomFor2GiB = freemem() > 6e9;
if (!roomFor2GiB) console.warn(`SKIPPING the 2 GiB safetensors test: ${(freemem() / 1e9).toFixed(1)} GB of memory free, it needs 6`);

describe("loadSafetensors reads tensor by tensor", () => {
  it.runIf(roomFor2GiB)("loads a file over Node's 2 GiB readFileSync limit (GPT-2 large and XL are 3.2 and 6.4 GB)", () => {
    const path = join(temp("large"), "large.safetensors");
    const size = 2 ** 31 + 64; // one U8 tensor; the file is sparse, so it takes no disk
    const header = new TextEncoder().encode(JSON.stringify({ big: { dtype: "U8", shape: [size], data_offsets: [0, size] } }).padEnd(120));
    const prefix = new Uint8Array(8 + header.length);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
    prefix.set(header, 8);
    writeFileSync(path, prefix);
    truncateSync(path, prefix.length + size);
    const fd = openSync(path, "r+");
    writeSync(fd, Uint8Array.of(7), 0, 1, prefix.length + size - 1);
    closeSync(fd);
    let content = loadSafetensors(path);
    const data = content.tensors.big.data as Uint8Array;
    expect([data.length, data[0], data[size - 1]]).toEqual([size, 0, 7]);
    content = undefined as never; // let the 2 GiB go
  });
});

// The real weights, where a machine has them (a user's cache, a GPU machine); never downloaded here.
const realWeights = hasPretrainedWeights("gpt2");
if (!realWeights) console.warn(`SKIPPING the real GPT-2 test: no gpt2 in the Hugging Face cache ${getHFHubCachePath()} (the tests never download it)`);

describe.runIf(realWeights)("the real gpt2 (124M) from the Hugging Face cache", () => {
  it('continues "Hello, I\'m a language model," greedily as GPT-2 does, with its top-5 next tokens', async () => {
    await useBackend("cpu");
    const model = await loadPretrainedGPT("gpt2", { offline: true });
    expect(model.numParams()).toBe(123_653_376);
    const encoding = await loadTiktokenEncoding("gpt2");
    const ids = encoding.encode("Hello, I'm a language model,");
    const prompt = ids.length;
    for (let step = 0; step < 16; step++) {
      const idx = tf.tensor2d(ids, [1, ids.length], "int32");
      const { logits } = model.forward(idx, undefined, { lastPositionOnly: true });
      const last = (await logits.data()) as Float32Array;
      if (step === 0) {
        const top5 = Array.from(last.keys()).sort((a, b) => last[b] - last[a]).slice(0, 5);
        expect(top5.map((id) => encoding.decode([id]))).toEqual([" not", " and", " I", " so", " but"]);
      }
      ids.push(last.reduce((best, v, i) => (v > last[best] ? i : best), 0));
      tf.dispose([idx, logits]);
    }
    expect(encoding.decode(ids.slice(prompt))).toMatch(/^ not a programming language\. I'm a language model\. I'm a language model\./);
    model.dispose();
  });
});
