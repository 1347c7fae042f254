import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "./ports";
import { runCommand, startDaemon, type Daemon } from "./processes";

/** Where Debian's `docker-registry` (distribution 2.8) installs its binary. */
const BINARY = "/usr/bin/docker-registry";

/** One request line of the registry's access log (combined log format). */
export interface RegistryRequest {
  method: string;
  path: string;
  status: number;
}

/** The reference registry on 127.0.0.1, its storage, config and log in a directory of its own. */
export interface ReferenceRegistry {
  /** `127.0.0.1:<port>`, as image names take it. */
  host: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  daemon: Daemon;
  /** The requests its access log holds since it started or since `clearLog`; empty without `accessLog`. */
  requests(): Promise<RegistryRequest[]>;
  /** Forgets the requests seen so far. */
  clearLog(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReferenceRegistryOptions {
  /** Log every request, for `requests()` (default false: a benchmark should not measure log writing). */
  accessLog?: boolean;
}

const ACCESS_LINE = /"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3})/;

/** Whether Debian's `docker-registry` is installed. */
export async function referenceRegistryInstalled(): Promise<boolean> {
  return access(BINARY).then(
    () => true,
    () => false,
  );
}

/** The installed registry's `--version` line. */
export async function referenceRegistryVersion(): Promise<string> {
  return (await runCommand(BINARY, ["--version"], { timeoutMs: 5_000 })).stdout.trim();
}

/** Starts `docker-registry serve` with filesystem storage under `dir`, no auth, deletes allowed, on a free loopback port. */
export async function startReferenceRegistry(dir: string, options: ReferenceRegistryOptions = {}): Promise<ReferenceRegistry> {
  await mkdir(join(dir, "storage"), { recursive: true });
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const configFile = join(dir, "config.yml");
  await writeFile(
    configFile,
    [
      "version: 0.1",
      "log:",
      `  level: ${options.accessLog ? "warn" : "error"}`,
      "  accesslog:",
      `    disabled: ${options.accessLog ? "false" : "true"}`,
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${JSON.stringify(join(dir, "storage"))}`,
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: ${host}`,
      "",
    ].join("\n"),
  );
  const logFile = join(dir, "registry.log");
  const daemon = await startDaemon({
    name: "docker-registry",
    command: BINARY,
    args: ["serve", configFile],
    logFile,
    ready: async () => (await fetch(`http://${host}/v2/`)).status === 200,
  });
  // The log is appended to while the registry runs; requests are counted from an offset into it.
  let offset = 0;
  return {
    host,
    url: `http://${host}`,
    daemon,
    async requests() {
      const text = (await readFile(logFile)).subarray(offset).toString("latin1");
      return text.split("\n").flatMap((line) => {
        const match = ACCESS_LINE.exec(line);
        return match === null ? [] : [{ method: match[1]!, path: match[2]!, status: Number(match[3]) }];
      });
    },
    async clearLog() {
      offset = (await readFile(logFile)).byteLength;
    },
    stop: () => daemon.stop(),
  };
}
