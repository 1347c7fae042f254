import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PROJECT, runCli, withTempDir } from "./run-cli";

// Each CLI run starts Node and tsx; none of these gets as far as workerd.
vi.setConfig({ testTimeout: 60_000 });

/** A line of a Node stack trace. */
const STACK_LINE = /^\s+at /m;

let dir: Awaited<ReturnType<typeof withTempDir>>;
let file: string;
beforeEach(async () => {
  dir = await withTempDir();
  file = join(dir.path, "afile");
  await writeFile(file, "hi\n");
});
afterEach(async () => {
  await dir.remove();
});

describe("frontdoor --local <persist-dir>", () => {
  it.each(["", "  "])("Should refuse --local %j as a usage error, with the help, and write nothing into the current directory", async (local) => {
    const result = await runCli(["publish", join(dir.path, "tree"), "--local", local]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`frontdoor publish: --local needs a persist directory, got ${JSON.stringify(local)}`);
    expect(result.stderr).toContain("Usage: frontdoor publish");
    expect(existsSync(join(PROJECT, "v3"))).toBe(false);
  });

  it("Should name a regular file given as --local as not a directory, in one line without a stack trace", async () => {
    const result = await runCli(["publish", join(dir.path, "tree"), "--local", file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`frontdoor publish: --local ${file}: not a directory`);
    expect(result.stderr).not.toMatch(STACK_LINE);
  });

  it("Should name the file in the way of a --local below it", async () => {
    const result = await runCli(["publish", join(dir.path, "tree"), "--local", join(file, "sub")]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`frontdoor publish: --local ${join(file, "sub")}: ${file} is not a directory`);
  });

  it.each([["list"], ["history", "origin"], ["enable", "origin"]])("Should refuse a file as --local of mirrors %s the same way", async (...action) => {
    const result = await runCli(["mirrors", ...action, "--local", file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`frontdoor mirrors: --local ${file}: not a directory`);
  });

  it("Should create a --local that does not exist yet", async () => {
    const persist = join(dir.path, "new", "state");
    const result = await runCli(["mirrors", "list", "--local", persist, "--json"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ publication: null, mirrors: [] });
    expect(existsSync(join(persist, "v3"))).toBe(true);
  });
});
