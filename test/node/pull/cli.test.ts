import { spawn } from "node:child_process";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPOSITORY, TAG, usePullFixture } from "./harness";

const { fixture, out } = usePullFixture(2, "pull-cli-");

/** Runs `scripts/pull.ts` as `npm run pull` does, killed by its PID if it outlives 60 s. */
function runPull(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(process.cwd(), "node_modules/.bin/tsx"), ["scripts/pull.ts", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, "SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("npm run pull", () => {
  it("Should print the manifest digest and exit 0 after a pull", async () => {
    const result = await runPull([`${fixture().frontDoor.replace("http://", "")}/${REPOSITORY}:${TAG}`, join(out(), "image")]);
    expect([result.code, result.stdout.trim()]).toEqual([0, fixture().indexDigest]);
  });

  it("Should take a relative directory from where npm run was started", async () => {
    const result = await runPull([`${fixture().frontDoor}/${REPOSITORY}:${TAG}`, "image"], { INIT_CWD: out() });
    expect([result.code, await readdir(join(out(), "image"))]).toEqual([0, ["blobs", "index.json", "oci-layout"]]);
  });

  it("Should report progress on stderr", async () => {
    const result = await runPull([`${fixture().frontDoor}/${REPOSITORY}:${TAG}`, join(out(), "image")]);
    expect(result.stderr).toMatch(/pinned to http:\/\/127\.0\.0\.1:\d+/);
  });

  it("Should exit 1 with a clear error and no layout when no mirror has good bytes", async () => {
    for (const mirror of fixture().mirrors) mirror.tamper(fixture().path(fixture().indexDigest), new Uint8Array(fixture().indexSize));
    const result = await runPull([`${fixture().frontDoor}/${REPOSITORY}:${TAG}`, join(out(), "image")]);
    expect([result.code, /error: no location has good bytes for manifest/.test(result.stderr), await readdir(out())]).toEqual([1, true, []]);
  });

  it("Should exit 2 with usage when arguments are missing", async () => {
    const result = await runPull([]);
    expect([result.code, result.stderr.startsWith("usage:")]).toEqual([2, true]);
  });
});
