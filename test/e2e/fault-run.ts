import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import type { CommandResult } from "../../scripts/lib/process/processes";
import type { Fault, FaultName } from "../../scripts/lib/stack/faults";
import { PROJECT_DIR, type LocalStack } from "../../scripts/lib/stack/local-stack";
import type { AccessLogEntry } from "../../scripts/lib/stack/mirror-server";
import { OVERRIDE_HEADERS } from "../../src/mirrors/client";
import type { PublicMirrorRow, StatusReport } from "../../src/render/status-report";
import type { ClientNetwork, ProxiedRequest } from "./client-network";
import { blobPath, type ClientName, type ClientWorkspace } from "./support";

/** A status row as `/status.json` has it, with the verification fields where the crawler reports them. */
export type StatusRow = PublicMirrorRow & { verified?: number | null; announced?: number | null };

/** The crawl state as the front door reported it right after one sweep. */
export interface Snapshot {
  at: number;
  rows: Map<string, StatusRow>;
}

const OUT_OF_ROTATION: ReadonlySet<string> = new Set(["down", "unchecked", "disabled"]);

/**
 * The newest generation a mirror may serve content of: `verified` where the crawler reports it,
 * else the generation of its last passing check; null while it is out of rotation.
 */
export function servableGeneration(row: StatusRow | undefined): number | null {
  if (row === undefined || OUT_OF_ROTATION.has(row.status)) return null;
  if (typeof row.verified === "number") return row.verified;
  return row.generation;
}

/** Runs the crawler and keeps what `/status.json` says after it, so every redirect can be checked against the state it was made in. */
export class SweepRecorder {
  readonly snapshots: Snapshot[] = [];
  sweeps = 0;

  constructor(private readonly stack: LocalStack) {}

  async sweep(): Promise<Snapshot> {
    expect(await this.stack.crawl(), "the crawler's run").toBe("ok");
    this.sweeps += 1;
    return this.snapshot();
  }

  async snapshot(): Promise<Snapshot> {
    const response = await fetch(`${this.stack.url}/status.json`);
    expect(response.status).toBe(200);
    const report = (await response.json()) as StatusReport;
    const snapshot = { at: Date.now(), rows: new Map(report.mirrors.map((row) => [row.id, row as StatusRow])) };
    this.snapshots.push(snapshot);
    return snapshot;
  }

  /** The state in effect at `at`: the last snapshot taken before it. */
  stateAt(at: number): Snapshot | undefined {
    return this.snapshots.findLast((snapshot) => snapshot.at <= at);
  }
}

/** Hands out client addresses of networks (/24) no earlier request came from, so no retry memory applies to them. */
export class FreshNetworks {
  private next = 0;

  constructor(private readonly firstOctet: number) {}

  address(): string {
    const n = this.next++;
    return `${this.firstOctet}.${Math.floor(n / 256) % 256}.${n % 256}.7`;
  }
}

/** The id of the static server a redirect points into, "origin" included; null for anything else. */
export function serverAt(stack: LocalStack, location: string | null): string | null {
  if (location === null) return null;
  return stack.servers().find(({ server }) => location.startsWith(`${server.url}/`))?.id ?? null;
}

/** Where the front door sends a first GET of `digest` in `repository` from a client at `clientIp`. */
export async function redirectTarget(stack: LocalStack, repository: string, digest: string, clientIp: string): Promise<string | null> {
  const response = await fetch(`${stack.url}/v2/${repository}/blobs/${digest}`, { redirect: "manual", headers: { [OVERRIDE_HEADERS.ip]: clientIp } });
  await response.body?.cancel();
  return response.status === 307 ? serverAt(stack, response.headers.get("Location")) : null;
}

/** One run of a client's pull command and what it asked the front door meanwhile. */
export interface Attempt {
  ok: boolean;
  result: CommandResult;
  started: number;
  ended: number;
  requests: ProxiedRequest[];
}

export type Outcome = "ok first try" | "ok on own retry" | "ok on re-run" | "failed";

/** One client's pulls under one fault: the first run and, when it failed, the user's re-run. */
export interface ClientRun {
  client: ClientName;
  network: string;
  first: Attempt;
  rerun: Attempt | null;
  outcome: Outcome;
  /** True when the first run asked the front door for some blob more than once: the client retried on its own. */
  retriedOnItsOwn: boolean;
}

const BLOB_REQUEST = /^\/v2\/(.+)\/blobs\/([a-z0-9]+:[a-f0-9]+)$/;

/** The blob GETs among proxied requests, with their digest. */
export function blobGets(requests: readonly ProxiedRequest[]): Array<ProxiedRequest & { repository: string; digest: string }> {
  return requests.flatMap((request) => {
    const match = BLOB_REQUEST.exec(request.path);
    return request.method === "GET" && match !== null ? [{ ...request, repository: match[1]!, digest: match[2]! }] : [];
  });
}

function askedTwice(requests: readonly ProxiedRequest[]): boolean {
  const seen = new Set<string>();
  for (const { digest } of blobGets(requests)) {
    if (seen.has(digest)) return true;
    seen.add(digest);
  }
  return false;
}

async function attempt(workspace: ClientWorkspace, network: ClientNetwork, timeoutMs: number): Promise<Attempt> {
  const started = Date.now();
  const result = await workspace.pull(timeoutMs);
  const ended = Date.now();
  const requests = network.log().filter((request) => request.at >= started && request.at <= ended);
  return { ok: result.code === 0, result, started, ended, requests };
}

/** Pulls once and, if that failed, once more in the same state, as a user would. */
export async function pullAsAUser(workspace: ClientWorkspace, network: ClientNetwork, timeoutMs: number): Promise<ClientRun> {
  const first = await attempt(workspace, network, timeoutMs);
  const rerun = first.ok ? null : await attempt(workspace, network, timeoutMs);
  const retriedOnItsOwn = askedTwice(first.requests);
  const outcome: Outcome = first.ok ? (retriedOnItsOwn ? "ok on own retry" : "ok first try") : rerun?.ok ? "ok on re-run" : "failed";
  return { client: workspace.client, network: network.clientIp, first, rerun, outcome, retriedOnItsOwn };
}

function short(digest: string): string {
  return `${digest.slice(0, "sha256:".length + 12)}…`;
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} B`;
}

/** Counts of equal strings, in first-seen order: `a x3, b`. */
function tally(items: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, count]) => (count > 1 ? `${item} x${count}` : item)).join(", ");
}

/** Where the front door sent the client for each blob, and how the client ended. */
function describeAttempt(stack: LocalStack, label: string, run: Attempt, sizes: ReadonlyMap<string, number>): string[] {
  const { result } = run;
  const seconds = ((run.ended - run.started) / 1000).toFixed(1);
  const how = result.timedOut ? `killed at the deadline after ${seconds} s` : `exit ${result.code} after ${seconds} s`;
  const lines = [`  ${label}: ${run.ok ? "succeeded" : "failed"}, ${how}`];
  const byDigest = new Map<string, Array<ProxiedRequest & { digest: string }>>();
  for (const request of blobGets(run.requests)) byDigest.set(request.digest, [...(byDigest.get(request.digest) ?? []), request]);
  for (const [digest, requests] of byDigest) {
    const size = sizes.get(digest);
    const ranged = requests.filter((request) => request.range !== null && !/^bytes=0-/.test(request.range)).length;
    const targets = tally(requests.map((request) => serverAt(stack, request.location) ?? `HTTP ${request.status}`));
    lines.push(`    ${short(digest)}${size === undefined ? "" : ` (${mib(size)})`}: ${requests.length} GET(s)${ranged > 0 ? `, ${ranged} resuming with Range` : ""} -> ${targets}`);
  }
  if (!run.ok) {
    const tail = result.stderr.trim().split("\n").slice(-2).join(" | ");
    if (tail !== "") lines.push(`    stderr: ${tail.slice(0, 400)}`);
  }
  return lines;
}

/** How the faulty mirror answered the blobs the client was sent there for, while it ran. */
function describeMirrorAnswers(id: string, log: readonly AccessLogEntry[], from: number, to: number, paths: ReadonlySet<string>): string[] {
  const groups = new Map<string, { count: number; bytes: number }>();
  for (const entry of log) {
    const at = Date.parse(entry.time);
    if (at < from || at > to + 1000 || !paths.has(entry.path)) continue;
    const key = `${entry.method} ${entry.path.slice(0, "/blobs/sha256/".length + 12)}… ${entry.status}${entry.fault === undefined ? "" : ` [${entry.fault}]`}`;
    const group = groups.get(key) ?? { count: 0, bytes: 0 };
    group.count += 1;
    group.bytes += entry.bytes;
    groups.set(key, group);
  }
  return [...groups].map(([key, { count, bytes }]) => `    ${id} answered (every client) ${key} x${count}, ${bytes} body bytes in all`);
}

/** The story of one client's pulls under a fault, for a failure message. */
export function describeRun(stack: LocalStack, faulty: string, fault: FaultName, run: ClientRun, sizes: ReadonlyMap<string, number>): string {
  const log = stack.mirror(faulty).server.log();
  const sentThere = new Set(
    [run.first, ...(run.rerun === null ? [] : [run.rerun])]
      .flatMap((one) => blobGets(one.requests))
      .filter((request) => serverAt(stack, request.location) === faulty)
      .map((request) => blobPath(request.digest)),
  );
  const lines = [`${run.client} (client network ${run.network}) under ${fault} on ${faulty}: ${run.outcome}`];
  lines.push(...describeAttempt(stack, "first run", run.first, sizes));
  lines.push(...describeMirrorAnswers(faulty, log, run.first.started, run.first.ended, sentThere));
  if (run.rerun !== null) {
    lines.push(...describeAttempt(stack, "re-run", run.rerun, sizes));
    lines.push(...describeMirrorAnswers(faulty, log, run.rerun.started, run.rerun.ended, sentThere));
  }
  return lines.join("\n");
}

/**
 * Every redirect of a blob to a mirror that, by the crawl state in effect when it was made, was not
 * verified for the generation the blob was first published in (or was out of rotation).
 */
export function unverifiedRedirects(stack: LocalStack, recorder: SweepRecorder, firstSeen: ReadonlyMap<string, number>, run: ClientRun): string[] {
  const found: string[] = [];
  for (const one of [run.first, ...(run.rerun === null ? [] : [run.rerun])]) {
    for (const request of blobGets(one.requests)) {
      const id = serverAt(stack, request.location);
      if (id === null || id === "origin") continue;
      const generation = firstSeen.get(request.digest);
      const row = recorder.stateAt(request.at)?.rows.get(id);
      const servable = servableGeneration(row);
      if (generation === undefined || servable === null || servable < generation) {
        found.push(
          `${run.client} was sent to ${id} for ${short(request.digest)} (first published in generation ${generation ?? "?"}) at ${new Date(request.at).toISOString()}, ` +
            `when ${id} was ${row?.status ?? "unknown"} and verified for generation ${servable ?? "none"}`,
        );
      }
    }
  }
  return found;
}

/** One fault's line of the results table. */
export interface FaultRow {
  fault: string;
  reference: string;
  clients: Partial<Record<ClientName, Outcome>>;
  /** Sweeps after the fault until the front door stopped sending its content to the faulty mirror; null when it never did within the bound. */
  detectionSweeps: number | null;
  /** The bound the issue sets, or null when the fault needs no detection (it heals itself). */
  detectionBound: number | null;
  /** Sweeps run while the fault was on. */
  sweepsWatched: number;
  /** The faulty mirror's status row after the last sweep. */
  lastStatus: Pick<StatusRow, "status" | "generation" | "lastFailureReason"> & { verified?: number | null; announced?: number | null };
  notes: string[];
}

const CELL_CLIENTS: readonly ClientName[] = ["skopeo", "podman", "ctr", "docker"];

/** The table of fault x client -> outcome and detection time. */
export function markdownTable(rows: readonly FaultRow[]): string {
  const header = `| fault | ${CELL_CLIENTS.join(" | ")} | detected after (sweeps) |`;
  const rule = `|---|${CELL_CLIENTS.map(() => "---").join("|")}|---|`;
  const lines = rows.map((row) => {
    const detection = row.detectionBound === null ? "n/a" : row.detectionSweeps === null ? `not within ${row.sweepsWatched}` : String(row.detectionSweeps);
    return `| ${row.fault} | ${CELL_CLIENTS.map((client) => row.clients[client] ?? "-").join(" | ")} | ${detection}${row.detectionBound === null ? "" : ` (bound ${row.detectionBound})`} |`;
  });
  return [header, rule, ...lines].join("\n");
}

/** Writes the rows to `test-results/faults.json` and returns the markdown table. */
export async function writeFaultResults(rows: readonly FaultRow[], faulty: string): Promise<string> {
  const dir = join(PROJECT_DIR, "test-results");
  await mkdir(dir, { recursive: true });
  const table = markdownTable(rows);
  await writeFile(join(dir, "faults.json"), `${JSON.stringify({ generated: new Date().toISOString(), faultyMirror: faulty, rows, table }, null, 2)}\n`);
  return table;
}
