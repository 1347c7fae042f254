import { mkdtemp, readFile, readdir, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand, startDaemon } from "../../scripts/lib/process/processes";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "processes-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** True while `pid` is alive; a zombie waiting for its reaper counts as gone. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/^\d+ \(.*\) Z/.test(readFileSyncQuiet(`/proc/${pid}/stat`));
}

function readFileSyncQuiet(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Polls `condition` until it holds or `withinMs` passes; returns whether it held. */
async function eventually(condition: () => boolean | Promise<boolean>, withinMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(50);
  }
  return condition();
}

/** Paths this process holds open, from /proc/self/fd. */
async function openFiles(): Promise<string[]> {
  const fds = await readdir("/proc/self/fd");
  return (await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => "")))).filter((path) => path !== "");
}

/** A node script that starts a grandchild sleeping a minute, writes its PID to the file named by its argument, and waits. */
const SPAWNS_GRANDCHILD = `const { spawn } = require("node:child_process");
const grandchild = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
require("node:fs").writeFileSync(process.argv[1], String(grandchild.pid));
setInterval(() => {}, 1000);`;

/** The PID in `file` once something wrote it there. */
async function pidIn(file: string): Promise<number> {
  let pid = 0;
  await eventually(async () => (pid = Number(await readFile(file, "utf8").catch(() => ""))) > 0);
  return pid;
}

describe("runCommand", () => {
  it("Should report a command's output and exit code", async () => {
    const result = await runCommand(process.execPath, ["-e", "console.log('out'); console.error('err'); process.exit(3)"]);
    expect(result).toMatchObject({ code: 3, stdout: "out\n", stderr: "err\n", timedOut: false });
  });

  it("Should kill a command that outlives its deadline", async () => {
    const result = await runCommand(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe("SIGKILL");
  });

  it("Should kill what a timed-out command started, too", async () => {
    const pidFile = join(dir, "timed-out.pid");
    const result = await runCommand(process.execPath, ["-e", SPAWNS_GRANDCHILD, pidFile], { timeoutMs: 4_000 });
    expect(result.timedOut).toBe(true);
    const grandchild = await pidIn(pidFile);
    expect(await eventually(() => !isRunning(grandchild))).toBe(true);
  });

  it("Should reject with the abort reason when the caller aborts", async () => {
    const controller = new AbortController();
    const running = runCommand(process.execPath, ["-e", "setTimeout(() => {}, 60_000)"], { signal: controller.signal });
    controller.abort(new Error("no longer needed"));
    await expect(running).rejects.toThrow("no longer needed");
  });

  it("Should kill a command and what it started when the caller aborts", async () => {
    const pidFile = join(dir, "aborted.pid");
    const controller = new AbortController();
    const running = runCommand(process.execPath, ["-e", SPAWNS_GRANDCHILD, pidFile], { signal: controller.signal }).catch(() => undefined);
    const grandchild = await pidIn(pidFile);
    controller.abort(new Error("no longer needed"));
    await running;
    expect(await eventually(() => !isRunning(grandchild))).toBe(true);
  });
});

describe("startDaemon", () => {
  it("Should fail with the daemon's log when it exits before it is ready", async () => {
    const start = startDaemon({
      name: "quitter",
      command: process.execPath,
      args: ["-e", "console.error('cannot bind'); process.exit(1)"],
      logFile: join(dir, "quitter.log"),
      ready: async () => false,
    });
    await expect(start).rejects.toThrow(/quitter exited \(1\) before it was ready[\s\S]*cannot bind/);
  });

  it("Should give up on a daemon that never becomes ready, and stop it", async () => {
    const logFile = join(dir, "mute.log");
    const start = startDaemon({
      name: "mute",
      command: process.execPath,
      args: ["-e", "console.log(process.pid); setInterval(() => {}, 1000)"],
      logFile,
      // Never ready, but only once the daemon has logged its PID, however long node takes to start.
      ready: async () => {
        await eventually(async () => /\d+\n/.test(await readFile(logFile, "utf8").catch(() => "")));
        return false;
      },
      readyTimeoutMs: 200,
    }).catch((error: Error) => error);
    const error = await start;
    expect(error).toBeInstanceOf(Error);
    const pid = Number(/\n?(\d+)\n/.exec((error as Error).message)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(isRunning(pid)).toBe(false);
  });

  it("Should stop a ready daemon by its PID", async () => {
    const daemon = await startDaemon({
      name: "sleeper",
      command: process.execPath,
      args: ["-e", "setInterval(() => {}, 1000)"],
      logFile: join(dir, "sleeper.log"),
      ready: async () => true,
    });
    expect(isRunning(daemon.pid)).toBe(true);
    await daemon.stop();
    expect(isRunning(daemon.pid)).toBe(false);
  });

  it("Should stop what a daemon started along with it", async () => {
    const pidFile = join(dir, "daemon-child.pid");
    const daemon = await startDaemon({
      name: "parent",
      command: process.execPath,
      args: ["-e", SPAWNS_GRANDCHILD, pidFile],
      logFile: join(dir, "parent.log"),
      ready: async () => (await readFile(pidFile, "utf8").catch(() => "")) !== "",
    });
    const grandchild = await pidIn(pidFile);
    await daemon.stop();
    expect(await eventually(() => !isRunning(grandchild))).toBe(true);
  });

  it("Should close its log file when the command cannot be started", async () => {
    const logFile = join(dir, "missing.log");
    const start = startDaemon({ name: "missing", command: join(dir, "no-such-command"), args: [], logFile, ready: async () => true });
    await expect(start).rejects.toThrow(/ENOENT/);
    expect(await openFiles()).not.toContain(logFile);
  });
});
