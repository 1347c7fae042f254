import { runCommand } from "../process/processes";

/** One load run of `hey` against one URL. */
export interface LoadRun {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Transport errors (hey's "Error distribution"): a run with any is not a measurement. */
  errors: number;
  /** Answers by status code. */
  statuses: Map<number, number>;
}

export interface LoadOptions {
  url: string;
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  /** Seconds of load. */
  seconds: number;
  concurrency: number;
}

/** A figure of hey's summary; NaN when hey printed none (a run where every request failed has no latencies). */
function number(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  return match === null ? NaN : Number(match[1]);
}

/** Parses hey's summary: requests/s, latency percentiles, status and error distributions. */
export function parseHeyOutput(text: string): LoadRun {
  const statuses = new Map<number, number>();
  for (const match of text.matchAll(/^\s*\[(\d{3})\]\s+(\d+) responses/gm)) statuses.set(Number(match[1]), Number(match[2]));
  let errors = 0;
  const errorSection = text.split("Error distribution:")[1] ?? "";
  for (const match of errorSection.matchAll(/^\s*\[(\d+)\]\s/gm)) errors += Number(match[1]);
  const requests = [...statuses.values()].reduce((sum, count) => sum + count, 0);
  return {
    requests,
    perSecond: number(text, /Requests\/sec:\s+([\d.]+)/),
    p50Ms: number(text, /50%+ in ([\d.]+) secs/) * 1000,
    p99Ms: number(text, /99%+ in ([\d.]+) secs/) * 1000,
    errors,
    statuses,
  };
}

/** Runs hey for `seconds` with `concurrency` connections kept alive, redirects not followed, on one CPU. */
export async function runHey({ url, method = "GET", headers = {}, seconds, concurrency }: LoadOptions): Promise<LoadRun> {
  const args = ["-z", `${seconds}s`, "-c", String(concurrency), "-cpus", "1", "-disable-redirects", "-m", method];
  // Debian's hey sends its own User-Agent whatever -H says, so all its requests are one program's.
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
  args.push(url);
  const result = await runCommand("hey", args, { timeoutMs: (seconds + 30) * 1000 });
  if (result.code !== 0) throw new Error(`hey failed (${result.code}): ${result.stderr}${result.stdout.slice(0, 1000)}`);
  return parseHeyOutput(result.stdout);
}

/** `hey`'s version line (hey has no --version flag; Debian's package version is what identifies it). */
export async function heyVersion(): Promise<string> {
  const result = await runCommand("dpkg-query", ["-W", "-f=${Version}", "hey"], { timeoutMs: 5_000 }).catch(() => null);
  return result?.code === 0 ? `hey ${result.stdout.trim()} (Debian)` : "hey (version unknown)";
}
