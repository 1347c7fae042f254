import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { runCommand } from "../process/processes";

/** How to start wrangler: a program and the arguments that come before wrangler's own. */
export interface WranglerCommand {
  command: string;
  args: string[];
}

/** The project's own wrangler (`node_modules/wrangler/bin/wrangler.js`), run by this Node. */
export function projectWrangler(): WranglerCommand {
  const bin = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
  return { command: process.execPath, args: [bin] };
}

/** A wrangler executable at `path` (any program that takes wrangler's arguments). */
export function wranglerAt(path: string): WranglerCommand {
  return { command: path, args: [] };
}

/** A bulk put of a large tree takes minutes; a wrangler that hangs is still stopped. */
const WRANGLER_TIMEOUT_MS = 30 * 60_000;

/** Runs one wrangler command and returns its stdout; throws with its output when it exits non-zero. */
export async function runWrangler(wrangler: WranglerCommand, args: string[]): Promise<string> {
  const result = await runCommand(wrangler.command, [...wrangler.args, ...args], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    timeoutMs: WRANGLER_TIMEOUT_MS,
  });
  if (result.code !== 0) {
    const how = result.timedOut ? "timed out" : `failed with exit code ${result.code ?? result.signal}`;
    throw new Error(`wrangler ${args.slice(0, 3).join(" ")} ${how}\n${result.stderr}${result.stdout}`.trimEnd());
  }
  return result.stdout;
}
