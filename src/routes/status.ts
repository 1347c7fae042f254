import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { prefersJson } from "../http/accept";
import { keptBody } from "../http/kept-body";
import { renderMirrorPage, renderStatusPage } from "../render/status-page";
import { buildMirrorReport, buildStatusReport } from "../render/status-report";
import { publicSummary } from "../stats/download-stats";
import { readTogether } from "../store/read-together";

/** Browsers and scripts may reuse the page this long; the crawler changes it at most once a minute. */
const CACHE_CONTROL = "public, max-age=30";
const CACHE_SECONDS = 30;

/**
 * The status report as HTML or JSON for the current table, crawl state,
 * publication and downloads: rendered again when one of them changes, else
 * at most every CACHE_SECONDS (as long as browsers may keep it), so a busy
 * status page costs one rendering per isolate per crawl run, not one per request.
 */
async function currentRendering(c: Context<AppEnv>, as: "html" | "json"): Promise<Uint8Array<ArrayBuffer>> {
  const now = Date.now();
  const [table, crawl, publication, downloads, publishing] = await readTogether([
    c.get("mirrors").table(),
    c.get("mirrors").crawlSnapshot(),
    c.get("registry").publication(),
    c.get("stats").summary(now),
    c.get("registry").publishing(),
  ]);
  const key = `${table.version}\n${crawl.version}\n${publication?.generation ?? 0}\n${publication?.published ?? ""}\n${publishing?.generation ?? 0}`;
  const maxAgeMs = c.get("settings").isolateCacheMs > 0 ? CACHE_SECONDS * 1000 : 0;
  const report = () => buildStatusReport(table, crawl.value, publication, new Date(now), downloads === null ? null : publicSummary(downloads, table), publishing);
  return c.get("statusCache").rendering(key, as, now, maxAgeMs, async () => (as === "html" ? String(await renderStatusPage(report())) : JSON.stringify(report())));
}

/**
 * `GET /`: the public mirror list as HTML; `GET /status.json`: the same report for scripts.
 * `GET /mirrors/<id>`: one public mirror's recent checks, as JSON for `Accept: application/json`
 * or `/mirrors/<id>.json`; an id the table does not list, or a private mirror, is NOT_FOUND.
 */
export const status = new Hono<AppEnv>()
  .get("/", async (c) => {
    c.header("Cache-Control", CACHE_CONTROL);
    c.header("Content-Type", "text/html; charset=UTF-8");
    return c.body(keptBody(await currentRendering(c, "html")));
  })
  .get("/status.json", async (c) => {
    c.header("Cache-Control", CACHE_CONTROL);
    c.header("Content-Type", "application/json");
    return c.body(keptBody(await currentRendering(c, "json")));
  })
  .get("/mirrors/:id", async (c) => {
    const requested = c.req.param("id");
    const asJson = requested.endsWith(".json") || prefersJson(c.req.header("Accept"));
    const id = requested.endsWith(".json") ? requested.slice(0, -".json".length) : requested;
    const [table, crawl, publication] = await readTogether([c.get("mirrors").table(), c.get("mirrors").crawlState(), c.get("registry").publication()]);
    const report = buildMirrorReport(c.get("statusCache").byId(table), id, crawl, publication, new Date());
    if (report === null) throw new RegistryError("NOT_FOUND", { detail: { path: new URL(c.req.url).pathname } });
    c.header("Cache-Control", CACHE_CONTROL);
    c.header("Vary", "Accept");
    return asJson ? c.json(report) : c.html(renderMirrorPage(report));
  });
