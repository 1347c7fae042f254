import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import checkTools from "../e2e/tools.setup";
import { missingTools } from "../e2e/tools";

let bin: string;

beforeAll(async () => {
  bin = await mkdtemp(join(tmpdir(), "frontdoor-tools-"));
  await writeFile(join(bin, "skopeo"), "#!/bin/sh\n");
  await chmod(join(bin, "skopeo"), 0o755);
  await writeFile(join(bin, "podman"), "not executable\n");
});

afterAll(() => rm(bin, { recursive: true, force: true }));

describe("missingTools", () => {
  it("Should find an executable on the search path and miss a file that is not executable", async () => {
    const tools = [
      { program: "skopeo", debianPackage: "skopeo" },
      { program: "podman", debianPackage: "podman" },
      { program: "ctr", debianPackage: "containerd" },
    ];
    expect((await missingTools(tools, bin)).map((tool) => tool.program)).toEqual(["podman", "ctr"]);
  });

  it("Should check an absolute program by its path", async () => {
    expect(await missingTools([{ program: join(bin, "skopeo"), debianPackage: "skopeo" }], "")).toEqual([]);
  });
});

describe("the e2e project's setup", () => {
  it("Should name the Debian packages to install when a client is missing", async () => {
    const path = process.env.PATH;
    process.env.PATH = bin;
    try {
      await expect(checkTools()).rejects.toThrow(/apt-get install -y podman containerd docker\.io docker-registry aria2/);
    } finally {
      process.env.PATH = path;
    }
  });
});
