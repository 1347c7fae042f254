import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";

/** The project's wrangler.toml, which declares the `REGISTRY` binding. */
export const DEFAULT_WRANGLER_CONFIG = fileURLToPath(new URL("../../../wrangler.toml", import.meta.url));

/** The binding the worker reads (src/env.ts). */
export const KV_BINDING = "REGISTRY";

/** What the local tools take from wrangler.toml: how to bundle and run the worker, and where its KV lives. */
export interface WorkerConfig {
  /** The entry module, relative to the config's directory. */
  main: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
  /** Cron expressions of `[triggers] crons`; non-empty when the worker has a `scheduled` handler. */
  crons: string[];
  /**
   * The namespace id `wrangler dev` binds to `REGISTRY` locally: `preview_id` when the binding
   * has one, else `id` (wrangler's local mode uses preview ids).
   */
  kvNamespaceId: string;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/**
 * Reads wrangler.toml once for everything the local tools need; a file without `main`,
 * `compatibility_date` or a `kv_namespaces` entry for `REGISTRY` is an error.
 */
export async function readWorkerConfig(configPath: string = DEFAULT_WRANGLER_CONFIG): Promise<WorkerConfig> {
  const toml = record(parse(await readFile(configPath, "utf8")));
  const { main, compatibility_date: compatibilityDate } = toml;
  if (typeof main !== "string" || typeof compatibilityDate !== "string") throw new Error(`${configPath} must set main and compatibility_date`);
  const namespaces = Array.isArray(toml.kv_namespaces) ? toml.kv_namespaces.map(record) : [];
  const binding = namespaces.find((namespace) => namespace.binding === KV_BINDING);
  const kvNamespaceId = binding?.preview_id ?? binding?.id;
  if (typeof kvNamespaceId !== "string") throw new Error(`${configPath} declares no kv_namespaces entry with binding = "${KV_BINDING}"`);
  const vars = Object.fromEntries(Object.entries(record(toml.vars)).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
  return {
    main,
    compatibilityDate,
    compatibilityFlags: stringArray(toml.compatibility_flags),
    vars,
    crons: stringArray(record(toml.triggers).crons),
    kvNamespaceId,
  };
}

/** The namespace id `wrangler dev` binds to `REGISTRY` locally (`readWorkerConfig`). */
export async function localNamespaceId(configPath: string = DEFAULT_WRANGLER_CONFIG): Promise<string> {
  return (await readWorkerConfig(configPath)).kvNamespaceId;
}
