import { describe, expect, it } from "vitest";
import { runCli } from "../node/publish/run-cli";
import { blobPath, useE2eStack } from "./support";

const context = useE2eStack();
const SWITCHED = "de-fra";

function mirrorsCli(...args: string[]) {
  return runCli(["mirrors", ...args, "--local", context().stack.persistDir]);
}

let asks = 0;

/**
 * The mirror the front door redirects a first GET of the demo's amd64 layer to (the client is in Frankfurt).
 * Each ask comes from another program, so retry memory never takes it for a come-back.
 */
async function redirectTarget(): Promise<string> {
  const { stack, demo } = context();
  const response = await fetch(`${stack.url}/v2/demo/hello/blobs/${demo.amd64OwnLayer.digest}`, { redirect: "manual", headers: { "User-Agent": `admin-e2e/${++asks}` } });
  expect(response.status).toBe(307);
  const location = response.headers.get("Location")!;
  const server = stack.servers().find(({ server }) => location === `${server.url}${blobPath(demo.amd64OwnLayer.digest)}`);
  expect(server, location).toBeDefined();
  return server!.id;
}

describe("frontdoor mirrors against the local stack", () => {
  it("Should pass a running mirror with the crawler's checks", async () => {
    const mirror = context().stack.mirrors.find(({ id }) => id === SWITCHED)!;
    const result = await mirrorsCli("check", mirror.server.url);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/OK: the crawler would verify this mirror for generation \d+\./);
  });

  it("Should take a disabled mirror out of selection and out of the crawler's sweep without a restart, and bring it back", async () => {
    const { stack } = context();
    expect(await redirectTarget()).toBe(SWITCHED);

    const disabled = await mirrorsCli("disable", SWITCHED, "--note", "e2e");
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(await redirectTarget()).not.toBe(SWITCHED);

    stack.clearLogs();
    expect(await stack.crawl()).toBe("ok");
    // A mirror's markers: the tree's, or those of the content sets it carries.
    const markerReads = (id: string) => stack.accessLogs()[id]!.filter((entry) => /^\/frontdoor\/(sets\/[^/]+\/)?generation$/.test(entry.path)).length;
    expect(markerReads(SWITCHED)).toBe(0);
    expect(stack.mirrors.filter(({ id }) => id !== SWITCHED).every(({ id }) => markerReads(id) === 1)).toBe(true);

    const list = JSON.parse((await mirrorsCli("list", "--json")).stdout) as { mirrors: Array<{ id: string; status: string }> };
    expect(Object.fromEntries(list.mirrors.map((row) => [row.id, row.status]))).toEqual({ "de-fra": "disabled", "us-iad": "up", "jp-tyo": "up", "nl-ams": "up" });
    const history = JSON.parse((await mirrorsCli("history", "us-iad", "--json")).stdout) as { recent: Array<{ outcome: string }> };
    expect(history.recent.length).toBeGreaterThanOrEqual(2);
    expect(history.recent[0]!.outcome).toBe("pass");

    const enabled = await mirrorsCli("enable", SWITCHED);
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(await redirectTarget()).toBe(SWITCHED);
  });
});
