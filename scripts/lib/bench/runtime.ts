import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { crawlStateEntry, mirrorsEntry, putEntry } from "../../../src/store/encode";
import { runCommand } from "../process/processes";
import { publishTree } from "../publish/publish-tree";
import { writeDemoTree } from "../stack/demo-tree";
import { PROJECT_DIR } from "../stack/local-stack";
import { bundleWorker, type WorkerBundle } from "../stack/worker-bundle";
import { BenchKvTarget } from "./bench-kv-target";
import { heyVersion, runHey, type LoadRun } from "./hey";
import { runWrkPulls, wrkVersion } from "./wrk";
import { randomSource, randomTable } from "./random-tables";
import { referenceRegistryInstalled, startReferenceRegistry, type ReferenceRegistry } from "./reference-registry";
import { writeSyntheticTree, type SyntheticTree } from "./synthetic-tree";
import { freePort, processUsage, startWorkerd, workerdBinary, type WorkerdWorker } from "./workerd";

/** How long and how often: the full run stays under about ten minutes on two cores, BENCH_QUICK=1 under two. */
export interface RuntimeBenchOptions {
  quick: boolean;
  /** Where bench-results.json goes. */
  resultsFile: string;
  /** Measure only the targets whose group and name contain this text. */
  only?: string;
  /** Rounds per target instead of the mode's own (1 quick, 3 full). */
  roundsOverride?: number;
}

const MANIFEST_ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");
const METALINK_ACCEPT = "application/metalink4+xml";

/** The header workerd reads `request.cf` from on the bench's sockets. */
const CF_BLOB_HEADER = "CF-Blob";
/** Frankfurt, as the edge would describe a client there (the fields selection reads). */
const FRANKFURT = JSON.stringify({ country: "DE", continent: "EU", asn: 64500, latitude: "50.11090", longitude: "8.68210", colo: "FRA" });
/**
 * One client for every front door request, in Frankfurt: retry memory
 * remembers it, so every blob GET after the first is a come-back.
 */
const CLIENT_HEADERS = { "CF-Connecting-IP": "203.0.113.7", "User-Agent": "bench/1", [CF_BLOB_HEADER]: FRANKFURT };

interface Target {
  name: string;
  /** Which group of the table it belongs to. */
  group: string;
  url: string;
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  expect: number;
  /** The process whose CPU it costs. */
  pid: () => number;
  /** Load shaped like pulls, by wrk (hey sends one set of headers): client after client asks each of these paths once. Its baseline runs are wrk's too. */
  pulls?: readonly string[];
}

interface TargetResult {
  name: string;
  group: string;
  url: string;
  method: string;
  rounds: Array<{ run: LoadRun; cpuMicrosPerRequest: number; baselinePerSecond: number }>;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  unexpected: number;
  cpuMicrosPerRequest: number;
  ratioToBaseline: number;
}

function median(values: number[]): number {
  const sorted = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

let pullRuns = 0;

async function measured(target: Target, seconds: number, concurrency: number, work: string): Promise<{ run: LoadRun; cpuMicrosPerRequest: number }> {
  const pid = target.pid();
  const load = { url: target.url, method: target.method ?? "GET", headers: target.headers ?? {}, seconds, concurrency };
  const before = await processUsage(pid);
  const run =
    target.pulls === undefined
      ? await runHey(load)
      : await runWrkPulls(new URL(target.url).origin, load, { scriptFile: join(work, "pulls.lua"), agentPrefix: `bench-pull/${++pullRuns}`, paths: target.pulls });
  const after = await processUsage(pid);
  return { run, cpuMicrosPerRequest: run.requests === 0 ? NaN : (after.cpuMicros - before.cpuMicros) / run.requests };
}

function unexpectedAnswers(run: LoadRun, expect: number): number {
  let count = 0;
  for (const [status, answers] of run.statuses) if (status !== expect) count += answers;
  return count;
}

/** One answer of a running front door, as the bare worker's `ANSWER` binding replays it (its length is the runtime's to set). */
async function copyAnswer(answerUrl: string, headers: Record<string, string>): Promise<{ status: number; headers: Array<[string, string]>; body: string | null }> {
  const response = await fetch(answerUrl, { headers, redirect: "manual" });
  const body = await response.text();
  return { status: response.status, headers: [...response.headers].filter(([name]) => name !== "content-length"), body: body === "" ? null : body };
}

async function bareBundle(outDir: string, compatibilityDate: string): Promise<WorkerBundle> {
  await mkdir(outDir, { recursive: true });
  const configFile = join(outDir, "wrangler.bare.toml");
  const main = join(PROJECT_DIR, "scripts", "lib", "bench", "bare-worker.ts");
  // Bundled as wrangler.toml bundles the front door (minified, no keep_names), so the two differ in their code alone.
  await writeFile(configFile, `name = "bench-bare"\nmain = ${JSON.stringify(main)}\ncompatibility_date = ${JSON.stringify(compatibilityDate)}\nminify = true\nkeep_names = false\n`);
  const config = { main, compatibilityDate, compatibilityFlags: [], vars: {}, crons: [], kvNamespaceId: "none" };
  return bundleWorker(PROJECT_DIR, join(outDir, "bare"), { config, configFile });
}

interface PublishRow {
  tags: number;
  repositories: number;
  run: "fresh" | "no-op" | "one tag changed";
  seconds: number;
  writes: number;
  deletes: number;
  generation: number;
}

/** Publishes a synthetic tree of `tags` tags three times into `target`: fresh, unchanged, and with one tag changed. */
async function publishRuns(dir: string, tags: number, target: BenchKvTarget): Promise<{ rows: PublishRow[]; tree: SyntheticTree }> {
  const repositories = Math.max(1, tags / 10);
  const tree = writeSyntheticTree(dir, repositories, tags);
  const rows: PublishRow[] = [];
  const once = async (run: PublishRow["run"]) => {
    const before = { ...target.kv.counts };
    const started = performance.now();
    const plan = await publishTree(dir, target);
    rows.push({
      tags,
      repositories,
      run,
      seconds: (performance.now() - started) / 1000,
      writes: target.kv.counts.writes - before.writes,
      deletes: target.kv.counts.deletes - before.deletes,
      generation: plan.generation,
    });
  };
  await once("fresh");
  await once("no-op");
  writeSyntheticTree(dir, repositories, tags, 1);
  await once("one tag changed");
  return { rows, tree };
}

async function toolVersions(): Promise<Record<string, string>> {
  const workerd = await runCommand(workerdBinary(), ["--version"], { timeoutMs: 5_000 });
  const wrangler = JSON.parse(await readFile(join(PROJECT_DIR, "node_modules", "wrangler", "package.json"), "utf8")) as { version: string };
  return { node: process.version, workerd: workerd.stdout.trim(), wrangler: wrangler.version, hey: await heyVersion(), wrk: await wrkVersion() };
}

function fixed(value: number, digits = 0): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "-";
}

/**
 * The bundled worker on workerd directly (a capnp config, no Miniflare entry
 * worker, no dev proxy) against a bare Hono worker answering a constant 307,
 * in one run: interleaved rounds (baseline, target) per target, medians.
 */
export async function runtimeBench({ quick, resultsFile, only, roundsOverride }: RuntimeBenchOptions): Promise<boolean> {
  const startedAt = performance.now();
  const seconds = quick ? 0.5 : 1.5;
  const rounds = roundsOverride ?? (quick ? 1 : 3);
  const concurrency = 16;
  const work = join(PROJECT_DIR, ".bench");
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const processes: Array<{ stop(): Promise<void> }> = [];
  try {
    const bundle = await bundleWorker(PROJECT_DIR, join(work, "bundle"));
    const bare = await bareBundle(join(work, "bare-bundle"), bundle.config.compatibilityDate);
    const bundleBytes = await readFile(bundle.script);
    const bundleSize = { rawBytes: bundleBytes.byteLength, gzipBytes: gzipSync(bundleBytes).byteLength };

    // Backing services: one KV socket per namespace, the Cache API, an admin socket for counts.
    const namespaces = ["demo", "demo1000", "pub100", "pub1000", "synthetic"] as const;
    const ports = new Map<string, number>();
    for (const name of ["admin", "cache", ...namespaces]) ports.set(name, await freePort());
    const backing = await startWorkerd(work, "backing", {
      workers: [{ name: "backing", module: join(PROJECT_DIR, "scripts", "lib", "bench", "backing-services.worker.js"), compatibilityDate: bundle.config.compatibilityDate }],
      sockets: [
        { name: "admin", port: ports.get("admin")!, service: "backing" },
        { name: "cache", port: ports.get("cache")!, service: "backing", injectRequestHeaders: [["X-Bench-Role", "cache"]] },
        ...namespaces.map((name) => ({ name: `kv-${name}`, port: ports.get(name)!, service: "backing", injectRequestHeaders: [["X-Bench-Role", `kv:${name}`] as [string, string]] })),
      ],
    });
    processes.push(backing);
    const kvTarget = (name: (typeof namespaces)[number]) => new BenchKvTarget(`http://127.0.0.1:${ports.get(name)}`);

    // Content: the demo image, and synthetic trees published fresh, unchanged and with one tag changed.
    const demoTree = join(work, "demo-tree");
    const demoRef = await writeDemoTree(demoTree);
    const demoTargets = [kvTarget("demo"), kvTarget("demo1000")];
    for (const target of demoTargets) await publishTree(demoTree, target, { writeTree: false });
    const demoPublication = await demoTargets[0]!.readPublication();
    const publishSizes = quick ? [100, 1000] : [100, 1000, 10_000];
    const publishRows: PublishRow[] = [];
    let synthetic: SyntheticTree | null = null;
    for (const tags of publishSizes) {
      const namespace = tags === 100 ? "pub100" : tags === 1000 && !quick ? "pub1000" : "synthetic";
      const { rows, tree } = await publishRuns(join(work, `tree-${tags}`), tags, kvTarget(namespace));
      publishRows.push(...rows);
      if (namespace === "synthetic") synthetic = tree;
    }
    const tables = { 10: randomTable(10, randomSource(17)), 1000: randomTable(1000, randomSource(1017)) };
    for (const [name, size] of [["demo", 10], ["demo1000", 1000], ["synthetic", 1000]] as const) {
      const kv = kvTarget(name).kv.asNamespace();
      await putEntry(kv, mirrorsEntry(tables[size].table));
      await putEntry(kv, crawlStateEntry(tables[size].crawl, `bench-crawl-${size}`));
    }

    // The front door in one workerd process, one worker per setup; the baseline in another.
    const frontPorts = new Map<string, number>();
    const frontWorkers: WorkerdWorker[] = [];
    const setups: Array<[string, (typeof namespaces)[number], Record<string, string>]> = [
      ["demo", "demo", {}],
      ["demo-retry-off", "demo", { RETRY_MEMORY: "off" }],
      ["demo-retry-isolate", "demo", { RETRY_MEMORY: "isolate" }],
      ["demo1000", "demo1000", {}],
      ["demo-list5", "demo", { RETRY_MEMORY: "off", MIRROR_LIST_CAP: "5" }],
      ["demo1000-list5", "demo1000", { RETRY_MEMORY: "off", MIRROR_LIST_CAP: "5" }],
      ["synthetic", "synthetic", {}],
      ["demo-log-all", "demo", { REQUEST_LOG: "all" }],
    ];
    for (const [name, namespace, vars] of setups) {
      frontPorts.set(name, await freePort());
      frontWorkers.push({
        name,
        module: bundle.script,
        compatibilityDate: bundle.config.compatibilityDate,
        compatibilityFlags: bundle.config.compatibilityFlags,
        bindings: [
          { name: "REGISTRY", kvNamespace: `kv-${namespace}` },
          ...Object.entries({ ...bundle.config.vars, FRONTDOOR_ENV: "production", ...vars }).map(([key, text]) => ({ name: key, text })),
        ],
        cacheApiOutbound: "cache",
      });
    }
    const front = await startWorkerd(work, "frontdoor", {
      workers: frontWorkers,
      external: [{ name: "cache", port: ports.get("cache")! }, ...namespaces.map((name) => ({ name: `kv-${name}`, port: ports.get(name)! }))],
      sockets: setups.map(([name]) => ({ name, port: frontPorts.get(name)!, service: name, cfBlobHeader: CF_BLOB_HEADER })),
    });
    processes.push(front);
    // Targets, and the baselines' copies of their answers.
    const demoIndex = JSON.parse(await readFile(join(demoTree, "index.json"), "utf8")) as { manifests: Array<{ digest: string }> };
    const demoDigest = demoIndex.manifests[0]!.digest;
    const demoImageIndex = JSON.parse(await readFile(join(demoTree, "blobs", "sha256", demoDigest.slice(7)), "utf8")) as { manifests: Array<{ digest: string }> };
    const demoManifest = JSON.parse(await readFile(join(demoTree, "blobs", "sha256", demoImageIndex.manifests[0]!.digest.slice(7)), "utf8")) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const demoLayer = demoManifest.layers[0]!.digest;
    const [demoRepository, demoTag] = [demoRef.slice(0, demoRef.lastIndexOf(":")), demoRef.slice(demoRef.lastIndexOf(":") + 1)];
    // What pulling the image's first platform asks for, blob by blob; and the setups measured under load shaped like pulls.
    const demoPullPaths = [demoManifest.config.digest, ...demoManifest.layers.map((layer) => layer.digest)].map((digest) => `/v2/${demoRepository}/blobs/${digest}`);
    const pullSetups = [["demo", ""], ["demo-retry-isolate", ", RETRY_MEMORY=isolate"], ["demo-retry-off", ", RETRY_MEMORY=off"]] as const;
    const frontPid = () => front.pid;
    const url = (setup: string, path: string) => `http://127.0.0.1:${frontPorts.get(setup)}${path}`;
    // Copies of front door answers for the baseline process, so the table shows what the bytes alone cost.
    const copies = new Map<string, number>();
    const copiedAnswers = [
      ["copy-v2", url("demo", "/v2/")],
      ["copy-blob", url("demo-retry-off", `/v2/${demoRepository}/blobs/${demoLayer}`)],
      ["copy-manifest", url("demo", `/v2/${demoRepository}/manifests/${demoTag}`)],
      ["copy-metalink", url("demo", `/v2/${demoRepository}/blobs/${demoLayer}`)],
    ] as const;
    const copyAccept: Partial<Record<(typeof copiedAnswers)[number][0], string>> = { "copy-manifest": MANIFEST_ACCEPT, "copy-metalink": METALINK_ACCEPT };
    const copyWorkers: WorkerdWorker[] = [];
    for (const [name, answerUrl] of copiedAnswers) {
      copies.set(name, await freePort());
      const accept = copyAccept[name];
      const headers = accept === undefined ? CLIENT_HEADERS : { ...CLIENT_HEADERS, Accept: accept };
      copyWorkers.push({ name, module: bare.script, compatibilityDate: bundle.config.compatibilityDate, bindings: [{ name: "ANSWER", text: JSON.stringify(await copyAnswer(answerUrl, headers)) }] });
    }
    const barePort = await freePort();
    const baseline = await startWorkerd(work, "bare", {
      workers: [{ name: "bare", module: bare.script, compatibilityDate: bundle.config.compatibilityDate }, ...copyWorkers],
      // Read `request.cf` from the same header as the front door's sockets, so both runtimes handle the same request alike.
      sockets: [{ name: "bare", port: barePort, service: "bare", cfBlobHeader: CF_BLOB_HEADER }, ...[...copies].map(([name, port]) => ({ name, port, service: name, cfBlobHeader: CF_BLOB_HEADER }))],
    });
    processes.push(baseline);

    let registry: ReferenceRegistry | null = null;
    if (await referenceRegistryInstalled()) {
      registry = await startReferenceRegistry(join(work, "registry"), demoTree, demoRef);
      processes.push(registry.daemon);
    }

    const scenario = (setup: string, group: string, repository: string, tag: string, manifest: string, layer: string): Target[] => [
      { name: "GET /v2/", group, url: url(setup, "/v2/"), expect: 200, pid: frontPid },
      { name: "HEAD manifest by tag", group, url: url(setup, `/v2/${repository}/manifests/${tag}`), method: "HEAD", headers: { Accept: MANIFEST_ACCEPT }, expect: 200, pid: frontPid },
      { name: "GET manifest by tag", group, url: url(setup, `/v2/${repository}/manifests/${tag}`), headers: { Accept: MANIFEST_ACCEPT }, expect: 200, pid: frontPid },
      { name: "GET manifest by digest", group, url: url(setup, `/v2/${repository}/manifests/${manifest}`), headers: { Accept: MANIFEST_ACCEPT }, expect: 200, pid: frontPid },
      { name: "GET blob (307)", group, url: url(setup, `/v2/${repository}/blobs/${layer}`), expect: 307, pid: frontPid },
      { name: "GET blob metalink", group, url: url(setup, `/v2/${repository}/blobs/${layer}`), headers: { Accept: METALINK_ACCEPT }, expect: 200, pid: frontPid },
      { name: "GET /status.json", group, url: url(setup, "/status.json"), expect: 200, pid: frontPid },
      { name: "GET / (status page)", group, url: url(setup, "/"), expect: 200, pid: frontPid },
    ];
    const targets: Target[] = [
      ...scenario("demo", "demo, 10 mirrors", demoRepository, demoTag, demoDigest, demoLayer),
      ...(synthetic === null
        ? []
        : scenario("synthetic", `synthetic: ${synthetic.repositories} repositories, ${synthetic.tags} tags, 1,000 mirrors`, synthetic.sample.repository, synthetic.sample.tag, synthetic.sample.manifest, synthetic.sample.layer)),
      { name: "GET blob (307), 1,000 mirrors", group: "mirrors and retry memory (demo)", url: url("demo1000", `/v2/${demoRepository}/blobs/${demoLayer}`), expect: 307, pid: frontPid },
      { name: "GET blob (307), 1,000 mirrors, client without location", group: "mirrors and retry memory (demo)", url: url("demo1000", `/v2/${demoRepository}/blobs/${demoLayer}`), headers: { [CF_BLOB_HEADER]: "{}" }, expect: 307, pid: frontPid },
      { name: "GET blob (307), RETRY_MEMORY=isolate", group: "mirrors and retry memory (demo)", url: url("demo-retry-isolate", `/v2/${demoRepository}/blobs/${demoLayer}`), expect: 307, pid: frontPid },
      { name: "GET blob (307), RETRY_MEMORY=off", group: "mirrors and retry memory (demo)", url: url("demo-retry-off", `/v2/${demoRepository}/blobs/${demoLayer}`), expect: 307, pid: frontPid },
      ...pullSetups.map(([setup, suffix]): Target => ({ name: `GET blob (307), pulls${suffix}`, group: "mirrors and retry memory (demo)", url: url(setup, "/"), expect: 307, pid: frontPid, pulls: demoPullPaths })),
      // The same list length from both tables (the 10-mirror one qualifies only about half its mirrors), so only the table's size differs.
      { name: "GET blob (307), 10 mirrors, lists of 5, RETRY_MEMORY=off", group: "mirrors and retry memory (demo)", url: url("demo-list5", `/v2/${demoRepository}/blobs/${demoLayer}`), expect: 307, pid: frontPid },
      { name: "GET blob (307), 1,000 mirrors, lists of 5, RETRY_MEMORY=off", group: "mirrors and retry memory (demo)", url: url("demo1000-list5", `/v2/${demoRepository}/blobs/${demoLayer}`), expect: 307, pid: frontPid },
      { name: "GET manifest by tag, REQUEST_LOG=all", group: "mirrors and retry memory (demo)", url: url("demo-log-all", `/v2/${demoRepository}/manifests/${demoTag}`), headers: { Accept: MANIFEST_ACCEPT }, expect: 200, pid: frontPid },
      { name: "hostile 32 KB path (414)", group: "mirrors and retry memory (demo)", url: url("demo", `/v2/${"/".repeat(16_000)}blobs/sha256:${"5e".repeat(32)}`), expect: 414, pid: frontPid },
    ];
    const copyGroup = "bare Hono answering a copy of a front door answer";
    // The copies are asked with the path and headers of the request they copy, so both sides parse the same request.
    const copyUrl = (name: (typeof copiedAnswers)[number][0]) => `http://127.0.0.1:${copies.get(name)}${new URL(copiedAnswers.find(([copy]) => copy === name)![1]).pathname}`;
    targets.push(
      { name: "copy of GET /v2/", group: copyGroup, url: copyUrl("copy-v2"), expect: 200, pid: () => baseline.pid },
      { name: "copy of GET manifest by tag", group: copyGroup, url: copyUrl("copy-manifest"), headers: { Accept: MANIFEST_ACCEPT }, expect: 200, pid: () => baseline.pid },
      { name: "copy of GET blob (307), RETRY_MEMORY=off", group: copyGroup, url: copyUrl("copy-blob"), expect: 307, pid: () => baseline.pid },
      { name: "copy of GET blob metalink", group: copyGroup, url: copyUrl("copy-metalink"), headers: { Accept: METALINK_ACCEPT }, expect: 200, pid: () => baseline.pid },
    );
    if (registry !== null) {
      const registryUrl = registry.url;
      targets.push(
        { name: "reference registry: GET manifest by tag", group: "reference registry", url: `${registryUrl}/v2/${demoRepository}/manifests/${demoTag}`, headers: { Accept: MANIFEST_ACCEPT }, expect: 200, pid: () => registry!.daemon.pid },
        { name: "reference registry: GET blob (200, bytes)", group: "reference registry", url: `${registryUrl}/v2/${demoRepository}/blobs/${demoLayer}`, expect: 200, pid: () => registry!.daemon.pid },
      );
    }
    if (only !== undefined) targets.splice(0, targets.length, ...targets.filter((target) => `${target.group} ${target.name}`.includes(only)));
    for (const target of targets) if (target.pid === frontPid || target.group === copyGroup) target.headers = { ...CLIENT_HEADERS, ...(target.headers ?? {}) };
    // The same client headers on the baseline, so both parse the same request.
    const bareHeaders = { ...CLIENT_HEADERS };
    const bareTarget: Target = { name: "bare Hono 307", group: "baseline", url: `http://127.0.0.1:${barePort}/v2/x/blobs/y`, headers: bareHeaders, expect: 307, pid: () => baseline.pid };

    // Warm-up: every isolate built, every cache filled, before anything is measured.
    for (const target of [bareTarget, ...targets]) await runHey({ url: target.url, method: target.method ?? "GET", headers: target.headers ?? {}, seconds: 0.3, concurrency: 4 });

    const results = new Map<string, TargetResult>(
      targets.map((target) => [target.name + target.group, { name: target.name, group: target.group, url: target.url.length > 200 ? `${target.url.slice(0, 60)}…(${target.url.length} characters)` : target.url, method: target.method ?? "GET", rounds: [], perSecond: 0, p50Ms: 0, p99Ms: 0, errors: 0, unexpected: 0, cpuMicrosPerRequest: 0, ratioToBaseline: 0 }]),
    );
    const baselineRuns: Array<{ run: LoadRun; cpuMicrosPerRequest: number }> = [];
    const unexpectedStatuses = new Map<string, string>();
    for (let round = 0; round < rounds; round++) {
      for (const target of targets) {
        const base = await measured(target.pulls === undefined ? bareTarget : { ...bareTarget, pulls: target.pulls }, seconds, concurrency, work);
        if (target.pulls === undefined) baselineRuns.push(base);
        const measurement = await measured(target, seconds, concurrency, work);
        const result = results.get(target.name + target.group)!;
        result.rounds.push({ ...measurement, baselinePerSecond: base.run.perSecond });
        result.errors += measurement.run.errors;
        result.unexpected += unexpectedAnswers(measurement.run, target.expect);
        for (const [status, answers] of measurement.run.statuses) if (status !== target.expect) unexpectedStatuses.set(target.name + target.group, `${unexpectedStatuses.get(target.name + target.group) ?? ""} ${answers}×${status}`);
      }
    }
    for (const result of results.values()) {
      result.perSecond = median(result.rounds.map((r) => r.run.perSecond));
      result.p50Ms = median(result.rounds.map((r) => r.run.p50Ms));
      result.p99Ms = median(result.rounds.map((r) => r.run.p99Ms));
      result.cpuMicrosPerRequest = median(result.rounds.map((r) => r.cpuMicrosPerRequest));
      result.ratioToBaseline = median(result.rounds.map((r) => r.run.perSecond / r.baselinePerSecond));
    }
    const baselineErrors = baselineRuns.reduce((sum, r) => sum + r.run.errors + unexpectedAnswers(r.run, 307), 0);
    const baselineSummary = {
      perSecond: median(baselineRuns.map((r) => r.run.perSecond)),
      p50Ms: median(baselineRuns.map((r) => r.run.p50Ms)),
      p99Ms: median(baselineRuns.map((r) => r.run.p99Ms)),
      cpuMicrosPerRequest: median(baselineRuns.map((r) => r.cpuMicrosPerRequest)),
      errors: baselineErrors,
    };

    // Cold start: a fresh workerd with the demo front door, spawn to the first answer.
    const coldStarts: Array<{ readyMs: number; firstAnswerMs: number }> = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const port = await freePort();
      const cold = await startWorkerd(work, `cold-${i}`, {
        workers: [{ ...frontWorkers[0]!, name: "cold" }],
        external: [{ name: "cache", port: ports.get("cache")! }, { name: "kv-demo", port: ports.get("demo")! }],
        sockets: [{ name: "cold", port, service: "cold" }],
      });
      const asked = performance.now();
      const answer = await fetch(`http://127.0.0.1:${port}/v2/`);
      await answer.arrayBuffer();
      coldStarts.push({ readyMs: cold.readyMs, firstAnswerMs: cold.readyMs + (performance.now() - asked) });
      await cold.stop();
    }

    const memory = { frontdoorRssBytes: (await processUsage(front.pid)).rssBytes, baselineRssBytes: (await processUsage(baseline.pid)).rssBytes };
    const report = {
      date: new Date().toISOString(),
      quick,
      cores: cpus().length,
      tools: { ...(await toolVersions()), ...(registry === null ? {} : { referenceRegistry: registry.version }) },
      load: { generator: "hey; wrk for the targets shaped like pulls", seconds, concurrency, rounds, interleaved: "bare baseline run before every target run" },
      bundle: bundleSize,
      coldStart: { readyMs: median(coldStarts.map((c) => c.readyMs)), firstAnswerMs: median(coldStarts.map((c) => c.firstAnswerMs)) },
      memory,
      baseline: baselineSummary,
      targets: [...results.values()],
      publish: publishRows,
      demoGeneration: demoPublication?.generation ?? null,
      elapsedSeconds: (performance.now() - startedAt) / 1000,
    };
    await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);
    printReport(report);
    const failed = [...results.values()].filter((result) => result.errors > 0 || result.unexpected > 0);
    for (const result of failed) console.error(`FAILED: ${result.group} / ${result.name}: ${result.errors} errors, ${result.unexpected} unexpected answers${unexpectedStatuses.has(result.name + result.group) ? ` (status:${unexpectedStatuses.get(result.name + result.group)})` : ""}`);
    if (baselineErrors > 0) console.error(`FAILED: baseline: ${baselineErrors} errors or unexpected answers`);
    return failed.length === 0 && baselineErrors === 0;
  } finally {
    for (const process of processes.reverse()) await process.stop().catch(() => undefined);
  }
}

type Report = {
  cores: number;
  tools: Record<string, string>;
  load: { seconds: number; concurrency: number; rounds: number };
  bundle: { rawBytes: number; gzipBytes: number };
  coldStart: { readyMs: number; firstAnswerMs: number };
  memory: { frontdoorRssBytes: number };
  baseline: { perSecond: number; p50Ms: number; p99Ms: number; cpuMicrosPerRequest: number; errors: number };
  targets: TargetResult[];
  publish: PublishRow[];
  elapsedSeconds: number;
};

function printReport(report: Report): void {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  console.log(
    `\nThe bundled worker on workerd directly (${report.tools.workerd}), ${report.cores} cores, hey with ${report.load.concurrency} connections, ` +
      `${report.load.rounds} interleaved round(s) of ${report.load.seconds} s per target, medians; ratio = target req/s ÷ the bare Hono 307 in the same round.\n`,
  );
  console.log("| target | req/s | p50 ms | p99 ms | errors | CPU µs/req | ÷ bare |");
  console.log("|---|---|---|---|---|---|---|");
  const b = report.baseline;
  console.log(`| baseline: bare Hono 307 | ${fixed(b.perSecond)} | ${fixed(b.p50Ms, 2)} | ${fixed(b.p99Ms, 2)} | ${b.errors} | ${fixed(b.cpuMicrosPerRequest)} | 1.00 |`);
  let group = "";
  for (const t of report.targets) {
    if (t.group !== group) {
      group = t.group;
      console.log(`| **${group}** | | | | | | |`);
    }
    console.log(`| ${t.name} | ${fixed(t.perSecond)} | ${fixed(t.p50Ms, 2)} | ${fixed(t.p99Ms, 2)} | ${t.errors + t.unexpected} | ${fixed(t.cpuMicrosPerRequest)} | ${fixed(t.ratioToBaseline, 2)} |`);
  }
  const find = (name: string, groupStart = "") => report.targets.find((t) => t.name === name && t.group.startsWith(groupStart));
  const ratio = (a: TargetResult | undefined, b: TargetResult | undefined) => (a === undefined || b === undefined ? "-" : `${(a.perSecond / b.perSecond).toFixed(2)}x`);
  console.log("");
  console.log(
    `- blob 307, 1,000 vs 10 mirrors: ${ratio(find("GET blob (307), 1,000 mirrors, lists of 5, RETRY_MEMORY=off"), find("GET blob (307), 10 mirrors, lists of 5, RETRY_MEMORY=off"))} with lists of 5 from both and retry memory off, ` +
      `${ratio(find("GET blob (307), 1,000 mirrors"), find("GET blob (307)", "demo"))} with the defaults (lists of 10 from 1,000 mirrors, of 6 from the 10, and every ask a come-back)`,
  );
  console.log(`- blob 307, retry memory on vs off: ${ratio(find("GET blob (307)", "demo"), find("GET blob (307), RETRY_MEMORY=off"))} (isolate vs off: ${ratio(find("GET blob (307), RETRY_MEMORY=isolate"), find("GET blob (307), RETRY_MEMORY=off"))}) with every ask a come-back; ${ratio(find("GET blob (307), pulls"), find("GET blob (307), pulls, RETRY_MEMORY=off"))} in pulls (isolate vs off: ${ratio(find("GET blob (307), pulls, RETRY_MEMORY=isolate"), find("GET blob (307), pulls, RETRY_MEMORY=off"))})`);
  console.log(`- manifest by tag with a request log line for every request (REQUEST_LOG=all) vs production's default (5xx only): ${ratio(find("GET manifest by tag, REQUEST_LOG=all"), find("GET manifest by tag", "demo"))}`);
  console.log(`- hostile 32 KB path vs GET manifest by tag: ${ratio(find("hostile 32 KB path (414)"), find("GET manifest by tag", "demo"))}`);
  console.log(
    `- front door vs a bare Hono worker answering a copy of its answer: /v2/ ${ratio(find("GET /v2/", "demo"), find("copy of GET /v2/"))}, manifest by tag ${ratio(find("GET manifest by tag", "demo"), find("copy of GET manifest by tag"))}, ` +
      `blob 307 with retry memory off ${ratio(find("GET blob (307), RETRY_MEMORY=off"), find("copy of GET blob (307), RETRY_MEMORY=off"))}, metalink ${ratio(find("GET blob metalink", "demo"), find("copy of GET blob metalink"))}; ` +
      `the copies vs the bare 307: ${[find("copy of GET /v2/"), find("copy of GET manifest by tag"), find("copy of GET blob (307), RETRY_MEMORY=off"), find("copy of GET blob metalink")].map((t) => (t === undefined ? "-" : `${t.ratioToBaseline.toFixed(2)}x`)).join(", ")}`,
  );
  console.log(`- vs the reference registry: manifest by tag ${ratio(find("GET manifest by tag", "demo"), find("reference registry: GET manifest by tag"))}, blob ${ratio(find("GET blob (307)", "demo"), find("reference registry: GET blob (200, bytes)"))}`);
  console.log(`- bundle: ${kib(report.bundle.rawBytes)} raw, ${kib(report.bundle.gzipBytes)} gzip; cold start: sockets ready ${fixed(report.coldStart.readyMs)} ms, first answer ${fixed(report.coldStart.firstAnswerMs)} ms after spawn`);
  console.log(`- front door workerd RSS after the run: ${(report.memory.frontdoorRssBytes / 2 ** 20).toFixed(0)} MiB`);
  console.log("\nPublishing synthetic trees (10 tags per repository) into the bench's KV service:\n");
  console.log("| tags | repositories | publication | seconds | KV writes | KV deletes | generation |");
  console.log("|---|---|---|---|---|---|---|");
  for (const row of report.publish) console.log(`| ${row.tags.toLocaleString("en-US")} | ${row.repositories.toLocaleString("en-US")} | ${row.run} | ${row.seconds.toFixed(2)} | ${row.writes} | ${row.deletes} | ${row.generation} |`);
  console.log(`\nbench took ${report.elapsedSeconds.toFixed(0)} s`);
}
