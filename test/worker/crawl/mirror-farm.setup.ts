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
  /** Blob digest -> what a HEAD of it answers; unlisted blobs are 404. */
  blobs?: Record<string, { status?: number; contentLength?: number }>;
  /** Close every connection without an answer. */
  hangUp?: boolean;
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
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://farm").pathname;
    const control = /^\/_farm\/([\w-]+)$/.exec(path);
    if (control !== null && request.method === "PUT") {
      mirrors.set(control[1] as string, JSON.parse(await readBody(request)) as FakeMirrorBehaviour);
      return answer(response, 204, "");
    }
    const served = /^\/m\/([\w-]+)(\/.*)$/.exec(path);
    const mirror = served === null ? undefined : mirrors.get(served[1] as string);
    if (served === null || mirror === undefined) return answer(response, 404, "no such mirror");
    if (mirror.hangUp) return request.socket.destroy();
    const file = served[2] as string;
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
    const entry = blob === null ? undefined : mirror.blobs?.[`${blob[1]}:${blob[2]}`];
    if (entry === undefined || request.method !== "HEAD") return answer(response, 404, "no such file");
    response.writeHead(entry.status ?? 200, { "Content-Type": "application/octet-stream", "Content-Length": String(entry.contentLength ?? 0) });
    response.end();
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("mirrorFarm", `http://127.0.0.1:${(server.address() as AddressInfo).port}`);

  return async function stopMirrorFarm() {
    for (const timer of timers) clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}
