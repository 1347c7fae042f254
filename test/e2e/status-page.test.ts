import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../../scripts/lib/stack/local-stack";
import { parseMirrorConfig } from "../../scripts/lib/publish/mirrors-config";
import { CRAWL_DEFAULTS } from "../../src/config";
import type { MirrorTable } from "../../src/mirrors/types";
import { useE2eStack } from "./support";

const SCREENSHOT = join(PROJECT_DIR, "test-results", "status-page.png");
/** Stopped before the page is loaded, so the table shows a mirror out of rotation. */
const STOPPED = "us-iad";
/** The stack runs with the default `CRAWL_FAILURES_BEFORE_DOWN`. */
const FAILURES_BEFORE_DOWN = CRAWL_DEFAULTS.failuresBeforeDown;

interface RenderedRow {
  id: string;
  country: string;
  continent: string;
  bandwidth: string;
  status: string;
}

const context = useE2eStack({ resetBetweenTests: false });
let browser: Browser;
let config: MirrorTable;
let rows: RenderedRow[];
let scripts: number;

beforeAll(async () => {
  config = await parseMirrorConfig(await readFile(context().stack.mirrorsToml, "utf8"));
  await context().stack.mirrors.find((mirror) => mirror.id === STOPPED)!.server.stop();
  for (let run = 0; run < FAILURES_BEFORE_DOWN; run++) await context().stack.crawl();

  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
  const response = await page.goto(`${context().stack.url}/`);
  expect(response?.status()).toBe(200);
  rows = await page.$$eval("tr[data-mirror]", (elements) =>
    elements.map((row) => {
      const field = (name: string) => row.querySelector(`[data-field="${name}"]`)?.textContent?.trim() ?? "";
      return {
        id: row.getAttribute("data-mirror") ?? "",
        country: field("country"),
        continent: field("continent"),
        bandwidth: field("bandwidth"),
        status: row.querySelector('[data-field="status"] .badge')?.textContent?.trim() ?? "",
      };
    }),
  );
  scripts = await page.locator("script").count();
  await mkdir(join(PROJECT_DIR, "test-results"), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

afterAll(async () => {
  await browser?.close();
});

describe("the status page in a browser", () => {
  it("Should list every public mirror of the config with its country, continent and bandwidth", () => {
    const expected = config.mirrors
      .filter((mirror) => !mirror.private)
      .map((mirror) => ({ id: mirror.id, country: mirror.country, continent: mirror.continent, bandwidth: String(mirror.bandwidth) }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const shown = rows.map(({ id, country, continent, bandwidth }) => ({ id, country, continent, bandwidth })).sort((a, b) => a.id.localeCompare(b.id));
    expect(shown).toEqual(expected);
  });

  it("Should show the stopped mirror down and the others up", () => {
    const statuses = Object.fromEntries(rows.map((row) => [row.id, row.status]));
    const expected = Object.fromEntries(config.mirrors.map((mirror) => [mirror.id, mirror.id === STOPPED ? "down" : "up"]));
    expect(statuses).toEqual(expected);
  });

  it("Should render without any script", () => {
    expect(scripts).toBe(0);
  });
});
