import { access, rm } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { runCommand } from "../process/processes";
import { readWorkerConfig, type WorkerConfig } from "../kv/wrangler-config";

export type { WorkerConfig } from "../kv/wrangler-config";

/** A bundled worker: one ES module and the settings it runs with. */
export interface WorkerBundle {
  /** The bundle's entry module. */
  script: string;
  config: WorkerConfig;
}

export interface BundleOptions {
  /** The project's wrangler.toml, already read; read from `<projectDir>/wrangler.toml` when absent. */
  config?: WorkerConfig;
  /** Another wrangler config to bundle by (the bench's baseline worker); the project's wrangler.toml by default. */
  configFile?: string;
  /** Aborting stops wrangler and everything it started; the bundling then rejects with the abort reason. */
  signal?: AbortSignal;
}

/** Bundles the worker exactly as `wrangler deploy` would upload it (`wrangler deploy --dry-run --outdir`). */
export async function bundleWorker(projectDir: string, outDir: string, { config, configFile, signal }: BundleOptions = {}): Promise<WorkerBundle> {
  const file = configFile ?? join(projectDir, "wrangler.toml");
  const settings = config ?? (await readWorkerConfig(file));
  await rm(outDir, { recursive: true, force: true });
  const wrangler = join(projectDir, "node_modules", "wrangler", "bin", "wrangler.js");
  const result = await runCommand(process.execPath, [wrangler, "deploy", "--dry-run", "--config", file, "--outdir", outDir], {
    cwd: projectDir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" },
    timeoutMs: 120_000,
    signal,
  });
  if (result.code !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}${result.stderr}`);
  const script = join(outDir, `${basename(settings.main, extname(settings.main))}.js`);
  await access(script).catch(() => {
    throw new Error(`wrangler deploy --dry-run wrote no ${script}`);
  });
  return { script, config: settings };
}
