import { createReadStream } from "node:fs";
import { appendFile, readFile, realpath, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { isAbsolute, join, relative } from "node:path";
import { LAYOUT_FILES } from "../../../src/oci/layout";
import { parseMarker } from "../../../src/oci/marker";
import { NO_FAULT, type Fault, type FaultName } from "./faults";
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
  /** The request's `User-Agent`, if any. */
  userAgent?: string;
  /** The fault in effect when the request came, unless none was. */
  fault?: FaultName;
  time: string;
}

export interface MirrorServerOptions {
  /** Directory served as the mirror's copy of the tree. */
  root: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** The fault it starts with; none by default. */
  fault?: Fault;
}

/** A running static mirror, with hooks that let tests make it misbehave, one path at a time or as a whole (`setFault`). */
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
  /** The fault in effect. */
  readonly fault: Fault;
  /**
   * Switches to `fault` at once (resolving when the listener is closed or open as it needs):
   * connections held by `hang-on-GET` are dropped, `cut-once` forgets the paths it cut,
   * `flapping` starts with a refusing slice.
   */
  setFault(fault: Fault): Promise<void>;
  /** True while the listener is closed by `refused` or a refusing slice of `flapping`. */
  readonly refusing: boolean;
  /** Stops listening and drops open connections; the port is kept for `start()`. The fault stays set. */
  stop(): Promise<void>;
  /** Listens again on the same port after `stop()`, unless the fault refuses connections. */
  start(): Promise<void>;
  /** False after `stop()`, true after `start()`, whatever the fault. */
  readonly running: boolean;
}

const NOT_FOUND = "not found\n";
const SERVER_ERROR = "internal server error\n";

/** `/blobs/<algorithm>/<encoded>` (OCI Image Spec, "Image Layout", "Blobs"): the paths blob faults touch. */
const BLOB_PATH = /^\/blobs\/([a-z0-9]+(?:[+._-][a-z0-9]+)*)\/([a-zA-Z0-9=_-]+)$/;

/** What a `no-blobs` mirror still serves: the files a sync writes first or last. */
const LAYOUT_ONLY: ReadonlySet<string> = new Set([LAYOUT_FILES.generation, LAYOUT_FILES.index, LAYOUT_FILES.ociLayout].map((file) => `/${file}`));

/** How often a `slow` answer writes its next piece. */
const TRICKLE_TICK_MS = 100;

/** The digest a blob URL path names, or null for any other path. */
function blobDigest(path: string): string | null {
  const match = BLOB_PATH.exec(path);
  return match === null ? null : `${match[1]}:${match[2]}`;
}

/** The marker's generation and each digest's first generation, as the mirror's own copy has them; null when either is missing. */
async function readGenerations(root: string): Promise<{ newest: number; firstSeen: Map<string, number> } | null> {
  try {
    const marker = parseMarker(await readFile(join(root, LAYOUT_FILES.generation)));
    const firstSeen = JSON.parse(await readFile(join(root, LAYOUT_FILES.firstSeen), "utf8")) as Record<string, unknown>;
    if (marker === null) return null;
    return { newest: marker.generation, firstSeen: new Map(Object.entries(firstSeen).filter((entry): entry is [string, number] => typeof entry[1] === "number")) };
  } catch {
    return null;
  }
}

/** True when `fault` makes the mirror answer 404 for `path`, whose file (if any) is `file`. */
async function missingUnder(fault: Fault, root: string, path: string, file: string | null): Promise<boolean> {
  if (fault.name === "no-blobs") return !LAYOUT_ONLY.has(path);
  const digest = blobDigest(path);
  if (digest === null || file === null) return false;
  switch (fault.name) {
    case "404-some":
      return (await stat(file)).size > fault.largerThan;
    case "404-older":
    case "marker-ahead": {
      const generations = await readGenerations(root);
      const seen = generations?.firstSeen.get(digest);
      if (generations === null || seen === undefined) return false;
      return fault.name === "404-older" ? seen < generations.newest : seen === generations.newest;
    }
    default:
      return false;
  }
}

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
export async function startMirrorServer({ root, port = 0, host = "127.0.0.1", fault: initialFault = NO_FAULT }: MirrorServerOptions): Promise<MirrorServer> {
  const realRoot = await realpath(root);
  const entries = new RingBuffer<AccessLogEntry>(ACCESS_LOG_ENTRIES);
  const tampered = new Map<string, Uint8Array>();
  const hidden = new Set<string>();
  let currentFault: Fault = initialFault;
  /** Blob paths `cut-once` has cut since the fault was set. */
  const cutPaths = new Set<string>();
  /** Answers `hang-on-GET` is holding. */
  const hung = new Set<ServerResponse>();
  /** Slices of `flapping` since it was set: it refuses in slices 0 and 1 of every three. */
  let flappingSlice = 0;
  let flappingTimer: NodeJS.Timeout | null = null;

  function record(request: IncomingMessage, response: ServerResponse, path: string, counter: { bytes: number }, active: Fault): void {
    response.once("close", () => {
      entries.push({
        method: request.method ?? "",
        path,
        status: response.statusCode,
        bytes: counter.bytes,
        range: request.headers.range ?? null,
        ...(request.headers["user-agent"] === undefined ? {} : { userAgent: request.headers["user-agent"] }),
        ...(active.name === "none" ? {} : { fault: active.name }),
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

  /** Writes the first half of `bytes`, then drops the connection, as a sync or a proxy that dies mid-transfer. */
  function sendCut(response: ServerResponse, bytes: Uint8Array, counter: { bytes: number }): void {
    const half = bytes.subarray(0, Math.floor(bytes.byteLength / 2));
    counter.bytes += half.byteLength;
    response.write(half, () => response.destroy());
  }

  /** Writes `bytes` at `bytesPerSecond`, a piece every `TRICKLE_TICK_MS`, headers first. */
  function sendSlowly(response: ServerResponse, bytes: Uint8Array, bytesPerSecond: number, counter: { bytes: number }): void {
    const piece = Math.max(1, Math.round((bytesPerSecond * TRICKLE_TICK_MS) / 1000));
    let offset = 0;
    response.flushHeaders();
    const timer = setInterval(() => {
      const chunk = bytes.subarray(offset, offset + piece);
      offset += chunk.byteLength;
      counter.bytes += chunk.byteLength;
      if (offset >= bytes.byteLength) {
        clearInterval(timer);
        response.end(chunk);
      } else {
        response.write(chunk);
      }
    }, TRICKLE_TICK_MS);
    response.once("close", () => clearInterval(timer));
  }

  /** The bytes a faulty GET sends for `slice` of the file: one byte altered mid-file for `wrong-bytes`. */
  async function faultyBody(active: Fault, file: string, slice: ByteRange, size: number): Promise<Uint8Array> {
    const whole = new Uint8Array(await readFile(file));
    if (active.name === "wrong-bytes" && size > 0) whole[Math.floor(size / 2)]! ^= 0xff;
    return whole.subarray(slice.start, slice.end + 1);
  }

  async function handle(request: IncomingMessage, response: ServerResponse, counter: { bytes: number }): Promise<void> {
    const path = new URL(request.url ?? "/", "http://mirror").pathname;
    const active = currentFault;
    record(request, response, path, counter, active);
    const method = request.method ?? "";
    if (method !== "GET" && method !== "HEAD") {
      response.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "text/plain", "Content-Length": "0" }).end();
      return;
    }
    const isBlob = blobDigest(path) !== null;
    const override = tampered.get(path);
    const found = hidden.has(path) || override !== undefined ? null : await resolveFile(realRoot, path);
    const file = found !== null && (await missingUnder(active, realRoot, path, found)) ? null : found;
    if (override === undefined && file === null) {
      response.writeHead(404, { "Content-Type": "text/plain", "Content-Length": String(Buffer.byteLength(NOT_FOUND)) });
      response.end(method === "HEAD" ? undefined : NOT_FOUND);
      if (method !== "HEAD") counter.bytes += Buffer.byteLength(NOT_FOUND);
      return;
    }
    const faultyGet = isBlob && method === "GET" ? active.name : "none";
    if (faultyGet === "500-on-GET") {
      counter.bytes += Buffer.byteLength(SERVER_ERROR);
      response.writeHead(500, { "Content-Type": "text/plain", "Content-Length": String(Buffer.byteLength(SERVER_ERROR)) }).end(SERVER_ERROR);
      return;
    }
    if (faultyGet === "hang-on-GET") {
      hung.add(response);
      response.once("close", () => hung.delete(response));
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
    if (isBlob && active.name === "gzip-label") response.setHeader("Content-Encoding", "gzip");
    if (method === "HEAD" || length === 0) {
      response.end();
      return;
    }
    if (override !== undefined) {
      counter.bytes += length;
      response.end(override.subarray(slice.start, slice.end + 1));
      return;
    }
    const cut = faultyGet === "cut-always" || (faultyGet === "cut-once" && !cutPaths.has(path));
    if (faultyGet === "cut-once") cutPaths.add(path);
    if (cut || faultyGet === "wrong-bytes" || faultyGet === "slow") {
      const body = await faultyBody(active, file!, slice, size);
      if (cut) sendCut(response, body, counter);
      else if (active.name === "slow") sendSlowly(response, body, active.bytesPerSecond, counter);
      else {
        counter.bytes += body.byteLength;
        response.end(body);
      }
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

  let server: Server | null = null;
  let wanted = true;
  let boundPort = port;
  /** Listener changes run one after another, so a flapping tick and a `stop()` never interleave. */
  let listenerChanges: Promise<void> = Promise.resolve();

  const refusing = (): boolean => currentFault.name === "refused" || (currentFault.name === "flapping" && flappingSlice % 3 !== 2);

  async function closeListener(): Promise<void> {
    const running = server;
    if (running === null) return;
    server = null;
    await new Promise<void>((resolve) => {
      running.close(() => resolve());
      running.closeAllConnections();
    });
  }

  /** Opens or closes the listener so that it listens exactly when started and not refusing. */
  function syncListener(): Promise<void> {
    const change = listenerChanges.then(async () => {
      if (wanted && !refusing()) {
        if (server !== null) return;
        const next = createMirrorHttpServer();
        boundPort = await listen(next, host, boundPort);
        server = next;
      } else {
        await closeListener();
      }
    });
    listenerChanges = change.catch(() => undefined);
    return change;
  }

  function dropHung(): void {
    for (const response of hung) response.destroy();
    hung.clear();
  }

  /** Starts `flapping`'s slices over from a refusing one, or stops them for any other fault or a stopped server. */
  function armFlapping(): void {
    if (flappingTimer !== null) clearInterval(flappingTimer);
    flappingTimer = null;
    flappingSlice = 0;
    if (currentFault.name !== "flapping" || !wanted) return;
    flappingTimer = setInterval(() => {
      flappingSlice += 1;
      syncListener().catch(() => undefined);
    }, currentFault.periodMs);
    flappingTimer.unref();
  }

  async function setFault(next: Fault): Promise<void> {
    currentFault = next;
    cutPaths.clear();
    dropHung();
    armFlapping();
    await syncListener();
  }

  await setFault(initialFault);
  if (refusing()) {
    // The port is chosen by listening once, so a mirror that starts refusing still has one.
    const probe = createMirrorHttpServer();
    boundPort = await listen(probe, host, boundPort);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
  const url = `http://${host}:${boundPort}`;

  return {
    root: realRoot,
    port: boundPort,
    url,
    get running() {
      return wanted;
    },
    get fault() {
      return currentFault;
    },
    get refusing() {
      return refusing();
    },
    setFault,
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
      wanted = false;
      dropHung();
      armFlapping();
      await syncListener();
    },
    start: async () => {
      if (wanted) return;
      wanted = true;
      armFlapping();
      await syncListener();
    },
  };
}
