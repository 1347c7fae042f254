import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { startDaemon, type Daemon } from "../../scripts/lib/process/processes";

/** One request line of the registry's access log (combined log format). */
export interface RegistryRequest {
  method: string;
  path: string;
  status: number;
}

/** The reference registry (`docker-registry` from Debian) on 127.0.0.1, its storage and log in a directory of its own. */
export interface ReferenceRegistry {
  /** `127.0.0.1:<port>`, as image names take it. */
  host: string;
  daemon: Daemon;
  /** The requests it has answered since it started or since `clearLog`. */
  requests(): Promise<RegistryRequest[]>;
  /** Forgets the requests seen so far. */
  clearLog(): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const ACCESS_LINE = /"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3})/;

/** Starts `docker-registry serve` with filesystem storage under `dir`, no auth, and its access log on. */
export async function startReferenceRegistry(dir: string): Promise<ReferenceRegistry> {
  await mkdir(join(dir, "storage"), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: false",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(join(dir, "storage"))}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: ${host}`,
    "",
  ].join("\n");
  const configFile = join(dir, "config.yml");
  await writeFile(configFile, config);
  const logFile = join(dir, "registry.log");
  const daemon = await startDaemon({
    name: "docker-registry",
    command: "docker-registry",
    args: ["serve", configFile],
    logFile,
    ready: async () => (await fetch(`http://${host}/v2/`)).status === 200,
  });
  // The log is appended to while the registry runs; requests are counted from an offset into it.
  let offset = 0;
  const read = async (): Promise<Buffer> => readFile(logFile);
  return {
    host,
    daemon,
    async requests() {
      const text = (await read()).subarray(offset).toString("latin1");
      return text.split("\n").flatMap((line) => {
        const match = ACCESS_LINE.exec(line);
        return match === null ? [] : [{ method: match[1]!, path: match[2]!, status: Number(match[3]) }];
      });
    },
    async clearLog() {
      offset = (await read()).byteLength;
    },
    stop: () => daemon.stop(),
  };
}
