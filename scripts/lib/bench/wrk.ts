import { writeFile } from "node:fs/promises";
import { runCommand } from "../process/processes";
import type { LoadOptions, LoadRun } from "./hey";

/**
 * wrk's Lua script for load shaped like pulls: client after client, each
 * asking each of the given paths (an image's blobs) once, as a pull does.
 * Clients are told apart by their `User-Agent`, which no earlier client of the
 * run sent, so what the front door keeps per client and blob (its retry
 * memory) is read and written afresh, as in pulls. Arguments: the agent
 * prefix, then the paths. The answers' statuses are tallied per thread and
 * printed by `done`, since wrk itself only counts "Non-2xx or 3xx responses".
 */
const PULLS_SCRIPT = `
local threads = {}
local count = 0
function setup(thread)
  count = count + 1
  thread:set("id", count)
  table.insert(threads, thread)
end
function init(args)
  agent = args[1] .. "/" .. id .. "-"
  paths = {}
  for i = 2, #args do paths[#paths + 1] = args[i] end
  asked = 0
  statuses = {}
end
function request()
  wrk.headers["User-Agent"] = agent .. math.floor(asked / #paths)
  local path = paths[asked % #paths + 1]
  asked = asked + 1
  return wrk.format(nil, path)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, answers in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + answers end
  end
  for status, answers in pairs(total) do io.write(string.format("status %d %d\\n", status, answers)) end
  local errors = summary.errors
  io.write(string.format("errors %d\\n", errors.connect + errors.read + errors.write + errors.timeout))
  io.write(string.format("p50 %f\\np99 %f\\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("rate %f\\n", summary.requests / (summary.duration / 1e6)))
end
`;

/** Parses the lines `PULLS_SCRIPT`'s `done` prints. */
export function parseWrkOutput(text: string): LoadRun {
  const statuses = new Map<number, number>();
  for (const match of text.matchAll(/^status (\d{3}) (\d+)$/gm)) statuses.set(Number(match[1]), Number(match[2]));
  const figure = (name: string) => {
    const match = new RegExp(`^${name} ([\\d.]+)$`, "m").exec(text);
    return match === null ? NaN : Number(match[1]);
  };
  if (Number.isNaN(figure("rate")) || statuses.size === 0) throw new Error(`wrk printed no summary of its script: ${text.slice(0, 1000)}`);
  return {
    requests: [...statuses.values()].reduce((sum, count) => sum + count, 0),
    perSecond: figure("rate"),
    p50Ms: figure("p50"),
    p99Ms: figure("p99"),
    errors: figure("errors"),
    statuses,
  };
}

export interface PullsOptions {
  /** Where the script is written. */
  scriptFile: string;
  /** Starts every client's `User-Agent`: one no other run of the bench uses. */
  agentPrefix: string;
  /** What each client asks, in order; `origin` is prefixed. */
  paths: readonly string[];
}

/**
 * Runs wrk on one thread for `seconds` (rounded to whole seconds: wrk takes no
 * less) with `concurrency` connections, shaped like pulls (`PULLS_SCRIPT`);
 * wrk never follows redirects.
 */
export async function runWrkPulls(origin: string, { headers = {}, seconds, concurrency }: Omit<LoadOptions, "url">, { scriptFile, agentPrefix, paths }: PullsOptions): Promise<LoadRun> {
  await writeFile(scriptFile, PULLS_SCRIPT);
  const args = ["-t", "1", "-c", String(concurrency), "-d", `${Math.max(1, Math.round(seconds))}s`, "-s", scriptFile];
  for (const [name, value] of Object.entries(headers)) if (name.toLowerCase() !== "user-agent") args.push("-H", `${name}: ${value}`);
  args.push(origin, agentPrefix, ...paths);
  const result = await runCommand("wrk", args, { timeoutMs: (seconds + 30) * 1000 }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new Error("wrk is not installed: the targets shaped like pulls need it (Debian package wrk)");
    throw error;
  });
  if (result.code !== 0) throw new Error(`wrk failed (${result.code}): ${result.stderr}${result.stdout.slice(0, 1000)}`);
  return parseWrkOutput(result.stdout);
}

/** wrk's version, as Debian builds it. */
export async function wrkVersion(): Promise<string> {
  const result = await runCommand("wrk", ["--version"], { timeoutMs: 5_000 }).catch(() => null);
  return /wrk \S+/.exec(`${result?.stdout ?? ""}${result?.stderr ?? ""}`)?.[0] ?? "wrk (version unknown)";
}
