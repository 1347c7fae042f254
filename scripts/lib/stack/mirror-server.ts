import { createReadStream } from "node:fs";
import { appendFile, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAbsolute, join, relative } from "node:path";
import { parseRange, type ByteRange } from "./http-range";
import { RingBuffer } from "./ring-buffer";

/** Newest requests each mirror server keeps in its access log (about 150 bytes each). */
export const ACCESS_LOG_ENTRIES = 20_000;

/** One request as the mirror answered it. */
export interface AccessLogEntry {
  method: string;
  /** URL path as requested, without the query. */
  path: string;
  status: number;
  /** Body bytes actually written to the socket (0 for HEAD). */
  bytes: number;
  /** The request's `Range` header, if any. */
  range: string | null;
  time: string;
}

export interface MirrorServerOptions {
  /** Directory served as the mirror's copy of the tree. */
  root: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
}

/** A running static mirror, with hooks that let tests make it misbehave. */
export interface MirrorServer {
  readonly root: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** The newest `ACCESS_LOG_ENTRIES` requests answered since start or the last `clearLog()`, oldest first. */
  log(): AccessLogEntry[];
  clearLog(): void;
  /** Appends the log as JSON lines to `file`. */
  appendLogTo(file: string): Promise<void>;
  /** Serves `bytes` instead of the file at URL path `path`. */
  tamper(path: string, bytes: Uint8Array): void;
  /** Answers 404 for URL path `path`, as if the mirror had not synced it. */
  hide(path: string): void;
  /** Undoes `tamper` and `hide` for `path`, or for every path. */
  restore(path?: string): void;
  /** Stops listening and drops open connections; the port is kept for `start()`. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`. */
  start(): Promise<void>;
  readonly running: boolean;
}

const NOT_FOUND = "not found\n";

/** Maps a URL path to a file under `root`, or null when it could leave the root or names no regular file. */
async function resolveFile(root: string, urlPath: string): Promise<string | null> {
  let segments: string[];
  try {
    segments = urlPath.split("/").filter((segment) => segment !== "").map((segment) => decodeURIComponent(segment));
  } catch {
    return null;
  }
  if (segments.some((segment) => segment === "." || segment === ".." || /[\\/\0]/.test(segment))) return null;
  try {
    const file = await realpath(join(root, ...segments));
    const inside = relative(root, file);
    if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) return null;
    return (await stat(file)).isFile() ? file : null;
  } catch {
    return null;
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts a static HTTP mirror of an OCI image layout: GET and HEAD, one `Range` per request (RFC 9110, 14.2),
 * never a `Content-Encoding` (clients hash the bytes as received), always `Content-Length`.
 */
export async function startMirrorServer({ root, port = 0, host = "127.0.0.1" }: MirrorServerOptions): Promise<MirrorServer> {
  const realRoot = await realpath(root);
  const entries = new RingBuffer<AccessLogEntry>(ACCESS_LOG_ENTRIES);
  const tampered = new Map<string, Uint8Array>();
  const hidden = new Set<string>();

  function record(request: IncomingMessage, response: ServerResponse, path: string, counter: { bytes: number }): void {
    response.once("close", () => {
      entries.push({
        method: request.method ?? "",
        path,
        status: response.statusCode,
        bytes: counter.bytes,
        range: request.headers.range ?? null,
        time: new Date().toISOString(),
      });
    });
  }

  function sendHead(response: ServerResponse, status: number, length: number, range: ByteRange | null, size: number): void {
    response.statusCode = status;
    response.setHeader("Content-Type", "application/octet-stream");
    response.setHeader("Content-Length", String(length));
    response.setHeader("Accept-Ranges", "bytes");
    if (range !== null) response.setHeader("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, counter: { bytes: number }): Promise<void> {
    const path = new URL(request.url ?? "/", "http://mirror").pathname;
    record(request, response, path, counter);
    const method = request.method ?? "";
    if (method !== "GET" && method !== "HEAD") {
      response.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain", "Content-Length": "0" }).end();
      return;
    }
    const override = tampered.get(path);
    const file = hidden.has(path) || override !== undefined ? null : await resolveFile(realRoot, path);
    if (override === undefined && file === null) {
      response.writeHead(404, { "Content-Type": "text/plain", "Content-Length": String(Buffer.byteLength(NOT_FOUND)) });
      response.end(method === "HEAD" ? undefined : NOT_FOUND);
      if (method !== "HEAD") counter.bytes += Buffer.byteLength(NOT_FOUND);
      return;
    }
    const size = override !== undefined ? override.byteLength : (await stat(file!)).size;
    const range = parseRange(request.headers.range, size);
    if (range === "unsatisfiable") {
      response.writeHead(416, { "Content-Range": `bytes */${size}`, "Content-Length": "0" }).end();
      return;
    }
    const slice = range === "none" ? { start: 0, end: size - 1 } : range;
    const length = size === 0 ? 0 : slice.end - slice.start + 1;
    sendHead(response, range === "none" ? 200 : 206, length, range === "none" ? null : range, size);
    if (method === "HEAD" || length === 0) {
      response.end();
      return;
    }
    if (override !== undefined) {
      counter.bytes += length;
      response.end(override.subarray(slice.start, slice.end + 1));
      return;
    }
    const stream = createReadStream(file!, { start: slice.start, end: slice.end });
    stream.on("data", (chunk) => (counter.bytes += chunk.length));
    stream.on("error", () => response.destroy());
    response.on("close", () => stream.destroy());
    stream.pipe(response);
  }

  function createMirrorHttpServer(): Server {
    const server = createServer((request, response) => {
      const counter = { bytes: 0 };
      handle(request, response, counter).catch(() => {
        if (!response.headersSent) response.writeHead(500, { "Content-Length": "0" });
        response.end();
      });
    });
    server.keepAliveTimeout = 5_000;
    return server;
  }

  let server: Server | null = createMirrorHttpServer();
  const boundPort = await listen(server, host, port);
  const url = `http://${host}:${boundPort}`;

  return {
    root: realRoot,
    port: boundPort,
    url,
    get running() {
      return server !== null;
    },
    log: () => entries.toArray(),
    clearLog: () => entries.clear(),
    appendLogTo: async (file) => {
      await appendFile(file, entries.toArray().map((entry) => JSON.stringify(entry) + "\n").join(""));
    },
    tamper: (path, bytes) => void tampered.set(path, bytes),
    hide: (path) => void hidden.add(path),
    restore: (path) => {
      if (path === undefined) {
        tampered.clear();
        hidden.clear();
      } else {
        tampered.delete(path);
        hidden.delete(path);
      }
    },
    stop: async () => {
      const running = server;
      if (running === null) return;
      server = null;
      await new Promise<void>((resolve) => {
        running.close(() => resolve());
        running.closeAllConnections();
      });
    },
    start: async () => {
      if (server !== null) return;
      const next = createMirrorHttpServer();
      await listen(next, host, boundPort);
      server = next;
    },
  };
}
