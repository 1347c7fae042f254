/**
 * `npm run build` and `npm run deploy`: checks the wrangler configuration against the deployment
 * checklist (docs/deploying.md), then runs `wrangler deploy` with the same arguments. Nothing is
 * bundled or deployed when an item fails.
 *
 *   tsx scripts/deploy.ts [--config <wrangler.toml>] [--env <name>] [any other `wrangler deploy` option]
 */
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { parse } from "smol-toml";
import { checkDeployment } from "./lib/deploy/checklist";
import { projectWrangler } from "./lib/kv/wrangler";
import { DEFAULT_WRANGLER_CONFIG } from "./lib/kv/wrangler-config";

/** The value of `--name <v>`, `--name=<v>` or, for a short alias, `-n <v>`; undefined when absent. */
function option(args: readonly string[], long: string, short?: string): string | undefined {
  for (const [i, arg] of args.entries()) {
    if (arg === long || (short !== undefined && arg === short)) return args[i + 1];
    if (arg.startsWith(`${long}=`)) return arg.slice(long.length + 1);
  }
  return undefined;
}

async function main(args: string[]): Promise<number> {
  const configPath = option(args, "--config", "-c") ?? DEFAULT_WRANGLER_CONFIG;
  const environment = option(args, "--env", "-e") ?? process.env.CLOUDFLARE_ENV ?? "";
  const toml = parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
  const findings = checkDeployment(toml, environment, configPath);
  for (const finding of findings) console.error(`deployment checklist: ${finding.level}: ${finding.message}`);
  if (findings.some((finding) => finding.level === "error")) {
    console.error("deployment checklist: nothing was built or deployed (docs/deploying.md, \"Checklist\").");
    return 1;
  }
  // The top level is the production deployment; naming it keeps wrangler from guessing among environments.
  const target = option(args, "--env", "-e") === undefined && process.env.CLOUDFLARE_ENV === undefined ? ["--env="] : [];
  const wrangler = projectWrangler();
  const result = spawnSync(wrangler.command, [...wrangler.args, "deploy", ...target, ...args], { stdio: "inherit" });
  if (result.error !== undefined) throw result.error;
  return result.status ?? 1;
}

process.exitCode = await main(process.argv.slice(2));
