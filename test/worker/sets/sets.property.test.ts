import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inScope, selectMirrors } from "../../../src/mirrors/select";
import { parseIp } from "../../../src/mirrors/ip";
import type { Mirror } from "../../../src/mirrors/types";
import { client, crawledAt, mirror, table } from "../helpers/mirrors";

const PLACES = [
  { country: "DE", continent: "EU" },
  { country: "FR", continent: "EU" },
  { country: "US", continent: "NA" },
  { country: "JP", continent: "AS" },
];
const SETS = ["amd64", "arm64", "f41", "f42"];

const mirrors = fc
  .array(
    fc.record({
      place: fc.constantFrom(...PLACES),
      sets: fc.option(fc.subarray(SETS, { minLength: 1 }), { nil: undefined }),
      scope: fc.option(fc.constantFrom("country" as const, "continent" as const), { nil: undefined }),
      other: fc.subarray(["DE", "US", "CH"], { maxLength: 2 }),
      netblock: fc.option(fc.nat(3), { nil: undefined }),
      bandwidth: fc.integer({ min: 1, max: 1000 }),
    }),
    { minLength: 1, maxLength: 20 },
  )
  .map((list) =>
    list.map((fields, i): Mirror =>
      mirror(`m${i}`, {
        ...fields.place,
        bandwidth: fields.bandwidth,
        ...(fields.sets === undefined ? {} : { sets: fields.sets }),
        ...(fields.scope === undefined ? {} : { scope: fields.scope }),
        ...(fields.other.length === 0 ? {} : { otherCountries: fields.other }),
        netblocks: fields.netblock === undefined ? [] : [`10.${fields.netblock}.0.0/16`],
      }),
    ),
  );

const clients = fc.record({
  place: fc.option(fc.constantFrom(...PLACES, { country: "CH", continent: "EU" }), { nil: null }),
  ip: fc.tuple(fc.nat(5), fc.nat(255)).map(([b, c]) => `10.${b}.${c}.7`),
});

describe("content sets and scopes, over random tables and clients", () => {
  it("Should never send a mirror a blob outside its sets", () => {
    fc.assert(
      fc.property(mirrors, clients, fc.subarray(SETS), fc.string(), (list, who, blobSets, repository) => {
        const location = client({ ip: who.ip, country: who.place?.country ?? null, continent: who.place?.continent ?? null });
        const { chosen } = selectMirrors(table(list), crawledAt(list, 1), { client: location, generation: 1, repository, limit: 10, sets: blobSets });
        const byId = new Map(list.map((m) => [m.id, m]));
        for (const entry of chosen) {
          const m = byId.get(entry.id);
          if (m === undefined) continue;
          expect(m.sets === undefined || m.sets.some((set) => blobSets.includes(set)), `${m.id} ${JSON.stringify(m.sets)} for ${JSON.stringify(blobSets)}`).toBe(true);
        }
      }),
    );
  });

  it("Should never send a scoped mirror a client outside its scope, pinned or not", () => {
    fc.assert(
      fc.property(mirrors, clients, fc.nat(19), (list, who, pin) => {
        const location = client({ ip: who.ip, country: who.place?.country ?? null, continent: who.place?.continent ?? null });
        const { chosen } = selectMirrors(table(list), crawledAt(list, 1), {
          client: location,
          generation: 1,
          repository: "demo/hello",
          limit: 10,
          choice: { pin: `m${pin}`, avoid: [], avoidCountries: [] },
        });
        const byId = new Map(list.map((m) => [m.id, m]));
        for (const entry of chosen) {
          const m = byId.get(entry.id);
          if (m === undefined || m.scope === undefined) continue;
          const own = m.netblocks.length > 0 && inScope({ ...m, scope: "country", country: "ZZ", otherCountries: [] }, location, parseIp(location.ip!));
          const allowed = own || location.country === m.country || (m.otherCountries ?? []).includes(location.country ?? "") || (m.scope === "continent" && location.continent === m.continent);
          expect(allowed, `${m.id} (${m.scope} ${m.country}/${m.continent}) for ${JSON.stringify(location)}`).toBe(true);
        }
      }),
    );
  });
});
