import { BIG_DEMO_REF } from "../../scripts/lib/stack/local-stack";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skopeo } from "../../scripts/lib/process/daemons";
import { runCommand } from "../../scripts/lib/process/processes";
import type { StatusReport } from "../../src/render/status-report";
import { PROJECT_DIR } from "../../scripts/lib/stack/local-stack";
import { startHostProxy } from "./host-proxy";
import { blobPath, DEMO_REPOSITORY, DEMO_TAG, serversThatSentBlobs, useE2eStack, type E2eContext } from "./support";

/** The client stands in Amsterdam: nl-ams (amd64 set only) is its country's mirror, de-fra (whole tree) its continent's. */
const AMSTERDAM = JSON.stringify({ country: "NL", continent: "EU" });

async function copy(context: E2eContext, arch: string, registry = context.stack.registry, env: Record<string, string> = {}) {
  const dir = await mkdtemp(join(context.scratch, `skopeo-${arch}-`));
  const args = ["--override-arch", arch, "copy", "--src-tls-verify=false", `docker://${registry}/${DEMO_REPOSITORY}:${DEMO_TAG}`, `oci:${join(dir, "image")}:latest`];
  if (Object.keys(env).length === 0) return skopeo(dir, args);
  return runCommand("skopeo", args, { env: { ...process.env, TMPDIR: dir, ...env } });
}

/** The demo image's per-platform blobs (config and layers) and the manifest digest of each platform. */
async function platformBlobs(context: E2eContext): Promise<Map<string, Set<string>>> {
  const byArch = new Map<string, Set<string>>();
  const index = JSON.parse(await readFile(join(context.stack.tree, blobPath(context.demo.index.digest)), "utf8")) as { manifests: Array<{ digest: string; platform: { architecture: string } }> };
  for (const entry of index.manifests) {
    const image = JSON.parse(await readFile(join(context.stack.tree, blobPath(entry.digest)), "utf8")) as { config: { digest: string }; layers: Array<{ digest: string }> };
    byArch.set(entry.platform.architecture, new Set([entry.digest, image.config.digest, ...image.layers.map((layer) => layer.digest)]));
  }
  return byArch;
}

function blobsSentBy(context: E2eContext, id: string): string[] {
  return (context.stack.accessLogs()[id] ?? []).filter((entry) => entry.method === "GET" && entry.path.startsWith("/blobs/") && entry.bytes > 0).map((entry) => entry.path);
}

async function status(context: E2eContext): Promise<StatusReport> {
  const response = await fetch(`${context.stack.url}/status.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as StatusReport;
}

describe("content sets: a mirror carrying only linux/amd64", () => {
  // Retry memory off: each pull is a first ask, so the second pull's shared layer is not a come-back sent elsewhere.
  const context = useE2eStack({ vars: { DEV_CLIENT_LOCATION: AMSTERDAM, RETRY_MEMORY: "off" } });

  it("Should never send a linux/arm64 blob to the amd64-only mirror; only the layer both platforms share may come from it", async () => {
    const result = await copy(context(), "arm64");
    expect(result.code, result.stderr).toBe(0);
    const byArch = await platformBlobs(context());
    const sent = blobsSentBy(context(), "nl-ams").map((path) => path.replace(/^\/blobs\/([a-z0-9]+)\//, "$1:"));
    for (const digest of sent) expect(byArch.get("amd64")!.has(digest), `${digest} is not in the amd64 set`).toBe(true);
    const armOnly = [...byArch.get("arm64")!].filter((digest) => !byArch.get("amd64")!.has(digest));
    expect(armOnly.length).toBeGreaterThan(1);
    for (const digest of armOnly) {
      if (digest === [...byArch.get("arm64")!][0]) continue; // the platform manifest comes from the front door itself
      expect(blobsSentBy(context(), "de-fra"), digest).toContain(blobPath(digest));
    }
  });

  it("Should send a linux/amd64 pull to the amd64-only mirror of the client's country", async () => {
    const result = await copy(context(), "amd64");
    expect(result.code, result.stderr).toBe(0);
    expect(serversThatSentBlobs(context().stack)).toEqual(["nl-ams"]);
    const amd64 = (await platformBlobs(context())).get("amd64")!;
    for (const path of blobsSentBy(context(), "nl-ams")) expect(amd64.has(path.replace(/^\/blobs\/([a-z0-9]+)\//, "$1:"))).toBe(true);
  });

  it("Should make a mirror synced with the documented rsync commands for one set current for that set only", async () => {
    const mirror = context().stack.mirrors.find((server) => server.id === "nl-ams")!;
    await rm(mirror.dir, { recursive: true, force: true });
    // docs/mirror-admins.md, "Carrying one content set", run as written, with a local path for rsync://host/module.
    const doc = await readFile(join(PROJECT_DIR, "docs", "mirror-admins.md"), "utf8");
    const script = /## Carrying one content set[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)![1]!
      .replace(/^SOURCE=.*$/m, `SOURCE=${context().stack.tree}`)
      .replace(/^DEST=.*$/m, `DEST=${mirror.dir}`)
      .replace(/^LIST=.*$/m, `LIST=${join(context().scratch, "sets", "amd64.files")}`)
      .replace(/\/var\/lock\/sync-frontdoor-set/, join(context().scratch, "sync.lock"));
    const result = await runCommand("sh", ["-c", script]);
    expect(result.code, result.stderr).toBe(0);
    const byArch = await platformBlobs(context());
    const armOnly = [...byArch.get("arm64")!].filter((digest) => !byArch.get("amd64")!.has(digest));
    const held = new Set((await readdir(join(mirror.dir, "blobs", "sha256"))).map((hex) => `sha256:${hex}`));
    for (const digest of byArch.get("amd64")!) expect(held.has(digest), digest).toBe(true);
    for (const digest of armOnly) expect(held.has(digest), digest).toBe(false);
    const rootIndex = JSON.parse(await readFile(join(mirror.dir, "index.json"), "utf8")) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    // The set's refs: the demo image and the signature attachments that go with it.
    const refs = rootIndex.manifests.map((entry) => entry.annotations?.["org.opencontainers.image.ref.name"] ?? "");
    expect(refs.filter((ref) => !/\.sig$/.test(ref)).sort()).toEqual([BIG_DEMO_REF, `${DEMO_REPOSITORY}:${DEMO_TAG}`].sort());
    expect(rootIndex.manifests.find((entry) => entry.annotations?.["org.opencontainers.image.ref.name"] === `${DEMO_REPOSITORY}:${DEMO_TAG}`)?.digest).toBe(context().demo.index.digest);

    expect(await context().stack.crawl()).toBe("ok");
    const report = await status(context());
    const row = report.mirrors.find((entry) => entry.id === "nl-ams")!;
    expect(row.status).toBe("up");
    expect(row.sets).toEqual([{ name: "amd64", announced: report.publication!.generation, verified: report.publication!.generation, fresh: true }]);
    const perSet = new Map(report.counts.sets.map((set) => [set.set, set]));
    expect(perSet.get("amd64")!.continents).toContainEqual({ continent: "EU", fresh: 2 });
    expect(perSet.get("arm64")!.continents).toContainEqual({ continent: "EU", fresh: 1 });

    const armLayer = armOnly.find((digest) => digest !== context().demo.index.digest)!;
    const debug = (await (await fetch(`${context().stack.url}/debug/selection/${DEMO_REPOSITORY}/blobs/${armLayer}`)).json()) as { excluded: Array<{ id: string; reason: string }> };
    expect(debug.excluded).toContainEqual({ id: "nl-ams", reason: "not-carried" });
  });
});

describe("pinning a mirror by host name, with a real client", () => {
  const context = useE2eStack();
  let proxy: Awaited<ReturnType<typeof startHostProxy>>;
  beforeAll(async () => {
    proxy = await startHostProxy(context().stack.port);
  });
  afterAll(async () => {
    await proxy.stop();
  });

  const pinned = (id: string) => `${id}.localhost:${context().stack.port}`;

  it("Should serve a pull from us-iad.localhost entirely from us-iad, although the client stands in Frankfurt", async () => {
    const result = await copy(context(), "amd64", pinned("us-iad"), { HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: "", no_proxy: "" });
    expect(result.code, result.stderr).toBe(0);
    expect(proxy.hosts).toContain(pinned("us-iad"));
    expect(serversThatSentBlobs(context().stack)).toEqual(["us-iad"]);
  });

  it("Should fall back to normal selection when the pinned mirror is down, never stranding the pull", async () => {
    const usIad = context().stack.mirrors.find((server) => server.id === "us-iad")!;
    await usIad.server.stop();
    try {
      for (let run = 0; run < 3; run++) expect(await context().stack.crawl()).toBe("ok");
      expect((await status(context())).mirrors.find((row) => row.id === "us-iad")!.status).toBe("down");
      context().stack.clearLogs();
      const result = await copy(context(), "amd64", pinned("us-iad"), { HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: "", no_proxy: "" });
      expect(result.code, result.stderr).toBe(0);
      expect(serversThatSentBlobs(context().stack)).toEqual(["de-fra"]);
    } finally {
      await usIad.server.start();
    }
  });

  it("Should keep a pull avoiding de-fra off de-fra", async () => {
    const result = await copy(context(), "amd64", `not-de-fra.localhost:${context().stack.port}`, { HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: "", no_proxy: "" });
    expect(result.code, result.stderr).toBe(0);
    expect(blobsSentBy(context(), "de-fra")).toEqual([]);
    expect(serversThatSentBlobs(context().stack).length).toBeGreaterThan(0);
  });
});
