import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CliError } from "../../../scripts/lib/cli/error";
import { readTextFile } from "../../../scripts/lib/cli/text-file";
import { withTempDir } from "../publish/run-cli";

let dir: Awaited<ReturnType<typeof withTempDir>>;
beforeEach(async () => {
  dir = await withTempDir();
});
afterEach(async () => {
  await dir.remove();
});

async function refusal(path: string): Promise<string> {
  const error = await readTextFile(path, "mirrors file").catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(CliError);
  return (error as CliError).message;
}

describe("readTextFile", () => {
  it("Should read a regular file as UTF-8", async () => {
    await writeFile(join(dir.path, "m.toml"), "id = \"ü\"\n");
    expect(await readTextFile(join(dir.path, "m.toml"), "mirrors file")).toBe('id = "ü"\n');
  });

  it("Should name the path of a missing file, a directory and a device, without reading a device's endless bytes", async () => {
    expect(await refusal(join(dir.path, "missing"))).toBe(`mirrors file ${join(dir.path, "missing")}: no such file`);
    expect(await refusal(dir.path)).toBe(`mirrors file ${dir.path}: a directory, not a file`);
    expect(await refusal("/dev/zero")).toBe("mirrors file /dev/zero: a device or socket, not a file");
  });

  it("Should read a pipe, as process substitution gives one", async () => {
    const fifo = join(dir.path, "fifo");
    execFileSync("mkfifo", [fifo]);
    const [text] = await Promise.all([readTextFile(fifo, "import list"), writeFile(fifo, "docker.io/library/alpine:3.20\n")]);
    expect(text).toBe("docker.io/library/alpine:3.20\n");
  });
});
