import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

/**
 * What one fake mirror answers. Tests running inside workerd register a mirror
 * under a fresh name with `PUT /_farm/<name>`, then crawl `<farm>/m/<name>`.
 */
export interface FakeMirrorBehaviour {
  /**
   * The marker's answer. With `chunked` the body goes out in two chunks of
   * chunked transfer coding, without `Content-Length`; then the reply ends
   * (`"end"`) or is left open until the client goes away (`"hold-open"`).
   */
  marker?: { status?: number; body?: string; delayMs?: number; chunked?: "end" | "hold-open" };
  /** Content set name -> the body of its marker `frontdoor/sets/<name>/generation`, served 200; unlisted sets are 404. */
  setMarkers?: Record<string, string>;
  /** Blob digest -> the file and how it is served; unlisted blobs are 404. */
  blobs?: Record<string, FakeBlob>;
  /** Faults applied to every listed blob, under each blob's own. */
  allBlobs?: Omit<FakeBlob, "seed" | "size">;
  /** Close every connection without an answer. */
  hangUp?: boolean;
}

/**
 * One file of a fake mirror: `size` bytes of `seed` repeated (`blobBytes`),
 * served with Range support, and the faults a mirror can have.
 */
export interface FakeBlob {
  seed: string;
  size: number;
  /** Status of every answer, HEAD and GET. */
  status?: number;
  /** Status of GET only; HEAD still answers 200. */
  getStatus?: number;
  /** Declared and sent length, when it differs from the file's. */
  contentLength?: number;
  /** Same length, other bytes. */
  corrupt?: boolean;
  /** `Content-Encoding: gzip` on the unchanged bytes. */
  gzipLabel?: boolean;
  /** A GET is never answered. */
  hang?: boolean;
  /** Bytes per second a GET body is sent at. */
  trickle?: number;
  /** A GET sends its headers and half the body, then holds the connection open. */
  stall?: boolean;
  /** A GET answers 302 to this URL. */
  redirect?: string;
  /** `Range` is ignored: 200 with the whole file. */
  ignoreRange?: boolean;
}

/** The farm's and the tests' shared definition of a fake blob's bytes. */
export function blobBytes(seed: string, size: number): Uint8Array {
  const pattern = new TextEncoder().encode(`${seed}:`);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = pattern[i % pattern.length]!;
  return bytes;
}

/** One request a fake mirror received, as `GET /_farm/<name>` lists them. */
export interface FarmRequest {
  method: string;
  path: string;
  range: string | null;
}

declare module "vitest" {
  interface ProvidedContext {
    mirrorFarm: string;
  }
}

const MAX_DELAY_MS = 10_000;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => resolve(body));
    request.on("error", reject);
  });
}

function answer(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { "Content-Type": "application/octet-stream", "Content-Length": String(Buffer.byteLength(body)), ...headers });
  response.end(body);
}

/** Sends `body` in two chunks; a reply left open is closed by the client's cancel or the farm's stop. */
function answerInChunks(response: ServerResponse, status: number, body: string, then: "end" | "hold-open"): void {
  response.writeHead(status, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
  const half = Math.ceil(body.length / 2);
  response.write(body.slice(0, half));
  response.write(body.slice(half));
  if (then === "end") response.end();
}

/** Starts the fake mirrors on 127.0.0.1 and a free port; vitest calls the returned function to stop them. */
export default async function startMirrorFarm(project: TestProject): Promise<() => Promise<void>> {
  const mirrors = new Map<string, FakeMirrorBehaviour>();
  const requests = new Map<string, FarmRequest[]>();
  const timers = new Set<NodeJS.Timeout>();
  const held = new Set<ServerResponse>();

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://farm").pathname;
    const control = /^\/_farm\/([\w-]+)$/.exec(path);
    if (control !== null && request.method === "PUT") {
      mirrors.set(control[1] as string, JSON.parse(await readBody(request)) as FakeMirrorBehaviour);
      return answer(response, 204, "");
    }
    if (control !== null && request.method === "GET") return answer(response, 200, JSON.stringify(requests.get(control[1] as string) ?? []), { "Content-Type": "application/json" });
    const served = /^\/m\/([\w-]+)(\/.*)$/.exec(path);
    const mirror = served === null ? undefined : mirrors.get(served[1] as string);
    if (served === null || mirror === undefined) return answer(response, 404, "no such mirror");
    const log = requests.get(served[1] as string) ?? [];
    log.push({ method: request.method ?? "GET", path: served[2] as string, range: request.headers.range ?? null });
    requests.set(served[1] as string, log);
    if (mirror.hangUp) return request.socket.destroy();
    const file = served[2] as string;
    const setMarker = /^\/frontdoor\/sets\/([a-z0-9._-]+)\/generation$/.exec(file);
    if (setMarker !== null && request.method === "GET" && mirror.setMarkers !== undefined && Object.hasOwn(mirror.setMarkers, setMarker[1]!)) {
      return answer(response, 200, mirror.setMarkers[setMarker[1]!]!);
    }
    if (file === "/frontdoor/generation" && request.method === "GET" && mirror.marker !== undefined) {
      const { status = 200, body = "", delayMs = 0, chunked } = mirror.marker;
      if (chunked !== undefined) return answerInChunks(response, status, body, chunked);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!response.destroyed) answer(response, status, body, { "Content-Type": "application/json" });
      }, Math.min(delayMs, MAX_DELAY_MS));
      timers.add(timer);
      return;
    }
    const blob = /^\/blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(file);
    const listed = blob === null ? undefined : mirror.blobs?.[`${blob[1]}:${blob[2]}`];
    if (listed === undefined) return answer(response, 404, "no such file");
    serveBlob(request, response, { ...mirror.allBlobs, ...listed });
  });

  function serveBlob(request: IncomingMessage, response: ServerResponse, entry: FakeBlob): void {
    const length = entry.contentLength ?? entry.size;
    let bytes = Buffer.alloc(length);
    Buffer.from(blobBytes(entry.seed, entry.size)).copy(bytes);
    if (entry.corrupt) bytes = bytes.map((byte: number) => byte ^ 0xff);
    const headers: Record<string, string> = { "Content-Type": "application/octet-stream", "Accept-Ranges": "bytes" };
    if (entry.gzipLabel) headers["Content-Encoding"] = "gzip";
    if (request.method === "HEAD") {
      response.writeHead(entry.status ?? 200, { ...headers, "Content-Length": String(length) });
      return void response.end();
    }
    if (entry.hang) return void held.add(response);
    if (entry.redirect !== undefined) return answer(response, 302, "", { Location: entry.redirect });
    const status = entry.getStatus ?? entry.status;
    if (status !== undefined && status !== 200) return answer(response, status, "failed");
    const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? "");
    let code = 200;
    if (range !== null && !entry.ignoreRange) {
      const first = Number(range[1]);
      const last = Math.min(Number(range[2]), length - 1);
      headers["Content-Range"] = `bytes ${first}-${last}/${length}`;
      bytes = bytes.subarray(first, last + 1);
      code = 206;
    }
    response.writeHead(code, { ...headers, "Content-Length": String(bytes.length) });
    if (entry.stall) {
      response.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      return void held.add(response);
    }
    if (entry.trickle === undefined) return void response.end(bytes);
    const chunk = Math.max(1, Math.floor(entry.trickle / 10));
    let offset = 0;
    const timer = setInterval(() => {
      if (response.destroyed || offset >= bytes.length) {
        clearInterval(timer);
        timers.delete(timer);
        if (!response.destroyed) response.end();
        return;
      }
      response.write(bytes.subarray(offset, offset + chunk));
      offset += chunk;
    }, 100);
    timers.add(timer);
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("mirrorFarm", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  return async function stopMirrorFarm() {
    for (const timer of timers) clearTimeout(timer);
    for (const response of held) response.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
