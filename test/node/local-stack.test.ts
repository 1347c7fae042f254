import { describe, expect, it } from "vitest";
import { DEMO_MIRRORS, mirrorsToml } from "../../scripts/lib/local-stack";
import { parseMirrorConfig } from "../../scripts/lib/mirrors-config";

const mirrors = DEMO_MIRRORS.map((spec, index) => ({ ...spec, baseUrl: `http://127.0.0.1:${41000 + index}` }));

describe("local stack mirrors config", () => {
  it("Should generate a mirrors file that the publisher accepts", async () => {
    const table = await parseMirrorConfig(mirrorsToml("http://127.0.0.1:40999", mirrors));
    expect(table.mirrors.map((mirror) => [mirror.id, mirror.baseUrl, mirror.country, mirror.continent])).toEqual(
      mirrors.map((mirror) => [mirror.id, mirror.baseUrl, mirror.country, mirror.continent]),
    );
  });

  it("Should name the origin in the generated file", async () => {
    const table = await parseMirrorConfig(mirrorsToml("http://127.0.0.1:40999", mirrors));
    expect(table.origin?.baseUrl).toBe("http://127.0.0.1:40999");
  });

  it("Should place the demo mirrors on three continents", () => {
    expect(new Set(DEMO_MIRRORS.map((mirror) => mirror.continent)).size).toBe(3);
  });
});
