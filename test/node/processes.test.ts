import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCommand, startDaemon } from "../../scripts/lib/processes";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "processes-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
    const start = startDaemon({
      name: "mute",
      command: process.execPath,
      args: ["-e", "console.log(process.pid); setInterval(() => {}, 1000)"],
      logFile: join(dir, "mute.log"),
      ready: async () => false,
      readyTimeoutMs: 500,
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
});
