import { describe, expect, it } from "vitest";
import { parseMirrorConfig } from "../../../scripts/lib/publish/mirrors-config";
import { parseSetsConfig, SetsConfigError } from "../../../scripts/lib/publish/sets-config";
import { readFile } from "node:fs/promises";

function problems(text: string): string {
  try {
    parseSetsConfig(text, "sets.toml");
  } catch (error) {
    if (error instanceof SetsConfigError) return error.message;
    throw error;
  }
  throw new Error("expected the file to be refused");
}

describe("parseSetsConfig", () => {
  it("Should read the example file", async () => {
    const sets = parseSetsConfig(await readFile("sets.example.toml", "utf8"));
    expect(sets).toEqual([
      { name: "fedora-x86_64", repositories: ["fedora/*"], platforms: [{ os: "linux", architecture: "amd64" }] },
      { name: "fedora-minimal", repositories: ["fedora-minimal"], platforms: [] },
    ]);
  });

  it("Should read a platform variant", () => {
    expect(parseSetsConfig('[[set]]\nname = "arm"\nrepositories = ["*"]\nplatforms = ["linux/arm64/v8"]\n')[0]!.platforms).toEqual([{ os: "linux", architecture: "arm64", variant: "v8" }]);
  });

  it("Should name the line of each problem", () => {
    const text = ['[[set]]', 'name = "all"', 'repositories = ["ok/*"]', "", "[[set]]", 'name = "b"', 'repositories = ["Bad Name"]', 'platforms = ["amd64"]', 'extra = 1'].join("\n");
    const message = problems(text);
    expect(message).toContain('sets.toml:2: set[0].name: "all" is the whole tree');
    expect(message).toContain("sets.toml:7: set[1].repositories[0]");
    expect(message).toContain("sets.toml:8: set[1].platforms[0]");
    expect(message).toContain("sets.toml:9:");
  });

  it("Should refuse a name used twice and a TOML syntax error, naming the line", () => {
    expect(problems('[[set]]\nname = "a"\nrepositories = ["x"]\n[[set]]\nname = "a"\nrepositories = ["y"]\n')).toContain("sets.toml:5: set[1].name: set name \"a\" is used twice");
    expect(problems('[[set]]\nname = "a\n')).toMatch(/^sets\.toml:2: TOML syntax error/);
  });
});

describe("the mirror table's sets and scopes", () => {
  const base = '[[mirror]]\nid = "m"\nbase_url = "https://m.example/tree"\ncountry = "DE"\ncontinent = "EU"\nbandwidth = 1\n';

  it("Should read sets, scope and other countries, and leave a whole-tree mirror's record as it was", async () => {
    const table = await parseMirrorConfig(`${base}sets = ["b", "a", "a"]\nscope = "country"\nother_countries = ["ch", "AT"]\n`);
    expect(table.mirrors[0]).toMatchObject({ sets: ["a", "b"], scope: "country", otherCountries: ["AT", "CH"] });
    const whole = await parseMirrorConfig(`${base}sets = ["all"]\n`);
    expect(whole.mirrors[0]).not.toHaveProperty("sets");
    expect(whole.version).toBe((await parseMirrorConfig(base)).version);
  });

  it("Should refuse a bad scope, an empty set list, and an id starting with not-", async () => {
    await expect(parseMirrorConfig(`${base}scope = "planet"\n`, "m.toml")).rejects.toThrow(/m\.toml:7: mirror\[0\]\.scope/);
    await expect(parseMirrorConfig(`${base}sets = []\n`, "m.toml")).rejects.toThrow(/m\.toml:7: mirror\[0\]\.sets/);
    await expect(parseMirrorConfig(base.replace('id = "m"', 'id = "not-m"'), "m.toml")).rejects.toThrow(/m\.toml:2: mirror\[0\]\.id/);
  });
});
