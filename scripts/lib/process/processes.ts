import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

/** What a finished command printed, and how it ended. */
export interface CommandResult {
  command: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The command and everything it started are killed after this long; default 120 s. */
  timeoutMs?: number;
  /** Aborting kills the command and everything it started; `runCommand` then rejects with the abort reason. */
  signal?: AbortSignal;
}

/** Children still running, killed with their process groups if this process exits before stopping them. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
});

/**
 * Signals the process group a detached child leads (`kill(2)` with a negative pid), so what the child
 * started itself (wrangler's esbuild, a shell's commands) goes with it.
 */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Spawns `command` as the leader of a new process group, its output piped. */
function spawnGroup(command: string, args: readonly string[], env: NodeJS.ProcessEnv | undefined, cwd?: string): ChildProcess {
  const child = spawn(command, args, { env: env ?? process.env, cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
  live.add(child);
  const forget = (): boolean => live.delete(child);
  child.once("exit", forget);
  child.once("error", forget);
  return child;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Runs a command to completion, capturing its output; rejects only when it cannot start or the caller aborts, never for a non-zero exit. */
export async function runCommand(command: string, args: readonly string[], { env, cwd, timeoutMs = 120_000, signal: abort }: RunOptions = {}): Promise<CommandResult> {
  abort?.throwIfAborted();
  const child = spawnGroup(command, args, env, cwd);
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let timedOut = false;
  const kill = (): void => {
    if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  abort?.addEventListener("abort", kill, { once: true });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
  }).finally(() => {
    clearTimeout(timer);
    abort?.removeEventListener("abort", kill);
  });
  abort?.throwIfAborted();
  return { command: [command, ...args].join(" "), code, signal, stdout, stderr, timedOut };
}

/** A long-running process started by us, stopped by its PID (with its process group). */
export interface Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** SIGTERM to its process group, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface DaemonOptions {
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr go here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the daemon answers. */
  ready: () => Promise<boolean>;
  /** Default 30 s. */
  readyTimeoutMs?: number;
  /** Pause between two `ready` calls; default 200 ms. */
  pollMs?: number;
}

/** Starts a daemon and waits until `ready` says it answers; kills it and throws if it exits or times out first. */
export async function startDaemon({ name, command, args, logFile, env, ready, readyTimeoutMs = 30_000, pollMs = 200 }: DaemonOptions): Promise<Daemon> {
  const log = createWriteStream(logFile, { flags: "a" });
  const closeLog = (): Promise<void> => new Promise<void>((resolve) => log.end(() => resolve()));
  const child = spawnGroup(command, args, env);
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const spawned = await new Promise<number>((resolve, reject) => {
    child.once("error", reject);
    child.once("spawn", () => resolve(child.pid!));
  }).catch(async (error: unknown) => {
    await closeLog();
    throw error;
  });

  async function terminate(graceMs: number): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(spawned, "SIGTERM");
      const killed = await Promise.race([exited(child).then(() => true), sleep(graceMs).then(() => false)]);
      if (!killed) {
        killGroup(spawned, "SIGKILL");
        await exited(child);
      }
    }
    child.stdout!.unpipe(log);
    child.stderr!.unpipe(log);
    await closeLog();
  }
  let stopping: Promise<void> | null = null;
  const daemon: Daemon = {
    name,
    pid: spawned,
    logFile,
    stop: (graceMs = 10_000) => (stopping ??= terminate(graceMs)),
  };

  /** The end of the daemon's log, for errors about it. */
  const logTail = async (): Promise<string> => (await readFile(logFile, "utf8").catch(() => "")).split("\n").slice(-15).join("\n");

  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await daemon.stop();
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready; ${logFile} ends:\n${await logTail()}`);
    }
    if (await ready().catch(() => false)) return daemon;
    await sleep(pollMs);
  }
  await daemon.stop();
  throw new Error(`${name} was not ready after ${readyTimeoutMs} ms; ${logFile} ends:\n${await logTail()}`);
}
