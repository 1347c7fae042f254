/**
 * `npm run bench`: selection time per request for 10 to 10,000 mirrors, and
 * index build time, over random but realistic mirror tables and clients; then
 * the bundled worker on workerd directly against a bare Hono worker, the
 * reference registry, and the publisher (scripts/lib/bench/runtime.ts).
 * `BENCH_QUICK=1` is a short smoke run; `--selection-only` stops after the
 * selection table; `BENCH_ONLY=<text>` measures only the runtime targets whose
 * group and name contain the text, and `BENCH_ROUNDS=<n>` sets the rounds. Loops are bounded in count and in time. Not a test: it
 * prints tables and writes bench-results.json.
 */
import { join } from "node:path";
import { selectMirrors, type SelectionRequest } from "../src/mirrors/select";
import { buildHealthColumns, buildTableIndex, ringFor } from "../src/mirrors/selection-index";
import type { CrawlState, MirrorTable } from "../src/mirrors/types";
import { randomClient, randomSource, randomTable, type ClientKind } from "./lib/bench/random-tables";
import { runtimeBench } from "./lib/bench/runtime";
import { PROJECT_DIR } from "./lib/stack/local-stack";

const SIZES = [10, 100, 1_000, 10_000];
const CLIENTS = 4096;
const MAX_ITERATIONS = 100_000;
const MAX_CPU_MS = 600;
const BUILD_REPEATS = 5;
/** A crawl state version, as the worker has from KV metadata: selection then reuses its health columns, as it does per request. */
const CRAWL_VERSION = "bench";
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
function perSelection(table: MirrorTable, crawl: CrawlState, requests: SelectionRequest[], crawlVersion: string = CRAWL_VERSION): number {
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
  for (const requests of byKind.values()) for (const request of requests) selectMirrors(table, crawl, request, CRAWL_VERSION);
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

if (!process.argv.includes("--selection-only")) {
  const quick = process.env.BENCH_QUICK === "1";
  const only = process.env.BENCH_ONLY;
  const rounds = Number(process.env.BENCH_ROUNDS ?? "");
  const ok = await runtimeBench({
    quick,
    resultsFile: join(PROJECT_DIR, "bench-results.json"),
    ...(only === undefined ? {} : { only }),
    ...(Number.isInteger(rounds) && rounds > 0 ? { roundsOverride: rounds } : {}),
  });
  if (!ok) process.exitCode = 1;
}
