/**
 * OpenAI's GPT-2 weights from the Hugging Face Hub, as nanoGPT's GPT.from_pretrained:
 *
 *   const model = await loadPretrainedGPT("gpt2");            // or GPT.fromPretrained("gpt2")
 *   await loadPretrainedGPT("openai-community/gpt2-medium");   // any GPT-2 repo on the hub
 *   await loadPretrainedGPT("out/my-export");                  // a folder with config.json + model.safetensors
 *
 * Files come through @huggingface/hub's downloadFileToCacheDir into the standard Hugging Face cache
 * (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub), the folders Python's
 * transformers uses, so weights either already has are not downloaded again. A file already in the
 * cache is used without asking the hub (no request at all; refs/<revision> names the snapshot).
 * HF_ENDPOINT picks another hub (a mirror), HF_HUB_OFFLINE=1 never asks one, HF_TOKEN is sent.
 * A download that stops midway (a dropped connection, Ctrl-C) leaves no blob: the library writes
 * blobs/<etag>.incomplete and renames it only once the body has ended, and our fetch fails a body
 * shorter than its length; the next call downloads the file again from the start.
 */
import { downloadFileToCacheDir, getHFHubCachePath } from "@huggingface/hub";
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { basename, join, relative, sep } from "node:path";
import { FileFormatError, loadSafetensors, writeFileAtomic } from "../../io/index.js";
import { progressBar } from "../../data/load.js";
import { GPT2_PRESETS, type GPT2Preset } from "./config.js";
import { configFromHuggingFace, weightsFromHuggingFace } from "./huggingface.js";
import { GPT } from "./model.js";

/** Where each preset lives on the hub; "gpt2" was renamed, and a cache may hold it under the old name too. */
export const GPT2_REPOS: Record<GPT2Preset, string> = {
  gpt2: "openai-community/gpt2",
  "gpt2-medium": "openai-community/gpt2-medium",
  "gpt2-large": "openai-community/gpt2-large",
  "gpt2-xl": "openai-community/gpt2-xl",
};

export interface HubOptions {
  /** Branch, tag or commit (default "main"). */
  revision?: string;
  /** The cache folder (default: the Hugging Face rule above). */
  cacheDir?: string;
  /** The hub (default HF_ENDPOINT, else https://huggingface.co). */
  hubUrl?: string;
  /** Use only the cache (default: HF_HUB_OFFLINE is set to 1/true/yes/on). */
  offline?: boolean;
  /** No progress bar. */
  quiet?: boolean;
  /** The fetch the downloads go through (default: the global one). */
  fetch?: typeof fetch;
}

export interface PretrainedOptions extends HubOptions {
  /** Dropout of the loaded model (default 0; nanoGPT lets fine-tuning override it too). */
  dropout?: number;
}

/** A file the hub cannot give and the cache does not have; the one-line message says how to get it. */
export class HubDownloadError extends Error {
  constructor(readonly repo: string, readonly file: string, message: string) {
    super(message);
    this.name = "HubDownloadError";
  }
}

const COMMIT = /^[0-9a-f]{40}$/;
const REPO_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

const isPreset = (name: string): name is GPT2Preset => Object.prototype.hasOwnProperty.call(GPT2_PRESETS, name);
const isTrue = (value: string | undefined) => ["1", "true", "yes", "on"].includes((value ?? "").toLowerCase());
const storageFolder = (cacheDir: string, repo: string) => join(cacheDir, `models--${repo.split("/").join("--")}`);

/** A GPT-2 with pretrained weights: a preset name, a hub repo id, or a local model folder. */
export async function loadPretrainedGPT(source: string, options: PretrainedOptions = {}): Promise<GPT> {
  const { configPath, weightsPath } = await pretrainedFiles(source, options);
  const config = configFromHuggingFace(configPath, readJson(configPath), options.dropout ?? 0);
  // Memory: loadSafetensors reads each tensor once into its own buffer (the file's size), and each
  // Conv1D weight is transposed into a new array while its original is let go: gpt2's 500 MB file
  // loads in a few seconds with a peak RSS of 0.7 GB (measured); gpt2-xl's 6.4 GB needs roughly 7 GB.
  const weights = weightsFromHuggingFace(weightsPath, loadSafetensors(weightsPath), config);
  return new GPT(config, { weights });
}

/** The config.json and model.safetensors of a preset, repo or folder (downloaded when needed). */
export async function pretrainedFiles(source: string, options: HubOptions = {}): Promise<{ configPath: string; weightsPath: string }> {
  if (existsSync(source) && statSync(source).isDirectory()) {
    const files = { configPath: join(source, "config.json"), weightsPath: join(source, "model.safetensors") };
    for (const path of Object.values(files)) if (!existsSync(path)) throw new Error(`${path}: no such file (a model folder holds config.json and model.safetensors)`);
    return files;
  }
  if (source.startsWith(".") || source.startsWith("/") || !REPO_ID.test(source)) {
    throw new Error(`${source}: not a model folder, a GPT-2 preset (${Object.keys(GPT2_REPOS).join(", ")}) or a hub repo id (owner/name)`);
  }
  const repo = isPreset(source) ? GPT2_REPOS[source] : source;
  const aliases = repo.startsWith("openai-community/") ? [repo.slice("openai-community/".length)] : [];
  try {
    return {
      configPath: await hubFile(repo, "config.json", options, aliases),
      weightsPath: await hubFile(repo, "model.safetensors", options, aliases),
    };
  } catch (error) {
    // "out/gpt2-export" reads as a repo id too: say that no such folder exists either.
    if (error instanceof HubDownloadError && source.includes("/")) error.message += ` (There is no folder ${source} here either.)`;
    throw error;
  }
}

/** Whether loadPretrainedGPT(source) would need no download: a model folder, or both files in the HF cache. */
export function hasPretrainedWeights(source: string, options: Pick<HubOptions, "cacheDir" | "revision"> = {}): boolean {
  if (existsSync(source) && statSync(source).isDirectory()) return ["config.json", "model.safetensors"].every((f) => existsSync(join(source, f)));
  const repo = isPreset(source) ? GPT2_REPOS[source] : source;
  const names = repo.startsWith("openai-community/") ? [repo, repo.slice("openai-community/".length)] : [repo];
  const cacheDir = options.cacheDir ?? getHFHubCachePath();
  const cached = (file: string) => names.some((name) => cachedHubFile(cacheDir, name, options.revision ?? "main", file) !== undefined);
  return cached("config.json") && cached("model.safetensors");
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new FileFormatError(path, `is not valid JSON (${(error as Error).message})`);
  }
}

/**
 * The path of `file` of a hub model repo in the Hugging Face cache, downloading it first when the
 * cache does not have it (`aliases`: other names the repo may be cached under).
 */
export async function hubFile(repo: string, file: string, options: HubOptions = {}, aliases: string[] = []): Promise<string> {
  const revision = options.revision ?? "main";
  const cacheDir = options.cacheDir ?? getHFHubCachePath();
  for (const name of [repo, ...aliases]) {
    const cached = cachedHubFile(cacheDir, name, revision, file);
    if (cached) return cached;
  }
  const hubUrl = options.hubUrl ?? process.env.HF_ENDPOINT ?? "https://huggingface.co";
  const unavailable = (reason: string) =>
    new HubDownloadError(repo, file,
      `Cannot get ${file} of the Hugging Face model ${repo} (revision ${revision}): ${reason}, and the cache ${cacheDir} does not have it. ` +
      `To get it onto this machine: run this once where ${hubUrl} can be reached (HF_ENDPOINT names a mirror), ` +
      `or copy the folder ${basename(storageFolder(cacheDir, repo))} from another machine's Hugging Face cache (~/.cache/huggingface/hub) into ${cacheDir}, ` +
      `or put config.json and model.safetensors in a folder and load that folder.`);
  if (options.offline ?? isTrue(process.env.HF_HUB_OFFLINE)) throw unavailable("offline (HF_HUB_OFFLINE)");

  const bar = new DownloadProgress(file, options.quiet ?? false);
  let path: string;
  try {
    path = await downloadFileToCacheDir({
      repo, path: file, revision, hubUrl, cacheDir,
      fetch: bar.wrap(options.fetch ?? fetch),
      ...(process.env.HF_TOKEN && { accessToken: process.env.HF_TOKEN }),
    });
  } catch (error) {
    bar.end();
    removeIncompleteBlobs(storageFolder(cacheDir, repo));
    throw unavailable(describeFailure(error));
  }
  bar.end();
  rememberRevision(cacheDir, repo, revision, path);
  return path;
}

/** The cached file for a revision (a commit, or a branch whose refs/ file names one), or undefined. */
export function cachedHubFile(cacheDir: string, repo: string, revision: string, file: string): string | undefined {
  const storage = storageFolder(cacheDir, repo);
  let commit = revision;
  if (!COMMIT.test(revision)) {
    const ref = join(storage, "refs", revision);
    if (!existsSync(ref)) return undefined;
    commit = readFileSync(ref, "utf8").trim();
  }
  const path = join(storage, "snapshots", commit, file);
  return existsSync(path) ? path : undefined; // existsSync follows the symlink: a dangling one does not count
}

/** Write refs/<branch> as Python's huggingface_hub does (the JS library does not), so the next load needs no request. */
function rememberRevision(cacheDir: string, repo: string, revision: string, path: string): void {
  const storage = storageFolder(cacheDir, repo);
  const commit = relative(join(storage, "snapshots"), path).split(sep)[0];
  if (COMMIT.test(revision) || !COMMIT.test(commit)) return;
  writeFileAtomic(join(storage, "refs", revision), commit);
}

/** The library writes blobs/<etag>.incomplete and renames it when complete; after a failure the part is useless (it starts over). */
function removeIncompleteBlobs(storage: string): void {
  const blobs = join(storage, "blobs");
  if (!existsSync(blobs)) return;
  for (const name of readdirSync(blobs)) if (name.endsWith(".incomplete")) rmSync(join(blobs, name), { force: true });
}

function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { statusCode?: number }).statusCode;
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
  const message = `${error.message.split(". URL:")[0]}${cause}`;
  return status ? `the hub answered ${status}: ${message}` : message;
}

/**
 * A fetch that counts the bytes of each file body for a progress bar and fails a body that ends
 * before its length: a short file then never becomes a blob (the library renames whatever it got).
 */
class DownloadProgress {
  private drawn = false;

  constructor(private readonly label: string, private readonly quiet: boolean) {}

  wrap(base: typeof fetch): typeof fetch {
    const totals = new Map<string, number>(); // from the Range probe's Content-Range, for bodies without Content-Length
    return async (input, init) => {
      const response = await base(input, init);
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      const range = new Headers(init?.headers).get("range");
      if (range) {
        const total = Number(response.headers.get("content-range")?.split("/").pop());
        if (Number.isFinite(total)) totals.set(url, total);
        return response;
      }
      if ((init?.method ?? "GET") !== "GET" || !response.ok || !response.body) return response;
      const total = Number(response.headers.get("content-length") ?? totals.get(url) ?? NaN);
      return new Response(response.body.pipeThrough(this.counter(total)), {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    };
  }

  private counter(total: number): TransformStream<Uint8Array, Uint8Array> {
    let received = 0;
    let shown = 0;
    const draw = () => {
      if (this.quiet || !(total >= 1e6)) return; // no bar for small files
      shown = received;
      this.drawn = true;
      process.stderr.write(`\r${progressBar(this.label, received, total)}`);
    };
    return new TransformStream({
      transform: (chunk, controller) => {
        received += chunk.length;
        if (received - shown >= total / 200 || received === total) draw();
        controller.enqueue(chunk);
      },
      flush: (controller) => {
        if (Number.isFinite(total) && received !== total) controller.error(new Error(`the download ended after ${received} of ${total} bytes`));
      },
    });
  }

  end(): void {
    if (this.drawn) process.stderr.write("\n");
    this.drawn = false;
  }
}
