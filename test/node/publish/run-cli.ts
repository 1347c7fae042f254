import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(PROJECT, "bin", "frontdoor.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `frontdoor <args>` through the package's bin entry, as `npx frontdoor` does; `env` adds to this process's environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: PROJECT, timeout: 120_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a program and resolves with its exit code and output. */
export function run(file: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: PROJECT, timeout: 120_000, encoding: "buffer" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout: stdout.toString("latin1"), stderr: stderr.toString() });
    });
  });
}

/** A temporary directory per test, removed afterwards. */
export async function withTempDir(): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "frontdoor-test-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}
