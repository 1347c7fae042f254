import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { skopeo } from "../../scripts/lib/process/daemons";
import type { StatusReport } from "../../src/render/status-report";
import { useE2eStack } from "./support";

const context = useE2eStack();

/** What each static server's access log saw of blob downloads: successful GETs of `/blobs/` and their body bytes. */
function accessLogDownloads(): Record<string, [number, number]> {
  const seen: Record<string, [number, number]> = {};
  for (const [id, entries] of Object.entries(context().stack.accessLogs())) {
    const gets = entries.filter((entry) => entry.method === "GET" && entry.path.startsWith("/blobs/") && (entry.status === 200 || entry.status === 206));
    if (gets.length > 0) seen[id] = [gets.length, gets.reduce((sum, entry) => sum + entry.bytes, 0)];
  }
  return seen;
}

describe("download statistics", () => {
  it("Should count, per mirror and per country, the redirects and bytes the mirrors' access logs saw after a scripted set of pulls", async () => {
    const { stack, demo, image, scratch } = context();
    // A pull of every platform from Frankfurt, where the stack's clients are...
    const dir = await mkdtemp(join(scratch, "stats-"));
    const copy = await skopeo(dir, ["copy", "--all", "--src-tls-verify=false", `docker://${image}`, `oci:${join(dir, "image")}:latest`]);
    expect(copy.code, copy.stderr).toBe(0);
    // ...and the linux/amd64 blobs fetched by a client in Tokyo, following each redirect.
    for (const digest of demo.amd64Blobs.keys()) {
      const response = await fetch(`${stack.url}/v2/demo/hello/blobs/${digest}`, {
        headers: { "X-Frontdoor-Client-Country": "JP", "X-Frontdoor-Client-Continent": "AS", "User-Agent": "stats-e2e" },
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }

    const report = (await (await fetch(`${stack.url}/status.json`)).json()) as StatusReport;
    const downloads = report.downloads!;
    expect(downloads.source).toBe("memory");
    const counted = Object.fromEntries(downloads.hour.mirrors.map((row) => [row.id, [row.redirects, row.bytes]]));
    const seen = accessLogDownloads();
    expect(counted).toEqual(seen);
    expect(Object.keys(seen).sort()).toEqual(["de-fra", "jp-tyo"]);
    expect(downloads.day.mirrors).toEqual(downloads.hour.mirrors);

    const countries = Object.fromEntries(downloads.hour.countries.map((row) => [row.country, [row.redirects, row.bytes]]));
    const amd64Bytes = [...demo.amd64Blobs.values()].reduce((sum, size) => sum + size, 0);
    expect(countries).toEqual({ DE: seen["de-fra"], JP: [demo.amd64Blobs.size, amd64Bytes] });
  });
});
