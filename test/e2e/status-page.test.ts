import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_DIR } from "../../scripts/lib/stack/local-stack";
import { parseMirrorConfig } from "../../scripts/lib/publish/mirrors-config";
import { CRAWL_DEFAULTS } from "../../src/config";
import type { MirrorTable } from "../../src/mirrors/types";
import { useE2eStack } from "./support";

const RESULTS = join(PROJECT_DIR, "test-results");
/** Phone and desktop widths the page is looked at, and saved, at. */
const WIDTHS = { phone: 390, desktop: 1280 } as const;
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
/** Per mirror at each width: whether its status badge lies inside the screen. */
let phoneBadges: Array<{ id: string; right: number; visible: boolean }>;
let desktopBadges: Array<{ id: string; right: number; visible: boolean }>;
let phoneScrollWidth: number;

/** Where each mirror's status badge is drawn, in the viewport's coordinates. */
function badgePlaces(page: Page): Promise<Array<{ id: string; right: number; visible: boolean }>> {
  return page.$$eval("#mirrors tr[data-mirror]", (elements) =>
    elements.map((row) => {
      const box = row.querySelector('[data-field="status"] .badge')?.getBoundingClientRect();
      return { id: row.getAttribute("data-mirror") ?? "", right: box?.right ?? Infinity, visible: box !== undefined && box.width > 0 };
    }),
  );
}

beforeAll(async () => {
  config = await parseMirrorConfig(await readFile(context().stack.mirrorsToml, "utf8"));
  await context().stack.mirrors.find((mirror) => mirror.id === STOPPED)!.server.stop();
  for (let run = 0; run < FAILURES_BEFORE_DOWN; run++) await context().stack.crawl();

  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  // Some downloads, so the page shows figures.
  for (const digest of context().demo.amd64Blobs.keys()) {
    const response = await fetch(`${context().stack.url}/v2/demo/hello/blobs/${digest}`);
    await response.arrayBuffer();
  }
  await mkdir(RESULTS, { recursive: true });

  const page = await browser.newPage({ viewport: { width: WIDTHS.desktop, height: 900 }, javaScriptEnabled: false });
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
  desktopBadges = await badgePlaces(page);
  await page.screenshot({ path: join(RESULTS, `status-page-${WIDTHS.desktop}.png`), fullPage: true });

  const phone = await browser.newPage({ viewport: { width: WIDTHS.phone, height: 844 }, javaScriptEnabled: false, isMobile: true, deviceScaleFactor: 1 });
  await phone.goto(`${context().stack.url}/`);
  phoneBadges = await badgePlaces(phone);
  phoneScrollWidth = await phone.$eval("html", (root) => root.scrollWidth);
  await phone.screenshot({ path: join(RESULTS, `status-page-${WIDTHS.phone}.png`), fullPage: true });
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

  it("Should keep every mirror's status on a phone screen, with nothing wider than the screen", () => {
    expect(phoneBadges.map((badge) => badge.id).sort()).toEqual(rows.map((row) => row.id).sort());
    for (const badge of phoneBadges) {
      expect(badge.visible, badge.id).toBe(true);
      expect(badge.right, badge.id).toBeLessThanOrEqual(WIDTHS.phone);
    }
    expect(phoneScrollWidth).toBeLessThanOrEqual(WIDTHS.phone);
  });

  it("Should show every mirror's status on a desktop screen without scrolling the table", () => {
    expect(desktopBadges).toHaveLength(rows.length);
    for (const badge of desktopBadges) expect([badge.id, badge.visible, badge.right <= WIDTHS.desktop]).toEqual([badge.id, true, true]);
  });

  it("Should render without any script", () => {
    expect(scripts).toBe(0);
  });
});
