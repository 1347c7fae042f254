import { readFile, rm } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { runCommand } from "./processes";

/** What the local server needs from wrangler.toml. */
export interface WorkerConfig {
  compatibilityDate: string;
  compatibilityFlags: string[];
  vars: Record<string, string>;
  /** Cron expressions of `[triggers] crons`; non-empty when the worker has a `scheduled` handler. */
  crons: string[];
}

/** A bundled worker: one ES module and the settings it runs with. */
export interface WorkerBundle {
  /** The bundle's entry module. */
  script: string;
  config: WorkerConfig;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

/** Reads the settings the local server copies from `wrangler.toml`; a file without `main` or `compatibility_date` is an error. */
export async function readWorkerConfig(projectDir: string): Promise<WorkerConfig & { main: string }> {
  const file = join(projectDir, "wrangler.toml");
  const toml = parseToml(await readFile(file, "utf8")) as Record<string, unknown>;
  const main = toml.main;
  const compatibilityDate = toml.compatibility_date;
  if (typeof main !== "string" || typeof compatibilityDate !== "string") throw new Error(`${file} must set main and compatibility_date`);
  const vars = Object.fromEntries(
    Object.entries((toml.vars ?? {}) as Record<string, unknown>).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
  const triggers = (toml.triggers ?? {}) as Record<string, unknown>;
  return { main, compatibilityDate, compatibilityFlags: stringArray(toml.compatibility_flags), vars, crons: stringArray(triggers.crons) };
}

/** Bundles the worker exactly as `wrangler deploy` would upload it (`wrangler deploy --dry-run --outdir`). */
export async function bundleWorker(projectDir: string, outDir: string): Promise<WorkerBundle> {
  const config = await readWorkerConfig(projectDir);
  await rm(outDir, { recursive: true, force: true });
  const wrangler = join(projectDir, "node_modules", "wrangler", "bin", "wrangler.js");
  const result = await runCommand(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outDir], {
    cwd: projectDir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "error" },
    timeoutMs: 120_000,
  });
  if (result.code !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}${result.stderr}`);
  const script = join(outDir, `${basename(config.main, extname(config.main))}.js`);
  await readFile(script).catch(() => {
    throw new Error(`wrangler deploy --dry-run wrote no ${script}`);
  });
  return { script, config };
}
