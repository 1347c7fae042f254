import type { Context } from "hono";
import type { AppEnv } from "../env";
import { requestClient } from "./client";
import { rangeFirstByte } from "../http/range";
import { hashWords } from "../mirrors/hash";
import { clientNetwork, parseIp } from "../mirrors/ip";
import { abandon, chooseTarget, demoteAbandoned, type AskHistory, type AskKey } from "../mirrors/retry-memory";
import type { ChosenMirror } from "../mirrors/select";
import type { Digest } from "../oci/reference";
import { SuspectStore } from "../store/suspect-store";

/** Longest `User-Agent` prefix that goes into the client hash. */
const MAX_AGENT = 256;

/** What this client was given for one digest, read before selection so the reads overlap. */
export interface RecalledAsks {
  key: AskKey;
  history: AskHistory | null;
  /** The mirrors this client came back from lately, for any blob. */
  abandoned: AskHistory | null;
  /** Whether the location's shared memory takes part (`RETRY_MEMORY=on`), or the isolate's alone. */
  shared: boolean;
}

/** Hands `work` to the runtime to finish after the response; outside a request context (an app called directly) it just runs. */
function afterResponse(c: Context<AppEnv>, work: Promise<unknown>): void {
  let context: { waitUntil(work: Promise<unknown>): void } | undefined;
  try {
    context = c.executionCtx;
  } catch {
    context = undefined;
  }
  context?.waitUntil(work);
}

/**
 * The client of retry memory: its network (the /24 or /48 that selection is
 * pinned by) and its program (`User-Agent`), hashed. The program tells apart
 * the different tools, hosts' daemons and users behind one network that pull
 * the same image at once; a tool retrying, or a user running it again, sends the
 * same one. Null when the network is unknown: then nothing tells clients apart.
 * 64 bits of a fast hash: the key of a location's cache entry, where a
 * collision of two clients costs one of them a walk down its list; the network
 * is already no finer than selection's pin, so a slow hash would hide nothing.
 */
function clientHash(c: Context<AppEnv>): string | null {
  const { ip } = requestClient(c);
  const network = clientNetwork(ip === null ? null : parseIp(ip));
  if (network === "") return null;
  const agent = (c.req.header("User-Agent") ?? "").slice(0, MAX_AGENT);
  return hashWords(`${network}\n${agent}`)
    .map((word) => word.toString(16).padStart(8, "0"))
    .join("");
}

/**
 * Starts reading what this client was given for `digest` (docs/selection.md,
 * "Retries and resumes"); null when retry memory is off or the client is unknown.
 * Never rejects.
 */
export async function recallAsks(c: Context<AppEnv>, digest: Digest): Promise<RecalledAsks | null> {
  const mode = c.get("settings").retryMemory;
  if (mode === "off") return null;
  const client = clientHash(c);
  if (client === null) return null;
  const origin = new URL(c.req.url).origin;
  const key: AskKey = { client, digest, origin };
  const shared = mode === "on";
  const late = (work: Promise<unknown>) => afterResponse(c, work);
  const { memory } = c.get("failover");
  const [history, abandoned] = await Promise.all([memory.recall(key, late, shared), memory.recall({ client, digest: null, origin }, late, shared)]);
  return { key, history, abandoned, shared };
}

/**
 * The ranked list reordered for this ask: the redirect target first, then the
 * other ranked entries in their order (the `Link: rel=duplicate` list). Without
 * memory, or on a first ask of a client that never came back, the list as
 * selection made it. Mirrors the client came back from lately go after the
 * others (`demoteAbandoned`). Records the ask, and counts a come-back against
 * the mirror the client was sent to before, for this client and the retry signal.
 */
export function orderForAsk(
  c: Context<AppEnv>,
  chosen: [ChosenMirror, ...ChosenMirror[]],
  recalled: RecalledAsks | null,
  size: number,
): [ChosenMirror, ...ChosenMirror[]] {
  if (recalled === null) return chosen;
  const { memory, signal, clock } = c.get("failover");
  const now = clock();
  const resume = (rangeFirstByte(c.req.header("Range"), size) ?? 0) > 0;
  const ranked = demoteAbandoned(chosen.map((mirror) => mirror.id), recalled.abandoned, now).map((position) => chosen[position]!) as typeof chosen;
  const target = chooseTarget(ranked.map((mirror) => mirror.id), recalled.history, { now, resume });
  // Only the location's copy is written after the response; the isolate's is kept at once.
  const keep = (work: Promise<void>) => {
    if (recalled.shared) afterResponse(c, work);
  };
  keep(memory.remember(recalled.key, target.history, recalled.shared));
  const previous = ranked.find((mirror) => mirror.id === target.previous && mirror.tier !== "origin");
  if (previous !== undefined) {
    const clientKey: AskKey = { ...recalled.key, digest: null };
    keep(memory.remember(clientKey, abandon(recalled.abandoned, previous.id, now), recalled.shared));
  }
  const report = previous === undefined ? null : signal.comeBack(previous.id, now);
  if (report !== null) {
    const write = new SuspectStore(c.env.REGISTRY).report(report).catch((error: unknown) => {
      console.error(JSON.stringify({ retrySignal: "suspect write failed", mirror: report.mirror, error: String(error) }));
    });
    afterResponse(c, write);
  }
  const picked = ranked[target.index]!;
  c.set("logMirror", picked.id);
  return [picked, ...ranked.filter((_, position) => position !== target.index)];
}
