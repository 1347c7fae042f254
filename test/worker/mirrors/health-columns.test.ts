import { describe, expect, it } from "vitest";
import { selectMirrors } from "../../../src/mirrors/select";
import { buildHealthColumns } from "../../../src/mirrors/selection-index";
import { client, healthy, mirror, table } from "../helpers/mirrors";

describe("buildHealthColumns", () => {
  it("Should record the newest generation that a usable mirror holds", () => {
    const mirrors = [mirror("a"), mirror("b"), mirror("c"), mirror("d", { enabled: false })];
    const columns = buildHealthColumns(mirrors, {
      a: healthy(3),
      b: healthy(7, { down: true }),
      c: healthy(5),
      d: healthy(9),
    });
    expect(columns.newestGeneration).toBe(5);
  });

  it("Should have no newest generation when no mirror is usable", () => {
    expect(buildHealthColumns([mirror("a")], {}).newestGeneration).toBe(-Infinity);
  });
});

describe("Content newer than every mirror", () => {
  it("Should go to the origin alone", () => {
    const mirrors = [mirror("a"), mirror("b", { country: "FR" })];
    const selection = selectMirrors(table(mirrors), { a: healthy(4), b: healthy(4) }, {
      client: client({ country: "DE", continent: "EU" }),
      generation: 5,
      repository: "demo/hello",
      limit: 10,
    });
    expect(selection.chosen.map(({ id, tier }) => [id, tier])).toEqual([["origin", "origin"]]);
  });

  it("Should still list the mirrors once one has caught up", () => {
    const mirrors = [mirror("a"), mirror("b", { country: "FR" })];
    const selection = selectMirrors(table(mirrors), { a: healthy(4), b: healthy(5) }, {
      client: client({ country: "DE", continent: "EU" }),
      generation: 5,
      repository: "demo/hello",
      limit: 10,
    });
    expect(selection.chosen.map(({ id }) => id)).toEqual(["b", "origin"]);
  });
});
