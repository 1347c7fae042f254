import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";

/** The project's wrangler.toml, which declares the `REGISTRY` binding. */
export const DEFAULT_WRANGLER_CONFIG = fileURLToPath(new URL("../../wrangler.toml", import.meta.url));

/** The binding the worker reads (src/env.ts). */
export const KV_BINDING = "REGISTRY";

/**
 * The namespace id `wrangler dev` binds to `REGISTRY` locally: `preview_id`
 * when the binding has one, else `id` (wrangler's local mode uses preview ids).
 */
export async function localNamespaceId(configPath: string = DEFAULT_WRANGLER_CONFIG): Promise<string> {
  const config = parse(await readFile(configPath, "utf8")) as { kv_namespaces?: Array<{ binding?: string; id?: string; preview_id?: string }> };
  const binding = config.kv_namespaces?.find((namespace) => namespace.binding === KV_BINDING);
  const id = binding?.preview_id ?? binding?.id;
  if (id === undefined) throw new Error(`${configPath} declares no kv_namespaces entry with binding = "${KV_BINDING}"`);
  return id;
}
