/**
 * `npm run bench`: selection time per request for 10 to 10,000 mirrors, and
 * index build time, over random but realistic mirror tables and clients; then
 * blob-redirect throughput of the bundled worker, and its ratio with retry memory on and off.
 * Loops are bounded in count and in time. Not a test: it prints a table.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { UNCHECKED } from "../src/crawl/health";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { selectMirrors, type ClientLocation, type SelectionRequest } from "../src/mirrors/select";
import { blobEntry, crawlStateEntry, mirrorsEntry, putEntry, tagListEntry } from "../src/store/encode";
import { buildHealthColumns, buildTableIndex, ringFor } from "../src/mirrors/selection-index";
import type { CrawlState, Mirror, MirrorTable } from "../src/mirrors/types";
import { PROJECT_DIR } from "./lib/stack/local-stack";
import { bundleWorker, type WorkerBundle } from "./lib/stack/worker-bundle";

/** Country, continent, rough centre, and a share of the world's mirrors (heavy-tailed, as in real mirror networks). */
const COUNTRIES: Array<[string, string, number, number, number]> = [
  ["US", "NA", 39, -98, 30], ["DE", "EU", 51, 10, 14], ["FR", "EU", 46, 2, 6], ["GB", "EU", 54, -2, 5],
  ["NL", "EU", 52, 5, 5], ["JP", "AS", 36, 138, 5], ["CN", "AS", 35, 103, 5], ["CA", "NA", 56, -106, 3],
  ["SE", "EU", 62, 15, 3], ["BR", "SA", -10, -55, 3], ["AU", "OC", -25, 134, 3], ["IN", "AS", 21, 78, 2],
  ["KR", "AS", 36, 128, 2], ["CH", "EU", 47, 8, 2], ["PL", "EU", 52, 19, 2], ["IT", "EU", 42, 12, 2],
  ["RU", "EU", 60, 90, 2], ["SG", "AS", 1.3, 103.8, 1], ["ZA", "AF", -29, 24, 1], ["AR", "SA", -34, -64, 1],
  ["FI", "EU", 64, 26, 1], ["CZ", "EU", 49.8, 15.5, 1], ["TW", "AS", 23.7, 121, 1], ["NZ", "OC", -41, 174, 0.5],
  ["KE", "AF", 0, 38, 0.3], ["CL", "SA", -30, -71, 0.5], ["MX", "NA", 23, -102, 0.5], ["IS", "EU", 65, -18, 0.1],
  ["NG", "AF", 9, 8, 0.2], ["VN", "AS", 16, 108, 0.4], ["EG", "AF", 27, 30, 0.2], ["PE", "SA", -10, -76, 0.2],
];

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same tables. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pickCountry(random: () => number): [string, string, number, number, number] {
  const total = COUNTRIES.reduce((sum, country) => sum + country[4], 0);
  let roll = random() * total;
  for (const country of COUNTRIES) {
    roll -= country[4];
    if (roll <= 0) return country;
  }
  return COUNTRIES[0]!;
}

function asnOf(country: string, random: () => number): number {
  return 64512 + COUNTRIES.findIndex((entry) => entry[0] === country) * 20 + Math.floor(random() * 20);
}

function ipv4Text(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join(".");
}

function randomTable(size: number, random: () => number): { table: MirrorTable; crawl: CrawlState } {
  const mirrors: Mirror[] = [];
  const crawl: CrawlState = {};
  for (let i = 0; i < size; i++) {
    const [country, continent, latitude, longitude] = pickCountry(random);
    const netblocks: string[] = [];
    if (random() < 0.3) netblocks.push(`${ipv4Text((Math.floor(random() * 0xffffff) << 8) >>> 0)}/${16 + Math.floor(random() * 9)}`);
    if (random() < 0.15) netblocks.push(`2001:db8:${Math.floor(random() * 0xffff).toString(16)}::/${32 + Math.floor(random() * 17)}`);
    const id = `mirror-${i}`;
    mirrors.push({
      id,
      baseUrl: `https://${id}.example.net/containers`,
      country,
      continent,
      ...(random() < 0.9 ? { latitude: latitude + (random() - 0.5) * 8, longitude: longitude + (random() - 0.5) * 8 } : {}),
      asns: random() < 0.6 ? [asnOf(country, random)] : [],
      netblocks,
      bandwidth: [100, 1000, 1000, 10000][Math.floor(random() * 4)]!,
      private: random() < 0.03,
      enabled: random() > 0.05,
    });
    const roll = random();
    const generation = roll < 0.02 ? -1 : roll < 0.1 ? 40 : 42;
    crawl[id] = { ...UNCHECKED, announced: generation, verified: generation, down: roll > 0.97, responseTime: 20 };
  }
  return { table: { version: `bench-${size}`, origin: { baseUrl: "https://origin.example.org/tree" }, mirrors }, crawl };
}

type ClientKind = "located" | "netblock" | "ipv6" | "unlocated";

function randomClient(table: MirrorTable, random: () => number): { kind: ClientKind; client: ClientLocation } {
  const [country, continent, latitude, longitude] = pickCountry(random);
  const roll = random();
  const located = { country, continent, asn: asnOf(country, random), latitude: latitude + (random() - 0.5) * 8, longitude: longitude + (random() - 0.5) * 8 };
  if (roll < 0.1) {
    const mirror = table.mirrors[Math.floor(random() * table.mirrors.length)]!;
    const block = mirror.netblocks.find((text) => !text.includes(":"));
    const ip = block === undefined ? ipv4Text(Math.floor(random() * 0xffffffff)) : block.split("/")[0]!.replace(/\.0$/, ".7");
    return { kind: "netblock", client: { ip, ...located } };
  }
  if (roll < 0.25) {
    const ip = `2001:db8:${Math.floor(random() * 0xffff).toString(16)}:${Math.floor(random() * 0xffff).toString(16)}::1`;
    return { kind: "ipv6", client: { ip, ...located } };
  }
  const ip = ipv4Text(Math.floor(random() * 0xffffffff));
  if (roll < 0.3) return { kind: "unlocated", client: { ip, country: null, continent: null, asn: null, latitude: null, longitude: null } };
  return { kind: "located", client: { ip, ...located } };
}

const SIZES = [10, 100, 1_000, 10_000];
const CLIENTS = 4096;
const MAX_ITERATIONS = 100_000;
const MAX_CPU_MS = 600;
const BUILD_REPEATS = 5;
const KINDS: ClientKind[] = ["located", "netblock", "ipv6", "unlocated"];

/** CPU time of this process in milliseconds: steadier than wall time on a machine shared with other work. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

function timed(repeats: number, work: () => void): number {
  const samples: number[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const started = cpuMs();
    work();
    samples.push(cpuMs() - started);
  }
  return median(samples);
}

/**
 * Mean CPU microseconds per selection over `requests`, cycled until the count or time bound. With
 * `crawlVersion` the isolate's cached index is used, as the worker does; without it each call rebuilds the health columns.
 */
function perSelection(table: MirrorTable, crawl: CrawlState, requests: SelectionRequest[], crawlVersion: string | null = null): number {
  if (requests.length === 0) return NaN;
  let count = 0;
  let sink = 0;
  const started = cpuMs();
  while (count < MAX_ITERATIONS && cpuMs() - started < MAX_CPU_MS) {
    for (let batch = 0; batch < 512; batch++, count++) sink += selectMirrors(table, crawl, requests[count % requests.length]!, crawlVersion).chosen.length;
  }
  const elapsed = cpuMs() - started;
  if (sink === 0) throw new Error("selection returned nothing");
  return (elapsed * 1000) / count;
}

function measure(size: number): { row: string[]; mean: number } {
  const random = randomSource(size);
  const { table, crawl } = randomTable(size, random);
  const tableBuild = timed(BUILD_REPEATS, () => buildTableIndex(table));
  const healthBuild = timed(BUILD_REPEATS, () => buildHealthColumns(table.mirrors, crawl));
  const fresh = buildTableIndex(table);
  const large = [fresh.world, fresh.unlocated, ...fresh.byContinent.values(), ...fresh.byCountry.values()].filter((list) => list.length >= fresh.ringThreshold);
  const ringBuild = timed(1, () => large.forEach((list) => ringFor(fresh, list)));

  const byKind = new Map<ClientKind, SelectionRequest[]>(KINDS.map((kind) => [kind, []]));
  for (let i = 0; i < CLIENTS; i++) {
    const { kind, client } = randomClient(table, random);
    byKind.get(kind)!.push({ client, generation: random() < 0.8 ? 30 : 42, repository: `library/image-${Math.floor(random() * 200)}`, limit: 10 });
  }
  for (const requests of byKind.values()) for (const request of requests) selectMirrors(table, crawl, request);
  const costs = KINDS.map((kind) => perSelection(table, crawl, byKind.get(kind)!));
  const mean = KINDS.reduce((sum, kind, i) => sum + (costs[i]! * byKind.get(kind)!.length) / CLIENTS, 0);
  return {
    mean,
    row: [
      size.toLocaleString("en-US"),
      mean.toFixed(2),
      ...costs.map((cost) => cost.toFixed(2)),
      tableBuild.toFixed(2),
      healthBuild.toFixed(2),
      large.length === 0 ? "-" : `${ringBuild.toFixed(1)} (${large.length})`,
    ],
  };
}

const WORKER_REQUESTS = 3000;
const WORKER_CONCURRENCY = 16;
const WORKER_MAX_MS = 60_000;
const REPOSITORY = "library/bench";
const DIGEST = `sha256:${"5e".repeat(32)}` as const;

interface Throughput {
  perSecond: number;
  redirects: number;
  /** Redirects that sent a client elsewhere than its first one: retry memory at work. */
  moved: number;
}

/** Blob redirects per second through the bundled worker on workerd, with `size` mirrors in KV and `vars` on top of the configured ones. */
async function workerThroughput({ script, config }: WorkerBundle, storage: string, size: number, vars: Record<string, string> = {}): Promise<Throughput> {
  const random = randomSource(size + 7);
  const { table, crawl } = randomTable(size, random);
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      name: "frontdoor-bench",
      modules: true,
      modulesRoot: dirname(script),
      scriptPath: script,
      compatibilityDate: config.compatibilityDate,
      compatibilityFlags: config.compatibilityFlags,
      bindings: { ...config.vars, FRONTDOOR_ENV: "production", ...vars },
      kvNamespaces: { REGISTRY: `bench-${size}` },
      resourcePersistencePath: join(storage, `${size}-${crypto.randomUUID()}`),
      handleStructuredLogs: () => undefined,
    }),
  );
  try {
    const kv = (await mf.getKVNamespace("REGISTRY")) as unknown as KVNamespace;
    for (const entry of [blobEntry(REPOSITORY, DIGEST, { size: 1024, generation: 30 }), tagListEntry(REPOSITORY, ["latest"]), mirrorsEntry(table), crawlStateEntry(crawl, `crawl-${size}`)]) {
      await putEntry(kv, entry);
    }
    const clients = Array.from({ length: 512 }, () => randomClient(table, random).client);
    const firstTarget = new Map<number, string>();
    let moved = 0;
    const send = async (i: number) => {
      const who = clients[i % clients.length]!;
      const response = await mf.dispatchFetch(`http://frontdoor.test/v2/${REPOSITORY}/blobs/${DIGEST}`, {
        redirect: "manual",
        headers: who.ip === null ? {} : { "CF-Connecting-IP": who.ip },
        cf: Object.fromEntries(Object.entries({ country: who.country, continent: who.continent, asn: who.asn, latitude: who.latitude?.toString(), longitude: who.longitude?.toString() }).filter(([, value]) => value != null)),
      });
      await response.arrayBuffer();
      const location = response.headers.get("Location") ?? "";
      const first = firstTarget.get(i % clients.length);
      if (first === undefined) firstTarget.set(i % clients.length, location);
      else if (first !== location) moved++;
      return response.status === 307;
    };
    for (let i = 0; i < 50; i++) await send(i);
    let next = 0;
    let redirects = 0;
    const started = performance.now();
    const workers = Array.from({ length: WORKER_CONCURRENCY }, async () => {
      while (next < WORKER_REQUESTS && performance.now() - started < WORKER_MAX_MS) {
        if (await send(next++)) redirects++;
      }
    });
    await Promise.all(workers);
    return { perSecond: (next * 1000) / (performance.now() - started), redirects, moved };
  } finally {
    await mf.dispose();
  }
}

async function measureWorkers(): Promise<void> {
  const outdir = mkdtempSync(join(tmpdir(), "frontdoor-bench-"));
  try {
    const bundle = await bundleWorker(PROJECT_DIR, join(outdir, "bundle"));
    const rows: Array<[number, Throughput]> = [];
    for (const size of [10, 10_000]) rows.push([size, await workerThroughput(bundle, join(outdir, "storage"), size)]);
    console.log(`\nBundled worker on workerd (Miniflare), ${WORKER_REQUESTS} blob GETs, ${WORKER_CONCURRENCY} in flight, FRONTDOOR_ENV=production:\n`);
    console.log("| mirrors | redirects/s | 307 answers |");
    console.log("|---|---|---|");
    for (const [size, { perSecond, redirects }] of rows) console.log(`| ${size.toLocaleString("en-US")} | ${perSecond.toFixed(0)} | ${redirects} |`);
    console.log(`\nthroughput, 10,000 vs 10 mirrors: ${(rows[1]![1].perSecond / rows[0]![1].perSecond).toFixed(2)}x`);
    await measureRetryMemory(bundle, join(outdir, "storage"));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Rounds of off/on, alternated so that load from other work on the machine falls on both alike. */
const RETRY_MEMORY_ROUNDS = 2;

/**
 * Blob-redirect throughput with retry memory on, as a ratio of it off (`RETRY_MEMORY`), at 10 mirrors.
 * 512 clients ask for one blob about six times each, so most asks are come-backs that read and write the memory.
 */
async function measureRetryMemory(bundle: WorkerBundle, storage: string): Promise<void> {
  const modes = ["off", "isolate", "on"] as const;
  const runs = new Map<(typeof modes)[number], Throughput[]>(modes.map((mode) => [mode, []]));
  for (let round = 0; round < RETRY_MEMORY_ROUNDS; round++) {
    for (const mode of modes) runs.get(mode)!.push(await workerThroughput(bundle, storage, 10, { RETRY_MEMORY: mode }));
  }
  const mean = (mode: (typeof modes)[number]) => runs.get(mode)!.reduce((sum, run) => sum + run.perSecond, 0) / RETRY_MEMORY_ROUNDS;
  const moved = (mode: (typeof modes)[number]) => runs.get(mode)!.reduce((sum, run) => sum + run.moved, 0);
  console.log(`\nRetry memory, 10 mirrors, ${RETRY_MEMORY_ROUNDS} rounds of ${WORKER_REQUESTS} blob GETs per mode, 512 clients asking about 6 times each:\n`);
  console.log("| RETRY_MEMORY | redirects/s | sent elsewhere than the client's first target |");
  console.log("|---|---|---|");
  for (const mode of modes) console.log(`| ${mode} | ${mean(mode).toFixed(0)} | ${moved(mode)} |`);
  console.log(`\nblob-redirect throughput, retry memory on vs off: ${(mean("on") / mean("off")).toFixed(2)}x (isolate only vs off: ${(mean("isolate") / mean("off")).toFixed(2)}x)`);
}

const header = ["mirrors", "µs/selection (mix)", "located", "netblock", "ipv6", "no location", "table index ms", "health columns ms", "ring build ms (tiers)"];
const results = SIZES.map(measure);
console.log("CPU time per selection; client mix: 70% located IPv4, 10% inside a mirror netblock, 15% IPv6, 5% no location.\n");
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---").join("|")}|`);
for (const { row } of results) console.log(`| ${row.join(" | ")} |`);
const first = results[0]!.mean;
const last = results[results.length - 1]!.mean;
console.log(`\nper-selection time, 10,000 vs 10 mirrors: ${(last / first).toFixed(2)}x`);

/**
 * The same 10,000-mirror table and client mix twice in one run: once with
 * every mirror carrying the whole tree, once with 50 content sets (80% of
 * mirrors carry 1 to 3 of them, the rest the whole tree; each blob is in 1
 * or 2 sets), so the figure is a ratio on the same machine at the same time.
 */
function setsRatio(size: number, setCount: number): { plain: number; withSets: number } {
  const random = randomSource(size + 50);
  const { table, crawl } = randomTable(size, random);
  const names = Array.from({ length: setCount }, (_, i) => `set-${i}`);
  const pick = () => names[Math.floor(random() * setCount)]!;
  const subscribed: MirrorTable = {
    ...table,
    version: `${table.version}-sets`,
    mirrors: table.mirrors.map((mirror) => (random() < 0.8 ? { ...mirror, sets: [...new Set(Array.from({ length: 1 + Math.floor(random() * 3) }, pick))] } : mirror)),
  };
  const requests: SelectionRequest[] = [];
  for (let i = 0; i < CLIENTS; i++) {
    const { client } = randomClient(table, random);
    requests.push({ client, generation: random() < 0.8 ? 30 : 42, repository: `library/image-${Math.floor(random() * 200)}`, limit: 10, sets: random() < 0.5 ? [pick()] : [pick(), pick()] });
  }
  const plainRequests = requests.map(({ sets: _sets, ...request }) => request);
  // Through the isolate's index cache, keyed by the crawl version, as the blob route selects.
  for (const request of plainRequests) selectMirrors(table, crawl, request, "bench");
  const plain = perSelection(table, crawl, plainRequests, "bench");
  for (const request of requests) selectMirrors(subscribed, crawl, request, "bench");
  const withSets = perSelection(subscribed, crawl, requests, "bench");
  return { plain, withSets };
}

const sets = setsRatio(10_000, 50);
console.log(
  `\ncontent sets, 10,000 mirrors: ${sets.plain.toFixed(2)} µs/selection without sets, ${sets.withSets.toFixed(2)} µs with 50 sets: ${(sets.withSets / sets.plain).toFixed(2)}x`,
);

if (!process.argv.includes("--selection-only")) await measureWorkers();
