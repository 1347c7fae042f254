/**
 * `npm run soak`: a bounded soak of the local stack. For SOAK_SECONDS (default 300) it sends a
 * fixed-concurrency mix of handshake, manifest (GET and HEAD), blob redirect, metalink and status
 * requests with `hey` (Debian package `hey`) while the local mirrors flap (one stopped at a time,
 * in turn), and samples workerd's memory. It then restores every mirror, lets the crawler see them
 * and checks that the answers are the same as before. Exits 1 on any 5xx, any transport error, a
 * changed answer, or workerd's resident memory above SOAK_MAX_RSS_MIB (default 1536). That process
 * holds Miniflare's KV and cache simulations beside the worker's isolate; a bare Hono worker's isolate
 * alone grows to about 270 MiB under such load (`npm run bench` runs the worker without them).
 * Loopback only. Prints a markdown table and writes soak-results.json.
 */
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { runCommand } from "./lib/process/processes";
import { startLocalStack, type LocalStack } from "./lib/stack/local-stack";

const run = promisify(execFile);
const SECONDS = Number(process.env.SOAK_SECONDS ?? "300");
const MAX_RSS_MIB = Number(process.env.SOAK_MAX_RSS_MIB ?? "1536");
const FLAP_EVERY_MS = 10_000;
const CONCURRENCY_PER_TARGET = 2;
const METALINK = "application/metalink4+xml";

interface Target {
  name: string;
  path: string;
  method?: "GET" | "HEAD";
  accept?: string;
}

interface TargetResult {
  name: string;
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  requestsPerSecond: number;
}

async function json<T>(url: string, accept: string): Promise<T> {
  const response = await fetch(url, { headers: { Accept: accept } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** The demo image's amd64 manifest digest and its largest layer, found through the front door itself. */
async function discoverTargets(stack: LocalStack): Promise<Target[]> {
  const repository = "demo/hello";
  const index = await json<{ manifests: Array<{ digest: string; platform?: { architecture: string } }> }>(
    `${stack.url}/v2/${repository}/manifests/latest`,
    "application/vnd.oci.image.index.v1+json",
  );
  const amd64 = index.manifests.find((entry) => entry.platform?.architecture === "amd64") ?? index.manifests[0]!;
  const manifest = await json<{ layers: Array<{ digest: string; size: number }> }>(
    `${stack.url}/v2/${repository}/manifests/${amd64.digest}`,
    "application/vnd.oci.image.manifest.v1+json",
  );
  const layer = [...manifest.layers].sort((a, b) => b.size - a.size)[0]!;
  return [
    { name: "GET /v2/", path: "/v2/" },
    { name: "GET manifest by tag", path: `/v2/${repository}/manifests/latest`, accept: "application/vnd.oci.image.index.v1+json" },
    { name: "HEAD manifest by tag", path: `/v2/${repository}/manifests/latest`, method: "HEAD", accept: "application/vnd.oci.image.index.v1+json" },
    { name: "GET manifest by digest", path: `/v2/${repository}/manifests/${amd64.digest}`, accept: "application/vnd.oci.image.manifest.v1+json" },
    { name: "GET blob (307)", path: `/v2/${repository}/blobs/${layer.digest}` },
    { name: "GET blob metalink", path: `/v2/${repository}/blobs/${layer.digest}`, accept: METALINK },
    { name: "GET /status.json", path: "/status.json" },
  ];
}

/** What a target answers, host-independent: status, and the body's hash or the redirect's path. */
async function answer(stack: LocalStack, target: Target): Promise<string> {
  const response = await fetch(`${stack.url}${target.path}`, {
    method: target.method ?? "GET",
    redirect: "manual",
    headers: target.accept === undefined ? {} : { Accept: target.accept },
  });
  const body = new Uint8Array(await response.arrayBuffer());
  if (response.status === 307) return `307 ${new URL(response.headers.get("Location")!).pathname.replace(/^.*\/blobs\//, "blobs/")}`;
  if (target.path === "/status.json") return `${response.status} status report`;
  if (target.accept === METALINK) return `${response.status} metalink of ${/<size>(\d+)<\/size>/.exec(new TextDecoder().decode(body))?.[1]} bytes`;
  return `${response.status} ${createHash("sha256").update(body).digest("hex")}`;
}

async function answers(stack: LocalStack, targets: readonly Target[]): Promise<string[]> {
  return Promise.all(targets.map((target) => answer(stack, target)));
}

/** Runs `hey` for the soak's length against one target and reads its summary. */
async function load(stack: LocalStack, target: Target): Promise<TargetResult> {
  const args = ["-z", `${SECONDS}s`, "-c", String(CONCURRENCY_PER_TARGET), "-disable-redirects", "-t", "10", "-m", target.method ?? "GET"];
  if (target.accept !== undefined) args.push("-H", `Accept: ${target.accept}`);
  args.push(`${stack.url}${target.path}`);
  const result = await runCommand("hey", args, { timeoutMs: (SECONDS + 60) * 1000 });
  const statuses: Record<string, number> = {};
  for (const match of result.stdout.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)) statuses[match[1]!] = Number(match[2]);
  const errorBlock = result.stdout.split("Error distribution:")[1] ?? "";
  const errors = [...errorBlock.matchAll(/\[(\d+)\]/g)].reduce((sum, match) => sum + Number(match[1]), 0);
  const requestsPerSecond = Number(/Requests\/sec:\s+([\d.]+)/.exec(result.stdout)?.[1] ?? "0");
  const requests = Object.values(statuses).reduce((sum, count) => sum + count, 0);
  return { name: target.name, requests, statuses, errors, requestsPerSecond };
}

async function workerdPids(): Promise<number[]> {
  const { stdout } = await run("pgrep", ["-P", String(process.pid), "workerd"]).catch(() => ({ stdout: "" }));
  return stdout.split(/\s+/).filter(Boolean).map(Number);
}

async function rssMib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? "0") / 1024;
}

async function main(): Promise<void> {
  const stateDir = await mkdtemp(join(tmpdir(), "frontdoor-soak-"));
  const stack = await startLocalStack({ stateDir, port: 0, crawlIntervalMs: 5000 });
  const deadline = Date.now() + SECONDS * 1000;
  try {
    const targets = await discoverTargets(stack);
    const before = await answers(stack, targets);
    const pids = await workerdPids();
    const memory: number[] = [];
    let flaps = 0;

    const sampler = (async () => {
      while (Date.now() < deadline) {
        for (const pid of pids) memory.push(await rssMib(pid).catch(() => 0));
        stack.clearLogs();
        await sleep(5000);
      }
    })();
    const flapper = (async () => {
      for (let turn = 0; Date.now() + FLAP_EVERY_MS < deadline; turn++) {
        const { server } = stack.mirrors[turn % stack.mirrors.length]!;
        await server.stop();
        flaps += 1;
        await sleep(FLAP_EVERY_MS);
        await server.start();
      }
    })();
    const results = await Promise.all(targets.map((target) => load(stack, target)));
    await Promise.all([sampler, flapper]);

    for (const { server } of stack.mirrors) if (!server.running) await server.start();
    for (let sweep = 0; sweep < 4; sweep++) await stack.crawl();
    const after = await answers(stack, targets);

    const fiveHundreds = results.reduce((sum, result) => sum + Object.entries(result.statuses).filter(([code]) => code.startsWith("5")).reduce((s, [, n]) => s + n, 0), 0);
    const transportErrors = results.reduce((sum, result) => sum + result.errors, 0);
    const changed = targets.filter((_, i) => before[i] !== after[i]).map((target, i) => `${target.name}: ${before[i]} -> ${after[i]}`);
    const peakRss = Math.max(0, ...memory);
    const firstRss = memory[0] ?? 0;

    const lines = [
      `Soak: ${SECONDS} s, ${CONCURRENCY_PER_TARGET} connections per target, ${targets.length} targets, ${flaps} mirror stops (one every ${FLAP_EVERY_MS / 1000} s)`,
      "",
      "| target | requests | req/s | statuses | transport errors |",
      "|---|---:|---:|---|---:|",
      ...results.map((r) => `| ${r.name} | ${r.requests} | ${r.requestsPerSecond.toFixed(0)} | ${Object.entries(r.statuses).map(([code, n]) => `${code}: ${n}`).join(", ")} | ${r.errors} |`),
      "",
      `5xx answers: ${fiveHundreds}; transport errors: ${transportErrors}`,
      `workerd resident memory: first ${firstRss.toFixed(0)} MiB, peak ${peakRss.toFixed(0)} MiB (bound ${MAX_RSS_MIB} MiB)`,
      `answers after the soak: ${changed.length === 0 ? "the same as before" : `changed: ${changed.join("; ")}`}`,
    ];
    console.log(lines.join("\n"));
    await writeFile(
      "soak-results.json",
      `${JSON.stringify({ seconds: SECONDS, targets: results, fiveHundreds, transportErrors, rssMib: { first: firstRss, peak: peakRss, samples: memory }, changed, flaps }, null, 1)}\n`,
    );
    if (fiveHundreds > 0 || transportErrors > 0 || changed.length > 0 || peakRss > MAX_RSS_MIB) process.exitCode = 1;
  } finally {
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack ?? error.message : error);
  process.exit(1);
});
