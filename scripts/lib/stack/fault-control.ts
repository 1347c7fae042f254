import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FAULT_DESCRIPTIONS, FAULT_NAMES, formatFault, NO_FAULT, parseFault } from "./faults";
import type { MirrorServer } from "./mirror-server";

/** The control endpoint of the local mirrors' faults. */
export interface FaultControl {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  stop(): Promise<void>;
}

/** Longest request body read: a fault name with its parameter. */
const MAX_BODY = 256;

function readBody(request: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => {
      body += chunk;
      if (body.length > MAX_BODY) {
        resolve(null);
        request.destroy();
      }
    });
    request.on("end", () => resolve(body));
    request.on("error", reject);
  });
}

/** `GET /`: each mirror's fault, then every fault with what it does. */
function listing(mirrors: ReadonlyMap<string, MirrorServer>): string {
  const width = Math.max(...[...mirrors.keys()].map((id) => id.length), 2);
  return [
    ...[...mirrors].map(([id, server]) => `${id.padEnd(width)}  ${formatFault(server.fault)}`),
    "",
    "Faults (PUT /<mirror id> with one as the body, DELETE /<mirror id> for none):",
    ...FAULT_NAMES.map((name) => `  ${name.padEnd(12)}  ${FAULT_DESCRIPTIONS[name]}`),
    "",
  ].join("\n");
}

/**
 * Serves a small control API for the local mirrors' faults, on loopback only, for trying faults by
 * hand while `npm start` runs: `GET /` lists them, `PUT /<mirror id>` with a fault as the body
 * (`parseFault`: `cut-always`, `slow:2000`) switches one mirror, `DELETE /<mirror id>` clears it.
 */
export async function startFaultControl(mirrors: ReadonlyMap<string, MirrorServer>, { port = 0 }: { port?: number } = {}): Promise<FaultControl> {
  const server: Server = createServer((request, response) => {
    const reply = (status: number, text: string): void => {
      response.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": String(Buffer.byteLength(text)) }).end(text);
    };
    const path = new URL(request.url ?? "/", "http://control").pathname;
    if (path === "/" && (request.method === "GET" || request.method === "HEAD")) return reply(200, listing(mirrors));
    const id = decodeURIComponent(path.slice(1));
    const mirror = mirrors.get(id);
    if (mirror === undefined) return reply(404, `no local mirror ${JSON.stringify(id)}; the mirrors are ${[...mirrors.keys()].join(", ")}\n`);
    const apply = async (): Promise<void> => {
      if (request.method === "DELETE") {
        await mirror.setFault(NO_FAULT);
      } else if (request.method === "PUT") {
        const body = await readBody(request);
        if (body === null) return reply(413, "a fault name is short\n");
        await mirror.setFault(parseFault(body));
      } else {
        response.setHeader("Allow", "PUT, DELETE");
        return reply(405, "PUT a fault, or DELETE it\n");
      }
      reply(200, `${id}  ${formatFault(mirror.fault)}\n`);
    };
    apply().catch((error: unknown) => reply(400, `${error instanceof Error ? error.message : String(error)}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
