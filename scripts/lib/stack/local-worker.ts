import { dirname } from "node:path";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import type { WorkerBundle } from "./worker-bundle";

/** Where the local worker pretends its clients are: the fields of `request.cf` that mirror selection reads. */
export interface ClientPlace {
  country: string;
  continent: string;
  asn: number;
  latitude: string;
  longitude: string;
  city: string;
  colo: string;
}

/** Frankfurt: near the first demo mirror, far from the others. */
export const DEFAULT_CLIENT_PLACE: ClientPlace = {
  country: "DE",
  continent: "EU",
  asn: 64500,
  latitude: "50.11090",
  longitude: "8.68210",
  city: "Frankfurt am Main",
  colo: "FRA",
};

/** One line the worker logged: parsed JSON when it was JSON, else the text. */
export interface WorkerLogLine {
  level: string;
  message: string;
  json: Record<string, unknown> | null;
}

export interface LocalWorkerOptions {
  bundle: WorkerBundle;
  /** The KV namespace id `REGISTRY` is bound to; the publisher writes the same one. */
  kvNamespaceId: string;
  /** Miniflare's resource persistence root, shared with the publisher's local writes. */
  persistDir: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  client?: ClientPlace;
  /** Extra variables, on top of wrangler.toml's `[vars]` and `FRONTDOOR_ENV = "development"`. */
  vars?: Record<string, string>;
  /** Run the `scheduled` handler this often, if wrangler.toml declares crons; 0 only runs it on demand. */
  crawlIntervalMs?: number;
  /** Called for each line the worker logs. */
  onLog?: (line: WorkerLogLine) => void;
}

/** The worker running in workerd on a local port. */
export interface LocalWorker {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  port: number;
  /** True when wrangler.toml declares cron triggers, so `crawl()` runs the worker's `scheduled` handler. */
  hasScheduled: boolean;
  /** Runs the `scheduled` handler once and reports its outcome; "absent" without crons. */
  crawl(): Promise<"ok" | "exception" | "absent">;
  stop(): Promise<void>;
}

function parseLogLine(level: string, message: string): WorkerLogLine {
  try {
    const value: unknown = JSON.parse(message);
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return { level, message, json: value as Record<string, unknown> };
  } catch {
    // not JSON: keep the text
  }
  return { level, message, json: null };
}

/**
 * Runs the bundled worker with Miniflare on 127.0.0.1: KV `REGISTRY` persisted where the publisher
 * writes it, `FRONTDOOR_ENV = "development"`, a fixed `request.cf` (no network fetch of cf data),
 * and the `scheduled` handler run on an interval, as the cron trigger would in production.
 */
export async function startLocalWorker({
  bundle,
  kvNamespaceId,
  persistDir,
  port,
  host = "127.0.0.1",
  client = DEFAULT_CLIENT_PLACE,
  vars = {},
  crawlIntervalMs = 5_000,
  onLog,
}: LocalWorkerOptions): Promise<LocalWorker> {
  const miniflare = new Miniflare(
    convertV4MiniflareOptions({
      host,
      port,
      cf: { ...client, httpProtocol: "HTTP/1.1", clientTcpRtt: 0, timezone: "UTC" },
      resourcePersistencePath: persistDir,
      handleStructuredLogs: ({ level, message }) => onLog?.(parseLogLine(level, message)),
      name: "frontdoor",
      modules: true,
      modulesRoot: dirname(bundle.script),
      scriptPath: bundle.script,
      compatibilityDate: bundle.config.compatibilityDate,
      compatibilityFlags: bundle.config.compatibilityFlags,
      bindings: { ...bundle.config.vars, FRONTDOOR_ENV: "development", ...vars },
      kvNamespaces: { REGISTRY: kvNamespaceId },
    }),
  );
  let url: URL;
  try {
    url = await miniflare.ready;
  } catch (error) {
    await miniflare.dispose().catch(() => undefined);
    throw error;
  }
  const hasScheduled = bundle.config.crons.length > 0;
  const cron = bundle.config.crons[0] ?? "";
  let stopped = false;
  let running: Promise<"ok" | "exception" | "absent"> | null = null;

  async function crawlNow(): Promise<"ok" | "exception" | "absent"> {
    if (!hasScheduled || stopped) return "absent";
    const worker = await miniflare.getWorker();
    const result = await worker.scheduled({ cron, scheduledTime: new Date() });
    return result.outcome === "ok" ? "ok" : "exception";
  }

  /** One crawl at a time: a tick that finds one running waits for it instead of starting another. */
  function crawl(): Promise<"ok" | "exception" | "absent"> {
    running ??= crawlNow().finally(() => (running = null));
    return running;
  }

  const timer = hasScheduled && crawlIntervalMs > 0 ? setInterval(() => void crawl().catch(() => undefined), crawlIntervalMs) : null;
  timer?.unref();

  return {
    url: url.origin,
    port: Number(url.port),
    hasScheduled,
    crawl,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (timer !== null) clearInterval(timer);
      await running?.catch(() => undefined);
      await miniflare.dispose();
    },
  };
}
