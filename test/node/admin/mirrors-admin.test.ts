import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LocalKvTarget } from "../../../scripts/lib/kv/local-kv";
import { localNamespaceId } from "../../../scripts/lib/kv/wrangler-config";
import { publishTree } from "../../../scripts/lib/publish/publish-tree";
import { writeDemoTree } from "../../../scripts/lib/stack/demo-tree";
import { startMirrorServer, type MirrorServer } from "../../../scripts/lib/stack/mirror-server";
import type { CheckRecord, MirrorHealth, MirrorTable } from "../../../src/mirrors/types";
import { UNCHECKED } from "../../../src/crawl/health";
import { crawlStateEntry } from "../../../src/store/encode";
import { keys } from "../../../src/store/keys";
import type { InventoryEntry, MirrorOverride } from "../../../src/store/records";
import { PROJECT, runCli, withTempDir } from "../publish/run-cli";
import { stubWrangler } from "../publish/stub-wrangler";

// Each CLI run starts Node, tsx and workerd: seconds on a busy machine.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const EXAMPLE = join(PROJECT, "mirrors.example.toml");
const NAMESPACE_ID = "0123456789abcdef0123456789abcdef";

let dir: Awaited<ReturnType<typeof withTempDir>>;
let persist: string;
beforeEach(async () => {
  dir = await withTempDir();
  persist = join(dir.path, "state");
});
afterEach(async () => {
  await dir.remove();
});

async function withTarget<T>(look: (target: LocalKvTarget) => Promise<T>): Promise<T> {
  const target = new LocalKvTarget(persist, await localNamespaceId());
  try {
    return await look(target);
  } finally {
    await target.close();
  }
}

async function storedTable(): Promise<MirrorTable> {
  return withTarget(async (target) => {
    const { value, metadata } = await (await target.kv()).getWithMetadata<MirrorTable, { version: string }>(keys.mirrors(), "json");
    expect(metadata?.version).toBe(value?.version);
    return value!;
  });
}

function enabledOf(table: MirrorTable): Record<string, boolean> {
  return Object.fromEntries(table.mirrors.map((mirror) => [mirror.id, mirror.enabled]));
}

async function cli(...args: string[]) {
  const result = await runCli(["mirrors", ...args, "--local", persist]);
  return result;
}

describe("frontdoor mirrors enable/disable", () => {
  it("Should switch one mirror off under a new table version, keep the switch across a reload, and switch it on again", async () => {
    expect((await cli("load", EXAMPLE)).code).toBe(0);
    const loaded = await storedTable();

    const disabled = await cli("disable", "fra-1", "--note", "disk replacement");
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stdout).toContain("Disabled mirror fra-1");
    const afterDisable = await storedTable();
    expect(enabledOf(afterDisable)).toEqual({ "fra-1": false, "us-east": true, campus: true, "de-partial": true });
    expect(afterDisable.version).not.toBe(loaded.version);
    const overrides = await withTarget(async (target) => JSON.parse((await target.readText(keys.mirrorOverrides()))!) as MirrorOverride[]);
    expect(overrides).toEqual([{ id: "fra-1", enabled: false, at: expect.any(String), note: "disk replacement" }]);

    const reloaded = await cli("load", EXAMPLE);
    expect(reloaded.stdout).toContain("Kept the switches of fra-1 (disabled)");
    expect(enabledOf(await storedTable())).toEqual({ "fra-1": false, "us-east": true, campus: true, "de-partial": true });

    const listed = await cli("list", "--json");
    const rows = JSON.parse(listed.stdout).mirrors as Array<{ id: string; status: string; override: MirrorOverride | null }>;
    expect(rows.map((row) => [row.id, row.status, row.override?.enabled ?? null])).toEqual([
      ["fra-1", "disabled", false],
      ["us-east", "unchecked", null],
      ["campus", "unchecked", null],
      ["de-partial", "unchecked", null],
    ]);

    expect((await cli("enable", "fra-1")).code).toBe(0);
    const afterEnable = await storedTable();
    expect(enabledOf(afterEnable)).toEqual({ "fra-1": true, "us-east": true, campus: true, "de-partial": true });
    expect(afterEnable.version).toBe(loaded.version);
  });

  it("Should exit 1 for an id the table does not hold and change nothing", async () => {
    await cli("load", EXAMPLE);
    const before = await storedTable();
    const result = await cli("disable", "nowhere");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no mirror "nowhere"; it has fra-1, us-east, campus');
    expect(await storedTable()).toEqual(before);
    expect(await withTarget((target) => target.readText(keys.mirrorOverrides()))).toBeNull();
  });

  it("Should write the override and the rewritten table through wrangler for --remote", async () => {
    const stub = await stubWrangler(dir.path);
    const env = { FRONTDOOR_WRANGLER: stub.path };
    const remote = ["--remote", "--namespace-id", NAMESPACE_ID];
    expect((await runCli(["mirrors", "load", EXAMPLE, ...remote], env)).code).toBe(0);
    const result = await runCli(["mirrors", "disable", "us-east", ...remote], env);
    expect(result.code, result.stderr).toBe(0);
    const kv = await stub.kv();
    expect(enabledOf(JSON.parse(kv[keys.mirrors()]!))).toEqual({ "fra-1": true, "us-east": false, campus: true, "de-partial": true });
    expect(JSON.parse(kv[keys.mirrorOverrides()]!)).toMatchObject([{ id: "us-east", enabled: false }]);
  });
});

describe("frontdoor mirrors list and history", () => {
  it("Should give each mirror the state the crawler's findings imply and print its recent checks newest first", async () => {
    await cli("load", EXAMPLE);
    const check = (at: string, outcome: CheckRecord["outcome"]): CheckRecord => ({
      at,
      outcome,
      announced: outcome === "fail" ? null : 2,
      verified: 2,
      blobs: 3,
      failure: outcome === "fail" ? { url: "https://mirror.example.net/oci/frontdoor/generation", reason: "timeout", detail: "no answer within 5000 ms" } : null,
    });
    const failing: MirrorHealth = {
      ...UNCHECKED,
      announced: 2,
      verified: 2,
      consecutiveFailures: 1,
      lastChecked: "2026-11-27T10:02:00.000Z",
      lastFailureReason: "timeout",
      recent: [check("2026-11-27T10:00:00.000Z", "pass"), check("2026-11-27T10:01:00.000Z", "held"), check("2026-11-27T10:02:00.000Z", "fail")],
    };
    await withTarget((target) => target.putEntries([crawlStateEntry({ "fra-1": failing, "us-east": { ...UNCHECKED, announced: 2, verified: 2 } })]));

    const list = await cli("list");
    expect(list.code, list.stderr).toBe(0);
    const statuses = list.stdout.split("\n").filter((line) => /^(fra-1|us-east|campus) /.test(line)).map((line) => line.split(/\s+/).slice(0, 2));
    expect(statuses).toEqual([
      ["fra-1", "failing"],
      ["us-east", "up"],
      ["campus", "unchecked"],
    ]);

    const history = await cli("history", "fra-1", "--json");
    expect(history.code, history.stderr).toBe(0);
    const parsed = JSON.parse(history.stdout) as { status: string; recent: CheckRecord[] };
    expect(parsed.status).toBe("failing");
    expect(parsed.recent.map((entry) => entry.outcome)).toEqual(["fail", "held", "pass"]);
    const text = await cli("history", "fra-1");
    expect(text.stdout).toContain("timeout: no answer within 5000 ms");
  });
});

describe("frontdoor mirrors check", () => {
  let tree: string;
  let server: MirrorServer;
  let inventory: InventoryEntry[];

  beforeEach(async () => {
    tree = join(dir.path, "tree");
    await writeDemoTree(tree);
    await withTarget(async (target) => {
      const plan = await publishTree(tree, target);
      inventory = JSON.parse((await target.readText(keys.inventoryPage(plan.generation, 0)))!) as InventoryEntry[];
    });
    server = await startMirrorServer({ root: tree });
  });
  afterEach(async () => {
    await server.stop();
  });

  it("Should pass a mirror that serves every blob path of the inventory, after one GET of each", async () => {
    const result = await cli("check", `${server.url}/`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${inventory.length} of ${inventory.length} blob paths checked passed`);
    expect(result.stdout).toContain("OK: the crawler would verify this mirror for generation 1.");
    const blobGets = server.log().filter((entry) => entry.path.startsWith("/blobs/"));
    expect(blobGets.every((entry) => entry.method === "GET")).toBe(true);
    expect(new Set(blobGets.map((entry) => entry.path)).size).toBe(inventory.length);
  });

  it("Should exit 1 and name each blob path whose bytes do not hash to their digest", async () => {
    const victim = inventory[inventory.length - 1]!;
    const path = `/blobs/${victim.digest.replace(":", "/")}`;
    const bytes = new Uint8Array(await readFile(join(tree, path)));
    bytes[0]! ^= 0xff;
    server.tamper(path, bytes);
    const result = await cli("check", server.url, "--json");
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { failures: Array<{ entry: InventoryEntry; failure: { reason: string } }>; verifiableFor: number | null };
    expect(report.failures.map(({ entry, failure }) => [entry.digest, failure.reason])).toEqual([[victim.digest, "digest-mismatch"]]);
    expect(report.verifiableFor).toBeNull();
  });

  it("Should fail a marker that names a generation never published, and check no blob", async () => {
    await writeFile(join(tree, "frontdoor", "generation"), JSON.stringify({ generation: 7, published: "2026-11-27T10:00:00Z" }));
    const result = await cli("check", server.url);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("Marker: FAIL bad-marker");
    expect(server.log().filter((entry) => entry.path.startsWith("/blobs/"))).toEqual([]);
  });

  it("Should refuse a base URL the mirrors file would refuse, with exit 2", async () => {
    const result = await cli("check", "ftp://mirror.example.net/oci");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("must use http or https");
  });
});
