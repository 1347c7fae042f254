import { readFile, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { startDaemon, type Daemon } from "../process/processes";

/** The workerd binary that ships with the project's `workerd` package (the one wrangler and Miniflare run). */
export function workerdBinary(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("@cloudflare/workerd-linux-64/package.json")), "bin", "workerd");
}

export { freePort } from "../process/ports";

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A Cap'n Proto text literal. */
export function capnpString(value: string): string {
  return JSON.stringify(value);
}

export interface WorkerdBinding {
  name: string;
  /** A plain text variable, or a KV namespace backed by the named service. */
  text?: string;
  kvNamespace?: string;
}

export interface WorkerdWorker {
  /** Service name. */
  name: string;
  /** Absolute path of the ES module. */
  module: string;
  compatibilityDate: string;
  compatibilityFlags?: readonly string[];
  bindings?: readonly WorkerdBinding[];
  /** Service that answers the Cache API (`caches.default`). */
  cacheApiOutbound?: string;
}

export interface WorkerdSocket {
  name: string;
  port: number;
  service: string;
  /** Headers workerd adds to every request arriving on this socket. */
  injectRequestHeaders?: ReadonlyArray<[string, string]>;
  /** A request header whose JSON workerd hands the worker as `request.cf`, as the edge would fill it. */
  cfBlobHeader?: string;
}

export interface WorkerdConfig {
  workers: readonly WorkerdWorker[];
  /** Services reached over HTTP on 127.0.0.1. */
  external?: ReadonlyArray<{ name: string; port: number }>;
  sockets: readonly WorkerdSocket[];
}

/**
 * Renders a workerd config (capnp text, `workerd serve <file>`) to be written
 * into `dir`: capnp resolves an embedded file relative to the config file.
 */
export function renderWorkerdConfig(config: WorkerdConfig, dir: string): string {
  const binding = (b: WorkerdBinding) =>
    b.kvNamespace !== undefined ? `(name = ${capnpString(b.name)}, kvNamespace = ${capnpString(b.kvNamespace)})` : `(name = ${capnpString(b.name)}, text = ${capnpString(b.text ?? "")})`;
  const worker = (w: WorkerdWorker) =>
    [
      `(name = ${capnpString(w.name)}, worker = (`,
      `  modules = [(name = "worker.js", esModule = embed ${capnpString(relative(dir, w.module))})],`,
      `  compatibilityDate = ${capnpString(w.compatibilityDate)},`,
      `  compatibilityFlags = [${(w.compatibilityFlags ?? []).map(capnpString).join(", ")}],`,
      `  bindings = [${(w.bindings ?? []).map(binding).join(", ")}],`,
      w.cacheApiOutbound === undefined ? "" : `  cacheApiOutbound = ${capnpString(w.cacheApiOutbound)},`,
      `))`,
    ].join("\n");
  const external = (e: { name: string; port: number }) => `(name = ${capnpString(e.name)}, external = (address = "127.0.0.1:${e.port}", http = ()))`;
  const socket = (s: WorkerdSocket) => {
    const inject = (s.injectRequestHeaders ?? []).map(([name, value]) => `(name = ${capnpString(name)}, value = ${capnpString(value)})`).join(", ");
    const cf = s.cfBlobHeader === undefined ? "" : `cfBlobHeader = ${capnpString(s.cfBlobHeader)}, `;
    return `(name = ${capnpString(s.name)}, address = "127.0.0.1:${s.port}", http = (${cf}injectRequestHeaders = [${inject}]), service = ${capnpString(s.service)})`;
  };
  return [
    `using Workerd = import "/workerd/workerd.capnp";`,
    `const config :Workerd.Config = (`,
    `  services = [`,
    [...config.workers.map(worker), ...(config.external ?? []).map(external)].join(",\n"),
    `  ],`,
    `  sockets = [`,
    config.sockets.map(socket).join(",\n"),
    `  ],`,
    `);`,
    "",
  ].join("\n");
}

/** CPU time (user + system) and resident memory of a process, from /proc. */
export async function processUsage(pid: number): Promise<{ cpuMicros: number; rssBytes: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssPages = Number(fields[21]);
  return { cpuMicros: (ticks * 1_000_000) / CLOCK_TICKS, rssBytes: rssPages * 4096 };
}

/** USER_HZ on Linux; 100 on every common build. */
const CLOCK_TICKS = 100;

/** A running workerd, its PID for /proc, and when it first accepted connections. */
export interface WorkerdProcess extends Daemon {
  /** Milliseconds from spawn until every socket accepted a connection. */
  readyMs: number;
}

/** Writes `config` to `<dir>/<name>.capnp` and runs `workerd serve` on it until every socket accepts. */
export async function startWorkerd(dir: string, name: string, config: WorkerdConfig): Promise<WorkerdProcess> {
  const file = join(dir, `${name}.capnp`);
  await writeFile(file, renderWorkerdConfig(config, dir));
  const started = performance.now();
  const daemon = await startDaemon({
    name: `workerd ${name}`,
    command: workerdBinary(),
    args: ["serve", file, ...(process.env.BENCH_INSPECT !== undefined && name === "frontdoor" ? [`--inspector-addr=127.0.0.1:${process.env.BENCH_INSPECT}`] : [])],
    logFile: join(dir, `${name}.log`),
    ready: async () => (await Promise.all(config.sockets.map((socket) => accepts(socket.port)))).every(Boolean),
    readyTimeoutMs: 30_000,
    pollMs: 5,
  });
  return Object.assign(daemon, { readyMs: performance.now() - started });
}
