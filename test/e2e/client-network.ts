import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { OVERRIDE_HEADERS } from "../../src/mirrors/client";

/** One request a client sent to the front door through its proxy, and the answer. */
export interface ProxiedRequest {
  /** Milliseconds since the epoch when the request arrived. */
  at: number;
  method: string;
  path: string;
  range: string | null;
  status: number;
  /** `Location` of a redirect. */
  location: string | null;
  /** The client address the front door was told. */
  clientIp: string;
}

/** A loopback port in front of the front door that makes every request come from one client network. */
export interface ClientNetwork {
  /** `127.0.0.1:<port>`: the registry host the client pulls from. */
  registry: string;
  /** The address sent as the client's (`X-Frontdoor-Client-Ip`); changeable between pulls. */
  clientIp: string;
  /** Every request since start or `clearLog()`, oldest first. */
  log(): ProxiedRequest[];
  clearLog(): void;
  stop(): Promise<void>;
}

/**
 * Real clients all connect from 127.0.0.1, one network to the front door. This proxy forwards each
 * request unchanged (raw headers, in order, duplicates kept) but for the development override of the
 * client address, so each client is its own network (/24) to selection and retry memory.
 * Redirects are passed on as they are: the client follows them to the mirror directly.
 */
export async function startClientNetwork(frontDoor: string, clientIp: string): Promise<ClientNetwork> {
  const target = new URL(frontDoor);
  const entries: ProxiedRequest[] = [];
  const state = { clientIp };
  const server: Server = createServer((request, response) => {
    const at = Date.now();
    const ip = state.clientIp;
    const headers: string[] = [];
    for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
      if (request.rawHeaders[i]!.toLowerCase() !== OVERRIDE_HEADERS.ip.toLowerCase()) headers.push(request.rawHeaders[i]!, request.rawHeaders[i + 1]!);
    }
    headers.push(OVERRIDE_HEADERS.ip, ip);
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers, agent: false }, (answer) => {
      entries.push({
        at,
        method: request.method ?? "",
        path: new URL(request.url ?? "/", "http://proxy").pathname,
        range: request.headers.range ?? null,
        status: answer.statusCode ?? 0,
        location: answer.headers.location ?? null,
        clientIp: ip,
      });
      response.writeHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders);
      answer.pipe(response);
    });
    upstream.on("error", () => response.destroy());
    response.on("close", () => upstream.destroy());
    request.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return {
    registry: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    get clientIp() {
      return state.clientIp;
    },
    set clientIp(value: string) {
      state.clientIp = value;
    },
    log: () => entries.slice(),
    clearLog: () => void entries.splice(0),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
