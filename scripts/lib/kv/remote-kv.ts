import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { MirrorTable } from "../../../src/mirrors/types";
import type { PublicationPlan } from "../../../src/publish/plan";
import { mirrorsEntry, type KvEntry } from "../../../src/store/encode";
import { keys, PUBLISHED_PREFIXES } from "../../../src/store/keys";
import { PUBLISHER_RECORD_PREFIXES } from "../../../src/store/publication-store";
import { CONTENT_HASH_FIELD, type Publication } from "../../../src/store/records";
import type { KvTarget } from "./kv-target";
import { readJson } from "./read-json";
import { projectWrangler, runWrangler, type WranglerCommand } from "./wrangler";

/** One entry of the JSON file `wrangler kv bulk put` reads. */
export interface BulkEntry {
  key: string;
  value: string;
  base64?: boolean;
  metadata?: Record<string, unknown>;
}

/** One bulk call: a `wrangler kv bulk put` file of entries, or a `wrangler kv bulk delete` file of key names. */
export type BulkFile = { name: string; action: "put"; entries: BulkEntry[] } | { name: string; action: "delete"; entries: string[] };

/** Binary values travel base64-encoded with `base64: true`; strings as they are. */
export function toBulkEntry(write: KvEntry): BulkEntry {
  const entry: BulkEntry =
    typeof write.value === "string" ? { key: write.key, value: write.value } : { key: write.key, value: Buffer.from(write.value).toString("base64"), base64: true };
  if (write.metadata !== undefined) entry.metadata = write.metadata;
  return entry;
}

/**
 * Splits a plan into bulk files run one after the other: content, pointers,
 * `publication` alone, then the stale pointers and only then the stale
 * content, since the entries of one bulk call land in no set order.
 */
export function planBulkFiles(plan: PublicationPlan): BulkFile[] {
  const publicationKey = keys.publication();
  return [
    { name: "1-content.json", action: "put", entries: plan.content.map(toBulkEntry) },
    { name: "2-pointers.json", action: "put", entries: plan.pointers.filter((write) => write.key !== publicationKey).map(toBulkEntry) },
    { name: "3-publication.json", action: "put", entries: plan.pointers.filter((write) => write.key === publicationKey).map(toBulkEntry) },
    { name: "4-deletions-pointers.json", action: "delete", entries: plan.deletions.pointers },
    { name: "5-deletions-content.json", action: "delete", entries: plan.deletions.content },
  ];
}

export function mirrorsBulkFile(table: MirrorTable): BulkFile {
  return { name: "mirrors.json", action: "put", entries: [toBulkEntry(mirrorsEntry(table))] };
}

/** Key names of `wrangler kv key list` output (a JSON array of `{name, ...}`). */
export function parseKeyList(stdout: string): string[] {
  return parseKeyEntries(stdout).map((entry) => entry.name);
}

/** Key names and metadata of `wrangler kv key list` output (`{name, expiration?, metadata?}`, the API's list). */
export function parseKeyEntries(stdout: string): Array<{ name: string; metadata?: unknown }> {
  let list: unknown;
  try {
    list = JSON.parse(stdout);
  } catch {
    throw new Error(`wrangler kv key list printed no JSON: ${stdout.slice(0, 200)}`);
  }
  if (!Array.isArray(list) || !list.every((entry) => typeof entry?.name === "string")) {
    throw new Error(`wrangler kv key list printed no list of keys: ${stdout.slice(0, 200)}`);
  }
  return list as Array<{ name: string; metadata?: unknown }>;
}

export interface RemoteKvOptions {
  namespaceId: string;
  /** Writes the bulk files here instead of running them; the namespace is still read, never written. */
  dryRunDir?: string;
  /** Passed to wrangler as `--config`. */
  wranglerConfig?: string;
  /** The wrangler to run; default the project's own. */
  wrangler?: WranglerCommand;
}

/** A deployed KV namespace read through `wrangler kv key` and written through `wrangler kv bulk put/delete --remote`. */
export class RemoteKvTarget implements KvTarget {
  readonly description: string;
  private readonly wrangler: WranglerCommand;

  constructor(private readonly options: RemoteKvOptions) {
    this.wrangler = options.wrangler ?? projectWrangler();
    this.description =
      options.dryRunDir === undefined
        ? `remote KV namespace ${options.namespaceId}`
        : `bulk files for namespace ${options.namespaceId} in ${resolve(options.dryRunDir)} (dry run)`;
  }

  private commonArgs(): string[] {
    const args = ["--namespace-id", this.options.namespaceId, "--remote"];
    if (this.options.wranglerConfig !== undefined) args.push("--config", this.options.wranglerConfig);
    return args;
  }

  private async listKeys(prefix: string): Promise<string[]> {
    return parseKeyList(await runWrangler(this.wrangler, ["kv", "key", "list", "--prefix", prefix, ...this.commonArgs()]));
  }

  /** Lists before it gets: remotely, getting a missing key is an error (404), not an empty answer. */
  async readText(key: string): Promise<string | null> {
    if (!(await this.listKeys(key)).includes(key)) return null;
    return runWrangler(this.wrangler, ["kv", "key", "get", key, "--text", ...this.commonArgs()]);
  }

  readPublication(): Promise<Publication | null> {
    return readJson<Publication>(this, keys.publication());
  }

  async listPublishedKeys(): Promise<string[]> {
    const found: string[] = [];
    for (const prefix of [...PUBLISHED_PREFIXES.pointers, ...PUBLISHED_PREFIXES.content]) found.push(...(await this.listKeys(prefix)));
    return found;
  }

  async listPublished(): Promise<Map<string, string | null>> {
    const found = new Map<string, string | null>();
    for (const prefix of [...PUBLISHED_PREFIXES.pointers, ...PUBLISHED_PREFIXES.content, ...PUBLISHER_RECORD_PREFIXES]) {
      const stdout = await runWrangler(this.wrangler, ["kv", "key", "list", "--prefix", prefix, ...this.commonArgs()]);
      for (const entry of parseKeyEntries(stdout)) {
        const hash = typeof entry.metadata === "object" && entry.metadata !== null ? (entry.metadata as Record<string, unknown>)[CONTENT_HASH_FIELD] : undefined;
        found.set(entry.name, typeof hash === "string" ? hash : null);
      }
    }
    return found;
  }

  private async runBulk(files: BulkFile[]): Promise<void> {
    const directory = this.options.dryRunDir ?? (await mkdtemp(join(tmpdir(), "frontdoor-bulk-")));
    await mkdir(directory, { recursive: true });
    try {
      for (const file of files) await writeFile(join(directory, file.name), `${JSON.stringify(file.entries, null, 2)}\n`);
      if (this.options.dryRunDir !== undefined) return;
      for (const file of files) {
        if (file.entries.length === 0) continue;
        const command = file.action === "put" ? ["kv", "bulk", "put"] : ["kv", "bulk", "delete", "--force"];
        await runWrangler(this.wrangler, [...command, join(directory, file.name), ...this.commonArgs()]);
      }
    } finally {
      if (this.options.dryRunDir === undefined) await rm(directory, { recursive: true, force: true });
    }
  }

  applyPlan(plan: PublicationPlan): Promise<void> {
    return this.runBulk(planBulkFiles(plan));
  }

  putMirrors(table: MirrorTable): Promise<void> {
    return this.runBulk([mirrorsBulkFile(table)]);
  }

  putEntries(entries: readonly KvEntry[]): Promise<void> {
    return this.runBulk([{ name: "entries.json", action: "put", entries: entries.map(toBulkEntry) }]);
  }

  async close(): Promise<void> {}
}
