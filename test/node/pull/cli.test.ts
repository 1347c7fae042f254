import { spawn, type ChildProcess } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPOSITORY, TAG, usePullFixture } from "./harness";

const { fixture, out } = usePullFixture(2, "pull-cli-");

interface PullRun {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Starts `scripts/pull.ts` as `npm run pull` does (through tsx, which relays signals to the script). It leads
 * its own process group, killed by its id if it outlives 60 s.
 */
function startPull(args: string[], env: NodeJS.ProcessEnv = {}): PullRun {
  const child = spawn(join(process.cwd(), "node_modules/.bin/tsx"), ["scripts/pull.ts", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
    detached: true,
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => (stdout += chunk));
    child.stderr?.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 60_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

const runPull = (args: string[], env: NodeJS.ProcessEnv = {}) => startPull(args, env).done;

/** Waits, up to 10 s, until a `.part` file exists somewhere under `directory`. */
async function partialFileIn(directory: string): Promise<string> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const found = (await readdir(directory, { recursive: true })).find((path) => path.endsWith(".part"));
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no .part file appeared under ${directory}`);
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

  it("Should exit 130 and leave no staging directory when interrupted mid-download", async () => {
    const staller = await fixture().stallFirst();
    const run = startPull([`${fixture().frontDoor}/${REPOSITORY}:${TAG}`, join(out(), "image")]);
    await staller.stalled();
    await partialFileIn(out());
    run.child.kill("SIGINT");
    const result = await run.done;
    expect([result.code, await readdir(out())]).toEqual([130, []]);
  });

  it("Should print an unexpected error as one line, without a stack", async () => {
    await writeFile(join(out(), "file"), "x");
    const result = await runPull([`${fixture().frontDoor}/${REPOSITORY}:${TAG}`, join(out(), "file", "image")]);
    expect([result.code, result.stderr.trimEnd().split("\n")]).toEqual([1, [expect.stringMatching(/^error: ENOTDIR: not a directory/)]]);
  });

  it("Should exit 2 with usage when arguments are missing", async () => {
    const result = await runPull([]);
    expect([result.code, result.stderr.startsWith("usage:")]).toEqual([2, true]);
  });

  it("Should print usage on stdout and exit 0 for --help", async () => {
    const result = await runPull(["--help"]);
    expect([result.code, result.stdout.startsWith("usage:"), result.stderr]).toEqual([0, true, ""]);
  });
});
