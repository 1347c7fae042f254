import { Hono, type Context } from "hono";
import type { AppEnv } from "../env";
import { renderStatusPage } from "../render/status-page";
import { buildStatusReport, type StatusReport } from "../render/status-report";
import { readTogether } from "../store/read-together";

/** Browsers and scripts may reuse the page this long; the crawler changes it at most once a minute. */
const CACHE_CONTROL = "public, max-age=30";

async function currentReport(c: Context<AppEnv>): Promise<StatusReport> {
  const [table, crawl, publication] = await readTogether([c.var.mirrors.table(), c.var.mirrors.crawlState(), c.var.registry.publication()]);
  return buildStatusReport(table, crawl, publication, new Date());
}

/** `GET /`: the public mirror list as HTML; `GET /status.json`: the same report for scripts. */
export const status = new Hono<AppEnv>()
  .get("/", async (c) => {
    c.header("Cache-Control", CACHE_CONTROL);
    return c.html(renderStatusPage(await currentReport(c)));
  })
  .get("/status.json", async (c) => {
    c.header("Cache-Control", CACHE_CONTROL);
    return c.json(await currentReport(c));
  });
