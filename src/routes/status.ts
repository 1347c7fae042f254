import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { RegistryError } from "../errors";
import { prefersJson } from "../http/accept";
import type { Mirror, MirrorTable } from "../mirrors/types";
import { renderMirrorPage, renderStatusPage } from "../render/status-page";
import { buildMirrorReport, buildStatusReport, type StatusReport } from "../render/status-report";
import { publicSummary } from "../stats/download-stats";
import { readTogether } from "../store/read-together";

/** Browsers and scripts may reuse the page this long; the crawler changes it at most once a minute. */
const CACHE_CONTROL = "public, max-age=30";

async function currentReport(c: Context<AppEnv>): Promise<StatusReport> {
  const now = new Date();
  const [table, crawl, publication, downloads] = await readTogether([
    c.var.mirrors.table(),
    c.var.mirrors.crawlState(),
    c.var.registry.publication(),
    c.var.stats.summary(now.getTime()),
  ]);
  return buildStatusReport(table, crawl, publication, now, downloads === null ? null : publicSummary(downloads, table));
}

/** The loaded table's mirrors by id, rebuilt when the table's version changes. */
let mirrorsById: { version: string; byId: Map<string, Mirror> } | null = null;

function byId(table: MirrorTable): Map<string, Mirror> {
  if (mirrorsById?.version !== table.version) mirrorsById = { version: table.version, byId: new Map(table.mirrors.map((mirror) => [mirror.id, mirror])) };
  return mirrorsById.byId;
}

/**
 * `GET /`: the public mirror list as HTML; `GET /status.json`: the same report for scripts.
 * `GET /mirrors/<id>`: one public mirror's recent checks, as JSON for `Accept: application/json`
 * or `/mirrors/<id>.json`; an id the table does not list, or a private mirror, is NOT_FOUND.
 */
export const status = new Hono<AppEnv>()
  .get("/", async (c) => {
    c.header("Cache-Control", CACHE_CONTROL);
    return c.html(renderStatusPage(await currentReport(c)));
  })
  .get("/status.json", async (c) => {
    c.header("Cache-Control", CACHE_CONTROL);
    return c.json(await currentReport(c));
  })
  .get("/mirrors/:id", async (c) => {
    const requested = c.req.param("id");
    const asJson = requested.endsWith(".json") || prefersJson(c.req.header("Accept"));
    const id = requested.endsWith(".json") ? requested.slice(0, -".json".length) : requested;
    const [table, crawl, publication] = await readTogether([c.var.mirrors.table(), c.var.mirrors.crawlState(), c.var.registry.publication()]);
    const report = buildMirrorReport(byId(table), id, crawl, publication, new Date());
    if (report === null) throw new RegistryError("NOT_FOUND", { detail: { path: new URL(c.req.url).pathname } });
    c.header("Cache-Control", CACHE_CONTROL);
    c.header("Vary", "Accept");
    return asJson ? c.json(report) : c.html(renderMirrorPage(report));
  });
