import { cp, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeDemoTree } from "../../scripts/lib/stack/demo-tree";
import type { StackServer } from "../../scripts/lib/stack/local-stack";
import { CRAWL_DEFAULTS } from "../../src/config";
import type { StatusReport } from "../../src/render/status-report";
import { DEMO_REPOSITORY, expectBlobsServedByStaticServers, frontDoorBlobRequests, publishAgain, readFirstSeen, serversThatSentBlobs, skopeoCopy, useE2eStack } from "./support";

/** The mirror nearest the stack's client (Frankfurt): the one a pull goes to while it qualifies. */
const NEAREST = "de-fra";
/** The stack runs with the default `CRAWL_FAILURES_BEFORE_DOWN`: sweeps of failures before a mirror is out of rotation. */
const FAILURES_BEFORE_DOWN = CRAWL_DEFAULTS.failuresBeforeDown;
/** ... and the default `CRAWL_PASSES_BEFORE_UP`: passing sweeps in a row before a down mirror is back. */
const PASSES_BEFORE_UP = CRAWL_DEFAULTS.passesBeforeUp;

const context = useE2eStack();

afterEach(async () => {
  for (const { server } of context().stack.mirrors) if (!server.running) await server.start();
  await context().stack.crawl();
});

function mirrorServer(id: string): StackServer {
  return context().stack.mirror(id);
}

async function crawlTimes(times: number): Promise<void> {
  for (let run = 0; run < times; run++) expect(await context().stack.crawl()).toBe("ok");
}

async function statusOf(id: string): Promise<StatusReport["mirrors"][number] | undefined> {
  const response = await fetch(`${context().stack.url}/status.json`);
  expect(response.status).toBe(200);
  return ((await response.json()) as StatusReport).mirrors.find((row) => row.id === id);
}

async function copyImage(reference: string): Promise<void> {
  const dir = await mkdtemp(join(context().scratch, "skopeo-"));
  try {
    const result = await skopeoCopy(dir, `${context().stack.registry}/${reference}`, { all: true });
    expect(result.code, result.stderr).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Where the front door redirects this machine's request for a demo blob. */
async function blobRedirectTarget(): Promise<string> {
  const [digest] = [...context().demo.amd64Blobs.keys()];
  const response = await fetch(`${context().stack.url}/v2/${DEMO_REPOSITORY}/blobs/${digest}`, { redirect: "manual" });
  await response.body?.cancel();
  expect(response.status).toBe(307);
  return response.headers.get("Location") ?? "";
}

/** Ids of the mirrors the front door redirected blob requests to since the logs were cleared. */
function mirrorsChosenByFrontDoor(): string[] {
  return [...new Set(frontDoorBlobRequests(context().stack).map((request) => String(request.mirror)))].sort();
}

describe("a stopped mirror", () => {
  it("Should stay in rotation, failing, for one sweep fewer than the configured number and be down after it", async () => {
    const { server } = mirrorServer(NEAREST);
    await server.stop();
    await crawlTimes(FAILURES_BEFORE_DOWN - 1);
    expect(await statusOf(NEAREST)).toMatchObject({ status: "failing" });
    expect(new URL(await blobRedirectTarget()).origin).toBe(new URL(server.url).origin);
    await crawlTimes(1);
    expect(await statusOf(NEAREST)).toMatchObject({ status: "down" });
  });

  it("Should get no part of the next skopeo pull once it is down, the others serving all of it", async () => {
    await mirrorServer(NEAREST).server.stop();
    await crawlTimes(FAILURES_BEFORE_DOWN);
    context().stack.clearLogs();
    await copyImage("demo/hello:latest");
    expectBlobsServedByStaticServers(context().stack, context().demo.blobs);
    expect(mirrorsChosenByFrontDoor()).not.toContain(NEAREST);
    const others = context().stack.mirrors.map((mirror) => mirror.id).filter((id) => id !== NEAREST);
    expect(serversThatSentBlobs(context().stack).length).toBeGreaterThan(0);
    for (const id of serversThatSentBlobs(context().stack)) expect(others).toContain(id);
  });

  it("Should stay down for one sweep fewer than the configured passes after it restarts, and be back after them", async () => {
    const { server } = mirrorServer(NEAREST);
    await server.stop();
    await crawlTimes(FAILURES_BEFORE_DOWN);
    await server.start();
    await crawlTimes(PASSES_BEFORE_UP - 1);
    expect(await statusOf(NEAREST)).toMatchObject({ status: "down" });
    await crawlTimes(1);
    expect(await statusOf(NEAREST)).toMatchObject({ status: "up" });
    context().stack.clearLogs();
    await copyImage("demo/hello:latest");
    expect(serversThatSentBlobs(context().stack)).toEqual([NEAREST]);
  });
});

describe("a mirror left a generation behind", () => {
  const next = "demo/next:v2";

  beforeAll(async () => {
    await writeDemoTree(context().stack.tree, { repository: "demo/next", tag: "v2", message: "published in the second generation" });
    await publishAgain(context().stack);
    for (const mirror of context().stack.mirrors) {
      if (mirror.id !== NEAREST) await cp(context().stack.tree, mirror.dir, { recursive: true, force: true });
    }
    await crawlTimes(1);
  });

  it("Should be shown one generation behind the newest publication", async () => {
    expect(await statusOf(NEAREST)).toMatchObject({ status: "stale", generation: 1, lag: 1 });
  });

  it("Should never be sent a blob first published in the newer generation", async () => {
    const firstSeen = await readFirstSeen(context().stack.tree);
    await copyImage(next);
    const newBlobRequests = frontDoorBlobRequests(context().stack).filter((request) => firstSeen.get(request.path.slice(request.path.lastIndexOf("/") + 1)) === 2);
    expect(newBlobRequests.length).toBeGreaterThan(0);
    expect(newBlobRequests.map((request) => request.mirror)).not.toContain(NEAREST);
  });

  it("Should still be sent content it already has", async () => {
    await copyImage("demo/hello:latest");
    expect(serversThatSentBlobs(context().stack)).toEqual([NEAREST]);
  });
});
