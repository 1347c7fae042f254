import { access, cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { treeRefNames, writeBigDemoTree, writeDemoTree } from "./demo-tree";
import { ensureDemoKeys, signDemoTree, type DemoKeys } from "./demo-signing";
import { LocalKvTarget, resourcePersistencePath } from "../kv/local-kv";
import { DEFAULT_CLIENT_PLACE, startLocalWorker, type ClientPlace, type LocalWorker, type WorkerLogLine } from "./local-worker";
import { NO_FAULT, type Fault } from "./faults";
import { startMirrorServer, type AccessLogEntry, type MirrorServer } from "./mirror-server";
import { parseMirrorConfig } from "../publish/mirrors-config";
import { publishTree } from "../publish/publish-tree";
import { bundleWorker, type WorkerBundle } from "./worker-bundle";
import { readWorkerConfig } from "../kv/wrangler-config";

/** A local mirror as the generated mirrors TOML declares it. */
/**
 * Crawler settings of the local stack: the small local tree is verified
 * whole, and re-verified whole, in every run (every 5 s), so a content error
 * on a local mirror is found within one sweep (docs/crawler.md, "Locally").
 */
export const LOCAL_CRAWL_VARS: Readonly<Record<string, string>> = Object.freeze({
  CRAWL_SUBREQUEST_LIMIT: "10000",
  CRAWL_BLOB_CHECKS: "400",
  CRAWL_HASH_BYTES: String(1024 * 1024 * 1024),
});

export interface MirrorSpec {
  id: string;
  country: string;
  continent: string;
  latitude: number;
  longitude: number;
}

/** Three mirrors on three continents. */
export const DEMO_MIRRORS: readonly MirrorSpec[] = [
  { id: "de-fra", country: "DE", continent: "EU", latitude: 50.11, longitude: 8.68 },
  { id: "us-iad", country: "US", continent: "NA", latitude: 38.95, longitude: -77.45 },
  { id: "jp-tyo", country: "JP", continent: "AS", latitude: 35.68, longitude: 139.69 },
];

/** The repository root: wrangler.toml, the worker's sources, and the default state directory's parent. */
export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export interface LocalStackOptions {
  /** Where the demo tree, mirror copies, local KV and worker bundle live; default `<project>/.local`. */
  stateDir?: string;
  /** Front door port; 8787 by default, 0 for a free one. */
  port?: number;
  /** Mirrors to start, each serving its own copy of the tree; default `DEMO_MIRRORS`. */
  mirrors?: readonly MirrorSpec[];
  /** Where the worker believes its clients are (`request.cf`). */
  client?: ClientPlace;
  /** The fault each mirror starts with, by id; the others start with none. Each can be changed while it runs (`MirrorServer.setFault`). */
  faults?: ReadonlyMap<string, Fault>;
  /** How often the worker's `scheduled` handler (the mirror crawler) runs; default 5 s, 0 for only at start. */
  crawlIntervalMs?: number;
  /** Extra worker variables. */
  vars?: Record<string, string>;
  /** Progress messages; silent by default. */
  progress?: (message: string) => void;
  /** Every line the worker logs, as it comes. */
  onWorkerLog?: (line: WorkerLogLine) => void;
}

/** A static server of the tree: the origin or one mirror. */
export interface StackServer {
  /** Mirror id, or "origin". */
  id: string;
  /** The directory it serves. */
  dir: string;
  server: MirrorServer;
}

/** Everything `startLocalStack` started, and the means to watch and stop it. */
export interface LocalStack {
  /** Front door, `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** `127.0.0.1:<port>`: the registry host clients pull from. */
  registry: string;
  stateDir: string;
  /** The published tree; the origin serves it as it is. */
  tree: string;
  /** The demo signing keys `demo/hello:latest` is signed with (docs/signing.md). */
  signing: DemoKeys;
  /** Local KV persistence directory (`frontdoor ... --local <dir>`). */
  persistDir: string;
  /** The generated mirrors config that was loaded into KV. */
  mirrorsToml: string;
  origin: StackServer;
  mirrors: StackServer[];
  /** The origin and every mirror. */
  servers(): StackServer[];
  /** The mirror with this id; throws for an unknown one. */
  mirror(id: string): StackServer;
  /** Copies the tree into every mirror's directory, blobs first, as each mirror's sync would after a publication. */
  syncMirrors(): Promise<void>;
  /** Each server's access log, by id. */
  accessLogs(): Record<string, AccessLogEntry[]>;
  /** The lines the worker logged (one JSON request line per request, crawl reports). */
  workerLog(): WorkerLogLine[];
  /** Empties the access logs and the worker log. */
  clearLogs(): void;
  /** True when the worker has a `scheduled` handler (the crawler) that the stack runs. */
  crawls: boolean;
  /** Runs the crawler once now. */
  crawl(): Promise<"ok" | "exception" | "absent">;
  /** Stops the worker and every server; safe to call twice. */
  stop(): Promise<void>;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}

/** The mirrors config for the running servers, in the format `frontdoor mirrors load` reads (`parseMirrorConfig`). */
export function mirrorsToml(origin: string, mirrors: ReadonlyArray<MirrorSpec & { baseUrl: string }>): string {
  const lines = ["# Generated by the local stack: ports change on every start.", "", "[origin]", `base_url = ${tomlString(origin)}`, `country = "NL"`, ""];
  for (const mirror of mirrors) {
    lines.push(
      "[[mirror]]",
      `id = ${tomlString(mirror.id)}`,
      `base_url = ${tomlString(mirror.baseUrl)}`,
      `country = ${tomlString(mirror.country)}`,
      `continent = ${tomlString(mirror.continent)}`,
      `latitude = ${mirror.latitude}`,
      `longitude = ${mirror.longitude}`,
      "bandwidth = 100",
      "",
    );
  }
  return lines.join("\n");
}

/** The big demo image: layers of several MiB, for cut-offs and slow transfers that take real time. */
export const BIG_DEMO_REF = "demo/big:latest";

/**
 * Builds the demo images into `tree` unless they are already there, so a restart reuses them.
 * `index.json` is the file an OCI image layout gets last (`writeDemoTree`), so a tree without it
 * is half built and is built again; one without the big image's ref gets it added.
 */
export async function ensureDemoTree(tree: string, progress: (message: string) => void = () => undefined): Promise<void> {
  if (!(await exists(join(tree, "index.json")))) {
    progress(`Building the demo image into ${tree}`);
    await writeDemoTree(tree);
  }
  if (!(await treeRefNames(tree)).includes(BIG_DEMO_REF)) {
    progress(`Building the big demo image ${BIG_DEMO_REF} into ${tree}`);
    await writeBigDemoTree(tree);
  }
}

/**
 * Starts the whole local system: demo tree (built once), published into local KV, served by an origin
 * and by mirrors that each serve their own copy, the mirrors config loaded, and the worker bundled
 * and run with Miniflare, its crawler run once before this returns and then on an interval.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stateDir = resolve(options.stateDir ?? join(PROJECT_DIR, ".local"));
  const specs = options.mirrors ?? DEMO_MIRRORS;
  const faults = options.faults ?? new Map<string, Fault>();
  for (const id of faults.keys()) if (!specs.some((spec) => spec.id === id)) throw new Error(`a fault was given for ${JSON.stringify(id)}, which is not one of the stack's mirrors`);
  const progress = options.progress ?? (() => undefined);
  const tree = join(stateDir, "tree");
  const persistDir = join(stateDir, "kv");
  const tomlFile = join(stateDir, "mirrors.toml");
  const workerLog: WorkerLogLine[] = [];
  const servers: StackServer[] = [];
  let worker: LocalWorker | null = null;
  const stopBundling = new AbortController();
  let bundling: Promise<WorkerBundle> | null = null;
  let signing: DemoKeys | null = null;

  const stopAll = async (): Promise<void> => {
    stopBundling.abort(new Error("the local stack stopped before the worker was bundled"));
    await bundling?.catch(() => undefined);
    await worker?.stop().catch(() => undefined);
    worker = null;
    await Promise.all(servers.map(({ server }) => server.stop().catch(() => undefined)));
  };

  try {
    await mkdir(stateDir, { recursive: true });
    const config = await readWorkerConfig(join(PROJECT_DIR, "wrangler.toml"));
    const { kvNamespaceId } = config;
    bundling = bundleWorker(PROJECT_DIR, join(stateDir, "worker"), { config, signal: stopBundling.signal });
    bundling.catch(() => undefined);

    await ensureDemoTree(tree, progress);
    signing = await ensureDemoKeys(stateDir);
    for (const ref of await signDemoTree(tree, signing)) if (ref.added.length > 0) progress(`Signed ${ref.repository}:${ref.tag} (${ref.added.join(", ")}) with the demo keys in ${signing.dir}`);
    const kv = new LocalKvTarget(persistDir, kvNamespaceId);
    try {
      const plan = await publishTree(tree, kv);
      progress(`Published generation ${plan.generation} of ${tree} to ${kv.description}`);

      const originServer = await startMirrorServer({ root: tree });
      servers.push({ id: "origin", dir: tree, server: originServer });
      for (const spec of specs) {
        const dir = join(stateDir, "mirrors", spec.id);
        await rm(dir, { recursive: true, force: true });
        await cp(tree, dir, { recursive: true });
        servers.push({ id: spec.id, dir, server: await startMirrorServer({ root: dir, fault: faults.get(spec.id) ?? NO_FAULT }) });
      }
      const mirrored = specs.map((spec, index) => ({ ...spec, baseUrl: servers[index + 1]!.server.url }));
      await writeFile(tomlFile, mirrorsToml(originServer.url, mirrored));
      const table = await parseMirrorConfig(await readFile(tomlFile, "utf8"), tomlFile);
      await kv.putMirrors(table);
      progress(`Loaded ${table.mirrors.length} mirrors from ${tomlFile}`);
    } finally {
      await kv.close();
    }

    const bundle = await bundling;
    worker = await startLocalWorker({
      bundle,
      kvNamespaceId,
      persistDir: resourcePersistencePath(persistDir),
      port: options.port ?? 8787,
      client: options.client ?? DEFAULT_CLIENT_PLACE,
      vars: { ...LOCAL_CRAWL_VARS, ...options.vars },
      crawlIntervalMs: options.crawlIntervalMs ?? 5_000,
      onLog: (line) => {
        workerLog.push(line);
        options.onWorkerLog?.(line);
      },
    });
    if (worker.hasScheduled) {
      progress("Running the mirror crawler once");
      const outcome = await worker.crawl();
      if (outcome !== "ok") progress(`The crawler's first run ended with ${outcome}`);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }

  const running = worker;
  const [origin, ...mirrors] = servers as [StackServer, ...StackServer[]];
  return {
    url: running.url,
    port: running.port,
    registry: `127.0.0.1:${running.port}`,
    stateDir,
    tree,
    signing,
    persistDir,
    mirrorsToml: tomlFile,
    origin,
    mirrors,
    servers: () => servers.slice(),
    mirror: (id) => {
      const found = mirrors.find((mirror) => mirror.id === id);
      if (found === undefined) throw new Error(`the stack has no mirror ${id}`);
      return found;
    },
    syncMirrors: async () => {
      for (const mirror of mirrors) {
        await cp(join(tree, "blobs"), join(mirror.dir, "blobs"), { recursive: true, force: true });
        await cp(tree, mirror.dir, { recursive: true, force: true });
      }
    },
    accessLogs: () => Object.fromEntries(servers.map(({ id, server }) => [id, server.log()])),
    workerLog: () => workerLog.slice(),
    clearLogs: () => {
      for (const { server } of servers) server.clearLog();
      workerLog.splice(0);
    },
    crawls: running.hasScheduled,
    crawl: () => running.crawl(),
    stop: stopAll,
  };
}
