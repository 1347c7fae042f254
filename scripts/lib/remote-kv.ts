import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { MirrorTable } from "../../src/mirrors/types";
import type { KvWrite, PublicationPlan } from "../../src/publish/plan";
import { keys } from "../../src/store/keys";
import type { Publication } from "../../src/store/records";
import type { KvTarget } from "./kv-target";

/** One entry of the JSON file `wrangler kv bulk put` reads. */
export interface BulkEntry {
  key: string;
  value: string;
  base64?: boolean;
  metadata?: Record<string, unknown>;
}

/** One `wrangler kv bulk put` call: its file name and entries, in the order they must run. */
export interface BulkFile {
  name: string;
  entries: BulkEntry[];
}

/** Binary values travel base64-encoded with `base64: true`; strings as they are. */
export function toBulkEntry(write: KvWrite): BulkEntry {
  const entry: BulkEntry =
    typeof write.value === "string" ? { key: write.key, value: write.value } : { key: write.key, value: Buffer.from(write.value).toString("base64"), base64: true };
  if (write.metadata !== undefined) entry.metadata = write.metadata;
  return entry;
}

/**
 * Splits a plan into bulk files run one after the other: content, pointers,
 * then `publication` alone, since the writes of one bulk call land in no set order.
 */
export function planBulkFiles(plan: PublicationPlan): BulkFile[] {
  const publicationKey = keys.publication();
  return [
    { name: "1-content.json", entries: plan.content.map(toBulkEntry) },
    { name: "2-pointers.json", entries: plan.pointers.filter((write) => write.key !== publicationKey).map(toBulkEntry) },
    { name: "3-publication.json", entries: plan.pointers.filter((write) => write.key === publicationKey).map(toBulkEntry) },
  ];
}

export function mirrorsBulkFile(table: MirrorTable): BulkFile {
  return { name: "mirrors.json", entries: [{ key: keys.mirrors(), value: JSON.stringify(table), metadata: { version: table.version } }] };
}

function wranglerBin(): string {
  return join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
}

function runWrangler(args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [wranglerBin(), ...args], { stdio: ["ignore", "pipe", "inherit"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const stdout = Buffer.concat(chunks).toString("utf8");
      if (code === 0) resolvePromise(stdout);
      else reject(new Error(`wrangler ${args.slice(0, 3).join(" ")} failed with exit code ${code}\n${stdout}`));
    });
  });
}

export interface RemoteKvOptions {
  namespaceId: string;
  /** Writes the bulk files here and runs nothing: no wrangler call, no KV read. */
  dryRunDir?: string;
  /** Passed to wrangler as `--config`. */
  wranglerConfig?: string;
}

/** A deployed KV namespace written through `wrangler kv bulk put --remote`. */
export class RemoteKvTarget implements KvTarget {
  readonly description: string;

  constructor(private readonly options: RemoteKvOptions) {
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

  async readPublication(): Promise<Publication | null> {
    if (this.options.dryRunDir !== undefined) return null;
    const stdout = (await runWrangler(["kv", "key", "get", keys.publication(), "--text", ...this.commonArgs()])).trim();
    if (stdout === "Value not found") return null;
    return JSON.parse(stdout) as Publication;
  }

  private async put(files: BulkFile[]): Promise<void> {
    const directory = this.options.dryRunDir ?? (await mkdtemp(join(tmpdir(), "frontdoor-bulk-")));
    await mkdir(directory, { recursive: true });
    try {
      for (const file of files) await writeFile(join(directory, file.name), `${JSON.stringify(file.entries, null, 2)}\n`);
      if (this.options.dryRunDir !== undefined) return;
      for (const file of files) {
        if (file.entries.length > 0) await runWrangler(["kv", "bulk", "put", join(directory, file.name), ...this.commonArgs()]);
      }
    } finally {
      if (this.options.dryRunDir === undefined) await rm(directory, { recursive: true, force: true });
    }
  }

  applyPlan(plan: PublicationPlan): Promise<void> {
    return this.put(planBulkFiles(plan));
  }

  putMirrors(table: MirrorTable): Promise<void> {
    return this.put([mirrorsBulkFile(table)]);
  }

  async close(): Promise<void> {}
}
