// A loopback stand-in for the Hugging Face Hub: it answers the requests @huggingface/hub's
// downloadFileToCacheDir makes (and Python's huggingface_hub's HEAD), serving files from a folder.
//
//   const hub = await startHubServer(root);   // root/<repo id>/<file>, e.g. root/openai-community/gpt2/config.json
//   process.env.HF_ENDPOINT = hub.url;        // or pass hubUrl
//   hub.requests                              // every request, in order: { method, path, range }
//   hub.downloads("model.safetensors")        // full-body GETs of that file
//   hub.cutNextDownload("model.safetensors", 1000) // the next full GET sends 1000 bytes, then drops the connection
//   await hub.close();
//
// What the library reads (node_modules/@huggingface/hub/src/lib):
//   POST /api/models/<repo>/paths-info/<revision>  {paths, expand} → [{path, type, oid, size, lfs?, lastCommit}]
//        (the blob is named after lfs.oid, else oid; the snapshot folder after lastCommit.id)
//   GET  /<repo>/resolve/<revision>/<file> with Range: bytes=0-0 → 206, Content-Range "bytes 0-0/<size>", ETag
//   GET  /<repo>/resolve/<revision>/<file> → 200, the whole body (Content-Length)
// Missing repos and files answer 404 with the hub's X-Error-Code (RepositoryNotFound, EntryNotFound, RevisionNotFound).
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface HubRequest {
  method: string;
  path: string;
  range?: string;
}

export interface HubServer {
  /** http://127.0.0.1:<port>: what HF_ENDPOINT / hubUrl should be. */
  url: string;
  /** The commit every repo is at (the snapshot folder's name in the cache). */
  commit: string;
  requests: HubRequest[];
  /** How many whole-file GETs (no Range) of `file` (every file when omitted) were answered. */
  downloads(file?: string): number;
  /** Interrupt the next whole-file GET of `file` after `bytes` bytes of its body. */
  cutNextDownload(file: string, bytes: number): void;
  close(): Promise<void>;
}

/** Files whose name ends so are served as Git LFS files, as the hub's default .gitattributes makes them. */
const LFS_SUFFIXES = [".safetensors", ".bin", ".pt", ".h5", ".msgpack", ".onnx"];

const sha1 = (data: Uint8Array | string) => createHash("sha1").update(data).digest("hex");
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
/** Git's object id of a blob: sha1 of "blob <size>\0<content>". */
const gitOid = (data: Uint8Array) => sha1(Buffer.concat([Buffer.from(`blob ${data.length}\0`), data]));

interface FileInfo {
  bytes: Buffer;
  oid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
  /** What the hub sends as ETag: the sha256 for LFS files, the git oid otherwise. */
  etag: string;
}

function fileInfo(path: string, name: string): FileInfo {
  const bytes = readFileSync(path);
  if (!LFS_SUFFIXES.some((suffix) => name.endsWith(suffix))) return { bytes, oid: gitOid(bytes), etag: gitOid(bytes) };
  const digest = sha256(bytes);
  const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${digest}\nsize ${bytes.length}\n`);
  return { bytes, oid: gitOid(pointer), lfs: { oid: digest, size: bytes.length, pointerSize: pointer.length }, etag: digest };
}

export async function startHubServer(root: string, options: { commit?: string } = {}): Promise<HubServer> {
  const commit = options.commit ?? sha1(`loopback hub ${root}`);
  const requests: HubRequest[] = [];
  const cuts = new Map<string, number>();
  const fullGets: string[] = [];

  const repoDir = (repo: string) => join(root, ...repo.split("/"));
  const repoExists = (repo: string) => !repo.split("/").includes("..") && existsSync(repoDir(repo)) && statSync(repoDir(repo)).isDirectory();
  const filePath = (repo: string, file: string) => {
    if (file.split("/").includes("..")) return undefined;
    const path = join(repoDir(repo), ...file.split("/"));
    return existsSync(path) && statSync(path).isFile() ? path : undefined;
  };
  const knownRevision = (revision: string) => revision === "main" || revision === commit;

  const notFound = (res: ServerResponse, code: string, message: string) => {
    res.writeHead(404, { "Content-Type": "application/json", "X-Error-Code": code, "X-Error-Message": message });
    res.end(JSON.stringify({ error: message }));
  };

  async function pathsInfo(req: IncomingMessage, res: ServerResponse, repo: string, revision: string) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (!repoExists(repo)) return notFound(res, "RepositoryNotFound", "Repository not found");
    if (!knownRevision(revision)) return notFound(res, "RevisionNotFound", `Invalid rev id: ${revision}`);
    const { paths = [], expand = false } = JSON.parse(Buffer.concat(chunks).toString() || "{}") as { paths?: string[]; expand?: boolean };
    const entries = paths.flatMap((file) => {
      const path = filePath(repo, file);
      if (!path) return []; // the hub leaves out paths that do not exist
      const info = fileInfo(path, file);
      return [{
        type: "file",
        path: file,
        oid: info.oid,
        size: info.lfs ? info.lfs.size : info.bytes.length,
        ...(info.lfs && { lfs: info.lfs }),
        ...(expand && { lastCommit: { id: commit, title: "loopback hub", date: "2026-01-01T00:00:00.000Z" }, securityFileStatus: { status: "safe" } }),
      }];
    });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify(entries));
  }

  function resolve(req: IncomingMessage, res: ServerResponse, repo: string, revision: string, file: string) {
    if (!repoExists(repo)) return notFound(res, "RepositoryNotFound", "Repository not found");
    if (!knownRevision(revision)) return notFound(res, "RevisionNotFound", `Invalid rev id: ${revision}`);
    const path = filePath(repo, file);
    if (!path) return notFound(res, "EntryNotFound", `${file} does not exist on "${revision}"`);
    const info = fileInfo(path, file);
    const size = info.bytes.length;
    const headers: Record<string, string> = {
      "Content-Type": "application/octet-stream",
      "Accept-Ranges": "bytes",
      ETag: `"${info.etag}"`,
      "X-Repo-Commit": commit,
      ...(info.lfs && { "X-Linked-ETag": `"${info.etag}"`, "X-Linked-Size": String(size) }),
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    if (range) {
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : size - 1, size - 1);
      res.writeHead(206, { ...headers, "Content-Range": `bytes ${start}-${end}/${size}`, "Content-Length": String(end - start + 1) });
      return res.end(req.method === "HEAD" ? undefined : info.bytes.subarray(start, end + 1));
    }
    res.writeHead(200, { ...headers, "Content-Length": String(size) });
    if (req.method === "HEAD") return res.end();
    fullGets.push(file);
    const cut = cuts.get(file);
    if (cut === undefined) return res.end(info.bytes);
    cuts.delete(file);
    res.write(info.bytes.subarray(0, cut), () => setTimeout(() => res.socket?.destroy(), 20));
  }

  const server = createServer((req, res) => {
    // A fresh connection per request: with the server in the client's process, a busy event loop
    // could hand fetch a pooled socket that the server's idle timer is about to close (ECONNRESET).
    res.setHeader("Connection", "close");
    const url = new URL(req.url ?? "/", "http://loopback");
    const path = decodeURIComponent(url.pathname);
    requests.push({ method: req.method ?? "GET", path, ...(req.headers.range && { range: req.headers.range }) });
    const info = /^\/api\/models\/(.+)\/paths-info\/([^/]+)$/.exec(path);
    if (info && req.method === "POST") return void pathsInfo(req, res, info[1], info[2]);
    const file = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (file && (req.method === "GET" || req.method === "HEAD")) return resolve(req, res, file[1], file[2], file[3]);
    notFound(res, "NotFound", `loopback hub: no route for ${req.method} ${path}`);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    commit,
    requests,
    downloads: (file) => fullGets.filter((f) => file === undefined || f === file).length,
    cutNextDownload: (file, bytes) => void cuts.set(file, bytes),
    close: () =>
      new Promise<void>((done, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : done()));
      }),
  };
}
