import { mkdir, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import type { MirrorTable } from "../../../src/mirrors/types";
import type { PublicationPlan } from "../../../src/publish/plan";
import { mirrorsEntry, putEntry, type KvEntry } from "../../../src/store/encode";
import { applyPlan, listPublished, listPublishedKeys } from "../../../src/store/publication-store";
import { keys } from "../../../src/store/keys";
import type { Publication } from "../../../src/store/records";
import { CliError } from "../cli/error";
import type { KvTarget } from "./kv-target";
import { retryingKv } from "./retrying-kv";

/**
 * The directory under `--persist-to` where wrangler keeps local resources;
 * `wrangler dev --persist-to <dir>` and `wrangler kv ... --local --persist-to <dir>` both read it.
 */
export function resourcePersistencePath(persistDir: string): string {
  return join(resolve(persistDir), "v3");
}

/** The nearest existing ancestor of `path` (or `path` itself) when it is not a directory: what stops `mkdir -p path`. */
async function fileInTheWay(path: string): Promise<string | null> {
  for (let at = path; ; at = dirname(at)) {
    const found = await stat(at).catch(() => null);
    if (found !== null) return found.isDirectory() ? null : at;
    if (dirname(at) === at) return null;
  }
}

async function whyNotADirectory(persistDir: string, error: NodeJS.ErrnoException): Promise<string> {
  const blocker = error.code === "EEXIST" || error.code === "ENOTDIR" ? await fileInTheWay(resourcePersistencePath(persistDir)) : null;
  if (blocker === resolve(persistDir)) return "not a directory";
  if (blocker !== null) return `${blocker} is not a directory`;
  if (error.code === "EACCES" || error.code === "EPERM") return "cannot be created or written: permission denied";
  return `cannot be created as a directory: ${error.message}`;
}

/**
 * Creates the directories of `persistDir` that Miniflare writes into, or
 * throws a CliError saying in one line why they cannot be (Miniflare itself
 * would crash the process with an unhandled ENOTDIR).
 */
export async function preparePersistDir(persistDir: string): Promise<void> {
  try {
    await mkdir(resourcePersistencePath(persistDir), { recursive: true });
  } catch (error) {
    throw new CliError(`--local ${persistDir}: ${await whyNotADirectory(persistDir, error as NodeJS.ErrnoException)}`, { cause: error });
  }
}

/**
 * The local KV namespace `wrangler dev --persist-to <persistDir>` serves,
 * opened through Miniflare the way wrangler's own `kv --local` commands open it.
 * `namespaceId` must be the id wrangler dev binds (`preview_id`, else `id`, of wrangler.toml).
 */
export class LocalKvTarget implements KvTarget {
  readonly description: string;
  private readonly persistDir: string;
  private readonly miniflare: Miniflare;
  private namespace: Promise<KVNamespace> | null = null;

  constructor(persistDir: string, namespaceId: string) {
    this.persistDir = resolve(persistDir);
    this.description = `local KV ${namespaceId} in ${this.persistDir}`;
    this.miniflare = new Miniflare(
      convertV4MiniflareOptions({
        modules: true,
        script: "export default {}",
        resourcePersistencePath: resourcePersistencePath(persistDir),
        kvNamespaces: { REGISTRY: namespaceId },
      }),
    );
  }

  /**
   * The namespace, also for reading back what was written. Its calls are
   * retried on transient failures: the simulator's SQLite database is busy
   * while another process (`npm start`'s worker and crawler, a second
   * publisher) uses the same persist dir.
   */
  kv(): Promise<KVNamespace> {
    this.namespace ??= this.openNamespace();
    return this.namespace;
  }

  private async openNamespace(): Promise<KVNamespace> {
    const kv = (await this.miniflare.getKVNamespace("REGISTRY")) as unknown as KVNamespace;
    return retryingKv(kv, { persistDir: this.persistDir });
  }

  async readPublication(): Promise<Publication | null> {
    return (await this.kv()).get<Publication>(keys.publication(), "json");
  }

  async listPublishedKeys(): Promise<string[]> {
    return listPublishedKeys(await this.kv());
  }

  async listPublished(): Promise<Map<string, string | null>> {
    return listPublished(await this.kv());
  }

  async applyPlan(plan: PublicationPlan): Promise<void> {
    await applyPlan(await this.kv(), plan);
  }

  async putMirrors(table: MirrorTable): Promise<void> {
    await putEntry(await this.kv(), mirrorsEntry(table));
  }

  async readText(key: string): Promise<string | null> {
    return (await this.kv()).get(key, "text");
  }

  async putEntries(entries: readonly KvEntry[]): Promise<void> {
    const kv = await this.kv();
    for (const entry of entries) await putEntry(kv, entry);
  }

  async close(): Promise<void> {
    await this.miniflare.dispose();
  }
}
