import { execFile } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  DATASETS,
  checksumsPath,
  datasetInfo,
  datasetPresent,
  defaultDatasets,
  ensureDataset,
  loadText,
  sha256,
} from "../lib/data/index.js";

const ENV_KEYS = ["COURSE_DATA_DIR", "COURSE_DATA_MIRROR", "COURSE_DATA_BASE_URL"] as const;
const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
const servers: Server[] = [];
afterEach(() => {
  for (const key of ENV_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  for (const server of servers.splice(0)) server.close();
});

const tmp = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const namesBytes = () => readFileSync(resolve("data", "names.txt"));

function emptyDataDir(): string {
  const dir = tmp("course-data-");
  process.env.COURSE_DATA_DIR = dir;
  return dir;
}

/** A loopback HTTP server serving `files` by name; counts the requests per path. */
async function serve(files: Record<string, Buffer>): Promise<{ base: string; hits: Record<string, number> }> {
  const hits: Record<string, number> = {};
  const server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? "/").slice(1));
    hits[name] = (hits[name] ?? 0) + 1;
    const body = files[name];
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { "content-length": body.length });
    // In several writes so the progress bar has something to show.
    const step = Math.ceil(body.length / 4);
    for (let at = 0; at < body.length; at += step) res.write(body.subarray(at, at + step));
    res.end();
  });
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** A loopback URL nothing listens on. */
async function unreachable(): Promise<string> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const port = (server.address() as AddressInfo).port;
  await new Promise((done) => server.close(done));
  return `http://127.0.0.1:${port}`;
}

function run(cmd: string, args: string[], env: Record<string, string>, uid?: number) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, uid, gid: uid }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const dataScript = (args: string[], env: Record<string, string>) =>
  run(resolve("node_modules/.bin/tsx"), [resolve("scripts/data.ts"), ...args], env);

describe("datasets", () => {
  it("loads names.txt with the documented size and checksum", async () => {
    const text = await loadText("names");
    expect(Buffer.byteLength(text)).toBe(DATASETS.names.bytes);
    expect(text.split("\n").filter(Boolean)).toHaveLength(32033);
    expect(sha256(Buffer.from(text))).toBe(DATASETS.names.sha256);
  });

  it("copies contents, not the mirror's read-only mode, and repairs a corrupt copy from the mirror", async () => {
    const dir = emptyDataDir();
    const mirror = tmp("course-mirror-");
    writeFileSync(join(mirror, "names.txt"), namesBytes());
    chmodSync(join(mirror, "names.txt"), 0o444);
    process.env.COURSE_DATA_MIRROR = mirror;
    const path = await ensureDataset("names", { quiet: true });
    expect(path).toBe(join(dir, "names.txt"));
    expect(statSync(path).mode & 0o200).toBe(0o200); // owner-writable, unlike the mirror's file
    writeFileSync(path, "emma\nolivia\n");
    await ensureDataset("names", { quiet: true });
    expect(sha256(readFileSync(path))).toBe(DATASETS.names.sha256);
    expect(statSync(path).mode & 0o200).toBe(0o200);
  });

  it.runIf(process.getuid?.() === 0)("repairs a file copied from a 0444 mirror as a non-root user", async () => {
    // Root ignores file modes, so the EACCES that users saw needs an unprivileged child.
    const nobody = 65534;
    const dir = tmp("course-data-nobody-");
    const mirror = tmp("course-mirror-nobody-");
    writeFileSync(join(mirror, "names.txt"), namesBytes());
    chmodSync(join(mirror, "names.txt"), 0o444);
    chmodSync(mirror, 0o755);
    chownSync(dir, nobody, nobody);
    const script = join(tmp("course-script-"), "ensure.mts");
    writeFileSync(
      script,
      `import { ensureDataset } from ${JSON.stringify(resolve("lib/data/index.ts"))};\n` +
        `await ensureDataset("names", { quiet: true });\n`,
    );
    chmodSync(join(script, ".."), 0o755);
    const env = { COURSE_DATA_DIR: dir, COURSE_DATA_MIRROR: mirror, COURSE_DATA_BASE_URL: await unreachable(), HOME: dir };
    const tsx = resolve("node_modules/.bin/tsx");
    const first = await run(tsx, [script], env, nobody);
    expect(first.stderr).toBe("");
    const local = join(dir, "names.txt");
    writeFileSync(local, "corrupt\n"); // as root; the owner is still nobody
    const repair = await run(tsx, [script], env, nobody);
    expect(repair.stderr).not.toMatch(/EACCES/);
    expect(repair.code).toBe(0);
    expect(sha256(readFileSync(local))).toBe(DATASETS.names.sha256);
  });

  it("refuses a corrupt mirror copy, names it, and does not advise re-copying it", async () => {
    const dir = emptyDataDir();
    const mirror = tmp("course-mirror-");
    writeFileSync(join(mirror, "names.txt"), "emma\nolivia\n");
    process.env.COURSE_DATA_MIRROR = mirror;
    const error = (await ensureDataset("names", { quiet: true }).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain(join(mirror, "names.txt"));
    expect(error.message).toMatch(/corrupt: checksum mismatch/);
    expect(error.message).not.toContain("npm run data");
    expect(existsSync(join(dir, "names.txt"))).toBe(false);
  });

  it("offline with a corrupt local file says checksum mismatch, not 'place the file'", async () => {
    const dir = emptyDataDir();
    writeFileSync(join(dir, "names.txt"), "emma\nolivia\n");
    process.env.COURSE_DATA_MIRROR = "none";
    process.env.COURSE_DATA_BASE_URL = await unreachable();
    const error = (await ensureDataset("names", { quiet: true }).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/names\.txt: checksum mismatch \(expected 228145 bytes, got 12\)/);
    expect(error.message).toContain(`${process.env.COURSE_DATA_BASE_URL}/names.txt`);
    expect(error.message).toContain("npm run data -- names");
    expect(error.message).not.toMatch(/place the file/);
  });

  it("names the file, the URL and the command when it cannot fetch", async () => {
    emptyDataDir();
    process.env.COURSE_DATA_MIRROR = "none";
    process.env.COURSE_DATA_BASE_URL = await unreachable();
    const error = (await ensureDataset("taylorswift", { quiet: true }).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain(`${process.env.COURSE_DATA_BASE_URL}/taylorswift.txt failed (`);
    expect(error.message).toContain("npm run data -- taylorswift");
    expect(error.message.split("\n")).toHaveLength(1);
  });

  it("downloads a pinned dataset over HTTP and rejects a tampered download without saving it", async () => {
    const dir = emptyDataDir();
    process.env.COURSE_DATA_MIRROR = "none";
    const good = await serve({ "names.txt": namesBytes() });
    process.env.COURSE_DATA_BASE_URL = good.base;
    const path = await ensureDataset("names", { quiet: true });
    expect(sha256(readFileSync(path))).toBe(DATASETS.names.sha256);

    const tampered = Buffer.from(namesBytes());
    tampered[100] ^= 1;
    const bad = await serve({ "names.txt": tampered });
    process.env.COURSE_DATA_BASE_URL = bad.base;
    writeFileSync(path, "corrupt\n");
    await expect(ensureDataset("names", { quiet: true })).rejects.toThrow(
      /names\.txt downloaded from .*: checksum mismatch \(sha256 expected 0a30b555.*, got [0-9a-f]{64}\); nothing was saved/,
    );
    expect(readFileSync(path, "utf8")).toBe("corrupt\n");
  });

  it("a download cut off midway is an error naming the URL, and nothing is saved or recorded", async () => {
    const dir = emptyDataDir();
    process.env.COURSE_DATA_MIRROR = "none";
    const server = createServer((_, res) => {
      res.writeHead(200, { "content-length": 100_000 });
      res.write(Buffer.alloc(30_000, 97), () => res.destroy());
    });
    servers.push(server);
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    process.env.COURSE_DATA_BASE_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const error = (await ensureDataset("tinystories", { quiet: true }).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/^Cannot get dataset "tinystories" \(TinyStories-valid\.txt\): download from http:\/\/127\.0\.0\.1:\d+\/TinyStories-valid\.txt failed \(/);
    expect(existsSync(join(dir, "TinyStories-valid.txt"))).toBe(false);
    expect(existsSync(checksumsPath(dir))).toBe(false);
  });

  it("datasetPresent looks in data/ and the mirror without downloading", async () => {
    const dir = emptyDataDir();
    const mirror = tmp("course-mirror-");
    process.env.COURSE_DATA_MIRROR = mirror;
    const server = await serve({});
    process.env.COURSE_DATA_BASE_URL = server.base;
    expect(datasetPresent("tinystories")).toBe(false);
    writeFileSync(join(mirror, "TinyStories-valid.txt"), "Once upon a time.\n");
    expect(datasetPresent("tinystories")).toBe(true);
    expect(datasetPresent("names")).toBe(false);
    writeFileSync(join(dir, "names.txt"), "x");
    expect(datasetPresent("names")).toBe(true);
    expect(server.hits).toEqual({});
    expect(() => datasetPresent("nope")).toThrow(/Unknown dataset "nope"/);
  });

  it("refuses unknown names", () => {
    expect(() => datasetInfo("nope")).toThrow(/Unknown dataset "nope"/);
  });
});

describe("tinystories (no pinned checksum: trust on first use)", () => {
  const story = Buffer.from("Once upon a time, there was a little cat named Tom. He liked to play.\n".repeat(2000));

  it("is registered as optional, and `npm run data` without names does not fetch it", async () => {
    const info = datasetInfo("tinystories");
    expect(info.file).toBe("TinyStories-valid.txt");
    expect(info.url).toBe("https://huggingface.co/datasets/roneneldan/TinyStories/resolve/main/TinyStories-valid.txt");
    expect(info.sha256).toBeUndefined();
    expect(info.optional).toBe(true);
    expect(info.description).toMatch(/recorded in data\/checksums\.json on first download/);
    expect(defaultDatasets()).toEqual(Object.keys(DATASETS).filter((name) => !datasetInfo(name).optional));
    expect(defaultDatasets()).toEqual(expect.arrayContaining(["tinyshakespeare", "names", "taylorswift"]));
    expect(defaultDatasets()).not.toContain("tinystories");

    const dir = tmp("course-data-");
    const server = await serve({ "TinyStories-valid.txt": story });
    const result = await dataScript([], {
      COURSE_DATA_DIR: dir,
      COURSE_DATA_MIRROR: resolve("data"),
      COURSE_DATA_BASE_URL: server.base,
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/tinystories/);
    expect(server.hits).toEqual({});
    expect(existsSync(join(dir, "TinyStories-valid.txt"))).toBe(false);
  });

  it("npm run data -- tinystories downloads with progress, records, verifies, and catches tampering", async () => {
    const dir = tmp("course-data-");
    const server = await serve({ "TinyStories-valid.txt": story });
    const env = { COURSE_DATA_DIR: dir, COURSE_DATA_MIRROR: "none", COURSE_DATA_BASE_URL: server.base };
    const first = await dataScript(["tinystories"], env);
    expect(first.code).toBe(0);
    const megabytes = (story.length / 1e6).toFixed(2);
    expect(first.stderr).toContain(`TinyStories-valid.txt [${"#".repeat(30)}] 100% ${megabytes} MB`);
    expect(first.stderr).toMatch(/\r.*%/); // redrawn in place
    expect(first.stderr).toMatch(/no pinned checksum.*recorded .*checksums\.json \(trust on first use\)/);
    expect(first.stdout).toContain(join(dir, "TinyStories-valid.txt"));
    const path = join(dir, "TinyStories-valid.txt");
    expect(readFileSync(path).equals(story)).toBe(true);
    const records = JSON.parse(readFileSync(checksumsPath(dir), "utf8"));
    expect(records["TinyStories-valid.txt"]).toMatchObject({
      sha256: sha256(story),
      bytes: story.length,
      url: `${server.base}/TinyStories-valid.txt`,
    });
    expect(server.hits["TinyStories-valid.txt"]).toBe(1);

    // Verified against the record: no second download while the file is intact.
    process.env.COURSE_DATA_DIR = dir;
    process.env.COURSE_DATA_MIRROR = "none";
    process.env.COURSE_DATA_BASE_URL = server.base;
    expect((await loadText("tinystories")).length).toBe(story.length);
    expect(server.hits["TinyStories-valid.txt"]).toBe(1);

    // A damaged local file is caught by the record and fetched again.
    const damaged = Buffer.from(story);
    damaged[10] ^= 0x20;
    writeFileSync(path, damaged);
    await ensureDataset("tinystories", { quiet: true });
    expect(readFileSync(path).equals(story)).toBe(true);
    expect(server.hits["TinyStories-valid.txt"]).toBe(2);

    // A server that now serves other bytes is refused, pointing at the record.
    const tampered = await serve({ "TinyStories-valid.txt": damaged });
    writeFileSync(path, "");
    const result = await dataScript(["tinystories"], { ...env, COURSE_DATA_BASE_URL: tampered.base });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/checksum mismatch \(sha256 expected [0-9a-f]{64}, got [0-9a-f]{64}\); nothing was saved/);
    expect(result.stderr).toContain(checksumsPath(dir));
    expect(readFileSync(path, "utf8")).toBe("");
  });
});
