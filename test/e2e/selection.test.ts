import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OVERRIDE_HEADERS } from "../../src/mirrors/client";
import { DEMO_REPOSITORY, serversThatSentBlobs, skopeoCopy, staticServerBytes, useE2eStack, type E2eContext } from "./support";

const JAPAN = JSON.stringify({ country: "JP", continent: "AS" });
const UNITED_STATES = JSON.stringify({ country: "US", continent: "NA" });

async function copyAll(context: E2eContext): ReturnType<typeof skopeoCopy> {
  return skopeoCopy(await mkdtemp(join(context.scratch, "skopeo-")), context.image, { all: true });
}

/** A real pull of every platform succeeds, and the access logs show that one mirror, and only it, sent every blob. */
async function expectPullServedOnlyBy(context: E2eContext, mirrorId: string): Promise<void> {
  const result = await copyAll(context);
  expect(result.code, result.stderr).toBe(0);
  expect(serversThatSentBlobs(context.stack)).toEqual([mirrorId]);
  for (const digest of context.demo.blobs.keys()) expect(staticServerBytes(context.stack, digest).servers, digest).toEqual([mirrorId]);
}

/** Where the front door redirects a GET of the linux/amd64 layer, sent with these headers. */
async function redirectTarget(context: E2eContext, headers: Record<string, string> = {}): Promise<string> {
  const digest = context.demo.amd64OwnLayer.digest;
  const response = await fetch(`${context.stack.url}/v2/${DEMO_REPOSITORY}/blobs/${digest}`, { redirect: "manual", headers });
  await response.body?.cancel();
  expect(response.status).toBe(307);
  return response.headers.get("Location") ?? "";
}

/** The id of the static server whose URL `location` points into. */
function serverAt(context: E2eContext, location: string): string | undefined {
  return context.stack.servers().find(({ server }) => location.startsWith(`${server.url}/`))?.id;
}

const toUnitedStates = { [OVERRIDE_HEADERS.country]: "US", [OVERRIDE_HEADERS.continent]: "NA" };
const toJapan = { [OVERRIDE_HEADERS.country]: "JP", [OVERRIDE_HEADERS.continent]: "AS" };

describe("selection from the stack's own client place, Frankfurt", () => {
  const context = useE2eStack();

  it("Should serve a skopeo pull from de-fra only", async () => {
    await expectPullServedOnlyBy(context(), "de-fra");
  });

  it("Should redirect a blob GET without override headers to de-fra", async () => {
    expect(serverAt(context(), await redirectTarget(context()))).toBe("de-fra");
  });

  it("Should redirect a blob GET with United States override headers to us-iad", async () => {
    expect(serverAt(context(), await redirectTarget(context(), toUnitedStates))).toBe("us-iad");
  });

  it("Should redirect a blob GET with Japan override headers to jp-tyo", async () => {
    expect(serverAt(context(), await redirectTarget(context(), toJapan))).toBe("jp-tyo");
  });
});

describe("selection with DEV_CLIENT_LOCATION in Japan", () => {
  const context = useE2eStack({ vars: { DEV_CLIENT_LOCATION: JAPAN } });

  it("Should serve a skopeo pull from jp-tyo only", async () => {
    await expectPullServedOnlyBy(context(), "jp-tyo");
  });

  it("Should let override headers take a blob GET elsewhere, to us-iad", async () => {
    expect(serverAt(context(), await redirectTarget(context(), toUnitedStates))).toBe("us-iad");
  });
});

describe("selection with DEV_CLIENT_LOCATION in the United States", () => {
  const context = useE2eStack({ vars: { DEV_CLIENT_LOCATION: UNITED_STATES } });

  it("Should serve a skopeo pull from us-iad only", async () => {
    await expectPullServedOnlyBy(context(), "us-iad");
  });
});

describe("selection in production, where no override applies", () => {
  const context = useE2eStack({ vars: { FRONTDOOR_ENV: "production", DEV_CLIENT_LOCATION: JAPAN } });

  it("Should ignore the override headers and redirect a blob GET to de-fra", async () => {
    expect(serverAt(context(), await redirectTarget(context(), toUnitedStates))).toBe("de-fra");
  });

  it("Should ignore DEV_CLIENT_LOCATION and serve a skopeo pull from de-fra only", async () => {
    await expectPullServedOnlyBy(context(), "de-fra");
  });
});
